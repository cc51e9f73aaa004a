//===- LoweringUtils.h - Helpers shared by the moe-to-linalg patterns -----===//
//
// Small builders for the scalar and tensor code the patterns emit. Private to
// lib/Conversion/MoEToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLINALG_LOWERINGUTILS_H
#define MOE_LIB_CONVERSION_MOETOLINALG_LOWERINGUTILS_H

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::moe::detail {

/// Arithmetic shorthands over an ImplicitLocOpBuilder, so that the scalar
/// code of the router and dispatch loops reads like the formulas it builds.
struct Arith {
  ImplicitLocOpBuilder &b;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, b.getI32Type(), v);
  }
  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, b.getI64Type(), v);
  }
  Value f32(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value f64(double v) {
    return arith::ConstantOp::create(b, b.getF64FloatAttr(v));
  }
  Value i1(bool v) { return arith::ConstantIntOp::create(b, b.getI1Type(), v); }

  Value add(Value x, Value y) {
    return isa<FloatType>(x.getType()) ? Value(arith::AddFOp::create(b, x, y))
                                       : Value(arith::AddIOp::create(b, x, y));
  }
  Value sub(Value x, Value y) {
    return isa<FloatType>(x.getType()) ? Value(arith::SubFOp::create(b, x, y))
                                       : Value(arith::SubIOp::create(b, x, y));
  }
  Value mul(Value x, Value y) {
    return isa<FloatType>(x.getType()) ? Value(arith::MulFOp::create(b, x, y))
                                       : Value(arith::MulIOp::create(b, x, y));
  }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, b.getIndexType(), v);
  }
  Value toI32(Value v) {
    return arith::IndexCastOp::create(b, b.getI32Type(), v);
  }
  Value toF32(Value v) {
    if (v.getType().isF32())
      return v;
    return arith::ExtFOp::create(b, b.getF32Type(), v);
  }
  /// Converts f32 to `type` (a float type): a no-op for f32, else truncf.
  Value fromF32(Value v, Type type) {
    if (type == v.getType())
      return v;
    return arith::TruncFOp::create(b, type, v);
  }
};

/// The size of dimension `dim` of a ranked tensor, as an index value.
inline Value dimSize(ImplicitLocOpBuilder &b, Value tensor, int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return arith::ConstantIndexOp::create(b, type.getDimSize(dim));
  return tensor::DimOp::create(b, tensor, dim);
}

/// A tensor of `type` filled with `value`; `dynamicSizes` gives its dynamic
/// dimensions in order.
inline Value filledTensor(ImplicitLocOpBuilder &b, RankedTensorType type,
                          ValueRange dynamicSizes, Value value) {
  Value empty = tensor::EmptyOp::create(b, type, dynamicSizes);
  return linalg::FillOp::create(b, value, empty).getResult(0);
}

/// The dynamic dimension sizes of `type` when its dimensions are given as
/// index values `sizes` (one per dimension).
inline SmallVector<Value> dynamicSizesOf(RankedTensorType type,
                                         ArrayRef<Value> sizes) {
  SmallVector<Value> dynamic;
  for (auto [i, size] : llvm::enumerate(sizes))
    if (type.isDynamicDim(i))
      dynamic.push_back(size);
  return dynamic;
}

/// Builds `scf.for %iv = 0 to ub step 1 iter_args(iterArgs)` and fills its
/// body with `body`, which builds through `b` (moved into the loop while it
/// runs) and returns the values to yield. Returns the loop's results. The
/// constants 0 and 1 are created here, after `ub`, so that the op order does
/// not depend on the order in which a caller's arguments are evaluated.
inline SmallVector<Value>
buildFor(ImplicitLocOpBuilder &b, Value ub, ValueRange iterArgs,
         llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  Value lb = arith::ConstantIndexOp::create(b, 0);
  Value step = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(b, lb, ub, step, iterArgs);
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = loop.getBody();
    // Without iter_args the builder already added the terminator.
    if (block->empty())
      b.setInsertionPointToEnd(block);
    else
      b.setInsertionPoint(block->getTerminator());
    bool needsYield = block->empty();
    SmallVector<Value> yielded =
        body(loop.getInductionVar(), loop.getRegionIterArgs());
    if (needsYield)
      scf::YieldOp::create(b, yielded);
  }
  return SmallVector<Value>(loop.getResults());
}

/// The same loop with a constant trip count `ub`.
inline SmallVector<Value>
buildFor(ImplicitLocOpBuilder &b, int64_t ub, ValueRange iterArgs,
         llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  Value bound = arith::ConstantIndexOp::create(b, ub);
  return buildFor(b, bound, iterArgs, body);
}

/// `acc` raised to `x` when `x` is larger: select(x > acc, x, acc). With
/// `acc` never NaN (it starts at -inf) this is maxnumf(acc, x): a NaN `x`
/// is ignored. Host code uses it because IREE's VM cannot lower maxnumf.
inline Value maxIgnoringNaN(ImplicitLocOpBuilder &b, Value acc, Value x) {
  Value greater = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, acc);
  return arith::SelectOp::create(b, greater, x, acc);
}

/// Routes the first `numRows` rows of `logits` [n, E] (f32) as `router`
/// says, with the optional `selectionBias` [E], and writes row t's k weights
/// and ids into row t of `weights` [n, k] (f32) and `ids` [n, k] (i32), in
/// one scf.for over the rows. Returns the updated weights and ids. moe.route
/// routes all its logits with it, moe.gate each tile's: a token's routing
/// is the same scalar code either way.
std::pair<Value, Value> buildRouteRows(ImplicitLocOpBuilder &b,
                                       RouterAttr router, Value logits,
                                       Value numRows, Value selectionBias,
                                       Value weights, Value ids);

/// Rewrites one moe op; each lives in the file of its op family.
void populateRoutePatterns(RewritePatternSet &patterns);
void populateDispatchPatterns(RewritePatternSet &patterns);
void populateExpertsAndCombinePatterns(RewritePatternSet &patterns);
void populateGroupedMatmulPatterns(RewritePatternSet &patterns);
void populateGatePatterns(RewritePatternSet &patterns);

} // namespace mlir::moe::detail

#endif // MOE_LIB_CONVERSION_MOETOLINALG_LOWERINGUTILS_H
