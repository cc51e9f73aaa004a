//===- MoEOps.h - Operations of the moe dialect -----------------*- C++ -*-===//

#ifndef MOE_MLIR_DIALECT_MOE_IR_MOEOPS_H
#define MOE_MLIR_DIALECT_MOE_IR_MOEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.h"
#include "moe-mlir/Dialect/MoE/IR/MoEDialect.h"

#define GET_OP_CLASSES
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h.inc"

#endif // MOE_MLIR_DIALECT_MOE_IR_MOEOPS_H
