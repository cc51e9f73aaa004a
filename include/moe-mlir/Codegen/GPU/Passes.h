//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//

#ifndef MOE_MLIR_CODEGEN_GPU_PASSES_H
#define MOE_MLIR_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL
#include "moe-mlir/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "moe-mlir/Codegen/GPU/Passes.h.inc"

} // namespace mlir::moe

#endif // MOE_MLIR_CODEGEN_GPU_PASSES_H
