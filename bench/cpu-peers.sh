#!/usr/bin/env bash
# The CPU peers of our compiled MoE layer, all in one run, all with the same
# thread count N: for Mixtral-8x7B scaled down by 4 (D=1024 F=3584 E=8 k=2)
# and OLMoE-1B-7B scaled down by 2 (D=1024 F=512 E=64 k=8), f32 and bf16,
# T in {1, 16, 128, 1024, 4096}, medians of several runs:
#
#   moe-mlir       moe-run LAYER.mlir --threads=N --pipeline=pack-weights=1
#                  (its check must PASS): the weights packed into the
#                  kernels' panels once, before the calls, as a deployment
#                  does when it loads them; that packing time is reported
#                  apart, in the checks table;
#   HF eager       Hugging Face's MoE block of the family in PyTorch eager,
#                  experts_implementation "eager";
#   HF grouped_mm  the same block, experts_implementation "grouped_mm";
#   compile        torch.compile (inductor, CPU) of both blocks; compile time
#                  reported apart (the first call at each T), only later calls
#                  timed; a failure is printed and leaves a dash;
#   IREE           our portable linalg output (moe-opt --moe-expand-layer
#                  --convert-moe-to-linalg, dynamic T) compiled once by
#                  iree.compiler (llvm-cpu, host CPU), run by iree.runtime with
#                  N task workers on the HF block's weights; its output is
#                  checked against the HF eager block's (rel err over 1e-4
#                  f32 / 3e-2 bf16 fails the run);
#   dense floor    the same active FLOPs as plain GEMMs on rows already
#                  grouped by expert (the block's own routing): the fastest of
#                  torch.mm expert by expert, torch._grouped_mm and, for f32,
#                  OpenBLAS (blas-moe-baseline: a whole layer on cblas_sgemm,
#                  its own random routing);
#   weight-read    at T = 1 and 16: the bytes of the experts these tokens
#                  touch (3*D*F each) and the router over the copy bandwidth
#                  measured in this run (torch copy of 1 GiB, read + write).
#
# Prints a header, then Markdown tables: times (ms), GFLOP/s (active FLOPs
# 2*T*k*3*D*F), moe-mlir time / peer time (< 1: moe-mlir is faster), checks
# and compile times. Progress goes to stderr. The Python part is
# bench/cpu-peers.py (one process per layer and dtype: each compiles once and
# runs every T). A full run takes about 20 minutes on 2 cores.
#
#   bench/cpu-peers.sh [--quick] [--json FILE] [--runs R] [--tokens "1 16"]
#                      [--layers "mixtral-8x7b olmoe-1b-7b"] [--dtypes "f32"]
#                      [--threads N] [--budget S]
#
# Environment (flags win): MOE_SKIP_BUILD=1 (skip the bootstrap and the
# build), RUNS (default 5: moe-run's runs, and the least
# number of timed runs of every peer: 3 for a call over 2 s, 1 over 10 s),
# TOKENS, LAYERS,
# DTYPES (f32 bf16), THREADS (default nproc), BUDGET (default 1: seconds of
# timed runs per peer measurement, at least), JSON (all figures as JSON),
# MOE_BUILD_DIR (default build/), MOE_VENV (default .venv/).
# --quick: a smoke test of every step: the layers scaled down 4 times more,
# and by default T in {1, 16}, 2 runs, no time budget.
# On an AVX-512 host OPENBLAS_CORETYPE=SkylakeX (unless already set), as in
# bench/matmul-kernels.sh: Debian's OpenBLAS 0.3.21 does not recognise recent
# Xeons.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
python=${MOE_VENV:-$root/.venv}/bin/python
command="$0 $*"

runs=${RUNS:-}
tokens=${TOKENS:-}
layers=${LAYERS:-mixtral-8x7b olmoe-1b-7b}
dtypes=${DTYPES:-f32 bf16}
threads=${THREADS:-$(nproc)}
budget=${BUDGET:-}
json=${JSON:-}
quick=0
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --json) json=$2; shift ;;
    --runs) runs=$2; shift ;;
    --tokens) tokens=$2; shift ;;
    --layers) layers=$2; shift ;;
    --dtypes) dtypes=$2; shift ;;
    --threads) threads=$2; shift ;;
    --budget) budget=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "cpu-peers: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
extra_scale=1
if ((quick)); then   # defaults of the smoke test; flags and environment win
  extra_scale=4 tokens=${tokens:-1 16} runs=${runs:-2} budget=${budget:-0}
fi
runs=${runs:-5} tokens=${tokens:-1 16 128 1024 4096} budget=${budget:-1}
tokens=$(tr ',' ' ' <<<"$tokens") layers=$(tr ',' ' ' <<<"$layers") dtypes=$(tr ',' ' ' <<<"$dtypes")
read -ra token_list <<<"$tokens"
tokens_csv=$(IFS=,; echo "${token_list[*]}")

# One command on a fresh machine: the bootstrap (Debian packages and the
# Python venv with PyTorch, transformers and IREE) and the build, both
# idempotent; MOE_SKIP_BUILD=1 uses the build as it is.
if [ "${MOE_SKIP_BUILD:-0}" != 1 ]; then
  "$root/scripts/bootstrap.sh" --python >&2
  MOE_BUILD_DIR=$build "$root/scripts/build.sh" >&2
fi
for tool in moe-run moe-opt moe-preset blas-moe-baseline; do
  [ -x "$build/bin/$tool" ] || {
    echo "cpu-peers: $build/bin/$tool is missing (build the project; blas-moe-baseline needs libopenblas-dev)" >&2; exit 1; }
done
"$python" -c "import torch, transformers, iree.compiler, iree.runtime, ml_dtypes" 2>/dev/null || {
  echo "cpu-peers: $python lacks torch, transformers, iree-base-compiler/runtime or ml_dtypes (scripts/bootstrap-python.sh)" >&2; exit 1; }

# The same N threads for everyone.
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
export PYTHONPATH="$root/bench${PYTHONPATH:+:$PYTHONPATH}"

work=$(mktemp -d "${TMPDIR:-/tmp}/cpu-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT
native=$work/native.tsv
: >"$native"
start=$SECONDS

"$python" "$root/bench/cpu-peers.py" header --threads "$threads" --runs "$runs" \
  --command "$command" --env-out "$work/env.json"
echo "Layers: $layers; dtypes: $dtypes; T: $tokens. Medians of at least $runs runs (moe-run: exactly $runs) and at least $budget s of runs per peer measurement, except that a call over 2 s is timed 3 times and a call over 10 s once (after the warm-up call); IREE is not run where a call would take over 45 s (predicted by the line through its times at the last two T)."
echo
bw=$("$python" "$root/bench/cpu-peers.py" bandwidth --threads "$threads" --reps 5 \
       --bytes $((1 << 30 >> (quick ? 4 : 0))))
bandwidth=$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["bandwidth_Bps"])' "$bw")
echo "Copy bandwidth (torch, $((1024 >> (quick ? 4 : 0))) MiB, read + write): $(awk -v b="$bandwidth" 'BEGIN { printf "%.1f", b / 1e9 }') GB/s"
echo

# How many cores other processes kept busy while a command of ours ran: the
# machine's busy CPU time (/proc/stat) less our children's (bash's times),
# over the wall time. mark_start before the command, others_since after
# (in this shell, not in $(...): bash's times reports its own children); it
# sets $others.
clk=$(getconf CLK_TCK)
busy_s() { awk -v t="$clk" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / t }' /proc/stat; }
children_s() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.2f", s }' "$1"; }
mark_start() { wall0=$(date +%s.%N) busy0=$(busy_s); times >"$work/times0"; }
others_since() {
  times >"$work/times1"
  others=$(awk -v w0="$wall0" -v w1="$(date +%s.%N)" -v b0="$busy0" -v b1="$(busy_s)" \
      -v c0="$(children_s "$work/times0")" -v c1="$(children_s "$work/times1")" \
      'BEGIN { o = (b1 - b0) - (c1 - c0); if (o < 0) o = 0; printf "%.2f", o / (w1 - w0) }')
}

preset_of() {  # layer -> moe-preset arguments
  case "$1" in
    mixtral-8x7b) echo "mixtral-8x7b --scale-down=$((4 * extra_scale))" ;;
    olmoe-1b-7b) echo "olmoe-1b-7b --scale-down=$((2 * extra_scale))" ;;
    *) echo "cpu-peers: unknown layer $1 (mixtral-8x7b, olmoe-1b-7b)" >&2; return 1 ;;
  esac
}

parts=()
rc=0
for layer in $layers; do
  preset=$(preset_of "$layer")
  blas_done=0
  for dtype in $dtypes; do
    mlir=$work/$layer-$dtype.mlir linalg=$work/$layer-$dtype.linalg.mlir
    # shellcheck disable=SC2086
    "$build/bin/moe-preset" $preset --dtype="$dtype" >"$mlir"
    "$build/bin/moe-opt" --moe-expand-layer --convert-moe-to-linalg "$mlir" -o "$linalg"
    for T in "${token_list[@]}"; do
      # Seed 1, else 2, else 3: a token whose k-th and (k+1)-th router
      # logits tie at f32 rounding may be routed differently by the compiled
      # layer and the reference, and fail moe-run's check for that seed.
      for seed in 1 2 3; do
        echo "cpu-peers: $layer $dtype T=$T: moe-run --seed=$seed ($((SECONDS - start)) s)" >&2
        mark_start
        out=$("$build/bin/moe-run" "$mlir" --tokens="$T" --runs="$runs" --seed="$seed" \
                --threads="$threads" --pipeline=pack-weights=1) || true
        others_since
        grep -E "check:|time:" <<<"$out" | sed 's/^ */cpu-peers:   /' >&2
        check=FAIL
        if grep -q "check: .*: PASS" <<<"$out"; then check=PASS; break; fi
        echo "cpu-peers: !!! moe-run $layer $dtype T=$T --seed=$seed does not PASS its check" >&2
      done
      if [ "$check" = FAIL ]; then
        echo "$out" >&2; rc=1
      fi
      read -r ms min_ms <<<"$(sed -nE 's/.*median ([0-9.]+) ms .*\(min ([0-9.]+) ms\).*/\1 \2/p' <<<"$out")"
      err=$(sed -nE 's/.*check: .*rel err ([0-9.e+-]+).*/\1/p' <<<"$out")
      pack_ms=$(sed -nE 's/.*packed weights: .*packed in ([0-9.]+) ms.*/\1/p' <<<"$out")
      echo "ours $layer $dtype $T ${ms:--} ${min_ms:--} ${err:--} $others $seed $check ${pack_ms:--}" >>"$native"
      awk -v o="$others" 'BEGIN { exit !(o > 0.25) }' &&
        echo "cpu-peers:   (other processes kept $others cores busy meanwhile)" >&2
      if [ "$dtype" = f32 ] && ((!blas_done)); then
        read -r D F E k <<<"$(sed -nE 's/.* D=([0-9]+) F=([0-9]+) E=([0-9]+) k=([0-9]+).*/\1 \2 \3 \4/p' <<<"$out" | head -1)"
        [ -n "$k" ] || { echo "cpu-peers: no layer sizes in moe-run's output" >&2; exit 1; }
        mark_start
        base=$("$build/bin/blas-moe-baseline" "$D" "$F" "$E" "$k" "$T" "$runs")
        others_since
        bms=$(sed -nE 's/.*median ([0-9.]+) ms.*/\1/p' <<<"$base" | head -1)
        echo "cpu-peers:   OpenBLAS (blas-moe-baseline): median $bms ms" >&2
        echo "openblas $layer $T $bms $others" >>"$native"
      fi
    done
    if [ "$dtype" = f32 ]; then blas_done=1; fi
    echo "cpu-peers: $layer $dtype: the Python peers ($((SECONDS - start)) s)" >&2
    part=$work/$layer-$dtype.json
    # A crash keeps the T already measured (the part is written after each).
    TORCHINDUCTOR_CACHE_DIR=$work/inductor-$layer-$dtype \
      "$python" "$root/bench/cpu-peers.py" measure "$mlir" "$linalg" --layer "$layer" \
      --dtype "$dtype" --tokens "$tokens_csv" --threads "$threads" \
      --reps "$runs" --budget "$budget" --bandwidth "$bandwidth" --out "$part" || {
      echo "cpu-peers: the Python peers of $layer $dtype failed (exit $?)" >&2; rc=1; }
    if [ -s "$part" ]; then parts+=("$part"); fi
  done
done

((${#parts[@]})) || { echo "cpu-peers: nothing measured" >&2; exit 1; }
"$python" "$root/bench/cpu-peers.py" report --env "$work/env.json" --native "$native" \
  ${json:+--json "$json"} "${parts[@]}" || rc=1
echo
echo "Total time of this run: $((SECONDS - start)) s."
exit $rc
