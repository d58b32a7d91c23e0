#!/bin/sh
# Installs the Debian packages that swrun's build, tests or benchmarks need.
# Quiet when everything is present; apt-get only runs for what is missing.
# Usage: scripts/install-deps.sh build|test|bench|oci
set -eu

build="libcap-dev libssl-dev zlib1g-dev liblzma-dev libzstd-dev libbz2-dev pkg-config busybox-static"
test="$build util-linux iproute2 nftables dnsmasq-base xz-utils zstd bzip2 python3 gpg gpg-agent gpgv openssl docker-registry skopeo debootstrap openssh-client e2fsprogs gcc libc6-dev gcc-multilib lxc rsync btrfs-progs groff-base zsh fish buildah"  # ip: network tests; buildah: swrun build gives what it gives (BuildTests); groff-base, zsh, fish: the man pages and completion scripts (DocsTests); debootstrap, ssh: the distribution boot tests; e2fsprogs: their VM disk and loop containers; lxc (rsync for its lxc-copy and lxc-snapshot -r): LXC reads what swrun writes, btrfs-progs: btrfs containers (storage tests); gcc (with -m32): the programs of rootfs-fixtures/attackers; the rest: archive and image fixtures
bench="$test crun runc strace linux-perf"  # strace: the netlink setup time; perf: where execute's time goes; crun, runc: the OCI runtime's peers
# scripts/oci-engines.sh: real engines driving an OCI runtime, with crun and runc to compare;
# netavark: podman's networks (port publishing, through iptables); curl: fetches the published
# port; skopeo: pushes the hand-made image to docker-registry; python3: drives the pty.
oci="$build util-linux iproute2 curl iptables python3 docker-registry skopeo podman netavark containerd docker.io crun runc"

case "${1:-build}" in
  build) wanted=$build ;;
  test)  wanted=$test ;;
  bench) wanted=$bench ;;
  oci)   wanted=$oci ;;
  *) echo "usage: $0 build|test|bench|oci" >&2; exit 2 ;;
esac

missing=""
for pkg in $wanted; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "swrun needs these Debian packages:$missing" >&2
  echo "run as root, or: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The engines' packages would start their daemons on the host (dockerd, containerd): Debian's
# policy-rc.d says no while they install, unless the host has its own policy already.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
