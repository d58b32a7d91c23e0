#!/bin/sh
# Makes (once) and prints the path of a Debian 12 rootfs for the system-container tests,
# built by debootstrap from the mirror this machine's apt sources name, cached under
# .build/distro/ so only the first run pays for it (about a minute a flavour).
# Usage: scripts/distro-rootfs.sh systemd|sysvinit
#   systemd:  minbase + systemd-sysv, openssh-server, iproute2
#   sysvinit: minbase + sysvinit-core, openssh-server, iproute2
# The cached tree is never booted itself: tests copy it (cp -a) into their own LXCPATH.
set -eu
cd "$(dirname "$0")/.."
flavour=${1:?usage: $0 systemd|sysvinit}
case "$flavour" in
  systemd)  init=systemd-sysv ;;
  sysvinit) init=sysvinit-core ;;
  *) echo "distro-rootfs: unknown flavour '$flavour' (systemd or sysvinit)" >&2; exit 2 ;;
esac
cache=$PWD/.build/distro
dest=$cache/debian12-$flavour
if [ -f "$dest.complete" ]; then echo "$dest"; exit 0; fi

# The first deb URI of the apt sources (deb822 or one-line format); never a fixed host.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- -security | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v -- -security | head -n 1)
[ -n "$mirror" ] || { echo "distro-rootfs: no Debian mirror in /etc/apt/sources.list{,.d}" >&2; exit 1; }

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing: debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.debian12-$flavour.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
echo "distro-rootfs: debootstrap bookworm ($flavour) from $mirror" >&2
if ! debootstrap --variant=minbase --include="$init,openssh-server,iproute2" \
    bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  echo "distro-rootfs: debootstrap failed; the log above names the package or the mirror" >&2
  exit 1
fi
# An empty machine-id for each boot's init to fill; no downloaded packages kept.
: > "$work/rootfs/etc/machine-id"
find "$work/rootfs/var/cache/apt/archives" -name '*.deb' -delete
rm -rf "$dest" "$dest.complete"
mv "$work/rootfs" "$dest"
touch "$dest.complete"
echo "$dest"
