#!/usr/bin/env bash
# Builds the kit that bench/gpu-check.sh runs on a GPU machine without MLIR:
#   KIT/lib/libmoe_runtime.so      the runtime (CUDA driver opened at run time)
#   KIT/bin/moe-rt-check           the runtime's check driver
#   KIT/bin/moe-runtime-tests      the runtime's unit tests
#   KIT/gemm/                      the tensor-core grouped GEMM cases and
#                                  their checker (bench/gpu-gemm-prepare.sh)
#   KIT/layers/NAME/               an ahead-of-time compiled layer, its
#                                  checker (scripts/aot-gpu-layer.sh) and
#                                  the checker's arguments (NAME/args)
#   KIT/families/lib*.so, KIT/bin/moe-exec
#                                  every family's preset (1/64 width, f32
#                                  and bf16) built by moe-compile, and the
#                                  runner that checks them
# then rehearses the check here (every step up to the first CUDA call).
#
#   bench/gpu-check-prepare.sh [KIT]      (default: gpu-kit/, ignored by git)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
kit=${1:-$root/gpu-kit}
chip=${MOE_GPU_CHIP:-sm_90}

# MOE_SKIP_BUILD=1: the build is current already.
[ "${MOE_SKIP_BUILD:-0}" = 1 ] ||
  "$root/scripts/build.sh" moe_runtime_portable moe-rt-check MoERuntimeTests \
    moe-gpu-layer-check moe-gpu-gemm-check moe-opt moe-preset moe-compile \
    moe-exec
rm -rf "$kit"
mkdir -p "$kit/bin" "$kit/lib" "$kit/layers" "$kit/families"
# The portable runtime (no MPI, C++ runtime linked in): the GPU machine may
# have no OpenMPI. gpu-check.sh puts KIT/lib first on LD_LIBRARY_PATH.
cp "$build/lib/portable/libmoe_runtime.so" "$kit/lib/"
cp "$build/bin/moe-rt-check" "$kit/bin/"
cp "$build/unittests/Runtime/MoERuntimeTests" "$kit/bin/moe-runtime-tests"
cp "$build/bin/moe-exec" "$kit/bin/"

# Layers, each folder self-contained (scripts/aot-gpu-layer.sh), with the
# checker's arguments in NAME/args: the pipeline test's small layer and
# Mixtral-8x7B at 1/32 and 1/8 width.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
aot() { # NAME FILE FUNC CHECKER-ARGS...
  local name=$1 file=$2 func=$3; shift 3
  MOE_BUILD_DIR=$build "$root/scripts/aot-gpu-layer.sh" "$file" "$func" "$kit/layers/$name" "$chip"
  echo "--layer=$kit/layers/$name/lib$func.so --func=$func --signature=$kit/layers/$name/$func.signature $*" \
    | sed "s|$kit|KIT|g" >"$kit/layers/$name/args"
}
"$build/bin/moe-preset" mixtral-8x7b --scale-down=32 >"$tmp/mixtral-8x7b-32.mlir"
"$build/bin/moe-preset" mixtral-8x7b --scale-down=8 >"$tmp/mixtral-8x7b-8.mlir"
aot mixtral-like "$root/test/Pipelines/moe-gpu-pipeline.mlir" mixtral_like \
  --D=64 --F=96 --E=8 --k=2
aot mixtral-8x7b-32 "$tmp/mixtral-8x7b-32.mlir" mixtral_8x7b \
  --D=128 --F=448 --E=8 --k=2 --order=topk-softmax
aot mixtral-8x7b-8 "$tmp/mixtral-8x7b-8.mlir" mixtral_8x7b \
  --D=512 --F=1792 --E=8 --k=2 --order=topk-softmax
# Every family's preset, f32 and bf16, as moe-compile builds it for the GPU
# (a fat binary: the chip's cubin and its PTX); moe-exec reads what each is
# from the library itself.
export PATH=$PATH:${CUDA_HOME:-/usr/local/cuda}/bin
for family in mixtral-8x7b deepseek-v2 deepseek-v3 kimi-k2 qwen2-moe \
  qwen3-30b-a3b switch-base-8 gshard gpt-oss-20b olmoe-1b-7b llama4-scout; do
  for type in f32 bf16; do
    "$build/bin/moe-preset" "$family" --scale-down=64 --dtype=$type \
      >"$tmp/$family-$type.mlir"
    "$build/bin/moe-compile" "$tmp/$family-$type.mlir" --target=gpu \
      --chip="$chip" -o "$kit/families/lib$family-$type.so" >/dev/null
  done
done
# The tensor-core grouped GEMM cases (KIT/gemm/).
MOE_SKIP_BUILD=1 MOE_BUILD_DIR=$build "$root/bench/gpu-gemm-prepare.sh" "$kit"
echo "gpu-check-prepare: kit in $kit ($(du -sh "$kit" | cut -f1))"
"$root/bench/gpu-check.sh" "$kit" --rehearse
