#!/bin/sh
# Builds a minimal busybox root filesystem in OUTDIR (created if missing; rerunning
# refreshes it in place). Needs the host's static busybox (Debian: busybox-static).
# Env: FIXTURE_BUILD   text written to /etc/fixture-release (default "dev")
#      FIXTURE_VERSION VERSION_ID in /etc/os-release (default "1.0")
# Usage: make-busybox-rootfs.sh OUTDIR
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
build=${FIXTURE_BUILD:-dev}
version=${FIXTURE_VERSION:-1.0}

# Prefer the static binary from busybox-static; a dynamic busybox would not run in the rootfs.
bb=""
for c in /bin/busybox /usr/bin/busybox; do
  if [ -x "$c" ] && file -L "$c" 2>/dev/null | grep -q 'statically linked'; then bb=$c; break; fi
done
if [ -z "$bb" ]; then
  # `file` may be missing: trust the path that busybox-static installs.
  dpkg -L busybox-static 2>/dev/null | grep -qx /bin/busybox && bb=/bin/busybox
fi
[ -n "$bb" ] || { echo "$0: no static busybox found (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$out"
cd "$out"
for d in bin sbin etc proc sys dev tmp root usr/bin usr/sbin var; do mkdir -p "$d"; done
chmod 0755 bin sbin etc proc sys dev usr usr/bin usr/sbin var
chmod 1777 tmp
chmod 0700 root

cp -f "$bb" bin/busybox
chmod 0755 bin/busybox
# Applet links, relative so they resolve inside the container.
for a in sh ash ls cat echo true false id hostname sleep test [ mkdir rm rmdir cp mv ln \
         touch chmod chown env pwd uname ps kill mount umount grep sed wc head tail stat \
         readlink printf seq date sync whoami mkfifo mknod find xargs tr cut sort uniq \
         nproc timeout top dmesg; do
  ln -sfn busybox "bin/$a"
done
ln -sfn ../bin/busybox sbin/init

cat > etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat > etc/os-release <<EOF
NAME="swrun-fixture"
ID=swrun-fixture
VERSION_ID=$version
PRETTY_NAME="swrun-fixture $version"
EOF
echo swrun-fixture > etc/hostname
printf '%s\n' "$build" > etc/fixture-release
chmod 0644 etc/passwd etc/group etc/os-release etc/hostname etc/fixture-release

# Everything belongs to root (no-op when the script already runs as root).
if [ "$(id -u)" -eq 0 ]; then chown -hR 0:0 .; fi
