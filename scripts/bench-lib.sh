# Shared by the bench scripts (sourced).
# time_group GROUP RUNS LABEL COMMAND...: times the labelled commands in turns of a few runs
# each (bench-interleave.py says why) into $results/GROUP/LABEL.json, then prints the medians
# and swrun's ratio to each.
time_group() {
    group=$1 group_runs=$2
    shift 2
    python3 "$(dirname "$0")/bench-interleave.py" "$results/$group" "$group_runs" 3 "$@"
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


# In a network and mount namespace of the bench's own: a sysfs of that network namespace over
# /sys (LXC checks a bridge in sysfs, which shows the namespace it was mounted in), with the
# cgroup hierarchies moved onto it, so that every runtime still finds them.
own_sysfs() {
    held=$(mktemp -d /tmp/swrun-bench-cgroup-XXXXXX)
    mount --rbind /sys/fs/cgroup "$held"
    mount -t sysfs sysfs /sys
    mount --move "$held" /sys/fs/cgroup
    rmdir "$held"
}
