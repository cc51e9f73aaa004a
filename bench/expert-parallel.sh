#!/usr/bin/env bash
# What expert parallelism moves and what the exchange costs against the
# compute, on this machine: each layer at T tokens on R = 1, 2 and 4 MPI
# ranks (`mpirun -np R moe-run --ranks=R`, one thread per rank), medians of
# RUNS runs. For each: the layer's median time (rank 0's call: every rank
# waits for the others at each exchange), rank 0's median time inside the
# exchanges (the runtime's count and row all-to-alls), the bytes rank 0
# sends to other ranks per call, and moe-cost's expected All-to-All bytes
# per rank under uniform routing (the batch's, divided by R) for
# comparison. Every run is checked
# against the single-rank reference. Prints a Markdown table.
#
# The processes share the machine's cores: with more ranks than cores the
# "exchange" time includes waiting for a rank that is not scheduled, so on
# a 2-core machine R = 4 measures the algorithm, not the network.
#
#   bench/expert-parallel.sh [RUNS] [T...]      (default 5; 256 1024)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
runs=${1:-5}
shift || true
tokens=("$@")
((${#tokens[@]})) || tokens=(256 1024)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v mpirun > /dev/null || {
  echo "bench: no mpirun (scripts/bootstrap.sh installs OpenMPI)" >&2; exit 1; }
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# name preset scale-down
layers=(
  "mixtral-8x7b/4 mixtral-8x7b 4"
  "olmoe-1b-7b/2 olmoe-1b-7b 2"
)

field() { sed -nE "s/$1/\\1/p" "$2"; }

echo "| layer | T | R | layer ms | exchange ms | exchange share | MB sent by rank 0 | moe-cost MB per rank |"
echo "|---|---|---|---|---|---|---|---|"
for layer in "${layers[@]}"; do
  read -r name preset scale <<<"$layer"
  file="$work/${preset}.mlir"
  "$build/bin/moe-preset" "$preset" --scale-down="$scale" > "$file"
  for T in "${tokens[@]}"; do
    for R in 1 2 4; do
      out="$work/out"
      if [ "$R" = 1 ]; then
        "$build/bin/moe-run" "$file" --tokens="$T" --seed=1 --runs="$runs" \
          --threads=1 > "$out"
      else
        timeout 900 mpirun --oversubscribe -np "$R" "$build/bin/moe-run" \
          "$file" --ranks="$R" --tokens="$T" --seed=1 --runs="$runs" \
          --threads=1 > "$out"
      fi
      grep -q "check: .*: PASS" "$out" || {
        echo "bench: $name T=$T R=$R does not match the reference" >&2
        cat "$out" >&2; exit 1; }
      layer_ms=$(field '.*time: median ([0-9.]+) ms.*' "$out")
      exchange_ms=$(field '.*median ([0-9.]+) ms per call in them.*' "$out")
      sent=$(field '.* per call, ([0-9.]+) MB sent.*' "$out")
      cost=$("$build/bin/moe-opt" "$file" \
        --moe-cost="format=json ep-ranks=$R tokens=$T" -o /dev/null |
        python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["layers"][0]; print("%.3f" % (l["all_to_all"]["bytes_for_tokens"]/1e6/'"$R"'))')
      if [ "$R" = 1 ]; then
        exchange_ms=0 sent=0
      fi
      share=$(python3 -c "print('%.0f%%' % (100.0 * $exchange_ms / $layer_ms))")
      echo "| $name | $T | $R | $layer_ms | $exchange_ms | $share | $sent | $cost |"
    done
  done
done
