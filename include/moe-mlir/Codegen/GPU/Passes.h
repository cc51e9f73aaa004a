//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//

#ifndef MOE_MLIR_CODEGEN_GPU_PASSES_H
#define MOE_MLIR_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL
#include "moe-mlir/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "moe-mlir/Codegen/GPU/Passes.h.inc"

} // namespace mlir::moe

#endif // MOE_MLIR_CODEGEN_GPU_PASSES_H
