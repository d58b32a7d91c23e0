#!/usr/bin/env python3
"""make bench, the boot part: a Debian 12 with systemd (the distribution boot tests' rootfs)
booted to `systemctl is-system-running` = running, then halted, under `swrun start` and under
`lxc-start`, alternately, with one config file that both read. Prints the medians and swrun's
ratios; boot and halt separately.

Usage: bench-boot.py SWRUN WORKDIR RUNS
Both runtimes are asked the same way, each with its own tool: start, then poll its attach
(every 20 ms) until systemd says running; halt is `stop`/`lxc-stop`, which wait for init's
end. Each runtime boots its own copy of the rootfs."""
import os
import statistics
import subprocess
import sys
import time

swrun, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
here = os.path.dirname(os.path.abspath(__file__))
rootfs = subprocess.run([os.path.join(here, "distro-rootfs.sh"), "systemd"], check=True,
                        capture_output=True, text=True).stdout.strip()

CONFIG = """lxc.include = /usr/share/lxc/config/common.conf
lxc.rootfs.path = dir:{rootfs}
lxc.uts.name = {name}
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.cgroup.relative = 1
"""

def make(name):
    directory = os.path.join(work, name)
    os.makedirs(directory)
    subprocess.run(["cp", "-a", rootfs, os.path.join(directory, "rootfs")], check=True)
    with open(os.path.join(directory, "config"), "w") as config:
        config.write(CONFIG.format(rootfs=os.path.join(directory, "rootfs"), name=name))

TOOLS = {
    "swrun": {
        "start": lambda n: [swrun, "start", "-n", n, "-P", work],
        "attach": lambda n: [swrun, "attach", "-n", n, "-P", work, "--", "systemctl", "is-system-running"],
        "stop": lambda n: [swrun, "stop", "-n", n, "-P", work, "-t", "60"],
    },
    "lxc": {
        "start": lambda n: ["lxc-start", "-n", n, "-P", work],
        "attach": lambda n: ["lxc-attach", "-n", n, "-P", work, "--", "systemctl", "is-system-running"],
        "stop": lambda n: ["lxc-stop", "-n", n, "-P", work, "-t", "60"],
    },
}

def boot_and_halt(runtime, name):
    tool = TOOLS[runtime]
    began = time.monotonic()
    subprocess.run(tool["start"](name), check=True, capture_output=True)
    state = ""
    while time.monotonic() - began < 120:
        state = subprocess.run(tool["attach"](name), capture_output=True, text=True).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.02)
    booted = time.monotonic()
    subprocess.run(tool["stop"](name), check=True, capture_output=True)
    halted = time.monotonic()
    if state != "running":
        raise SystemExit(f"{runtime}: systemd said '{state}', not running")
    return (booted - began) * 1000, (halted - booted) * 1000

available = [runtime for runtime in TOOLS if runtime == "swrun" or subprocess.run(["sh", "-c", "command -v lxc-start"], capture_output=True).returncode == 0]
for runtime in available:
    make(f"boot-{runtime}")
times = {runtime: {"boot": [], "halt": []} for runtime in available}
for _ in range(runs):
    for runtime in available:
        boot, halt = boot_and_halt(runtime, f"boot-{runtime}")
        times[runtime]["boot"].append(boot)
        times[runtime]["halt"].append(halt)

print(f"{'runtime':<10}{'boot ms':>10}{'halt ms':>10}")
for runtime in available:
    print(f"{runtime:<10}{statistics.median(times[runtime]['boot']):>10.0f}{statistics.median(times[runtime]['halt']):>10.0f}")
if "lxc" in times:
    for phase in ("boot", "halt"):
        ratio = statistics.median(times["swrun"][phase]) / statistics.median(times["lxc"][phase])
        print(f"swrun / lxc, {phase}: {ratio:.2f}x")
