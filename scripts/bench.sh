#!/bin/sh
# make bench: `swrun execute` of /bin/true against its peers on the same busybox rootfs,
# all measured in this one run (absolute times drift on shared machines; ratios do not).
# Usage: scripts/bench.sh PATH/TO/swrun
set -eu

swrun=$(realpath "${1:-.build/release/swrun}")
runs=${BENCH_RUNS:-200}
work=$(mktemp -d /tmp/swrun-bench-XXXXXX)
name=bench
lxcpath=$work/lxc
rootfs=$lxcpath/$name/rootfs
results=$work/results
mkdir -p "$results"
touch "$work/empty.conf"

cleanup() {
    # LXC (with lxc.cgroup.relative) and crun leave cgroups below ours; remove those they made, deepest first.
    find /sys/fs/cgroup -depth -type d \( -name "lxc.payload.$name" -o -name "lxc.monitor.$name" -o -name lxc.pivot \
        -o -name swrun-bench-crun \) -exec rmdir {} + 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$swrun" create -n "$name" -t busybox -P "$lxcpath" -f "$work/empty.conf" >/dev/null

set -- \
    "swrun" "$swrun execute -n $name -P $lxcpath -- /bin/true" \
    "unshare" "unshare --fork --pid --mount --uts --ipc --net chroot $rootfs /bin/true"

if command -v lxc-execute >/dev/null 2>&1; then
    # lxc.net.0.type = empty (swrun create writes it too): without it LXC shares the host's network.
    set -- "$@" "lxc-execute" "lxc-execute -n $name -P $lxcpath -s lxc.cgroup.relative=1 -s lxc.net.0.type=empty -- /bin/true"
fi

if command -v crun >/dev/null 2>&1; then
    bundle=$work/bundle
    mkdir -p "$bundle"
    (cd "$bundle" && crun spec)
    python3 - "$bundle/config.json" "$rootfs" <<'PY'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["root"] = {"path": rootfs, "readonly": False}
spec["process"]["terminal"] = False
spec["process"]["args"] = ["/bin/true"]
spec["linux"]["cgroupsPath"] = "swrun-bench-crun"
json.dump(spec, open(path, "w"))
PY
    # crun 1.8 refuses hybrid hosts; hiding the v2 tree in a private mount namespace is the
    # documented workaround (shared/BENCHMARKS.md). The wrapper's own cost is measured too.
    wrap="unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec"
    set -- "$@" "crun" "$wrap crun run --bundle $bundle swrun-bench-crun'" \
                "crun-wrapper" "$wrap /bin/true'"
fi

# time LABEL COMMAND...: hyperfine each labelled command into $results/$group/LABEL.json
time_group() {
    group=$1 runs=$2
    shift 2
    mkdir -p "$results/$group"
    while [ $# -gt 0 ]; do
        label=$1 command=$2
        shift 2
        hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$results/$group/$label.json" "$command" >/dev/null 2>"$results/$group/$label.err" \
            || { echo "  $label: failed ($(head -c 300 "$results/$group/$label.err"))"; rm -f "$results/$group/$label.json"; }
    done
    python3 - "$results/$group" <<'PY'
import json, os, statistics, sys
results = sys.argv[1]
median = {}
for name in sorted(os.listdir(results)):
    if name.endswith(".json"):
        data = json.load(open(os.path.join(results, name)))["results"][0]
        median[name[:-5]] = statistics.median(data["times"]) * 1000
if "crun" in median and "crun-wrapper" in median:
    median["crun (less wrapper)"] = max(median["crun"] - median["crun-wrapper"], 0.001)
    del median["crun-wrapper"]
swrun = median.get("swrun")
print(f"{'command':<22}{'median ms':>10}{'swrun / it':>12}")
for name, ms in sorted(median.items(), key=lambda item: item[1]):
    ratio = f"{swrun / ms:.2f}x" if swrun else "-"
    print(f"{name:<22}{ms:>10.2f}{ratio:>12}")
PY
}

echo "execute: $runs runs of /bin/true in a busybox rootfs (hyperfine, median wall time)"
time_group execute "$runs" "$@"
echo "targets: swrun faster than lxc-execute and crun (ratio < 1), within 1.5x of unshare"

# A system container: start in the background until RUNNING, then stop (SIGKILL, so that
# busybox init's own shutdown pauses do not hide the runtimes' cost).
echo
echo "start -d to RUNNING, then stop -k: $((runs / 4)) runs"
set -- "swrun" "sh -c '$swrun start -n $name -P $lxcpath && $swrun stop -k -n $name -P $lxcpath'"
if command -v lxc-start >/dev/null 2>&1; then
    set -- "$@" "lxc" "sh -c 'lxc-start -n $name -P $lxcpath -s lxc.cgroup.relative=1 -s lxc.net.0.type=empty && lxc-wait -n $name -P $lxcpath -s RUNNING && lxc-stop -k -n $name -P $lxcpath'"
fi
time_group start "$((runs / 4))" "$@"
echo "target: swrun faster than LXC (ratio < 1)"
