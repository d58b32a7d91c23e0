#!/bin/sh
# /init of the test VM that scripts/vm-test.sh boots: a pure cgroup-v2 host in an initramfs.
# Mounts the kernel filesystems, runs the tests, and powers off whatever they did.
set -eu
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# pivot_root cannot leave the initramfs (rootfs): swrun falls back to MS_MOVE and chroot
# there, which stage 1 checks; the cgroup tests then run from a tmpfs root (switch_root,
# as LinuxKit's init does), the usual case of a host.
if [ "${VM_STAGE:-1}" = 1 ]; then
  mkdir -p /proc /sys /dev /lxc-initramfs
  mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev
  if swrun create -n r -t busybox -P /lxc-initramfs -f /dev/null >/tmp-initramfs.log 2>&1 &&
     [ "$(swrun execute -n r -P /lxc-initramfs -T -- cat /etc/hostname 2>>/tmp-initramfs.log)" = r ]; then
    export VM_INITRAMFS_ROOT=ok
  else
    export VM_INITRAMFS_ROOT="$(tail -n 2 /tmp-initramfs.log | tr '\n' ' ')"
  fi
  rm -rf /lxc-initramfs /tmp-initramfs.log
  umount /dev /sys /proc
  mkdir -p /newroot
  mount -t tmpfs -o mode=0755 tmpfs /newroot
  for f in /*; do [ "$f" = /newroot ] || cp -a "$f" /newroot/; done
  export VM_STAGE=2
  exec switch_root /newroot /init
fi
mkdir -p /proc /sys /dev /tmp /run /var /etc
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for dir in /tmp /run /var; do mount -t tmpfs -o mode=0755 tmpfs "$dir"; done
chmod 1777 /tmp
mkdir -p /var/lib/lxc /etc/lxc
ip link set lo up 2>/dev/null || true
# The network modules the tests' stacked links need (vm-test.sh copied them in load order).
for module in $(cat /lib/modules/order); do insmod "/lib/modules/$module.ko" || echo "VM-BOOT: insmod $module failed"; done
# The root cgroup gives the controllers to the containers' cgroups (swrun asks too).
echo "+cpu +memory +pids +io" > /sys/fs/cgroup/cgroup.subtree_control || true

echo; echo "VM-BOOT: $(cut -d' ' -f1 /proc/uptime)s to /init; kernel $(uname -r); controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
sh /tests/cgroup-tests.sh || echo "VM-TEST: FAIL (the test script exited with $?)"
echo "VM-DONE: $(cut -d' ' -f1 /proc/uptime)s uptime"
sync
poweroff -f || echo o > /proc/sysrq-trigger
