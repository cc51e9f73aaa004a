#!/usr/bin/env bash
# Runs only the grouped GEMM cases of a kit (bench/gpu-gemm-prepare.sh) on
# a GPU machine: each case and kernel variant checked against the CPU
# reference, then timed; one log and a table of the PASS/FAIL lines last.
# bench/gpu-check.sh runs the same cases among its other steps.
#
#   bench/gpu-gemm-run.sh KIT [FILTER]   (FILTER: a grep -E on case names)
set -uo pipefail
kit=$(cd "${1:?usage: bench/gpu-gemm-run.sh KIT [FILTER]}" && pwd)
filter=${2:-.}
log=${OUT:-.}/gpu-gemm.log
: >"$log"
failed=0
while read -r -u 3 name rest; do
  grep -qE "$filter" <<<"$name" || continue
  read -r -a args <<<"${rest//KIT/$kit}"
  echo "== $name" | tee -a "$log"
  "$kit/gemm/moe-gpu-gemm-check" "${args[@]}" --seed=2026 >>"$log" 2>&1 ||
    failed=1
  tail -n 1 "$log"
done 3<"$kit/gemm/cases"
echo
awk '/^== /{name=$2} /^fallback variant/{fb=" (fell back)"}
     /^(PASS|FAIL) R=/{print name fb ": " $0; fb=""}' "$log"
exit $failed
