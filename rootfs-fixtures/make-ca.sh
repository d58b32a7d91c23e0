#!/bin/sh
# Makes a throwaway CA (ca.pem, ca.key) and a server certificate (server.pem,
# server.key) it signed, for IP 127.0.0.1 and DNS localhost, valid 2 days.
# Keeps existing files while the server certificate has more than a day left.
# Usage: make-ca.sh OUTDIR
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
cd "$1"

if [ -s ca.pem ] && [ -s ca.key ] && [ -s server.key ] && [ -s server.pem ] &&
   openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1; then
  exit 0
fi

umask 077
openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 2 \
  -keyout ca.key -out ca.pem -subj '/CN=swrun fixture CA' \
  -addext 'basicConstraints=critical,CA:TRUE' \
  -addext 'keyUsage=critical,keyCertSign,cRLSign' \
  -addext 'subjectKeyIdentifier=hash' 2>/dev/null

openssl req -new -nodes -newkey rsa:2048 -sha256 \
  -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
cat > server.ext <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -sha256 -days 2 \
  -set_serial "0x$(openssl rand -hex 8)" -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext
chmod 0644 ca.pem server.pem   # keys stay 0600
