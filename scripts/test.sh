#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs the unit
# tests (GoogleTest, through ctest) and the lit tests (dialect, passes,
# conversions, CPU execution). Ends with one line: "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}

"$root/scripts/bootstrap.sh" || exit 1
"$root/scripts/build.sh" || { echo "0 passed, 1 failed (build)"; exit 1; }

echo "== unit tests"
ctest --test-dir "$build" --output-on-failure 2>&1 | tee "$build/ctest.log"
unit_total=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' "$build/ctest.log" | tail -1)
unit_failed=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' "$build/ctest.log" | tail -1)
unit_total=${unit_total:-0}; unit_failed=${unit_failed:-1}
# A GTEST_SKIP (e.g. no GPU) is neither passed nor failed.
unit_skipped=$(grep -c "(Skipped)" "$build/ctest.log" || true); unit_skipped=${unit_skipped:-0}

echo "== lit tests"
/usr/lib/llvm-22/bin/lit -sv "$build/test" 2>&1 | tee "$build/lit.log"
count() { sed -nE "s/^ *$1 *: *([0-9]+).*/\1/p" "$build/lit.log" | tail -1; }
lit_passed=$(( $(count Passed || true) + 0 ))
lit_failed=$(( $(count Failed || true) + $(count 'Unresolved' || true) + $(count 'Timed Out' || true) + 0 ))
lit_skipped=$(( $(count Unsupported || true) + 0 ))

passed=$(( unit_total - unit_failed - unit_skipped + lit_passed ))
lit_skipped=$(( lit_skipped + unit_skipped ))
failed=$(( unit_failed + lit_failed ))

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
