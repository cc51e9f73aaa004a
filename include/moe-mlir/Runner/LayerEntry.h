//===- LayerEntry.h - The layer function a runner calls ---------*- C++ -*-===//
//
// Finds the function of a module that computes a moe.layer, maps its
// arguments to the layer's operands, and describes the layer to the
// independent reference: the one mapping from #moe.router, #moe.capacity and
// #moe.activation to the reference's configuration.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_LAYERENTRY_H
#define MOE_MLIR_RUNNER_LAYERENTRY_H

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Reference/MoEReference.h"
#include "moe-mlir/Runner/LayerDescription.h"
#include "moe-mlir/Runner/Operands.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace moe::run {

/// A function whose body is one moe.layer over its arguments, returning the
/// layer's results.
struct EntryPoint {
  mlir::func::FuncOp func;
  mlir::moe::LayerOp layer;
  /// One per function argument.
  std::vector<Role> roles;
};

/// The function named `name`, or with an empty name the one function of
/// `module` that computes a moe.layer. Emits a diagnostic and fails when
/// there is none, several, or the function is not a plain call of its layer
/// on f32, bf16 or f16 tensors.
mlir::FailureOr<EntryPoint> findEntryPoint(mlir::ModuleOp module,
                                           llvm::StringRef name);

/// The reference's description of `layer`.
ref::LayerConfig referenceConfig(mlir::moe::LayerOp layer);

/// The element type of a tensor value (f32, bf16 or f16; anything else reads
/// as f32).
ref::ElementType elementTypeOf(mlir::Value value);

/// The FLOPs of one call of `layer`, from the cost model.
mlir::FailureOr<FlopCount> flopCount(mlir::moe::LayerOp layer);

/// The description of `entry` that runners and libraries carry (target and
/// pipeline left empty). Fails, with a diagnostic, where the cost model
/// cannot count the layer's FLOPs.
mlir::FailureOr<LayerDescription> describeLayer(const EntryPoint &entry);

/// The weights `function` (a func.func or, lowered, an llvm.func) takes
/// packed: its moe.packed_weights attribute, read. Fails, with a
/// diagnostic, on an attribute that does not read.
mlir::FailureOr<std::vector<PackedWeight>>
packedWeightsOf(mlir::Operation *function);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_LAYERENTRY_H
