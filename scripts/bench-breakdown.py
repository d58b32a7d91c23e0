#!/usr/bin/env python3
"""Where `swrun execute -- /bin/true` spends its time (issue 18, item 1), part of make bench.

Runs it RUNS times under strace (-f, timestamps of the calls that mark each phase), and
prints the median of each phase: strace slows every call, so the milliseconds are larger
than the benchmark's, but the shares say where the time goes.
Usage: bench-breakdown.py SWRUN NAME LXCPATH RUNS
"""
import os, re, statistics, subprocess, sys, tempfile

swrun, name, lxcpath, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
line = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+) (\w+)\((.*)$")
phases = {
    "start-up and the sealed re-exec": [],
    "config, plan, cgroup, clone of init": [],
    "namespaces, mounts and pivot_root in init": [],
    "from pivot_root to execve of the command": [],
    "the command, then waiting and cleaning up": [],
}
for _ in range(runs):
    with tempfile.NamedTemporaryFile(suffix=".strace") as trace:
        subprocess.run(["strace", "-f", "-tt", "-qq", "-e", "trace=execve,execveat,clone,clone3,pivot_root,exit_group", "-o", trace.name,
                        swrun, "execute", "-n", name, "-P", lxcpath, "--", "/bin/true"], check=True)
        marks = {}
        for text in open(trace.name):
            match = line.match(text)
            if not match:
                continue
            pid, h, m, s, call, rest = match.groups()
            at = (int(h) * 3600 + int(m) * 60 + float(s)) * 1000
            exec = call in ("execve", "execveat")
            if exec and "start" not in marks:
                marks["start"] = at
            elif exec and "/bin/true" not in rest.split(",")[0] and "sealed" not in marks and "clone" not in marks:
                marks["sealed"] = at
            elif call in ("clone", "clone3") and "clone" not in marks:
                marks["clone"] = at
            elif call == "pivot_root" and "pivot" not in marks:
                marks["pivot"] = at
            elif exec and '"/bin/true"' in rest.split(",")[0]:
                marks["command"] = at
            if call == "exit_group":
                marks["end"] = at
        marks.setdefault("sealed", marks.get("start", 0))  # a build that does not re-exec sealed
        order = ["start", "sealed", "clone", "pivot", "command", "end"]
        if all(mark in marks for mark in order):
            for (phase, (a, b)) in zip(phases, zip(order, order[1:])):
                phases[phase].append(marks[b] - marks[a])
if not phases["the command, then waiting and cleaning up"]:
    print("  (strace found no phases: is strace installed?)")
    sys.exit(0)
total = sum(statistics.median(v) for v in phases.values())
print(f"{'phase (under strace)':<46}{'median ms':>10}{'share':>8}")
for phase, values in phases.items():
    ms = statistics.median(values)
    print(f"{phase:<46}{ms:>10.2f}{ms / total * 100:>7.0f}%")
