#!/bin/sh
# One backing store's round trip, swrun's tools and LXC's on the same containers: create -B,
# start, copy, snapshot, restore, then LXC lists the snapshot, restores and copies it (where
# LXC can: its overlay driver clones only one lower directory, and an image's overlay has
# several), starts the container (lxc.init.cmd copies /mark to /from-lxc) and swrun reads
# what it wrote; everything is destroyed at the end. Prints one line per step.
# Usage: storage-round-trip.sh SWRUN LXCPATH STORE NAME TEMPLATE CONFIG
# Run it in a mount namespace of its own (unshare -m --propagation private): LXC's and
# swrun's mounts stay there. LXC's steps are left out where lxc-start is not installed.
set -u
S=$1 L=$2 B=$3 N=$4 T=$5 E=$6
names="$N-lxccopy $N-lxcrestored $N-copy $N"
# Nothing is left running or made should a step fail.
trap 'for n in $names; do "$S" stop -k -n $n -P "$L" >/dev/null 2>&1; done
      "$S" snapshot -n $N -P "$L" -d ALL >/dev/null 2>&1
      for n in $names; do "$S" destroy -n $n -P "$L" >/dev/null 2>&1; done' EXIT
kind() { sed -n "s/^lxc.rootfs.path = \([a-z]*\):.*/\1/p" "$L/$1/config"; }
quiet() { "$@" >/dev/null 2>"$L/.step.err" || { echo "failed: $*"; cat "$L/.step.err"; }; }
size=""; [ "$B" = loop ] && size="--fssize 48M"

quiet "$S" create -n $N -t "$T" -B $B $size -P "$L" -f "$E"
echo "created $(kind $N)"
quiet "$S" start -n $N -P "$L" -s "lxc.init.cmd=/bin/busybox sleep 600"
echo "started $("$S" attach -n $N -P "$L" -- sh -c 'echo one > /mark; hostname')"
quiet "$S" stop -k -n $N -P "$L"
quiet "$S" copy -n $N -N $N-copy -P "$L"
echo "copied $(kind $N-copy) $("$S" execute -n $N-copy -P "$L" -- sh -c 'hostname; cat /mark' | tr '\n' ' ')"
quiet "$S" snapshot -n $N -P "$L"
quiet "$S" execute -n $N -P "$L" -- sh -c 'echo two > /mark'
quiet "$S" snapshot -n $N -P "$L" -r snap0
echo "restored $(kind $N) $("$S" execute -n $N -P "$L" -- cat /mark)"
if command -v lxc-start >/dev/null; then
  echo "listed by lxc-snapshot: $(lxc-snapshot -n $N -P "$L" -L | cut -d' ' -f1)"
  if [ "$(kind $N)" != overlay ]; then
    quiet lxc-snapshot -n $N -P "$L" -r snap0 -N $N-lxcrestored
    echo "restored by lxc-snapshot $(kind $N-lxcrestored) $("$S" execute -n $N-lxcrestored -P "$L" -- cat /mark)"
    quiet lxc-copy -n $N -N $N-lxccopy -P "$L"
    echo "copied by lxc-copy $(kind $N-lxccopy) $("$S" execute -n $N-lxccopy -P "$L" -- sh -c 'hostname; cat /mark' | tr '\n' ' ')"
  fi
  quiet lxc-start -F -n $N -P "$L" -s lxc.cgroup.relative=1 -s lxc.net.0.type=empty -s "lxc.init.cmd=/bin/busybox cp /mark /from-lxc"
  echo "started by lxc-start: $("$S" execute -n $N -P "$L" -- cat /from-lxc)"
fi
quiet "$S" snapshot -n $N -P "$L" -d ALL
for n in $names; do [ -e "$L/$n" ] && quiet "$S" destroy -n $n -P "$L"; done
rm -f "$L/.step.err"
echo "left: $(ls -A "$L")"
