//===- CPUPipeline.cpp - moe-cpu-pipeline ---------------------------------===//

#include "moe-mlir/Pipelines/Pipelines.h"

#include "moe-mlir/Conversion/Passes.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::moe::buildCPUPipeline(OpPassManager &pm,
                                 const CPUPipelineOptions &options) {
  // moe to upstream ops on tensors.
  pm.addPass(createMoEExpandLayerPass());
  pm.addPass(createConvertMoEToLinalgPass());
  // No CSE before bufferization: it would merge the identical zero-filled
  // accumulators of distinct matmuls and force copies between them.
  pm.addPass(createCanonicalizerPass());
  // The lowering builds values that end in a tensor.insert_slice (a token's
  // k routing weights, an expert's down projection) in fresh tensor.empty
  // ops, which suits IREE; here they become slices of the destination, so
  // bufferization writes them in place (no allocation, no copy).
  pm.addPass(bufferization::createEmptyTensorEliminationPass());

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

  // Register-blocked vector kernels for the [out, in]-weight matmuls; the
  // rest of linalg to loops, then everything to the LLVM dialect.
  if (options.matmulKernels) {
    MoECPUMatmulKernelsPassOptions kernels;
    kernels.vectorWidth = options.vectorWidth;
    pm.addNestedPass<func::FuncOp>(createMoECPUMatmulKernelsPass(kernels));
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.emitCInterface)
    pm.addPass(createMoEEmitCInterfacePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // bf16 <-> f32 conversions as integer bit operations: LLVM would call
  // __truncsfbf2, which libgcc before GCC 13 (Debian 12's) does not have.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  // What LLVM has no intrinsic for (erf) becomes a libm call.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::moe::registerPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "moe-cpu-pipeline",
      "Lower moe.layer (or level-1 moe ops) on tensors to the LLVM dialect, "
      "runnable by mlir-runner and moe-run",
      buildCPUPipeline);
}
