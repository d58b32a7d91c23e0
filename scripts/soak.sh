#!/bin/sh
# make soak (issue 18): CYCLES start/stop cycles and CYCLES execute runs, with and without a
# veth and limits, then the same counts as before or a non-zero exit: mounts, swrun's
# cgroups, links, nftables rules, leases, files under /run/swrun, and the open fds of a
# monitor that ran all along (and was attached to every cycle). `make test` runs 50 cycles.
# Usage: soak.sh SWRUN [CYCLES]; it re-runs itself in a network namespace of its own.
set -eu
swrun=$1 cycles=${2:-1000}
if [ "${SOAK_IN_NAMESPACE:-}" != 1 ]; then
    exec env SOAK_IN_NAMESPACE=1 unshare -n "$0" "$@"
fi
ip link set lo up
ip link add br0 type bridge && ip addr add 10.98.0.1/24 dev br0 && ip link set br0 up

work=$(mktemp -d /tmp/swrun-soak-XXXXXX)
lxc=$work/lxc
cleanup() {
    for name in keeper cycle plain bridged; do "$swrun" destroy -f -n "$name" -P "$lxc" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
printf 'lxc.net.0.type = empty\n' > "$work/empty.conf"
printf 'lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.flags = up\nlxc.cgroup2.memory.max = 64M\nlxc.cgroup2.pids.max = 64\n' > "$work/veth.conf"
"$swrun" create -n keeper -t busybox -P "$lxc" -f "$work/empty.conf" >/dev/null 2>&1
"$swrun" create -n cycle -t busybox -P "$lxc" -f "$work/veth.conf" >/dev/null 2>&1
"$swrun" create -n plain -t busybox -P "$lxc" -f "$work/empty.conf" >/dev/null 2>&1
"$swrun" create -n bridged -t busybox -P "$lxc" -f "$work/veth.conf" >/dev/null 2>&1
"$swrun" start -n keeper -P "$lxc"
monitor=$(pgrep -f "monitor --request-fd 3 -n keeper -P $lxc" | head -n 1)
[ -n "$monitor" ] || { echo "soak: cannot find the monitor of the container keeper" >&2; exit 1; }

counts() {
    # A stopped container's veth pair goes with its namespace a moment after the stop returns.
    for _ in $(seq 1 40); do ip -o link | grep -q ': vs' || break; sleep 0.05; done
    mounts=$(wc -l < /proc/self/mountinfo)
    cgroups=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'swrun-*' 2>/dev/null | wc -l)
    links=$(ip -o link | wc -l)
    rules=$(nft list ruleset 2>/dev/null | wc -l)
    leases=$(cat "$lxc"/.swrun-leases/* 2>/dev/null | wc -l)
    run=$(find /run/swrun 2>/dev/null | wc -l)
    fds=$(ls "/proc/$monitor/fd" 2>/dev/null | wc -l)
    echo "$mounts $cgroups $links $rules $leases $run $fds"
}
cycle() {
    "$swrun" start -n cycle -P "$lxc" >/dev/null
    "$swrun" stop -k -n cycle -P "$lxc" >/dev/null
    "$swrun" execute -n plain -P "$lxc" -- true
    "$swrun" execute -n bridged -P "$lxc" -- true
    "$swrun" attach -n keeper -P "$lxc" -- true
}
# One cycle first: a container keeps its address lease from its first start until destroyed.
cycle
before=$(counts)

i=0
while [ "$i" -lt "$cycles" ]; do
    cycle
    i=$((i + 1))
    [ $((i % 100)) -eq 0 ] && echo "soak: $i/$cycles cycles"
done

after=$(counts)
status=0
echo "after $cycles cycles (start/stop with a veth and limits; execute with and without; attach):"
printf '%-28s %8s %8s\n' what before after
set -- $before
b_mounts=$1 b_cgroups=$2 b_links=$3 b_rules=$4 b_leases=$5 b_run=$6 b_fds=$7
set -- $after
for pair in "mounts $b_mounts $1" "swrun cgroups $b_cgroups $2" "links $b_links $3" "nftables rule lines $b_rules $4" \
            "lease lines $b_leases $5" "files under /run/swrun $b_run $6" "open fds of a monitor $b_fds $7"; do
    set -- $pair
    value_after=$(eval echo \${$#})
    value_before=$(eval echo \${$(($# - 1))})
    label=$(echo "$pair" | awk '{ NF -= 2; print }')
    printf '%-28s %8s %8s\n' "$label" "$value_before" "$value_after"
    [ "$value_before" = "$value_after" ] || { echo "soak: LEAK: $label"; status=1; }
done
exit $status
