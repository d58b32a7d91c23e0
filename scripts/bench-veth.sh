#!/bin/sh
# make bench, the veth part: run by bench.sh under `unshare -n -m`, so the bridge and every
# veth pair live and die in this private network namespace.
# Usage: bench-veth.sh SWRUN LXCPATH NAME RESULTS RUNS
set -eu
swrun=$1 lxcpath=$2 name=$3 results=$4 runs=$5
. "$(dirname "$0")/bench-lib.sh"

own_sysfs
ip link set lo up
ip link add swbench0 type bridge
ip address add 10.250.0.1/24 dev swbench0
ip link set swbench0 up

net="-s lxc.net.0.type=veth -s lxc.net.0.link=swbench0 -s lxc.net.0.flags=up -s lxc.net.0.ipv4.address=10.250.0.2/24"
set -- "swrun" "$swrun execute -n $name -P $lxcpath $net -- /bin/true" \
       "swrun-no-veth" "$swrun execute -n $name -P $lxcpath -- /bin/true"
if command -v lxc-execute >/dev/null 2>&1; then
    set -- "$@" "lxc-execute" "lxc-execute -n $name -P $lxcpath -s lxc.cgroup.relative=1 $net -- /bin/true"
fi
time_group veth "$runs" "$@"
python3 - "$results/veth" <<'PY'
import json, os, statistics, sys
def median(label):
    path = os.path.join(sys.argv[1], label + ".json")
    return statistics.median(json.load(open(path))["results"][0]["times"]) * 1000 if os.path.exists(path) else None
with_veth, without = median("swrun"), median("swrun-no-veth")
if with_veth is not None and without is not None:
    print(f"one veth, made and removed (swrun - swrun-no-veth): {with_veth - without:.2f} ms")
PY

# swrun's netlink setup alone: the time the kernel took to answer each netlink request of a
# start (sendto and recvfrom, measured by strace -T, so a slight overestimate), up to the
# first RTM_DELLINK (type 0x11), where teardown begins.
for i in $(seq 20); do
    strace -f -qq -T -e trace=sendto,recvfrom -o "$results/veth/strace.$i" \
        "$swrun" execute -n "$name" -P "$lxcpath" $net -- /bin/true
done
python3 - "$results/veth" <<'PY'
import glob, re, statistics, sys
totals = []
for path in glob.glob(sys.argv[1] + "/strace.*"):
    total = 0.0
    for line in open(path):
        if "RTM_DELLINK" in line or "nlmsg_type=0x11" in line:
            break
        match = re.search(r"<([0-9.]+)>$", line.strip())
        if match:
            total += float(match.group(1))
    totals.append(total * 1000)
print(f"netlink setup per container (kernel time of swrun's requests, strace -T): {statistics.median(totals):.2f} ms median of {len(totals)}")
PY
