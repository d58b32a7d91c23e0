#!/usr/bin/env python3
"""make bench's timer (time_group in bench-lib.sh): runs labelled commands in rounds, each
round running every command once, in turn. On a shared host the speed drifts from minute to
minute; timed one block after another, a command that met a quiet minute and one that met a
busy one would show a difference that is not theirs. In rounds, the drift falls on all alike.

Usage: bench-interleave.py OUTDIR RUNS WARMUP LABEL COMMAND [LABEL COMMAND ...]
A COMMAND's words are split as a shell splits them (no shell runs it); it runs with stdin
and stdout on /dev/null and stderr in OUTDIR/LABEL.err. OUTDIR/LABEL.json gets its wall times
in hyperfine's layout ({"results": [{"times": [seconds, ...]}]}). A command that fails is
left out from then on: it gets no .json, and its last lines of stderr are printed."""
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


for round_number in range(warmup + runs):
    for label, argv in commands.items():
        if label in failed:
            continue
        elapsed = run_once(label, argv)
        if elapsed is None:
            failed.add(label)
            with open(os.path.join(out, label + ".err"), errors="replace") as log:
                print(f"  {label}: failed ({log.read()[-300:].strip()})")
        elif round_number >= warmup:
            times[label].append(elapsed)

for label, measured in times.items():
    path = os.path.join(out, label + ".json")
    if label in failed:
        if os.path.exists(path):
            os.remove(path)
        continue
    with open(path, "w") as result:
        json.dump({"results": [{"command": shlex.join(commands[label]), "times": measured}]}, result)
