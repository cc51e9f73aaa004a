#!/usr/bin/env bash
# Reruns the tests that draw random data with N fresh seeds each, where the
# test suite uses one fixed seed (so that CI's verdict is the same for the
# same commit). Prints every failing test with its seed and the command that
# replays it, and ends with "soak: N runs, N failed".
#
#   scripts/soak.sh N [TEST_PATH ...]
#
# TEST_PATHs are lit test files or folders under test/ (default: the
# execution and conformance tests, test/Integration and test/Conformance).
# Needs a build (scripts/build.sh); the output of a failing round is kept in
# build/soak/seed-S.log. MOE_SOAK_FUZZ_RUNS=K also runs the fuzzer
# of the sanitizer build (build-asan/, if built) for K inputs from each seed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
rounds=${1:?usage: scripts/soak.sh N [TEST_PATH ...]}
shift
paths=("$@")
((${#paths[@]})) || paths=(test/Integration test/Conformance)
lit=/usr/lib/llvm-22/bin/lit
[ -f "$build/test/lit.site.cfg.py" ] || { echo "soak: no build in $build (run scripts/build.sh)" >&2; exit 1; }

targets=()
for path in "${paths[@]}"; do
  path=${path#"$root"/}
  path=${path#test/}
  targets+=("$build/test/$path")
done

failures=0 runs=0
logs=$build/soak
mkdir -p "$logs"
for ((i = 1; i <= rounds; i++)); do
  # 62 bits of fresh entropy; moe_rt_fresh_seed and the Python tests read it.
  seed=$(( $(od -An -N8 -tu8 /dev/urandom | tr -d ' ') & 0x3fffffffffffffff ))
  log=$logs/seed-$seed.log
  MOE_TEST_SEED=$seed "$lit" -sv "${targets[@]}" >"$log" 2>&1
  runs=$((runs + 1))
  failed_tests=$(sed -nE 's/^(FAIL|UNRESOLVED|TIMEOUT): [^:]+ :: (.*) \(.*$/\2/p' "$log")
  if [ -n "$failed_tests" ]; then
    while read -r test; do
      failures=$((failures + 1))
      echo "soak: seed $seed: FAIL $test"
      echo "  replay: MOE_TEST_SEED=$seed $lit -v $build/test/$test"
    done <<<"$failed_tests"
    echo "  output: $log"
  else
    rm -f "$log"
    echo "soak: seed $seed: all passed ($i of $rounds)"
  fi
  if [ -n "${MOE_SOAK_FUZZ_RUNS:-}" ] && [ -x "$root/build-asan/bin/moe-fuzz" ]; then
    scratch=$(mktemp -d)
    if ! (cd "$scratch" && "$root/build-asan/bin/moe-fuzz" -seed="$seed" \
            -runs="$MOE_SOAK_FUZZ_RUNS" -timeout=30 -rss_limit_mb=4096 \
            "$scratch" "$root/fuzz/corpus" >"$scratch/fuzz.log" 2>&1); then
      failures=$((failures + 1))
      echo "soak: seed $seed: FAIL fuzzing ($(ls "$scratch" | grep -E '^(crash|timeout|oom)-' | head -1))"
      echo "  replay: MOE_FUZZ_SEED=$seed MOE_FUZZ_RUNS=$MOE_SOAK_FUZZ_RUNS scripts/sanitize.sh"
    fi
    rm -rf "$scratch"
  fi
done
echo "soak: $runs runs, $failures failed"
[ "$failures" -eq 0 ]
