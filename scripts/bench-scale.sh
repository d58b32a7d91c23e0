#!/bin/sh
# make bench, the scale part (issue 18, item 3): COUNT busybox containers, each with a veth on
# the default bridge (lxcbr0, whose addresses swrun leases), started at once with `start -d`,
# timed until every one is RUNNING; then all stopped at once, and the host's counts checked:
# nothing left of them (cgroups, host ends of veths, monitors, leases once destroyed). LXC
# starts the same containers for comparison. It re-runs itself in a network and mount
# namespace of its own, with its own sysfs, so every link and the bridge are the bench's.
# Usage: bench-scale.sh SWRUN [COUNT]; exits non-zero when something is left or a start failed.
set -eu
swrun=$(realpath "$1") count=${2:-250}
if [ "${SCALE_IN_NAMESPACE:-}" != 1 ]; then
    exec env SCALE_IN_NAMESPACE=1 unshare -n -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/bench-lib.sh"
own_sysfs
ip link set lo up

work=$(mktemp -d /tmp/swrun-scale-XXXXXX)
lxc=$work/lxc
names=$(seq -f "s%g" 1 "$count")
cleanup() {
    for name in $names; do "$swrun" destroy -f -n "$name" -P "$lxc" >/dev/null 2>&1 || true; done
    "$swrun" net down >/dev/null 2>&1 || true
    find /sys/fs/cgroup -depth -type d \( -name 'lxc.payload.s*' -o -name 'lxc.monitor.s*' -o -name lxc.pivot \) -exec rmdir {} + 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%3N; }
# Runs the function $1 with each container's name, all at once; fails if any did.
each_at_once() {
    failed=0 pids=
    for name in $names; do
        "$1" "$name" >"$work/out.$name" 2>&1 &
        pids="$pids $!"
    done
    for pid in $pids; do wait "$pid" || failed=$((failed + 1)); done
    [ "$failed" -eq 0 ] || { echo "  $failed of $count failed, for example: $(cat "$work"/out.* | grep -m1 -i error)"; return 1; }
}
swrun_start() { "$swrun" start --settle 0 -n "$1" -P "$lxc"; }
swrun_stop() { "$swrun" stop -k -n "$1" -P "$lxc"; }
lxc_start() { lxc-start -n "$1" -P "$lxc" -s lxc.cgroup.relative=1; }
lxc_stop() { lxc-stop -k -n "$1" -P "$lxc"; }
swrun_cgroups() { find /sys/fs/cgroup -maxdepth 4 -type d -name 'swrun-s*' 2>/dev/null | wc -l; }
host_ends() { ip -o link | grep -c ': vs' || true; }

printf 'lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.flags = up\n' > "$work/veth.conf"
echo "scale: creating $count busybox containers with a veth on lxcbr0..."
for name in $names; do "$swrun" create -n "$name" -t busybox -P "$lxc" -f "$work/veth.conf" >/dev/null 2>&1; done

echo "$count containers started at once (start -d --settle 0, each leasing an address on lxcbr0):"
began=$(now_ms)
each_at_once swrun_start
running=$(now_ms)
up=$("$swrun" ls -P "$lxc" --fancy -F name,state | grep -c RUNNING || true)
echo "  swrun: all $count RUNNING after $((running - began)) ms ($up listed as running)"
each_at_once swrun_stop
stopped=$(now_ms)
echo "  swrun: all stopped $((stopped - running)) ms later"
for _ in $(seq 1 100); do [ "$(host_ends)" -eq 0 ] && break; sleep 0.05; done
left_cgroups=$(swrun_cgroups) left_links=$(host_ends)
monitors=$(pgrep -fc "monitor --request-fd 3 -n s[0-9]* -P $lxc" || true)
for name in $names; do "$swrun" destroy -n "$name" -P "$lxc" >/dev/null; done
leases=$(cat "$lxc"/.swrun-leases/* 2>/dev/null | grep -vc '^#' || true)
echo "  left after stop: $left_cgroups cgroups, $left_links host ends of veths, $monitors monitors; after destroy: $leases leases"
status=0
[ "$up" -eq "$count" ] && [ "$left_cgroups" -eq 0 ] && [ "$left_links" -eq 0 ] && [ "$monitors" -eq 0 ] && [ "$leases" -eq 0 ] || status=1

if command -v lxc-start >/dev/null 2>&1; then
    # The same containers for LXC (swrun's bridge is still up): lxc-start daemonizes once init runs.
    for name in $names; do "$swrun" create -n "$name" -t busybox -P "$lxc" -f "$work/veth.conf" >/dev/null 2>&1; done
    began=$(now_ms)
    if each_at_once lxc_start; then
        running=$(now_ms)
        echo "  LXC:   all $count started after $((running - began)) ms"
    fi
    each_at_once lxc_stop || true
fi
echo "target: swrun's $count under 1000 ms, nothing left (status $status)"
exit $status
