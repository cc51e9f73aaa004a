//===- GroupedMatmulToLinalg.cpp - moe.grouped_matmul to linalg -----------===//
//
// An scf.for over experts, as for moe.experts: expert e's segment of rows
// [offsets[e], offsets[e + 1]) is a dynamic tensor.extract_slice of the
// input (or, with a gather, a [count, K] linalg.generic that reads the
// token rows through the indices), multiplied by its [N, K] matrix with a
// linalg.matmul whose indexing maps transpose B, accumulating in f32 from
// zeros or the expert's bias row. The epilogue (activation over the gate
// and up halves, per-row scale, rounding to the element type) is one
// linalg.generic; its result is inserted into the zero-filled output.
//
// A weight that is a tensor.concat along N (the pass's [gate; up]) is read
// in place: one matmul per concatenated operand, each into its columns of
// the accumulator, so the concatenation is never materialised at run time.
// Each output element is computed by the same f32 sums as moe.experts's
// lowering, so the two agree bit for bit.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Utils/Activation.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::detail;
using arith::CmpIPredicate;

namespace {

/// Rows [begin, begin + count) x columns [col, col + cols) of a rank-2
/// tensor.
Value slice2D(ImplicitLocOpBuilder &b, Value tensor, OpFoldResult begin,
              OpFoldResult count, int64_t col, int64_t cols) {
  SmallVector<OpFoldResult> offsets = {begin, b.getIndexAttr(col)};
  SmallVector<OpFoldResult> sizes = {count, b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, tensor, offsets, sizes, strides);
}

Value insert2D(ImplicitLocOpBuilder &b, Value source, Value dest,
               OpFoldResult begin, OpFoldResult count, int64_t col,
               int64_t cols) {
  SmallVector<OpFoldResult> offsets = {begin, b.getIndexAttr(col)};
  SmallVector<OpFoldResult> sizes = {count, b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, source, dest, offsets, sizes,
                                       strides);
}

/// The [N, K] matrix of expert `e` in a stacked [E, N, K] weight.
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

/// The parts of a value concatenated along dimension 1 (N), read in place:
/// the operands of a tensor.concat along 1 (recursively), else the value.
void concatParts(Value value, SmallVectorImpl<Value> &parts) {
  if (auto concat = value.getDefiningOp<tensor::ConcatOp>();
      concat && concat.getDim() == 1) {
    for (Value input : concat.getInputs())
      concatParts(input, parts);
    return;
  }
  parts.push_back(value);
}

/// The f32 [count, N] accumulator: zeros, or expert e's bias row on every
/// row (each part of a concatenated bias written into its columns).
Value buildAccumulator(ImplicitLocOpBuilder &b, Value count, int64_t cols,
                       Value stackedBias, Value e) {
  auto type =
      RankedTensorType::get({ShapedType::kDynamic, cols}, b.getF32Type());
  if (!stackedBias)
    return filledTensor(b, type, {count}, Arith{b}.f32(0.0));
  Value acc = tensor::EmptyOp::create(b, type, ValueRange{count});
  SmallVector<Value> parts;
  concatParts(stackedBias, parts);
  MLIRContext *ctx = b.getContext();
  AffineMap perColumn = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  int64_t col = 0;
  for (Value part : parts) {
    auto partType = cast<RankedTensorType>(part.getType());
    int64_t width = partType.getDimSize(1);
    auto rowType = RankedTensorType::get({width}, partType.getElementType());
    SmallVector<OpFoldResult> offsets = {e, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                       b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    Value row = tensor::ExtractSliceOp::create(b, rowType, part, offsets, sizes,
                                               strides);
    Value columns = parts.size() == 1
                        ? acc
                        : slice2D(b, acc, b.getIndexAttr(0), count, col, width);
    Value broadcast =
        linalg::GenericOp::create(
            b, TypeRange{columns.getType()}, ValueRange{row},
            ValueRange{columns}, ArrayRef<AffineMap>{perColumn, identity},
            ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                          utils::IteratorType::parallel},
            [&](OpBuilder &nested, Location loc, ValueRange args) {
              ImplicitLocOpBuilder nb(loc, nested);
              linalg::YieldOp::create(nb, Arith{nb}.toF32(args[0]));
            })
            .getResult(0);
    acc = parts.size() == 1 ? broadcast
                            : insert2D(b, broadcast, acc, b.getIndexAttr(0),
                                       count, col, width);
    col += width;
  }
  return acc;
}

/// rows[i, k] = indices[begin + i] >= 0 ? tokens[indices[begin + i], k] : 0
/// for i < count: expert e's rows read through the gather indices.
Value gatherRows(ImplicitLocOpBuilder &b, Value tokens, Value indices,
                 Value begin, Value count) {
  auto tokensType = cast<RankedTensorType>(tokens.getType());
  Type elementType = tokensType.getElementType();
  int64_t width = tokensType.getDimSize(1);
  auto indexType = cast<RankedTensorType>(indices.getType());
  SmallVector<OpFoldResult> offsets = {begin};
  SmallVector<OpFoldResult> sizes = {count};
  SmallVector<OpFoldResult> strides = {b.getIndexAttr(1)};
  Value segment = tensor::ExtractSliceOp::create(
      b,
      RankedTensorType::get({ShapedType::kDynamic}, indexType.getElementType()),
      indices, offsets, sizes, strides);
  auto rowsType =
      RankedTensorType::get({ShapedType::kDynamic, width}, elementType);
  Value init = tensor::EmptyOp::create(b, rowsType, ValueRange{count});
  MLIRContext *ctx = b.getContext();
  AffineMap perRow = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  return linalg::GenericOp::create(
             b, TypeRange{rowsType}, ValueRange{segment}, ValueRange{init},
             ArrayRef<AffineMap>{perRow, identity},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [&](OpBuilder &nested, Location loc, ValueRange args) {
               ImplicitLocOpBuilder nb(loc, nested);
               Arith na{nb};
               Value source = args[0];
               Value present = na.cmpi(CmpIPredicate::sge, source, na.i32(0));
               Value safe = na.toIndex(na.select(present, source, na.i32(0)));
               Value k = linalg::IndexOp::create(nb, 1);
               Value value =
                   tensor::ExtractOp::create(nb, tokens, ValueRange{safe, k});
               Value zero = arith::ConstantOp::create(
                   nb, nb.getFloatAttr(elementType, 0.0));
               linalg::YieldOp::create(nb, na.select(present, value, zero));
             })
      .getResult(0);
}

/// The epilogue over the f32 accumulator [count, N]: the activation (over
/// the gate half [0, N/2) and the up half [N/2, N) when gated), the per-row
/// scale, the rounding to the result's element type. Null when there is
/// nothing to do (an f32 result without activation or scale).
Value buildEpilogue(ImplicitLocOpBuilder &b, GroupedMatmulOp op, Value acc,
                    Value scale, Value begin, Value count) {
  auto resultType = op.getOutput().getType();
  Type elementType = resultType.getElementType();
  ActivationAttr act = op.getActivationAttr();
  if (!act && !scale && elementType.isF32())
    return Value();
  int64_t cols = resultType.getDimSize(1);
  MLIRContext *ctx = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  bool gated = op.hasGatedActivation();
  if (gated) {
    inputs.push_back(slice2D(b, acc, b.getIndexAttr(0), count, 0, cols));
    inputs.push_back(slice2D(b, acc, b.getIndexAttr(0), count, cols, cols));
  } else {
    inputs.push_back(acc);
  }
  maps.append(inputs.size(), identity);
  if (scale) {
    SmallVector<OpFoldResult> offsets = {begin};
    SmallVector<OpFoldResult> sizes = {count};
    SmallVector<OpFoldResult> strides = {b.getIndexAttr(1)};
    inputs.push_back(tensor::ExtractSliceOp::create(
        b, RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type()), scale,
        offsets, sizes, strides));
    maps.push_back(AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx));
  }
  maps.push_back(identity);
  auto segmentType =
      RankedTensorType::get({ShapedType::kDynamic, cols}, elementType);
  Value init = tensor::EmptyOp::create(b, segmentType, ValueRange{count});
  return linalg::GenericOp::create(
             b, TypeRange{segmentType}, inputs, ValueRange{init}, maps,
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [&](OpBuilder &nested, Location loc, ValueRange args) {
               ImplicitLocOpBuilder nb(loc, nested);
               Arith na{nb};
               Value value = gated ? args[1] : args[0];
               if (act)
                 value =
                     buildActivation(nb, act, gated ? args[0] : Value(), value);
               if (scale)
                 value = na.mul(value, args[gated ? 2 : 1]);
               linalg::YieldOp::create(nb, na.fromF32(value, elementType));
             })
      .getResult(0);
}

struct GroupedMatmulOpLowering : public OpConversionPattern<GroupedMatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GroupedMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value input = adaptor.getInput();
    Value offsets = adaptor.getOffsets();
    Value gather = adaptor.getGather();
    Value scale = adaptor.getScale();
    auto outputType = op.getOutput().getType();
    Type elementType = outputType.getElementType();
    int64_t numExperts = op.getNumExperts();
    int64_t numColumns = op.getNumColumns();
    int64_t cols = outputType.getDimSize(1);
    int64_t reduction =
        cast<RankedTensorType>(adaptor.getWeight().getType()).getDimSize(2);
    SmallVector<Value> weights;
    concatParts(adaptor.getWeight(), weights);

    Value numRows = dimSize(b, gather ? gather : input, 0);
    // Rows past offsets[E] are padding and stay zero.
    Value output = filledTensor(
        b, outputType, dynamicSizesOf(outputType, {numRows, Value()}),
        arith::ConstantOp::create(b, b.getFloatAttr(elementType, 0.0)));

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
          Value rows = gather ? gatherRows(b, input, gather, begin, count)
                              : slice2D(b, input, begin, count, 0, reduction);
          Value acc =
              buildAccumulator(b, count, numColumns, adaptor.getBias(), e);
          // One matmul per concatenated part of the weight, each into its
          // columns of the accumulator.
          int64_t col = 0;
          for (Value part : weights) {
            Value matrix = expertMatrix(b, part, e);
            int64_t width =
                cast<RankedTensorType>(matrix.getType()).getDimSize(0);
            bool whole = weights.size() == 1;
            Value init =
                whole ? acc
                      : slice2D(b, acc, b.getIndexAttr(0), count, col, width);
            Value product = linalg::MatmulTransposeBOp::create(
                                b, b.getLoc(), TypeRange{init.getType()},
                                ValueRange{rows, matrix}, ValueRange{init})
                                .getResult(0);
            acc = whole ? product
                        : insert2D(b, product, acc, b.getIndexAttr(0), count,
                                   col, width);
            col += width;
          }
          Value segment = buildEpilogue(b, op, acc, scale, begin, count);
          if (!segment)
            segment = acc;
          return {insert2D(b, segment, iter[0], begin, count, 0, cols)};
        })[0];
    result.getDefiningOp()->setAttr(kExpertLoopAttrName, b.getUnitAttr());
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void mlir::moe::detail::populateGroupedMatmulPatterns(
    RewritePatternSet &patterns) {
  patterns.add<GroupedMatmulOpLowering>(patterns.getContext());
}
