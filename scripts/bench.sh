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
        -o -name "lxc.payload.boot-lxc" -o -name "lxc.monitor.boot-lxc" \
        -o -name swrun-bench-crun -o -name swrun-bench-crun-limited -o -name swrun-bench-oci -o -name swrun-bench-runc \) \
        -exec rmdir {} + 2>/dev/null || true
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
    # The same bundle with a memory limit, for the limits group below.
    limited=$work/bundle-limited
    mkdir -p "$limited"
    python3 - "$bundle/config.json" "$limited/config.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["linux"]["cgroupsPath"] = "swrun-bench-crun-limited"
spec["linux"].setdefault("resources", {})["memory"] = {"limit": 64 * 1024 * 1024}
json.dump(spec, open(sys.argv[2], "w"))
PY
fi

. "$(dirname "$0")/bench-lib.sh"

echo "execute: $runs runs of /bin/true in a busybox rootfs (in turns of 5 runs, median wall time)"
time_group execute "$runs" "$@"
echo "targets: swrun faster than lxc-execute and crun (ratio < 1), within 1.5x of unshare"
echo
echo "where swrun execute's time goes (the kernel's marks: the exec, clone of init, pivot_root, the command's execve and exit, the end):"
python3 "$(dirname "$0")/bench-breakdown.py" "$swrun" "$name" "$lxcpath" 20

# The OCI runtime: one bundle (crun's spec, /bin/true) run to its end by each runtime's `run`,
# as an engine's create, start, wait and delete would; each with a cgroupsPath of its own.
if command -v crun >/dev/null 2>&1; then
    echo
    echo "OCI run of a bundle: $runs runs"
    ln -s "$swrun" "$work/swrun-oci"
    for runtime in oci runc; do
        mkdir -p "$work/bundle-$runtime"
        python3 - "$bundle/config.json" "$work/bundle-$runtime/config.json" "swrun-bench-$runtime" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["linux"]["cgroupsPath"] = sys.argv[3]
json.dump(spec, open(sys.argv[2], "w"))
PY
    done
    set -- "swrun" "$work/swrun-oci --root $work/oci-state run --bundle $work/bundle-oci swrun-bench-oci" \
           "crun" "$wrap crun run --bundle $bundle swrun-bench-crun'" "crun-wrapper" "$wrap /bin/true'"
    if command -v runc >/dev/null 2>&1; then
        set -- "$@" "runc" "runc --root $work/runc-state run --bundle $work/bundle-runc swrun-bench-runc"
    fi
    time_group oci "$runs" "$@"
    echo "target: swrun-oci run faster than crun run (ratio < 1)"
fi

# Limits: a cgroup made, written, joined and removed per run. Memory only: on this hybrid
# host swrun's pids and cpu cgroups are their hierarchies' roots, where tests and benches
# make no cgroups of their own (crun puts its relative cgroupsPath at the root regardless).
echo
echo "execute with a 64M memory limit: $runs runs"
set -- "swrun" "$swrun execute -n $name -P $lxcpath --memory 64M -- /bin/true"
if command -v crun >/dev/null 2>&1; then
    set -- "$@" "crun" "$wrap crun run --bundle $limited swrun-bench-crun-limited'" \
                "crun-wrapper" "$wrap /bin/true'"
fi
time_group limits "$runs" "$@"
echo "target: swrun faster than crun with the same limit (ratio < 1)"

# A system container: start in the background until RUNNING, then stop (SIGKILL, so that
# busybox init's own shutdown pauses do not hide the runtimes' cost). --settle 0: lxc-start
# returns once init runs, without the moment swrun waits by default to catch an init that dies.
echo
echo "start -d to RUNNING, then stop -k: $((runs / 4)) runs (swrun --settle 0, as LXC waits for nothing)"
set -- "swrun" "sh -c '$swrun start --settle 0 -n $name -P $lxcpath && $swrun stop -k -n $name -P $lxcpath'"
if command -v lxc-start >/dev/null 2>&1; then
    set -- "$@" "lxc" "sh -c 'lxc-start -n $name -P $lxcpath -s lxc.cgroup.relative=1 -s lxc.net.0.type=empty && lxc-wait -n $name -P $lxcpath -s RUNNING && lxc-stop -k -n $name -P $lxcpath'"
fi
time_group start "$((runs / 4))" "$@"
echo "target: swrun faster than LXC (ratio < 1)"

# What a started container's monitor holds in memory once the container runs (VmRSS, and its
# private part), swrun's against LXC's (lxc-start's monitor process).
echo
echo "resident memory of a running container's monitor (kB):"
"$swrun" start -n "$name" -P "$lxcpath"
sleep 1
monitor=$(pgrep -f "monitor --request-fd 3 -n $name -P $lxcpath" | head -n 1)
rss() { awk '/^VmRSS:/ { rss = $2 } /^RssAnon:/ { anon = $2 } END { printf "%s (private anonymous %s)", rss, anon }' "/proc/$1/status"; }
echo "  swrun monitor: $(rss "$monitor")"
"$swrun" stop -k -n "$name" -P "$lxcpath" >/dev/null
if command -v lxc-start >/dev/null 2>&1; then
    lxc-start -n "$name" -P "$lxcpath" -s lxc.cgroup.relative=1 -s lxc.net.0.type=empty
    lxc-wait -n "$name" -P "$lxcpath" -s RUNNING
    sleep 1
    lxc=$(pgrep -f "^\[lxc monitor\] $lxcpath $name\$" | head -n 1)  # lxc-start renames its monitor
    [ -n "$lxc" ] && echo "  LXC monitor:   $(rss "$lxc")"
    lxc-stop -k -n "$name" -P "$lxcpath"
fi
echo "target: swrun's monitor under 3 MiB (3072 kB) resident"

# One veth pair on a bridge per start, in a network and mount namespace of the benchmark's
# own (with its own bridge and sysfs), so that neither runtime touches the host's links.
echo
echo "execute with one veth on a bridge: $runs runs"
unshare -n -m --propagation private "$(dirname "$0")/bench-veth.sh" "$swrun" "$lxcpath" "$name" "$results" "$runs"
echo "targets: swrun faster than lxc-execute (ratio < 1); netlink setup under 1 ms (most of the cost of a run is the kernel removing the pair)"

# Many at once: SCALE busybox containers, each with a veth on the default bridge, started together.
echo
"$(dirname "$0")/bench-scale.sh" "$swrun" "${BENCH_SCALE:-250}" || echo "  (scale: a start failed or something was left; see above)"

unshare -m --propagation private "$(dirname "$0")/bench-unpack.sh" "$swrun" "$results" "$((runs / 20 > 3 ? runs / 20 : 3))"
unshare -m --propagation private "$(dirname "$0")/bench-storage.sh" "$swrun" "$results" "$((runs / 10 > 5 ? runs / 10 : 5))"
unshare -m -n --propagation private "$(dirname "$0")/bench-build.sh" "$swrun" "$results" "$((runs / 20 > 3 ? runs / 20 : 3))"

# A distribution booted: Debian 12 with systemd to "running", then halted.
echo
echo "Debian 12 with systemd: boot to running, then halt: $((runs / 40 > 5 ? runs / 40 : 5)) runs each"
mkdir -p "$work/boot"
"$(dirname "$0")/bench-boot.py" "$swrun" "$work/boot" "$((runs / 40 > 5 ? runs / 40 : 5))"
echo "target: swrun no slower than LXC, boot and halt (ratios <= 1)"
