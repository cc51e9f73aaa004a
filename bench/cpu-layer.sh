#!/usr/bin/env bash
# CPU benchmark of whole MoE layers: moe-run (our compiled layer, one thread)
# against blas-moe-baseline (the same shape on OpenBLAS sgemm, one thread),
# both in this script, medians of RUNS runs. Prints a Markdown table.
#
#   bench/cpu-layer.sh [RUNS]        (default 7)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
runs=${1:-7}
export OPENBLAS_NUM_THREADS=1
[ -x "$build/bin/blas-moe-baseline" ] || {
  echo "bench: $build/bin/blas-moe-baseline is missing (install libopenblas-dev and rebuild)" >&2; exit 1; }

# name file D F E k
layers=(
  "mixtral/8 $root/examples/mixtral.mlir 512 1792 8 2"
  "fine-grained $root/bench/layers/fine-grained.mlir 512 256 64 6"
)
median_ms() { sed -nE 's/.*median ([0-9.]+) ms.*/\1/p' | head -1; }

echo "| layer | T | moe-mlir (ms) | GFLOP/s | OpenBLAS (ms) | GFLOP/s | moe-mlir / OpenBLAS time |"
echo "|---|---|---|---|---|---|---|"
for entry in "${layers[@]}"; do
  read -r name file D F E k <<<"$entry"
  for T in 1 16 64 256; do
    ours=$("$build/bin/moe-run" "$file" --tokens="$T" --runs="$runs" --seed=1 --threads=1)
    grep -q ": PASS" <<<"$ours" || { echo "bench: $name T=$T does not match the reference" >&2; exit 1; }
    base=$("$build/bin/blas-moe-baseline" "$D" "$F" "$E" "$k" "$T" "$runs")
    ms_ours=$(median_ms <<<"$ours"); ms_base=$(median_ms <<<"$base")
    gf_ours=$(sed -nE 's/.* ([0-9.]+) GFLOP\/s.*/\1/p' <<<"$ours")
    gf_base=$(sed -nE 's/.* ([0-9.]+) GFLOP\/s.*/\1/p' <<<"$base")
    ratio=$(awk -v a="$ms_ours" -v b="$ms_base" 'BEGIN { printf "%.2f", a / b }')
    echo "| $name | $T | $ms_ours | $gf_ours | $ms_base | $gf_base | $ratio |"
  done
done
