#!/usr/bin/env python3
"""make bench's timer (time_group in bench-lib.sh): runs labelled commands in turns of CHUNK
runs each (A's chunk, B's, C's, A's again...). On a shared host the speed drifts from minute
to minute; all of one command's runs and then all of the next would let a quiet minute and a
busy one pass for a difference between them. Single runs in turn would not do either: what a
run leaves to the kernel to finish (a network namespace's teardown, freed cgroups) would land
on another command's run. So each turn first runs its command once untimed, which absorbs
what the previous command left, and the timed runs follow a run of their own command, as in
a steady stream of them.

Usage: bench-interleave.py OUTDIR RUNS WARMUP LABEL COMMAND [LABEL COMMAND ...]
WARMUP untimed runs precede a command's first turn. A COMMAND's words are split as a shell
splits them (no shell runs it); it runs with stdin and stdout on /dev/null and stderr in
OUTDIR/LABEL.err. OUTDIR/LABEL.json gets its wall times in hyperfine's layout ({"results":
[{"times": [seconds, ...]}]}). A command that fails is left out from then on: it gets no
.json, and the end of its stderr is printed."""
import json
import os
import shlex
import sys
import time

out, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pairs = sys.argv[4:]
if len(pairs) % 2:
    sys.exit("bench-interleave.py: a LABEL without its COMMAND")
commands = {pairs[i]: shlex.split(pairs[i + 1]) for i in range(0, len(pairs), 2)}
os.makedirs(out, exist_ok=True)
times = {label: [] for label in commands}
failed = set()


def run_once(label, argv):
    """One run of a command: its wall time in seconds, or None when it failed (the reason
    then ends its .err file)."""
    error_path = os.path.join(out, label + ".err")
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, error_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    began = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    except OSError as error:
        with open(error_path, "w") as log:
            log.write(f"cannot run {argv[0]}: {error}\n")
        return None
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - began
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return elapsed
    with open(error_path, "a") as log:
        log.write(f"exit status {code}" if code > 0 else f"killed by signal {-code}")
    return None


CHUNK = 5
first_turn = True
while any(len(times[label]) < runs for label in commands if label not in failed):
    for label, argv in commands.items():
        if label in failed:
            continue
        timed = min(CHUNK, runs - len(times[label]))
        if timed <= 0:
            continue
        untimed = warmup if first_turn else 1
        for index in range(untimed + timed):
            elapsed = run_once(label, argv)
            if elapsed is None:
                failed.add(label)
                with open(os.path.join(out, label + ".err"), errors="replace") as log:
                    print(f"  {label}: failed ({log.read()[-300:].strip()})")
                break
            if index >= untimed:
                times[label].append(elapsed)
    first_turn = False

for label, measured in times.items():
    path = os.path.join(out, label + ".json")
    if label in failed:
        if os.path.exists(path):
            os.remove(path)
        continue
    with open(path, "w") as result:
        json.dump({"results": [{"command": shlex.join(commands[label]), "times": measured}]}, result)
