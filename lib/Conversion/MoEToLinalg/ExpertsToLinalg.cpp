//===- ExpertsToLinalg.cpp - moe.experts and moe.combine to linalg --------===//
//
// moe.experts: an scf.for over experts; each expert's segment of rows is a
// tensor.extract_slice, its FFN two or three linalg.matmuls with the weights
// transposed by indexing maps ([out, in] layout) and f32 accumulation, and
// a linalg.generic activation. An empty segment runs its matmuls on zero
// rows (no scf.if, which would yield a dynamically shaped tensor), and the
// down projection accumulates in a fresh tensor that is then inserted into
// the output: both keep the loop IREE-friendly (docs/IREE.md).
//
// moe.combine: one linalg.generic over (t, d, j) with j a reduction, so each
// output is a per-token sum in j order: deterministic, no scatter.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Utils/Activation.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::detail;
using arith::CmpIPredicate;

namespace {

/// x [n, in] times w [out, in] transposed, accumulated into `init` [n, out]
/// (f32, or any float type the matmul's operands extend to).
Value matmulTransposed(ImplicitLocOpBuilder &b, Value x, Value w, Value init) {
  return linalg::MatmulTransposeBOp::create(b, b.getLoc(),
                                            TypeRange{init.getType()},
                                            ValueRange{x, w}, ValueRange{init})
      .getResult(0);
}

/// A zero f32 [n, cols] tensor to accumulate a projection in.
Value zeroAccumulator(ImplicitLocOpBuilder &b, Value numRows, int64_t cols) {
  auto type =
      RankedTensorType::get({ShapedType::kDynamic, cols}, b.getF32Type());
  return filledTensor(b, type, {numRows}, Arith{b}.f32(0.0));
}

/// The f32 [n, cols] accumulator of a projection: zeros, or expert e's bias
/// row (of a stacked [E, cols] bias) on every row.
Value biasAccumulator(ImplicitLocOpBuilder &b, Value numRows, int64_t cols,
                      Value stackedBias, Value e) {
  if (!stackedBias)
    return zeroAccumulator(b, numRows, cols);
  auto type =
      RankedTensorType::get({ShapedType::kDynamic, cols}, b.getF32Type());
  Value init = tensor::EmptyOp::create(b, type, ValueRange{numRows});
  auto biasType = cast<RankedTensorType>(stackedBias.getType());
  auto rowType = RankedTensorType::get({cols}, biasType.getElementType());
  SmallVector<OpFoldResult> offsets = {e, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  Value row = tensor::ExtractSliceOp::create(b, rowType, stackedBias, offsets,
                                             sizes, strides);
  MLIRContext *ctx = b.getContext();
  AffineMap perColumn = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  return linalg::GenericOp::create(
             b, TypeRange{type}, ValueRange{row}, ValueRange{init},
             ArrayRef<AffineMap>{perColumn, identity},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [&](OpBuilder &nested, Location loc, ValueRange args) {
               ImplicitLocOpBuilder nb(loc, nested);
               linalg::YieldOp::create(nb, Arith{nb}.toF32(args[0]));
             })
      .getResult(0);
}

/// The [out, in] matrix of expert `e` in a stacked [E, out, in] weight.
Value expertMatrix(ImplicitLocOpBuilder &b, Value stacked, Value e) {
  auto type = cast<RankedTensorType>(stacked.getType());
  auto matrixType = RankedTensorType::get(
      {type.getDimSize(1), type.getDimSize(2)}, type.getElementType());
  SmallVector<OpFoldResult> offsets = {e, b.getIndexAttr(0), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                     b.getIndexAttr(type.getDimSize(1)),
                                     b.getIndexAttr(type.getDimSize(2))};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, matrixType, stacked, offsets, sizes,
                                        strides);
}

/// h[n, F] = act(...) of the f32 projections, rounded to `elementType` (a
/// framework computing in bf16 rounds the hidden state too).
Value buildHidden(ImplicitLocOpBuilder &b, ActivationAttr act, Value gate,
                  Value up, Value numRows, Type elementType) {
  auto upType = cast<RankedTensorType>(up.getType());
  auto hiddenType = RankedTensorType::get(upType.getShape(), elementType);
  Value init = tensor::EmptyOp::create(b, hiddenType, ValueRange{numRows});
  SmallVector<Value> inputs;
  if (gate)
    inputs.push_back(gate);
  inputs.push_back(up);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, b.getContext());
  SmallVector<AffineMap> maps(inputs.size() + 1, identity);
  return linalg::GenericOp::create(
             b, TypeRange{hiddenType}, inputs, ValueRange{init}, maps,
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [&](OpBuilder &nested, Location loc, ValueRange args) {
               ImplicitLocOpBuilder nb(loc, nested);
               Value g = gate ? args[0] : Value();
               Value u = args[gate ? 1 : 0];
               Value h = buildActivation(nb, act, g, u);
               linalg::YieldOp::create(nb, Arith{nb}.fromF32(h, elementType));
             })
      .getResult(0);
}

/// Writes an f32 tensor converted elementwise into `init` (whose element
/// type is the target type).
Value castFromF32Into(ImplicitLocOpBuilder &b, Value value, Value init) {
  auto type = cast<RankedTensorType>(init.getType());
  Type elementType = type.getElementType();
  AffineMap identity =
      AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, TypeRange{type}, ValueRange{value}, ValueRange{init},
             ArrayRef<AffineMap>{identity, identity}, iterators,
             [&](OpBuilder &nested, Location loc, ValueRange args) {
               ImplicitLocOpBuilder nb(loc, nested);
               linalg::YieldOp::create(nb,
                                       Arith{nb}.fromF32(args[0], elementType));
             })
      .getResult(0);
}

struct ExpertsOpLowering : public OpConversionPattern<ExpertsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ExpertsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value input = adaptor.getInput();
    Value offsets = adaptor.getOffsets();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto outputType = cast<RankedTensorType>(op.getOutput().getType());
    Type elementType = inputType.getElementType();
    int64_t modelSize = inputType.getDimSize(1);
    int64_t numExperts =
        cast<RankedTensorType>(offsets.getType()).getDimSize(0) - 1;
    ActivationAttr act = op.getActivationAttr();

    Value numRows = dimSize(b, input, 0);
    // Rows past offsets[E] are padding and stay zero.
    Value output = filledTensor(
        b, outputType, dynamicSizesOf(outputType, {numRows, Value()}),
        arith::ConstantOp::create(b, b.getFloatAttr(elementType, 0.0)));

    int64_t hiddenSize =
        cast<RankedTensorType>(adaptor.getUpWeight().getType()).getDimSize(1);
    Value result = buildFor(
        b, numExperts, ValueRange{output},
        [&](Value e, ValueRange iter) -> SmallVector<Value> {
          Value begin32 = tensor::ExtractOp::create(b, offsets, ValueRange{e});
          Value begin = a.toIndex(begin32);
          Value next = a.add(e, a.index(1));
          Value end32 = tensor::ExtractOp::create(b, offsets, ValueRange{next});
          Value end = a.toIndex(end32);
          // An expert without rows runs its matmuls on zero rows.
          Value count = a.sub(end, begin);
          SmallVector<OpFoldResult> offs = {begin, b.getIndexAttr(0)};
          SmallVector<OpFoldResult> sizes = {count, b.getIndexAttr(modelSize)};
          SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
          Value rows =
              tensor::ExtractSliceOp::create(b, input, offs, sizes, strides);
          Value wu = expertMatrix(b, adaptor.getUpWeight(), e);
          Value upInit =
              biasAccumulator(b, count, hiddenSize, adaptor.getUpBias(), e);
          Value up = matmulTransposed(b, rows, wu, upInit);
          Value gate;
          if (adaptor.getGateWeight()) {
            Value wg = expertMatrix(b, adaptor.getGateWeight(), e);
            Value gateInit =
                biasAccumulator(b, count, hiddenSize, adaptor.getGateBias(), e);
            gate = matmulTransposed(b, rows, wg, gateInit);
          }
          Value hidden = buildHidden(b, act, gate, up, count, elementType);
          // The down projection accumulates in a fresh zero-filled tensor,
          // rounded by a generic unless it is f32, then written into the
          // expert's rows of the output. (A fill of the output's slice
          // would make the slice a read-write operand of the matmul.)
          Value wd = expertMatrix(b, adaptor.getDownWeight(), e);
          Value downInit =
              biasAccumulator(b, count, modelSize, adaptor.getDownBias(), e);
          Value segment = matmulTransposed(b, hidden, wd, downInit);
          if (!elementType.isF32()) {
            auto segmentType = RankedTensorType::get(
                {ShapedType::kDynamic, modelSize}, elementType);
            Value rounded =
                tensor::EmptyOp::create(b, segmentType, ValueRange{count});
            segment = castFromF32Into(b, segment, rounded);
          }
          return {tensor::InsertSliceOp::create(b, segment, iter[0], offs,
                                                sizes, strides)
                      .getResult()};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct CombineOpLowering : public OpConversionPattern<CombineOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CombineOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value expertOutput = adaptor.getExpertOutput();
    Value identity = adaptor.getIdentity();
    auto outputType = cast<RankedTensorType>(op.getOutput().getType());
    Type elementType = outputType.getElementType();
    Value numTokens = dimSize(b, adaptor.getRows(), 0);
    auto accType = RankedTensorType::get(outputType.getShape(), b.getF32Type());
    SmallVector<Value> dynamicSizes =
        dynamicSizesOf(accType, {numTokens, Value()});
    Value init = filledTensor(b, accType, dynamicSizes, a.f32(0.0));

    MLIRContext *ctx = b.getContext();
    AffineExpr t = b.getAffineDimExpr(0), d = b.getAffineDimExpr(1),
               j = b.getAffineDimExpr(2);
    AffineMap perAssignment = AffineMap::get(3, 0, {t, j}, ctx);
    AffineMap perOutput = AffineMap::get(3, 0, {t, d}, ctx);
    auto sum = linalg::GenericOp::create(
        b, TypeRange{accType},
        ValueRange{adaptor.getRows(), adaptor.getWeights()}, ValueRange{init},
        ArrayRef<AffineMap>{perAssignment, perAssignment, perOutput},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel,
                                      utils::IteratorType::reduction},
        [&](OpBuilder &nested, Location loc, ValueRange args) {
          ImplicitLocOpBuilder nb(loc, nested);
          Arith na{nb};
          Value row = args[0], weight = args[1], acc = args[2];
          Value kept = na.cmpi(CmpIPredicate::sge, row, na.i32(0));
          Value safeRow = na.toIndex(na.select(kept, row, na.i32(0)));
          Value feature = linalg::IndexOp::create(nb, 1);
          Value value = na.toF32(tensor::ExtractOp::create(
              nb, expertOutput, ValueRange{safeRow, feature}));
          // A dropped assignment adds zero, or its token passed through.
          // select, not multiply-by-zero: a dropped row's NaN must not leak.
          Value fallback = na.f32(0.0);
          if (identity) {
            Value token = linalg::IndexOp::create(nb, 0);
            Value input = na.toF32(tensor::ExtractOp::create(
                nb, identity, ValueRange{token, feature}));
            fallback = na.mul(weight, input);
          }
          Value contribution = na.select(kept, na.mul(weight, value), fallback);
          linalg::YieldOp::create(nb, na.add(acc, contribution));
        });
    Value result = sum.getResult(0);
    if (!elementType.isF32())
      result = castFromF32Into(
          b, result, tensor::EmptyOp::create(b, outputType, dynamicSizes));
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void mlir::moe::detail::populateExpertsAndCombinePatterns(
    RewritePatternSet &patterns) {
  patterns.add<ExpertsOpLowering, CombineOpLowering>(patterns.getContext());
}
