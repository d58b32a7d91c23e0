#!/bin/sh
# Proves swrun's cgroup features on a pure cgroup-v2 host: boots a Debian kernel under
# qemu (TCG: KVM hangs here) with an initramfs of busybox, swrun and the tests
# of scripts/vm/cgroup-tests.sh, and reads their results from the serial console.
# Usage: scripts/vm-test.sh [SWRUN_BIN]   (default: $SWRUN_BIN, else .build/release/swrun,
# rebuilt when older than the sources). Writes only under .build/vm/ and a /tmp scratch dir.
# Exit status: 0 when the VM printed "VM-TEST: PASS n/n".
set -eu
cd "$(dirname "$0")/.."
vm=.build/vm
timeout_s=${VM_TIMEOUT:-480}
mkdir -p "$vm"

# 1. Debian packages, installed only when missing.
missing=""
for pkg in qemu-system-x86 busybox-static; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# 2. The kernel, fetched once: the newest linux-image-6.1.0-NN-amd64 (signed or not; qemu
# boots either). cgroups are built in; of the modules only these are kept, in their load
# order: the stacked network links (this build host's kernel lacks vlan and ipvlan), and
# virtio-blk with ext4 for the disk that holds the Debian rootfs.
modules="net/llc/llc net/802/stp net/802/garp net/802/mrp net/8021q/8021q drivers/net/veth drivers/net/macvlan drivers/net/ipvlan/ipvlan
drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
drivers/virtio/virtio_pci drivers/block/virtio_blk lib/crc16 crypto/crc32c_generic fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4"
wanted_order=$(for m in $modules; do basename "$m"; done)
if [ ! -s "$vm/vmlinuz" ] || [ "$(cat "$vm/modules/order" 2>/dev/null)" != "$wanted_order" ]; then
  pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$' | cut -d' ' -f1 | sort -V | tail -n 1)
  [ -n "$pkg" ] || { echo "vm-test: no linux-image-6.1.0-NN-amd64 in apt (run apt-get update)" >&2; exit 1; }
  echo "vm-test: fetching $pkg"
  rm -rf "$vm/kernel" && mkdir -p "$vm/kernel"
  (cd "$vm/kernel" && apt-get download -q "$pkg" >/dev/null 2>&1) || { echo "vm-test: apt-get download $pkg failed" >&2; exit 1; }
  # Only boot/vmlinuz-* and those modules are unpacked (dpkg -x would unpack 400 MB of modules).
  wanted=$(for m in $modules; do printf "./lib/modules/*/kernel/%s.ko " "$m"; done)
  # shellcheck disable=SC2086
  dpkg-deb --fsys-tarfile "$vm"/kernel/*.deb | tar -xf - -C "$vm/kernel" --wildcards './boot/vmlinuz-*' $wanted
  rm -rf "$vm/modules" && mkdir -p "$vm/modules"
  for m in $modules; do
    cp "$vm"/kernel/lib/modules/*/kernel/"$m".ko "$vm/modules/"
    basename "$m" >> "$vm/modules/order.tmp"
  done
  mv "$vm/modules/order.tmp" "$vm/modules/order"
  cp "$vm"/kernel/boot/vmlinuz-* "$vm/vmlinuz.tmp"
  echo "$pkg" > "$vm/kernel.txt"
  rm -rf "$vm/kernel"
  mv "$vm/vmlinuz.tmp" "$vm/vmlinuz"
fi

# 2b. The Debian 12 rootfs with systemd of the distribution boot tests, on an ext4 disk image
# (made once per rootfs; the VM boots it with snapshot=on, so the image stays as made).
rootfs=$(scripts/distro-rootfs.sh systemd)
disk=$vm/debian12-systemd.img
if [ ! -s "$disk" ] || [ "$rootfs.complete" -nt "$disk" ]; then
  command -v mkfs.ext4 >/dev/null || scripts/install-deps.sh test
  rm -f "$disk.tmp"
  mkfs.ext4 -q -F -L swrun-distro -d "$rootfs" "$disk.tmp" 1G
  mv "$disk.tmp" "$disk"
fi

# 3. swrun: the one given (static, or dynamic with its libraries copied in below), else the
# static release build, rebuilt when stale.
bin=${1:-${SWRUN_BIN:-}}
if [ -z "$bin" ]; then
  bin=.build/release/swrun
  if [ ! -x "$bin" ] || [ -n "$(find Sources Package.swift -newer "$bin" -print 2>/dev/null | head -n 1)" ]; then
    echo "vm-test: building the release swrun"
    scripts/install-deps.sh build
    ${SWIFT:-swift} build -c release --static-swift-stdlib -Xswiftc -static-executable
  fi
fi
[ -x "$bin" ] || { echo "vm-test: no swrun at $bin" >&2; exit 1; }

# 4. The initramfs: busybox and its applet links, swrun, /init and the tests. Uncompressed:
# under TCG the kernel unpacks it faster than it would gunzip it.
scratch=$(mktemp -d /tmp/swrun-vm.XXXXXX)
trap 'rm -rf "$scratch"' EXIT INT TERM
root=$scratch/root
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/tests"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cp "$bin" "$root/bin/swrun"
# A dynamically linked swrun (the debug build `make test` has at hand) takes its libraries
# along, at the paths its loader and rpath name.
if ldd "$bin" >/dev/null 2>&1; then
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
fi
mkdir -p "$root/lib/modules"
cp "$vm"/modules/*.ko "$vm/modules/order" "$root/lib/modules/"
cp scripts/vm-init.sh "$root/init"
cp scripts/vm/cgroup-tests.sh "$root/tests/cgroup-tests.sh"
chmod 0755 "$root/init" "$root/tests/cgroup-tests.sh"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) > "$vm/initramfs.cpio"
rm -rf "$scratch"

# 5. Boot; the console goes to .build/vm/console.log.
echo "vm-test: booting $(cat "$vm/kernel.txt" 2>/dev/null || echo vmlinuz) under qemu TCG (timeout ${timeout_s}s)"
start=$(date +%s)
rc=0
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -m 1G -smp 2 -nographic -no-reboot \
  -kernel "$vm/vmlinuz" -initrd "$vm/initramfs.cpio" \
  -drive file="$disk",if=virtio,format=raw,snapshot=on \
  -append "console=ttyS0 quiet panic=-1 rdinit=/init" </dev/null > "$vm/console.raw" 2>&1 || rc=$?
elapsed=$(( $(date +%s) - start ))
tr -d '\r' < "$vm/console.raw" > "$vm/console.log" && rm -f "$vm/console.raw"

# 6. Results: the test lines, the VM's own timings, and the verdict.
grep -E '^(ok|not ok|skip|#|VM-)' "$vm/console.log" || true
echo "vm-test: qemu ran ${elapsed}s on the host"
if grep -q '^VM-TEST: PASS' "$vm/console.log"; then exit 0; fi
[ "$rc" -eq 124 ] && echo "vm-test: timed out after ${timeout_s}s" >&2
echo "vm-test: FAILED; the whole console is in $vm/console.log; its end:" >&2
tail -n 30 "$vm/console.log" >&2
exit 1
