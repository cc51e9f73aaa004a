//===- GPUPipeline.cpp - moe-gpu-pipeline ---------------------------------===//
//
// The portable linalg lowering, bufferized, with every parallel loop turned
// into a GPU kernel: one thread per output element (a block of tile-size
// threads, the rest as the grid), reductions as loops inside the thread. The
// sequential parts of the dispatch (scans, per-expert loops around the
// matmuls) stay host code, on host-shared buffers. This is a correct,
// untuned mapping: tensor-core grouped GEMMs are a separate step.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Pipelines/Pipelines.h"

#include "moe-mlir/Codegen/GPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::moe::buildGPUPipeline(OpPassManager &pm,
                                 const GPUPipelineOptions &options) {
  // An expert-parallel layer's exchanged rows are what the kernels wrote:
  // the exchanges go through the runtime's GPU communicator.
  ExpertParallelConfig expertParallel;
  expertParallel.ranks = options.ranks;
  expertParallel.rowsOnGPU = true;
  buildBufferizedLinalgPipeline(pm, GroupedMatmulConfig(),
                                /*fuseGating=*/false, expertParallel);

  // linalg to scf.parallel (reductions become scf.for inside), tiled so that
  // the inner loops are a block's threads, then mapped and outlined.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  SmallVector<int64_t> tiles(options.tileSizes.begin(),
                             options.tileSizes.end());
  if (tiles.empty())
    tiles = {4, 64};
  // no-min-max-bounds: full tiles with a bounds check inside, which maps to
  // fixed block sizes.
  pm.addNestedPass<func::FuncOp>(
      createParallelLoopTilingPass(tiles, /*noMinMaxBounds=*/true));
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createMoEGPUSharedBuffersPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());

  // Kernels through NVVM to PTX or a cubin, host code to the LLVM dialect.
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFeatures = options.features;
  switch (options.format) {
  case GPUBinaryFormat::isa:
    nvvm.cubinFormat = "isa";
    break;
  case GPUBinaryFormat::bin:
    nvvm.cubinFormat = "bin";
    break;
  case GPUBinaryFormat::fatbin:
    nvvm.cubinFormat = "fatbin";
    break;
  }
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}
