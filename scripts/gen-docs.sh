#!/usr/bin/env bash
# Regenerates docs/MoEDialect.md and docs/MoEPasses.md from the ODS
# descriptions (mlir-tblgen -gen-dialect-doc / -gen-pass-doc).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" mlir-doc >/dev/null
cp "$build/docs/MoE/MoEDialect.md" "$root/docs/MoEDialect.md"
{
  echo "# moe passes"
  echo
  echo "Generated from the ODS pass definitions by scripts/gen-docs.sh."
  echo
  echo "## Transformations (moe-*)"
  sed 's/^#/##/' "$build/docs/MoE/MoEPasses.md"
  echo
  echo "## Conversions"
  sed 's/^#/##/' "$build/docs/MoE/MoEConversionPasses.md"
  echo
  echo "## Pipelines"
  echo
  echo "### \`-moe-cpu-pipeline\`"
  echo
  echo "moe-expand-layer, convert-moe-to-linalg, eliminate-empty-tensors (so"
  echo "that the expert segments are written in place), one-shot bufferization with"
  echo "identity-layout function boundaries, ownership-based deallocation,"
  echo "linalg to loops, then every dialect to LLVM. Option:"
  echo "\`emit-c-interface\` (default true) gives each public function a"
  echo "\`_mlir_ciface_\` wrapper."
  echo
  echo "### \`-moe-gpu-pipeline\`"
  echo
  echo "The same bufferized linalg, then linalg to parallel loops, tiled"
  echo "(\`tile-sizes\`, default 4,64: the threads of a block), mapped to GPU"
  echo "blocks and threads and outlined into kernels; moe-gpu-shared-buffers"
  echo "puts the host code's buffers in host-shared memory; then upstream's"
  echo "gpu-lower-to-nvvm-pipeline compiles the kernels for \`chip\` (default"
  echo "sm_90) with \`features\` (default +ptx80) to \`format\` isa (PTX), bin"
  echo "(cubin, needs the CUDA toolkit's ptxas; libdevice is linked from the"
  echo "toolkit that CUDA_HOME, CUDA_ROOT or CUDA_PATH names) or fatbin, and"
  echo "lowers the host code to the LLVM dialect with calls to the mgpu* entry"
  echo "points of MLIR's GPU runtime ABI."
} > "$root/docs/MoEPasses.md"
echo "docs regenerated"
