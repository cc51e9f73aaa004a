#!/usr/bin/env bash
# What routing costs inside a compiled layer, and fused gating against the
# unfused route. For each layer and T, three timings of moe-run (medians of
# RUNS runs, all cores, one process each):
#   full     the layer as moe-cpu-pipeline compiles it (fuse-gating=true),
#            its weights packed once before the calls (pack-weights), as
#            in bench/cpu-peers.sh;
#   thin     the same layer with the experts' width F cut to 32: the router
#            matmul, the route, the dispatch and the combine cost what they
#            cost in the full layer, the expert products almost nothing;
#   unfused  the thin layer with fuse-gating=false (router matmul and
#            moe.route apart, the [T, E] logits materialised).
# "thin / full" bounds the share of the layer's time spent outside the
# expert products (the gating is part of it); "fused / unfused" compares the
# two gating lowerings where they dominate. Prints a Markdown table.
#
#   bench/gating.sh [RUNS] [T...]      (default 5; 1024 4096)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
runs=${1:-5}
shift || true
tokens=("$@")
((${#tokens[@]})) || tokens=(1024 4096)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name preset scale-down F
layers=(
  "mixtral-8x7b/4 mixtral-8x7b 4 3584"
  "olmoe-1b-7b/2 olmoe-1b-7b 2 512"
  "qwen3-30b-a3b/2 qwen3-30b-a3b 2 384"
)
median_ms() { sed -nE 's/.*time: median ([0-9.]+) ms.*/\1/p'; }
run() {
  local out
  out=$("$build/bin/moe-run" "$@" --runs="$runs" --seed=1)
  grep -q "check: .*: PASS" <<<"$out" || {
    echo "bench: moe-run $* does not match the reference" >&2; exit 1; }
  median_ms <<<"$out"
}

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "CPU: $model ($(nproc) cores); $(date -u +%Y-%m-%d); bench/gating.sh $runs ${tokens[*]}"
echo
echo "| layer | E | T | full ms | thin ms | unfused thin ms | thin / full | fused / unfused |"
echo "|---|---|---|---|---|---|---|---|"
for entry in "${layers[@]}"; do
  read -r name preset scale F <<<"$entry"
  full=$work/full.mlir thin=$work/thin.mlir
  "$build/bin/moe-preset" "$preset" --scale-down="$scale" > "$full"
  # F appears only in the expert weights' shapes: [E, F, D] and [E, D, F].
  sed -E "s/x${F}x/x32x/g; s/x${F}xf32/x32xf32/g" "$full" > "$thin"
  E=$(sed -nE 's/.*E=([0-9]+).*/\1/p' "$full" | head -1)
  for T in "${tokens[@]}"; do
    a=$(run "$full" --tokens="$T" --pipeline="pack-weights=1")
    b=$(run "$thin" --tokens="$T" --pipeline="pack-weights=1")
    c=$(run "$thin" --tokens="$T" --pipeline="fuse-gating=false pack-weights=1")
    awk -v n="$name" -v e="$E" -v t="$T" -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
      printf "| %s | %d | %d | %.2f | %.2f | %.2f | %.1f%% | %.2f |\n",
             n, e, t, a, b, c, 100 * b / a, b / c }'
  done
done
