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
  GroupedMatmulConfig groupedMatmul;
  groupedMatmul.enabled = options.groupedMatmul;
  groupedMatmul.fuseActivation = options.fuseActivation;
  groupedMatmul.fuseGather = options.fuseGather;
  groupedMatmul.fuseScale = options.fuseScale;
  buildBufferizedLinalgPipeline(pm, groupedMatmul, options.fuseGating);

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
