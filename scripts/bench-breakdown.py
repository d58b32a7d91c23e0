#!/usr/bin/env python3
"""Where `swrun execute -- /bin/true` spends its time (issue 18, item 1), part of make bench.

Runs it RUNS times under `perf record` with a few scheduler and system call tracepoints
(exec, fork, exit, pivot_root: the kernel stamps them, at almost no cost to the run), and
prints the median of each phase in milliseconds. Without a working perf it falls back to
strace, whose milliseconds are inflated (it stops at every call) but whose shares still say
where the time goes.
Usage: bench-breakdown.py SWRUN NAME LXCPATH RUNS
"""
import os, re, shutil, statistics, subprocess, sys, tempfile

swrun, name, lxcpath, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
command = [swrun, "execute", "-n", name, "-P", lxcpath, "--", "/bin/true"]
phases = [
    ("start-up to the sealed re-exec", "start", "sealed"),
    ("config, plan, cgroup, clone of init", "sealed", "clone"),
    ("namespaces, mounts up to pivot_root", "clone", "pivot"),
    ("pivot_root to the command's execve", "pivot", "command"),
    ("the command (/bin/true) itself", "command", "ended"),
    ("the end: reap, undo, records, exit", "ended", "end"),
]


def perf_marks():
    """One dict of marks (ms) per run, from perf's tracepoints; None where perf cannot trace."""
    if not shutil.which("perf"):
        return None
    events = ["sched:sched_process_exec", "sched:sched_process_fork", "sched:sched_process_exit", "syscalls:sys_enter_pivot_root"]
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "perf.data")
        loop = f"for i in $(seq {runs}); do {' '.join(command)} || exit 1; done"
        record = ["perf", "record", "-q", "-o", data] + sum((["-e", e] for e in events), []) + ["--", "sh", "-c", loop]
        if subprocess.run(record, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            return None
        script = subprocess.run(["perf", "script", "-i", data, "-F", "pid,time,event,trace"], capture_output=True, text=True)
    runs_marks, marks, swrun_pid, init_pid, command_pid = [], {}, None, None, None
    for line in script.stdout.splitlines():
        match = re.match(r"\s*(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$", line)
        if not match:
            continue
        pid, at, event, trace = int(match[1]), float(match[2]) * 1000, match[3], match[4]
        if event.endswith("sched_process_exec") and trace.startswith("filename=" + swrun):
            marks, swrun_pid = {"start": at}, pid
        elif event.endswith("sched_process_exec") and pid == swrun_pid and "sealed" not in marks:
            marks["sealed"] = at
        elif event.endswith("sched_process_fork") and pid == swrun_pid and "clone" not in marks:
            marks["clone"], init_pid = at, int(re.search(r"child_pid=(\d+)", trace)[1])
        elif event.endswith("sys_enter_pivot_root") and pid == init_pid:
            marks["pivot"] = at
        elif event.endswith("sched_process_exec") and "filename=/bin/true" in trace:
            marks["command"], command_pid = at, pid
        elif event.endswith("sched_process_exit") and pid == command_pid:
            marks["ended"] = at
        elif event.endswith("sched_process_exit") and pid == swrun_pid:
            marks["end"] = at
            marks.setdefault("sealed", marks["start"])  # a binary on a read-only mount needs no re-exec
            runs_marks.append(marks)
    return runs_marks


def strace_marks():
    line = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+) (\w+)\((.*)$")
    result = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".strace") as trace:
            subprocess.run(["strace", "-f", "-tt", "-qq", "-e", "trace=execve,execveat,clone,clone3,pivot_root,exit_group", "-o", trace.name]
                           + command, check=True)
            marks, exits = {}, {}
            for text in open(trace.name):
                match = line.match(text)
                if not match:
                    continue
                pid, h, m, s, call, rest = match.groups()
                at = (int(h) * 3600 + int(m) * 60 + float(s)) * 1000
                execs = call in ("execve", "execveat")
                if execs and "start" not in marks:
                    marks["start"] = at
                elif execs and '"/bin/true"' in rest.split(",")[0]:
                    marks["command"], marks["command_pid"] = at, pid
                elif execs and "sealed" not in marks and "clone" not in marks:
                    marks["sealed"] = at
                elif call in ("clone", "clone3") and "clone" not in marks:
                    marks["clone"] = at
                elif call == "pivot_root" and "pivot" not in marks:
                    marks["pivot"] = at
                if call == "exit_group":
                    exits[pid] = at
                    marks["end"] = at
            if "command_pid" in marks and marks["command_pid"] in exits:
                marks["ended"] = exits[marks["command_pid"]]
            marks.setdefault("sealed", marks.get("start", 0))
            result.append(marks)
    return result


runs_marks, how = perf_marks(), "perf tracepoints"
if not runs_marks:
    runs_marks, how = strace_marks(), "strace (slows every call: read the shares)"
durations = {title: [m[b] - m[a] for m in runs_marks if a in m and b in m] for title, a, b in phases}
if not all(durations.values()):
    print("  (no phases found: is perf or strace installed?)")
    sys.exit(0)
medians = {title: statistics.median(values) for title, values in durations.items()}
total = sum(medians.values())
print(f"  measured with {how}, {len(runs_marks)} runs")
print(f"  {'phase':<44}{'median ms':>10}{'share':>8}")
for title, ms in medians.items():
    print(f"  {title:<44}{ms:>10.2f}{ms / total * 100:>7.0f}%")
print(f"  {'total':<44}{total:>10.2f}")
