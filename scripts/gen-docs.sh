#!/usr/bin/env bash
# Regenerates docs/MoEDialect.md and docs/MoEPasses.md from the ODS
# descriptions (mlir-tblgen -gen-dialect-doc / -gen-pass-doc, which the
# default build runs into build/docs/MoE).
#   scripts/gen-docs.sh           rebuild the references and copy them to docs/
#   scripts/gen-docs.sh --check   compare docs/ with what the last build
#                                 generated; fails when docs/ is stale
#                                 (test/Docs/docs-current.test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# Writes the two references into directory $1.
compose() {
  cp "$build/docs/MoE/MoEDialect.md" "$1/MoEDialect.md"
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
    echo "## CPU code generation (below the moe dialect)"
    sed 's/^#/##/' "$build/docs/MoE/MoECPUCodegenPasses.md"
    echo
    echo "## GPU code generation (below the moe dialect)"
    sed 's/^#/##/' "$build/docs/MoE/MoEGPUCodegenPasses.md"
    echo
    echo "## Pipelines"
    echo
    echo "### \`-moe-cpu-pipeline\`"
    echo
    echo "moe-expand-layer, convert-moe-to-linalg, eliminate-empty-tensors (so"
    echo "that the expert segments are written in place), one-shot bufferization with"
    echo "identity-layout function boundaries, ownership-based deallocation,"
    echo "moe-cpu-parallel-experts (with \`parallel\`: a grouped product of many experts"
    echo "(8 per thread or more) shares its experts among threads, chosen at run time),"
    echo "moe-cpu-parallel-rows (with \`parallel\`: the gate's token tiles and the"
    echo "elementwise code between the matmuls share their rows among threads from"
    echo "64 rows, chosen at run time),"
    echo "moe-cpu-matmul-kernels for the [out, in]-weight matmuls, linalg to loops,"
    echo "the kernels' parallel loops to OpenMP, then every dialect to LLVM."
    echo "Options: \`emit-c-interface\` (default true) gives each public function a"
    echo "\`_mlir_ciface_\` wrapper; \`matmul-kernels\` (default true);"
    echo "\`pack-weights\` (default false: the layer function then takes its expert"
    echo "weights packed into the kernels' panels, and the module gets a function"
    echo "\`@<function>_pack_arg<i>\` per weight to call once when the weights are"
    echo "loaded; moe-run and moe-exec do so when they bind the weights);"
    echo "\`vector-width\` (default 0: 16 when LLVM detects AVX-512 on the host, else"
    echo "8); \`bf16-dot\` (auto, on, off; auto: AVX512-BF16 dot products when the"
    echo "host has them and no AMX); \`amx\` (auto, on, off; auto: AMX tile products"
    echo "for bf16 matmuls when the host has them, Linux grants this process the AMX"
    echo "state and \`bf16-dot\` is not on); \`parallel\` (default true: the program calls LLVM's"
    echo "OpenMP runtime, libomp, whose thread count applies); \`grouped-matmul\`,"
    echo "\`fuse-activation\`, \`fuse-gather\`, \`fuse-scale\` (default true:"
    echo "moe-experts-to-grouped-matmul and its fusions) and \`fuse-gating\` (default"
    echo "true: moe-fuse-gating); \`ranks\` (default 1: moe-expert-parallel spreads the"
    echo "routed experts over that many ranks, the exchanges on the runtime's layer"
    echo "communicator, MPI under mpirun)."
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
    echo "points of MLIR's GPU runtime ABI. \`ranks\` (default 1): moe-expert-parallel"
    echo "over that many ranks, one GPU each, the exchanges (convert-moe-to-runtime"
    echo "with \`gpu-rows\`) on the runtime's GPU layer communicator, NCCL by default."
  } > "$1/MoEPasses.md"
}

if [ "$check" = 1 ]; then
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
  compose "$out"
  stale=0
  for doc in MoEDialect.md MoEPasses.md; do
    if ! diff -u "$root/docs/$doc" "$out/$doc"; then
      echo "docs/$doc is stale: run scripts/gen-docs.sh and commit it" >&2
      stale=1
    fi
  done
  [ "$stale" = 0 ] && echo "docs/MoEDialect.md and docs/MoEPasses.md are current"
  exit "$stale"
fi

"$root/scripts/build.sh" mlir-doc >/dev/null
compose "$root/docs"
echo "docs regenerated"
