#!/bin/bash
# Runs Debian's docker-registry (distribution 2.x) on 127.0.0.1 and a free port,
# and pushes an OCI layout made by make-oci-layout.sh into it with skopeo:
#   fixture/busybox:multi  (image index, amd64 + arm64)
#   fixture/busybox:single (OCI manifest, amd64)
#   fixture/busybox:v2s2   (the same image converted to Docker schema 2)
# Usage: registry.sh start OUTDIR LAYOUTDIR       anonymous pull and push
#        registry.sh start-auth OUTDIR LAYOUTDIR  HTTP basic auth, user fixture / fixture-pass
#        registry.sh start-token OUTDIR LAYOUTDIR Docker's token auth: token-server.py on another
#                                                 port signs the tokens, Basic fixture / fixture-pass
#        registry.sh stop OUTDIR
# Env FIXTURE_TLS_DIR=DIR (from make-ca.sh) serves HTTPS with DIR/server.pem instead of HTTP.
# OUTDIR gets config.yml, storage/, registry.log, registry.pid, port, url and, in
# start-auth and start-token modes, credentials ("user:password"); start-auth also htpasswd,
# start-token token.key, token.pem, token.pid, token.port, token.log (a line per token request).
set -eu

usage() { echo "usage: $0 start|start-auth|start-token OUTDIR LAYOUTDIR | stop OUTDIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
[ "$cmd" = stop ] && [ ! -d "$2" ] && exit 0
mkdir -p "$2"
out=$(cd "$2" && pwd)
pidfile=$out/registry.pid
tokenpidfile=$out/token.pid
here=$(cd "$(dirname "$0")" && pwd)

# Stops the registry recorded in OUTDIR, and only if that pid is still our registry.
stop() {
  [ -s "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "docker-registry serve $out/config.yml"; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
  if [ -s "$tokenpidfile" ]; then
    pid=$(cat "$tokenpidfile")
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "token-server.py --key $out/token.key"; then
      kill "$pid"
    fi
    rm -f "$tokenpidfile"
  fi
}

case $cmd in
  stop) stop; exit 0 ;;
  start|start-auth|start-token) [ $# -eq 3 ] || usage ;;
  *) usage ;;
esac
layout=$(cd "$3" && pwd)
[ -f "$layout/index.json" ] || { echo "$0: $layout is not an OCI layout" >&2; exit 1; }

stop   # a second start replaces the first
rm -rf "$out/storage"
mkdir -p "$out/storage"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

scheme=http tls=""
if [ -n "${FIXTURE_TLS_DIR:-}" ]; then
  tlsdir=$(cd "$FIXTURE_TLS_DIR" && pwd)
  scheme=https
  tls="  tls:
    certificate: $tlsdir/server.pem
    key: $tlsdir/server.key"
fi
auth="" creds=()
if [ "$cmd" = start-auth ]; then
  # bcrypt through glibc's crypt(3), the only hash docker-registry's htpasswd accepts;
  # cost 4 (rounds=16): the registry checks it on every request.
  python3 -W ignore -c 'import crypt; print("fixture:" + crypt.crypt("fixture-pass", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' > "$out/htpasswd"
  echo "fixture:fixture-pass" > "$out/credentials"
  auth="auth:
  htpasswd:
    realm: swrun-fixture
    path: $out/htpasswd"
  creds=(--dest-creds fixture:fixture-pass)
fi
if [ "$cmd" = start-token ]; then
  echo "fixture:fixture-pass" > "$out/credentials"
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 2 -keyout "$out/token.key" -out "$out/token.pem" \
    -subj '/CN=swrun fixture token issuer' 2>/dev/null
  : > "$out/token.log"
  rm -f "$out/token.port"
  python3 "$here/token-server.py" --key "$out/token.key" --cert "$out/token.pem" --issuer swrun-fixture-issuer \
    --service swrun-fixture-registry --user fixture --password fixture-pass --log "$out/token.log" \
    > "$out/token.port" 2>> "$out/token.log" < /dev/null &
  echo $! > "$tokenpidfile"
  for _ in $(seq 100); do [ -s "$out/token.port" ] && break; sleep 0.1; done
  [ -s "$out/token.port" ] || { echo "$0: token-server.py did not start, see $out/token.log" >&2; stop; exit 1; }
  auth="auth:
  token:
    realm: http://127.0.0.1:$(head -n1 "$out/token.port")/token
    service: swrun-fixture-registry
    issuer: swrun-fixture-issuer
    rootcertbundle: $out/token.pem"
  creds=(--dest-creds fixture:fixture-pass)
fi

cat > "$out/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: swrun-fixture-registry
storage:
  filesystem:
    rootdirectory: $out/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: swrun-fixture-not-secret
  headers:
    X-Content-Type-Options: [nosniff]
$tls
$auth
EOF
# skopeo's signature policy, kept here instead of relying on /etc/containers/policy.json.
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > "$out/policy.json"

# Runs in the caller's process group, so a test runner that kills its group stops it too.
docker-registry serve "$out/config.yml" > "$out/registry.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
echo "$port" > "$out/port"
echo "$scheme://127.0.0.1:$port" > "$out/url"

# Wait (up to 10 s) until /v2/ answers: 200 anonymous, 401 with auth.
python3 - "$scheme://127.0.0.1:$port/v2/" "$(cat "$pidfile")" <<'EOF' || { echo "$0: registry did not start, see $out/registry.log" >&2; stop; exit 1; }
import os, ssl, sys, time, urllib.error, urllib.request
ctx = ssl._create_unverified_context()
for _ in range(100):
    try:
        os.kill(int(sys.argv[2]), 0)
    except OSError:
        sys.exit(1)
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1, context=ctx); sys.exit(0)
    except urllib.error.HTTPError as e:
        sys.exit(0 if e.code == 401 else 1)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF

copy() { # copy SRC DST [skopeo options]
  local src=$1 dst=$2; shift 2
  skopeo --policy "$out/policy.json" --tmpdir "$out/tmp" copy --quiet "$@" "$src" "$dst" \
    >> "$out/skopeo.log" 2>&1 ||
    { echo "$0: copying $src to $dst failed, see $out/skopeo.log" >&2; stop; exit 1; }
}
dest=docker://127.0.0.1:$port/fixture/busybox
rm -rf "$out/tmp" "$out/v2s2.dir"
mkdir -p "$out/tmp"
: > "$out/skopeo.log"
# --preserve-digests: the registry serves exactly the layout's manifests and blobs
# (and skopeo may not swap in a differently compressed copy of a layer it has seen).
copy "oci:$layout:multi" "$dest:multi" --all --preserve-digests --dest-tls-verify=false "${creds[@]}"
copy "oci:$layout:single" "$dest:single" --preserve-digests --dest-tls-verify=false "${creds[@]}"
# Docker schema 2 has no zstd media type and skopeo 1.9 will not recompress zstd to
# gzip in one go: decompress into a dir: first, then push that as v2s2 (gzip). The
# push goes through the name "localhost": skopeo's blob-info cache (under
# /var/lib/containers/cache for root) would otherwise offer the zstd layer it just
# pushed to 127.0.0.1:PORT for reuse, and fail on it.
copy "oci:$layout:single" "dir:$out/v2s2.dir" --dest-decompress
copy "dir:$out/v2s2.dir" "docker://localhost:$port/fixture/busybox:v2s2" --format v2s2 --dest-tls-verify=false "${creds[@]}"
rm -rf "$out/tmp" "$out/v2s2.dir"
