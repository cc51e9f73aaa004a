//===- MoEAttrs.h - Attributes of the moe dialect ---------------*- C++ -*-===//

#ifndef MOE_MLIR_DIALECT_MOE_IR_MOEATTRS_H
#define MOE_MLIR_DIALECT_MOE_IR_MOEATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectImplementation.h"

#include "moe-mlir/Dialect/MoE/IR/MoEEnums.h.inc"

namespace mlir::moe {
/// True for activations that multiply act(gate projection) by the up
/// projection and so need a gate weight.
inline bool isGated(Activation act) {
  return act == Activation::swiglu || act == Activation::geglu ||
         act == Activation::clamped_swiglu;
}
} // namespace mlir::moe

#define GET_ATTRDEF_CLASSES
#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.h.inc"

#endif // MOE_MLIR_DIALECT_MOE_IR_MOEATTRS_H
