//===- MoEToLinalg.h - moe to linalg, tensor, scf, arith, math --*- C++ -*-===//

#ifndef MOE_MLIR_CONVERSION_MOETOLINALG_MOETOLINALG_H
#define MOE_MLIR_CONVERSION_MOETOLINALG_MOETOLINALG_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;

#define GEN_PASS_DECL_CONVERTMOETOLINALGPASS
#include "moe-mlir/Conversion/Passes.h.inc"

namespace moe {
/// Adds the patterns that lower moe.route, moe.dispatch, moe.experts,
/// moe.combine and moe.grouped_matmul to upstream dialects on tensors.
void populateMoEToLinalgConversionPatterns(RewritePatternSet &patterns);

/// The attribute on the scf.for over a grouped product's experts that the
/// lowering of moe.grouped_matmul builds: its iterations are independent
/// (each writes only its expert's rows), so a later pass may run them in
/// parallel (moe-cpu-parallel-experts).
constexpr llvm::StringLiteral kExpertLoopAttrName = "moe.expert_loop";

/// The attribute on an scf.for over rows whose iterations are independent:
/// each writes only its own rows and reads nothing another one writes (the
/// gate's loop over token tiles; moe-cpu-vectorize-elementwise's loops over
/// an elementwise op's rows). Its value is the rows one iteration covers;
/// moe-cpu-parallel-rows shares the iterations of a loop with rows enough
/// among threads.
constexpr llvm::StringLiteral kParallelRowsAttrName = "moe.parallel_rows";
} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_CONVERSION_MOETOLINALG_MOETOLINALG_H
