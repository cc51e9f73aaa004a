//===- CPUPipeline.cpp - moe-cpu-pipeline ---------------------------------===//

#include "moe-mlir/Pipelines/Pipelines.h"

#include "moe-mlir/Codegen/CPU/Passes.h"
#include "moe-mlir/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
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
  CPUTarget host = getHostCPUTarget();
  int64_t vectorWidth =
      options.vectorWidth > 0 ? int64_t(options.vectorWidth) : host.vectorWidth;
  ExpertParallelConfig expertParallel;
  expertParallel.ranks = options.ranks;
  buildBufferizedLinalgPipeline(
      pm, groupedMatmul, options.fuseGating, expertParallel,
      [&](OpPassManager &tensors) {
        if (!options.vectorizeElementwise)
          return;
        MoECPUVectorizeElementwisePassOptions elementwise;
        elementwise.vectorWidth = vectorWidth;
        tensors.addNestedPass<func::FuncOp>(
            createMoECPUVectorizeElementwisePass(elementwise));
      });

  // The fills of the buffers (accumulators, outputs) as vector stores.
  if (options.vectorizeElementwise) {
    MoECPUVectorizeElementwisePassOptions elementwise;
    elementwise.vectorWidth = vectorWidth;
    pm.addNestedPass<func::FuncOp>(
        createMoECPUVectorizeElementwisePass(elementwise));
  }

  // Many experts: threads share the experts rather than
  // each expert's column blocks (chosen at run time).
  if (options.parallel && options.matmulKernels)
    pm.addPass(createMoECPUParallelExpertsPass());
  // Rows enough: the elementwise code between the matmuls on all threads
  // too (after the experts' choice: inside an expert shared among threads
  // the rows stay serial).
  if (options.parallel && options.vectorizeElementwise)
    pm.addNestedPass<func::FuncOp>(createMoECPUParallelRowsPass());

  // Packed, blocked vector kernels for the [out, in]-weight matmuls, sized
  // for the host's vector registers unless the options say otherwise; the
  // rest of linalg to loops, then everything to the LLVM dialect.
  bool usesAMX = false;
  if (options.matmulKernels) {
    MoECPUMatmulKernelsPassOptions kernels;
    kernels.vectorWidth = vectorWidth;
    // 16 lanes: 6 x 4 vectors (24 of the 32 registers accumulate); 8 lanes
    // (16 registers): 6 x 2.
    kernels.tileVectors = kernels.vectorWidth >= 16 ? 4 : 2;
    kernels.bf16Dot = options.bf16Dot == BF16Dot::On ||
                      (options.bf16Dot == BF16Dot::Auto && host.prefersBF16Dot);
    // AMX code runs only in a process Linux granted the AMX state: auto
    // asks for this one (which the JIT runs the code in), and yields to
    // dot products asked for by name.
    kernels.amx = options.amx == AMXTiles::On ||
                  (options.amx == AMXTiles::Auto && host.hasAMX &&
                   options.bf16Dot != BF16Dot::On && requestAMXState());
    if (options.amx == AMXTiles::On)
      requestAMXState();
    usesAMX = kernels.amx;
    kernels.parallel = options.parallel;
    // Packing the weights adds functions: the pass then runs on the module.
    kernels.packWeights = options.packWeights;
    if (options.packWeights)
      pm.addPass(createMoECPUMatmulKernelsPass(kernels));
    else
      pm.addNestedPass<func::FuncOp>(createMoECPUMatmulKernelsPass(kernels));
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // The elementwise tiles' transfers ([1, w] reads and writes, broadcasts)
  // to 1-D vector loads and stores.
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll(true);
  pm.addPass(createConvertVectorToSCFPass(transfers));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.emitCInterface)
    pm.addPass(createMoEEmitCInterfacePass());
  // The kernels' scf.parallel loops become OpenMP worksharing loops. The
  // memref.alloca_scope that wraps each loop body holds no alloca (the
  // kernels' buffers are heap allocations): canonicalization inlines it,
  // before scf-to-cf would give it several blocks.
  if (options.parallel) {
    pm.addPass(createConvertSCFToOpenMPPass());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // The activations' exp, erf and tanh (marked afn) as vector polynomials
  // rather than a libm call per lane.
  if (options.approximateMath)
    pm.addNestedPass<func::FuncOp>(createMoECPUApproximateMathPass());
  // bf16 <-> f32 conversions as integer bit operations: LLVM would call
  // __truncsfbf2, which libgcc before GCC 13 (Debian 12's) does not have.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertMathToLLVMPass());
  // What LLVM has no intrinsic for (erf) becomes a libm call, one per lane
  // of a vector (vector.extract and insert, lowered next).
  pm.addPass(createConvertMathToLibmPass());
  // The packing's 16x16 transposes as AVX-512 shuffles; x86vector's dot
  // products as their intrinsics.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.x86Vector = true;
  vectorToLLVM.amx = usesAMX;
  vectorToLLVM.vectorTransposeLowering =
      vector::VectorTransposeLowering::Shuffle16x16;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  if (options.parallel)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
