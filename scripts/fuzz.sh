#!/bin/bash
# Builds swrun's libFuzzer targets (Fuzz/Targets, SWRUN_FUZZ=1 in Package.swift) with
# -sanitize=fuzzer,address into .build-fuzz, and runs each for FUZZ_SECONDS (default 60)
# from its seed corpus (Fuzz/Corpus/TARGET). What a run finds goes to .build-fuzz/corpus
# (new inputs) and .build-fuzz/crashes/TARGET (inputs that crash: make each a regression
# test in the target's module's tests). Exits 1 when any target crashed.
# Usage: scripts/fuzz.sh [TARGET...]          FUZZ_SECONDS=5 scripts/fuzz.sh for a smoke pass
set -eu

cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=.build-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls Fuzz/Targets)

export SWRUN_FUZZ=1
flags=(--build-path "$build" --sanitize=fuzzer --sanitize=address)
for target in "${targets[@]}"; do  # one --product a build: swift build takes only the last
  swift build "${flags[@]}" --product "$target" 2>&1 | grep -E 'error:|Build of' || true
done
bin=$(swift build "${flags[@]}" --show-bin-path)

# libFuzzer reports a crash itself; Swift's backtracer would only slow it down.
export SWIFT_BACKTRACE=enable=no
failed=()
for target in "${targets[@]}"; do
  [ -x "$bin/$target" ] || { echo "fuzz: $target was not built" >&2; failed+=("$target"); continue; }
  corpus=$build/corpus/$target crashes=$build/crashes/$target
  mkdir -p "$corpus" "$crashes"
  echo "fuzz: $target for ${seconds}s"
  # New inputs go to the first corpus directory only: the seeds in the repository stay as they are.
  if ! "$bin/$target" "$corpus" "Fuzz/Corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" >"$build/$target.log" 2>&1; then
    failed+=("$target")
    grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$build/$target.log" | head -5 >&2
  fi
  grep -E '^stat::number_of_executed_units' "$build/$target.log" | sed "s/^/fuzz: $target: /" || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashed: ${failed[*]}; the inputs are in $build/crashes/, the logs in $build/*.log" >&2
  exit 1
fi
echo "fuzz: no crash in ${targets[*]}"
