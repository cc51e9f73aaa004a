//===- Pipelines.h - Named moe pipelines ------------------------*- C++ -*-===//

#ifndef MOE_MLIR_PIPELINES_PIPELINES_H
#define MOE_MLIR_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace moe {

struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Give every function a C interface wrapper "
                     "(_mlir_ciface_*), as moe-run and C callers expect"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> matmulKernels{
      *this, "matmul-kernels",
      llvm::cl::desc("Lower f32 [out, in]-weight matmuls to register-blocked "
                     "vector kernels (moe-cpu-matmul-kernels)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Vector lanes of the matmul kernels (16: AVX-512)"),
      llvm::cl::init(16)};
};

/// moe.layer (or level-1 moe ops) on tensors to the LLVM dialect: expand,
/// lower to linalg, bufferize, lower to loops and then to LLVM.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers moe-cpu-pipeline.
void registerPipelines();

} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_PIPELINES_PIPELINES_H
