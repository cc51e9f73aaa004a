//===- Pipelines.h - Named moe pipelines ------------------------*- C++ -*-===//

#ifndef MOE_MLIR_PIPELINES_PIPELINES_H
#define MOE_MLIR_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;
namespace moe {

/// When moe-cpu-pipeline uses AVX512-BF16 dot products for bf16 matmuls.
enum class BF16Dot { Auto, On, Off };

/// When moe-cpu-pipeline uses AMX tiles for bf16 matmuls.
enum class AMXTiles { Auto, On, Off };

struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Give every function a C interface wrapper "
                     "(_mlir_ciface_*), as moe-run and C callers expect"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> matmulKernels{
      *this, "matmul-kernels",
      llvm::cl::desc("Lower [out, in]-weight matmuls to packed, cache-blocked "
                     "vector kernels (moe-cpu-matmul-kernels)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> packWeights{
      *this, "pack-weights",
      llvm::cl::desc("With matmul-kernels: the layer takes its expert "
                     "weights packed into the kernels' panels, and the "
                     "module gets a function per weight that packs it "
                     "(call it once when the weights are loaded)"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes of the matmul kernels' vectors: 16 "
                     "(AVX-512) or 8 (AVX2); 0 (default): the host's"),
      llvm::cl::init(0)};
  PassOptions::Option<BF16Dot> bf16Dot{
      *this, "bf16-dot",
      llvm::cl::desc("bf16 matmuls with AVX512-BF16 dot products"),
      llvm::cl::init(BF16Dot::Auto),
      llvm::cl::values(
          clEnumValN(BF16Dot::Auto, "auto",
                     "when the host has avx512bf16 and no AMX (default)"),
          clEnumValN(BF16Dot::On, "on", "always (the CPU must have them)"),
          clEnumValN(BF16Dot::Off, "off", "never: widen to f32 and FMA"))};
  PassOptions::Option<AMXTiles> amx{
      *this, "amx",
      llvm::cl::desc("bf16 matmuls with AMX tile products (tdpbf16ps)"),
      llvm::cl::init(AMXTiles::Auto),
      llvm::cl::values(
          clEnumValN(AMXTiles::Auto, "auto",
                     "when the host has amx-bf16 and Linux grants this "
                     "process the AMX state (default)"),
          clEnumValN(AMXTiles::On, "on",
                     "always (the CPU running the code must have AMX, and "
                     "its process must ask Linux for the AMX state)"),
          clEnumValN(AMXTiles::Off, "off", "never"))};
  PassOptions::Option<bool> vectorizeElementwise{
      *this, "vectorize-elementwise",
      llvm::cl::desc("Vector code for the elementwise linalg ops around the "
                     "matmuls (moe-cpu-vectorize-elementwise)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("The activations' exp, erf and tanh (marked afn) as "
                     "vector polynomial approximations "
                     "(moe-cpu-approximate-math); off: libm calls"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Share the matmul kernels' column blocks among threads "
                     "through OpenMP (the program then calls libomp; the "
                     "thread count is OpenMP's: OMP_NUM_THREADS, "
                     "omp_set_num_threads)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> groupedMatmul{
      *this, "grouped-matmul",
      llvm::cl::desc("Rewrite moe.experts into moe.grouped_matmul products "
                     "before lowering (moe-experts-to-grouped-matmul)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseActivation{
      *this, "fuse-activation",
      llvm::cl::desc("With grouped-matmul: the activation in the first "
                     "product's epilogue, gate and up as one product"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseGather{
      *this, "fuse-gather",
      llvm::cl::desc("With grouped-matmul: the first product reads the "
                     "tokens through the dispatch's sources"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseScale{
      *this, "fuse-scale",
      llvm::cl::desc("With grouped-matmul: the gate weights applied in the "
                     "down projection's epilogue (f32 layers)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseGating{
      *this, "fuse-gating",
      llvm::cl::desc("Fuse the router matmul and moe.route into moe.gate, "
                     "lowered one tile of tokens at a time (moe-fuse-gating)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> ranks{
      *this, "ranks",
      llvm::cl::desc("Spread the routed experts over this many ranks "
                     "(moe-expert-parallel; the exchanges call the runtime's "
                     "layer communicator, MPI under mpirun)"),
      llvm::cl::init(1)};
};

/// Whether and how moe.experts becomes moe.grouped_matmul products before
/// the lowering to linalg (the options of moe-experts-to-grouped-matmul).
struct GroupedMatmulConfig {
  bool enabled = false;
  bool fuseActivation = true, fuseGather = true, fuseScale = true;
};

/// Whether the routed experts are spread over ranks (moe-expert-parallel),
/// and where the exchanged rows live (convert-moe-to-runtime's gpu-rows).
struct ExpertParallelConfig {
  int64_t ranks = 1;
  bool rowsOnGPU = false;
};

/// The part both pipelines share: moe.layer (or level-1 moe ops) on tensors
/// to linalg on buffers (expand, optionally fuse the gating and rewrite the
/// experts into grouped matmuls, lower to linalg, bufferize with identity
/// layouts at function boundaries, deallocate).
/// `beforeBufferization` adds target passes on the linalg tensors (the CPU
/// pipeline's elementwise vectorization). With `expertParallel.ranks` > 1
/// the routed experts are spread over that many ranks (moe-expert-parallel)
/// and the exchanges become runtime calls (convert-moe-to-runtime).
void buildBufferizedLinalgPipeline(
    OpPassManager &pm,
    const GroupedMatmulConfig &groupedMatmul = GroupedMatmulConfig(),
    bool fuseGating = false,
    const ExpertParallelConfig &expertParallel = ExpertParallelConfig(),
    llvm::function_ref<void(OpPassManager &)> beforeBufferization = {});

/// moe.layer (or level-1 moe ops) on tensors to the LLVM dialect: expand,
/// lower to linalg, bufferize, lower to loops and then to LLVM.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// What moe-gpu-pipeline's kernels become (its `format` option); another
/// value is rejected when the options are parsed.
enum class GPUBinaryFormat { isa, bin, fatbin };

struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU architecture of the kernels"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (the PTX ISA version: sm_90 needs +ptx80 "
                     "or later)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<GPUBinaryFormat> format{
      *this, "format", llvm::cl::desc("What the kernels become"),
      llvm::cl::init(GPUBinaryFormat::bin),
      llvm::cl::values(
          clEnumValN(GPUBinaryFormat::isa, "isa", "PTX text"),
          clEnumValN(GPUBinaryFormat::bin, "bin",
                     "a cubin, assembled by the CUDA toolkit's ptxas "
                     "(default)"),
          clEnumValN(GPUBinaryFormat::fatbin, "fatbin", "a fat binary"))};
  PassOptions::ListOption<int64_t> tileSizes{
      *this, "tile-sizes",
      llvm::cl::desc("Threads per block along the first parallel loop "
                     "dimensions (the rest of each loop is the grid)")};
  PassOptions::Option<int64_t> ranks{
      *this, "ranks",
      llvm::cl::desc("Spread the routed experts over this many ranks, one "
                     "GPU each (moe-expert-parallel; the exchanges call the "
                     "runtime's GPU layer communicator, NCCL by default)"),
      llvm::cl::init(1)};
};

/// moe.layer (or level-1 moe ops) on tensors to the LLVM dialect with GPU
/// kernels: expand, lower to linalg, bufferize, turn the parallel loops into
/// kernels (tiled into blocks of threads), allocate the host code's buffers
/// in host-shared memory, and compile the kernels for `chip` through NVVM.
/// The host code calls the mgpu* entry points of MLIR's GPU runtime ABI.
void buildGPUPipeline(OpPassManager &pm, const GPUPipelineOptions &options);

/// Registers moe-cpu-pipeline and moe-gpu-pipeline.
void registerPipelines();

} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_PIPELINES_PIPELINES_H
