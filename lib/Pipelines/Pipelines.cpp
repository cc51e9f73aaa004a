//===- Pipelines.cpp - What the moe pipelines share, and registration -----===//

#include "moe-mlir/Pipelines/Pipelines.h"

#include "moe-mlir/Conversion/Passes.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::moe::buildBufferizedLinalgPipeline(
    OpPassManager &pm, const GroupedMatmulConfig &groupedMatmul,
    bool fuseGating, const ExpertParallelConfig &expertParallel,
    llvm::function_ref<void(OpPassManager &)> beforeBufferization) {
  // moe to upstream ops on tensors.
  pm.addPass(createMoEExpandLayerPass());
  if (expertParallel.ranks != 1) {
    MoEExpertParallelPassOptions options;
    options.ranks = expertParallel.ranks;
    pm.addPass(createMoEExpertParallelPass(options));
  }
  if (fuseGating)
    pm.addPass(createMoEFuseGatingPass());
  if (groupedMatmul.enabled) {
    MoEExpertsToGroupedMatmulPassOptions options;
    options.fuseActivation = groupedMatmul.fuseActivation;
    options.fuseGather = groupedMatmul.fuseGather;
    options.fuseScale = groupedMatmul.fuseScale;
    pm.addPass(createMoEExpertsToGroupedMatmulPass(options));
  }
  pm.addPass(createConvertMoEToLinalgPass());
  // The exchanges (an expert-parallel layer's) as runtime calls.
  ConvertMoEToRuntimePassOptions runtimeCalls;
  runtimeCalls.gpuRows = expertParallel.rowsOnGPU;
  pm.addPass(createConvertMoEToRuntimePass(runtimeCalls));
  // No CSE before bufferization: it would merge the identical zero-filled
  // accumulators of distinct matmuls and force copies between them.
  pm.addPass(createCanonicalizerPass());
  // The lowering builds values that end in a tensor.insert_slice (a token's
  // k routing weights, an expert's down projection) in fresh tensor.empty
  // ops, which suits IREE; here they become slices of the destination, so
  // bufferization writes them in place (no allocation, no copy).
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  if (beforeBufferization)
    beforeBufferization(pm);

  // Tensors to buffers. Function arguments and results become memrefs with
  // identity layouts, the calling convention moe-run and C callers expect.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Identical subviews of a segment written in place leave self-copies that
  // CSE exposes and canonicalization erases.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
}

void mlir::moe::registerPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "moe-cpu-pipeline",
      "Lower moe.layer (or level-1 moe ops) on tensors to the LLVM dialect, "
      "runnable by mlir-runner and moe-run",
      buildCPUPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "moe-gpu-pipeline",
      "Lower moe.layer (or level-1 moe ops) on tensors to the LLVM dialect "
      "with the parallel loops as GPU kernels compiled for an NVIDIA chip",
      buildGPUPipeline);
}
