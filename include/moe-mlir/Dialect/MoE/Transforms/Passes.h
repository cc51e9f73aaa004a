//===- Passes.h - Transformations of the moe dialect ------------*- C++ -*-===//

#ifndef MOE_MLIR_DIALECT_MOE_TRANSFORMS_PASSES_H
#define MOE_MLIR_DIALECT_MOE_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace moe {

/// moe-cost's report formats (its `format` option).
enum class CostFormat { text, json };

#define GEN_PASS_DECL
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"

/// Adds the pattern that splits moe.layer into its level-1 parts.
void populateExpandLayerPatterns(RewritePatternSet &patterns);

/// Adds the pattern that rewrites moe.experts into moe.grouped_matmul
/// products, with the fusions of moe-experts-to-grouped-matmul's options.
void populateExpertsToGroupedMatmulPatterns(RewritePatternSet &patterns,
                                            bool fuseActivation,
                                            bool fuseGather, bool fuseScale);

/// Adds the pattern that fuses the router matmul (+ bias) feeding a
/// moe.route into moe.gate.
void populateFuseGatingPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"

} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_DIALECT_MOE_TRANSFORMS_PASSES_H
