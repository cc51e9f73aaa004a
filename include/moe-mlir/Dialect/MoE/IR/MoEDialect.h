//===- MoEDialect.h - The moe dialect ---------------------------*- C++ -*-===//

#ifndef MOE_MLIR_DIALECT_MOE_IR_MOEDIALECT_H
#define MOE_MLIR_DIALECT_MOE_IR_MOEDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "moe-mlir/Dialect/MoE/IR/MoEDialect.h.inc"

#endif // MOE_MLIR_DIALECT_MOE_IR_MOEDIALECT_H
