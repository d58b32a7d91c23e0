#!/bin/sh
# Layered storage (issue 15), part of make bench: containers from one image, as overlays of its
# shared layers against a copy of it (-B dir), against podman on the same image; creating a
# container and a snapshot; the disk ten containers of one image take.
# Usage: bench-storage.sh SWRUN RESULTS RUNS (run in a mount namespace of its own)
set -eu
swrun=$1 results=$2 runs=$3
. "$(dirname "$0")/bench-lib.sh"

work=$(mktemp -d /tmp/swrun-bench-storage-XXXXXX)
# podman's storage is a mount only once podman has run: set -e must not stop the cleanup there.
trap 'umount -R "$work/podman" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
export SWRUN_CACHE_PATH=$work/cache
lxc=$work/lxc
echo "lxc.net.0.type = empty" > "$work/empty.conf"

# The image: a busybox rootfs made into an OCI image by swrun itself (create, commit, save),
# which podman loads from swrun's archive.
"$swrun" create -n base -t busybox -P "$lxc" -f "$work/empty.conf" >/dev/null 2>&1
"$swrun" commit -P "$lxc" -c 'CMD ["/bin/sh"]' base localhost/bench/busybox:1 >/dev/null
"$swrun" destroy -n base -P "$lxc" >/dev/null
"$swrun" save localhost/bench/busybox:1 -o "$work/image.tar"
image=localhost/bench/busybox:1

echo
echo "run --rm IMAGE /bin/true: $runs runs each (overlay of the cached image's layers; the busybox template's copy; podman)"
set -- "swrun" "$swrun run --rm -P $lxc -f $work/empty.conf $image -- /bin/true" \
       "swrun-dir-rootfs" "$swrun run --rm -P $lxc -f $work/empty.conf busybox -- /bin/true"
if command -v podman >/dev/null 2>&1; then
    # podman with storage of its own; runc, cgroupfs and no network, and the ulimits root here cannot raise.
    podman="podman --root $work/podman --runroot $work/podman-run --cgroup-manager cgroupfs --events-backend none --runtime runc"
    if $podman load -q -i "$work/image.tar" >/dev/null 2>"$work/podman-load.err" &&
       $podman run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$image" /bin/true 2>"$work/podman-load.err"; then
        set -- "$@" "podman" "$podman run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $image /bin/true"
    else
        echo "  podman: cannot run the image ($(head -c 300 "$work/podman-load.err"))"
    fi
fi
time_group storage-run "$runs" "$@"
echo "targets: swrun at most half of podman's time (ratio <= 0.5), within 1.5x of the dir rootfs run"

echo
echo "create and destroy a container of the image: $runs runs each"
time_group storage-create "$runs" \
    "swrun" "sh -c '$swrun create -n c -t $image -P $lxc -f $work/empty.conf >/dev/null 2>&1 && $swrun destroy -n c -P $lxc >/dev/null'" \
    "swrun-B-dir" "sh -c '$swrun create -n c -t $image -B dir -P $lxc -f $work/empty.conf >/dev/null 2>&1 && $swrun destroy -n c -P $lxc >/dev/null'"
echo "target: an overlay create in milliseconds"

"$swrun" create -n origin -t busybox -P "$lxc" -f "$work/empty.conf" >/dev/null 2>&1
echo
echo "copy a container and destroy the copy: $runs runs each (swrun copy -s, an overlay snapshot; swrun copy, its files)"
time_group storage-copy "$runs" \
    "swrun" "sh -c '$swrun copy -n origin -N snap -s -P $lxc >/dev/null && $swrun destroy -n snap -P $lxc >/dev/null'" \
    "swrun-whole-copy" "sh -c '$swrun copy -n origin -N whole -P $lxc >/dev/null 2>&1 && $swrun destroy -n whole -P $lxc >/dev/null'"
echo "target: copy -s in milliseconds"

echo
echo "disk used by 10 containers of the image (KiB, du of LXCPATH and the layer store):"
for store in overlay dir; do
    for i in 0 1 2 3 4 5 6 7 8 9; do "$swrun" create -n "$store$i" -t "$image" -B "$store" -P "$work/$store" -f "$work/empty.conf" >/dev/null 2>&1; done
    containers=$(du -sk "$work/$store" | cut -f1)
    echo "  -B $store: containers $containers, image layers $(du -sk "$SWRUN_CACHE_PATH/oci/layers" | cut -f1)"
done
echo "target: -B overlay takes one copy of the image (in the layer store) plus the containers' own changes"
