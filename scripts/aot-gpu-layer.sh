#!/usr/bin/env bash
# Compiles a moe.layer function for the GPU ahead of time, into a folder that
# runs on a machine with a CUDA driver and no MLIR or LLVM:
#
#   scripts/aot-gpu-layer.sh IN.mlir FUNC OUT_DIR [chip]
#
# OUT_DIR receives
#   libFUNC.so            the layer: host code plus its kernels as cubins
#                         (moe-gpu-pipeline format=bin), calling the
#                         runtime's mgpu* functions; C interface
#                         _mlir_ciface_FUNC
#   FUNC.signature        FUNC's argument and result types, for the checker
#   moe-gpu-layer-check   runs and checks the layer (no MLIR inside)
#   libmoe_runtime.so     the portable runtime (no MPI)
# and nothing there depends on anything outside OUT_DIR but the system's C
# library and, at run time, the CUDA driver (rpath $ORIGIN).
#
# chip defaults to sm_90 (Hopper); MOE_GPU_FEATURES (default +ptx80) sets the
# PTX version. Tools: moe-opt from MOE_OPT or the build (MOE_BUILD_DIR,
# default build/), mlir-translate and clang from LLVM_BIN (default
# /usr/lib/llvm-22/bin); ptxas from PATH or CUDA_HOME (the pipeline runs it).
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 IN.mlir FUNC OUT_DIR [chip]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
moe_opt=${MOE_OPT:-$build/bin/moe-opt}
llvm_bin=${LLVM_BIN:-/usr/lib/llvm-22/bin}
in=$1 func=$2 out=$3 chip=${4:-sm_90}
features=${MOE_GPU_FEATURES:-+ptx80}
runtime=$build/lib/portable/libmoe_runtime.so
checker=$build/bin/moe-gpu-layer-check
for f in "$moe_opt" "$runtime" "$checker"; do
  if [ ! -e "$f" ]; then
    echo "$0: $f is missing (build moe-opt, moe_runtime_portable and" \
         "moe-gpu-layer-check)" >&2
    exit 2
  fi
done
# The pipeline's ptxas and libdevice.
export PATH=$PATH:${CUDA_HOME:-/usr/local/cuda}/bin

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# FUNC's types, "?x64xf32 8x64xf32 ... -> ?x64xf32", checked by the checker
# against the shapes its flags describe.
python3 - "$in" "$func" > "$out/$func.signature" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"func\.func\s+@" + re.escape(sys.argv[2]) + r"\s*\(", text)
if not m:
    sys.exit("no func.func @%s in %s" % (sys.argv[2], sys.argv[1]))
header = text[m.end():text.index("{", m.end())]
args, _, results = header.partition("->")
types = lambda s: re.findall(r"tensor<([^>]*)>", s)
print(" ".join(types(args)) + " -> " + " ".join(types(results)))
PY

# A C interface for FUNC, then the GPU pipeline with cubins embedded.
"$moe_opt" "$in" --moe-emit-c-interface \
  --moe-gpu-pipeline="chip=$chip features=$features format=bin" \
  -o "$work/$func.llvm.mlir"
"$llvm_bin/mlir-translate" --mlir-to-llvmir "$work/$func.llvm.mlir" \
  -o "$work/$func.ll"
"$llvm_bin/clang" -c -fPIC -O2 -Wno-override-module "$work/$func.ll" \
  -o "$work/$func.o"
"$llvm_bin/clang" -shared "$work/$func.o" -o "$out/lib$func.so" \
  -L"$(dirname "$runtime")" -lmoe_runtime -lm -Wl,-rpath,'$ORIGIN' \
  -Wl,--no-undefined
cp "$runtime" "$checker" "$out/"
echo "$out/lib$func.so: @$func for $chip ($(grep -c '^define' "$work/$func.ll") functions, signature $(cat "$out/$func.signature"))"
