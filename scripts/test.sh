#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs the unit
# tests (GoogleTest, through ctest), the lit tests (dialect, passes,
# conversions, CPU execution) and the format check (clang-format-22, LLVM
# style: one test). Ends with one line: "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
. "$root/scripts/test-counts.sh"

"$root/scripts/bootstrap.sh" --python || exit 1
"$root/scripts/build.sh" || { echo "0 passed, 1 failed (build)"; exit 1; }

echo "== unit tests"
# The same fixed seed as the lit tests (test/lit.cfg.py) unless one is given.
MOE_TEST_SEED=${MOE_TEST_SEED:-1} \
  ctest --test-dir "$build" --output-on-failure 2>&1 | tee "$build/ctest.log"
ctest_counts "$build/ctest.log"

echo "== lit tests"
/usr/lib/llvm-22/bin/lit -sv "$build/test" 2>&1 | tee "$build/lit.log"
lit_counts "$build/lit.log"

echo "== format"
format_failed=0
"$root/scripts/check-format.sh" || format_failed=1

passed=$(( unit_total - unit_failed - unit_skipped + lit_passed + 1 - format_failed ))
lit_skipped=$(( lit_skipped + unit_skipped ))
failed=$(( unit_failed + lit_failed + format_failed ))

# The sanitizer job (ASan+UBSan build, its tests, a bounded fuzz run);
# MOE_SKIP_SANITIZERS=1 skips it for a quick local run.
if [ "${MOE_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== sanitizers"
  "$root/scripts/sanitize.sh"
  read -r san_passed san_failed < "${MOE_ASAN_BUILD_DIR:-$root/build-asan}/sanitize.counts" \
    || { san_passed=0; san_failed=1; }
  passed=$(( passed + san_passed ))
  failed=$(( failed + san_failed ))
fi
echo "$passed passed, $failed failed, $lit_skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
