#!/usr/bin/env bash
# ep-check.sh LAYER.mlir TAG T RANKS... [-- MOE-RUN FLAGS]
#
# Runs LAYER once on one rank and then under `mpirun -np R moe-run --ranks=R`
# for each R, on the same seeded T tokens, and prints for each R the
# expert-parallel run's check line and whether its output is bitwise the
# single-rank one's ("bitwise" or "DIFFERS"). Used by the lit tests here;
# MPIRUN is the launcher command (lit's %mpirun).
set -u
layer=$1 tag=$2 tokens=$3
shift 3
ranks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ranks+=("$1"); shift; done
[ $# -gt 0 ] && shift
flags=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--tokens="$tokens" --seed=5 --runs=1 --threads=1 "${flags[@]}")
if ! moe-run "$layer" "${common[@]}" --output="$work/one.npy" > "$work/one.txt" 2>&1; then
  echo "$tag T=$tokens: single rank FAILED"; cat "$work/one.txt"; exit 0
fi
for r in "${ranks[@]}"; do
  if timeout 300 $MPIRUN -np "$r" moe-run "$layer" --ranks="$r" "${common[@]}" \
       --output="$work/r$r.npy" > "$work/r$r.txt" 2>&1; then
    same=DIFFERS
    cmp -s "$work/one.npy" "$work/r$r.npy" && same=bitwise
    echo "$tag T=$tokens np=$r: $(grep -E '^  check:' "$work/r$r.txt" | sed 's/^ *//'); $same"
  else
    echo "$tag T=$tokens np=$r: FAILED"; cat "$work/r$r.txt"
  fi
done
