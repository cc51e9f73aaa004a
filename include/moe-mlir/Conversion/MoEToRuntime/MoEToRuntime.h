//===- MoEToRuntime.h - moe.all_to_all to runtime calls ---------*- C++ -*-===//

#ifndef MOE_MLIR_CONVERSION_MOETORUNTIME_MOETORUNTIME_H
#define MOE_MLIR_CONVERSION_MOETORUNTIME_MOETORUNTIME_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
#define GEN_PASS_DECL_CONVERTMOETORUNTIMEPASS
#include "moe-mlir/Conversion/Passes.h.inc"
} // namespace mlir

#endif // MOE_MLIR_CONVERSION_MOETORUNTIME_MOETORUNTIME_H
