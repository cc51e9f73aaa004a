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

namespace mlir::moe {
/// The ranks of the communicator an expert-parallel program runs on: what
/// moe.all_to_all reads and writes, so that no pass drops, duplicates or
/// reorders an exchange.
struct CommunicatorResource
    : public SideEffects::Resource::Base<CommunicatorResource> {
  StringRef getName() override { return "moe.communicator"; }
};
} // namespace mlir::moe

#define GET_OP_CLASSES
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h.inc"

#endif // MOE_MLIR_DIALECT_MOE_IR_MOEOPS_H
