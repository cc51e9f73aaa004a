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
};

/// moe.layer (or level-1 moe ops) on tensors to the LLVM dialect: expand,
/// lower to linalg, bufferize, lower to loops and then to LLVM.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers moe-cpu-pipeline.
void registerPipelines();

} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_PIPELINES_PIPELINES_H
