#!/usr/bin/env bash
# The sanitizer job: an ASan+UBSan build of the compiler, runtime, tools and
# tests with clang-22 (build-asan/), its unit and lit tests, and a bounded
# libFuzzer run of tools/moe-fuzz over fuzz/corpus. Ends with one line,
# "sanitizers: N passed, N failed", and writes the counts to
# build-asan/sanitize.counts for scripts/test.sh.
#
#   MOE_FUZZ_RUNS=40000 scripts/sanitize.sh   (default 40,000 fuzz inputs)
#
# The fuzzer runs a fixed number of inputs from a fixed seed (MOE_FUZZ_SEED,
# default 1), not a time: the same commit then gets the same verdict however
# loaded the machine is. MOE_FUZZ_SECONDS caps the run's time (default 600).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_ASAN_BUILD_DIR:-$root/build-asan}
. "$root/scripts/test-counts.sh"
fuzz_runs=${MOE_FUZZ_RUNS:-40000}
fuzz_seed=${MOE_FUZZ_SEED:-1}
fuzz_seconds=${MOE_FUZZ_SECONDS:-600}

"$root/scripts/bootstrap.sh" >/dev/null || exit 1
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-22 CXX=clang++-22 cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DMOE_SANITIZERS=address,undefined -DMOE_ENABLE_FUZZER=ON >/dev/null || exit 1
fi
if ! ninja -C "$build" >"$build/ninja.log" 2>&1; then
  tail -30 "$build/ninja.log"
  echo "sanitizers: 0 passed, 1 failed (build)"
  echo "0 1" >"$build/sanitize.counts"
  exit 1
fi

# Our code is instrumented, libMLIR.so is not: every binary shares clang's
# shared ASan runtime, preloaded so that it initializes first. LLVM's inline
# allocator code poisons arena memory in our objects that uninstrumented
# libMLIR.so code then reuses: allow_user_poisoning=0 avoids those false
# reports. Leaks in libMLIR.so's process-wide registries are not ours.
# allocator_may_return_null: an allocation too large fails as it does without
# ASan (the runtime's out-of-memory status is tested).
export LD_PRELOAD=$(clang-22 -print-file-name=libclang_rt.asan-x86_64.so)
export ASAN_OPTIONS=detect_leaks=0:allow_user_poisoning=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== sanitizers: unit tests"
ctest --test-dir "$build" --output-on-failure >"$build/ctest.log" 2>&1
tail -3 "$build/ctest.log"
ctest_counts "$build/ctest.log"

echo "== sanitizers: lit tests"
/usr/lib/llvm-22/bin/lit -sv "$build/test" >"$build/lit.log" 2>&1
grep -E "^(FAIL|UNRESOLVED|TIMEOUT)|Passed|Failed|Unsupported|Timed Out" "$build/lit.log"
lit_counts "$build/lit.log"

echo "== sanitizers: fuzzing, ${fuzz_runs} inputs from seed ${fuzz_seed}"
# New inputs go to a scratch directory; fuzz/corpus only holds curated seeds.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fuzz_failed=0
if ! (cd "$scratch" && "$build/bin/moe-fuzz" -seed="$fuzz_seed" -runs="$fuzz_runs" \
        -max_total_time="$fuzz_seconds" \
        -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        "$scratch" "$root/fuzz/corpus" >"$build/fuzz.log" 2>&1); then
  fuzz_failed=1
  tail -40 "$build/fuzz.log"
  ls "$scratch"/crash-* "$scratch"/timeout-* "$scratch"/oom-* 2>/dev/null
fi
grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$build/fuzz.log" | tail -2

passed=$(( unit_total - unit_failed - unit_skipped + lit_passed + 1 - fuzz_failed ))
failed=$(( unit_failed + lit_failed + fuzz_failed ))
echo "$passed $failed" >"$build/sanitize.counts"
echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
