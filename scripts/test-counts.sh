# Sourced by scripts/test.sh and scripts/sanitize.sh: the counts of a ctest
# and a lit run, read from their logs, so that both scripts count alike.

# ctest_counts LOG: sets unit_total, unit_failed, unit_skipped. A log without
# ctest's summary line counts as one failure. A GTEST_SKIP (e.g. no GPU) is
# neither passed nor failed.
ctest_counts() {
  local summary='s/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/'
  unit_total=$(sed -nE "${summary}\\2/p" "$1" | tail -1)
  unit_failed=$(sed -nE "${summary}\\1/p" "$1" | tail -1)
  unit_total=${unit_total:-0}
  unit_failed=${unit_failed:-1}
  unit_skipped=$(grep -c "(Skipped)" "$1" || true)
  unit_skipped=${unit_skipped:-0}
}

# lit_counts LOG: sets lit_passed, lit_failed (failed, unresolved or timed
# out) and lit_skipped (unsupported).
lit_counts() {
  _lit_count() { sed -nE "s/^ *$2 *: *([0-9]+).*/\1/p" "$1" | tail -1; }
  lit_passed=$(( $(_lit_count "$1" Passed) + 0 ))
  lit_failed=$(( $(_lit_count "$1" Failed) + $(_lit_count "$1" Unresolved) \
                 + $(_lit_count "$1" 'Timed Out') + 0 ))
  lit_skipped=$(( $(_lit_count "$1" Unsupported) + 0 ))
}
