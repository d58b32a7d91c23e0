#!/bin/sh
# make bench, the unpack part: swrun's own unpacker against GNU `tar -x` on the same two
# archives, a rootfs.tar.xz (as LXC image servers publish) and a gzip OCI layer (as
# registries serve), both made here from the host's /usr (about 140 MB, 10,000 members)
# so that the numbers mean something. Run by bench.sh under `unshare -m`: everything
# unpacks into a private tmpfs, so the disk's speed and the page cache's moods stay out
# of it and what is measured is decompression, tar parsing and the system calls.
# swrun's side is `swrun create -t ARCHIVE`, one unpack straight into the rootfs (plus a
# config file); each command first removes what the previous run unpacked, both sides alike.
# Usage: bench-unpack.sh SWRUN RESULTS RUNS
set -eu
swrun=$1 results=$2 runs=$3
. "$(dirname "$0")/bench-lib.sh"

work=$(mktemp -d /tmp/swrun-bench-unpack-XXXXXX)
mount -t tmpfs -o size=3g,mode=0700 swrun-bench-unpack "$work"
trap 'umount "$work"; rmdir "$work"' EXIT INT TERM

members=""
for path in usr/include usr/sbin usr/share/zoneinfo; do
    [ -d "/$path" ] && members="$members $path"
done
# shellcheck disable=SC2086 # a list of paths without spaces
tar -C / -cf "$work/usr.tar" $members
xz -1 -c "$work/usr.tar" > "$work/rootfs.tar.xz"
gzip -6 -c "$work/usr.tar" > "$work/layer.tar.gz"
size=$(du -m "$work/usr.tar" | cut -f1)
count=$(tar -tf "$work/usr.tar" | wc -l)
rm "$work/usr.tar"
touch "$work/empty.conf"

for archive in rootfs.tar.xz layer.tar.gz; do
    echo
    echo "unpack $archive ($(du -m "$work/$archive" | cut -f1) MB; $size MB, $count members unpacked): $runs runs"
    time_group "unpack-${archive%%.*}" "$runs" \
        "swrun" "sh -c 'rm -rf $work/lxc/u && $swrun create -n u -t $work/$archive -P $work/lxc -f $work/empty.conf 2>/dev/null'" \
        "tar" "sh -c 'rm -rf $work/tar && mkdir $work/tar && tar -xf $work/$archive -C $work/tar'"
done
echo "target: swrun at least as fast as tar (ratio <= 1)"
