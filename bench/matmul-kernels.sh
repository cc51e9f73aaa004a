#!/usr/bin/env bash
# The matmul kernels of moe-cpu-pipeline (moe-cpu-matmul-kernels) on the
# expert projections of Mixtral-8x7B scaled by 4: C[M, N] += A[M, K] B[N, K]^T
# with (N, K) = (7168, 1024) (gate and up as one product) and (1024, 3584)
# (down), M tokens per expert, f32 and bf16 (f32 accumulation), 1 and 2
# threads. Against, in the same run and with the same threads: OpenBLAS's
# cblas_sgemm (f32 data) in the same process (bench/matmul-kernel-bench.cpp),
# and PyTorch's matmul (MKL / oneDNN) when a Python with torch is found
# ($MOE_VENV, default the source tree's .venv). Medians of RUNS runs; prints
# a Markdown table.
#
#   bench/matmul-kernels.sh [RUNS] [M...]     (default 5; 1 16 128 1024 4096)
#
# Environment: THREADS (default "1 2"), DTYPES (default "f32 bf16"),
# BF16_DOT (auto, on, off: moe-cpu-pipeline's bf16-dot, default auto).
# Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and runs its
# generic Prescott kernels there: on an AVX-512 host this script asks for its
# SkylakeX kernels (OPENBLAS_CORETYPE, unless already set).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
runs=${1:-5}
shift || true
ms=("$@")
((${#ms[@]})) || ms=(1 16 128 1024 4096)
threads_list=${THREADS:-1 2}
dtypes=${DTYPES:-f32 bf16}
dot=${BF16_DOT:-auto}
bench=$build/bin/matmul-kernel-bench
[ -x "$bench" ] || {
  echo "bench: $bench is missing (install libopenblas-dev and rebuild)" >&2; exit 1; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
python=${MOE_VENV:-$root/.venv}/bin/python
have_torch=0
if [ -x "$python" ] && "$python" -c "import torch" 2>/dev/null; then
  have_torch=1
fi

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "CPU: $model ($(nproc) cores); $(date -u +%Y-%m-%d); OpenBLAS core: ${OPENBLAS_CORETYPE:-auto}; bf16-dot=$dot"
[ "$have_torch" = 1 ] && echo "PyTorch: $("$python" -c 'import torch; print(torch.__version__)')"
echo
echo "| dtype | N | K | M | threads | moe-mlir ms | GFLOP/s | OpenBLAS sgemm ms | GFLOP/s | PyTorch ms | GFLOP/s | moe-mlir / best |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for dtype in $dtypes; do
  for shape in "7168 1024" "1024 3584"; do
    read -r N K <<<"$shape"
    for threads in $threads_list; do
      declare -A torch_ms=()
      if [ "$have_torch" = 1 ]; then
        while read -r m t; do torch_ms[$m]=$t; done < <(
          "$python" "$root/bench/torch-matmul.py" "$N" "$K" "$threads" "$dtype" "$runs" "${ms[@]}")
      fi
      for M in "${ms[@]}"; do
        out=$("$bench" "$M" "$N" "$K" "$dtype" "$threads" "$runs" "$dot") || {
          echo "bench: M=$M N=$N K=$K $dtype threads=$threads failed its check:" >&2
          echo "$out" >&2; exit 1; }
        ours=$(sed -nE 's/^moe-mlir .*median ([0-9.]+) ms.*/\1/p' <<<"$out")
        blas=$(sed -nE 's/^openblas .*median ([0-9.]+) ms.*/\1/p' <<<"$out")
        pt=${torch_ms[$M]:-}
        awk -v d="$dtype" -v n="$N" -v k="$K" -v m="$M" -v t="$threads" \
            -v a="$ours" -v b="$blas" -v p="$pt" 'BEGIN {
          f = 2 * m * n * k / 1e6;   # MFLOP: / ms = GFLOP/s
          best = b; if (p != "" && p < best) best = p;
          ps = (p == "") ? "-" : sprintf("%.3f", p);
          pg = (p == "") ? "-" : sprintf("%.1f", f / p);
          printf "| %s | %d | %d | %d | %d | %.3f | %.1f | %.3f | %.1f | %s | %s | %.2f |\n",
                 d, n, k, m, t, a, f / a, b, f / b, ps, pg, a / best }'
      done
      unset torch_ms
    done
  done
done
