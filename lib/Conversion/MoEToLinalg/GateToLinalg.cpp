//===- GateToLinalg.cpp - moe.gate to a loop over token tiles -------------===//
//
// moe.gate becomes one scf.for over tiles of kGateTileTokens tokens (the
// last tile holds the remainder; T = 0 runs no tile). Each tile:
//   1. its logits [n, E] (n <= kGateTileTokens), f32: a zero fill and a
//      linalg.matmul of the tile's token rows with the router weight read
//      transposed (the router matmul of moe-expand-layer, on n rows), then
//      the router bias added as moe-expand-layer adds it;
//   2. the route of those n rows, by the builder moe.route lowers with,
//      into static [kGateTileTokens, k] weights and ids, whose n rows are
//      then copied (linalg.copy) into the tile's rows of the [T, k] results.
// No tensor larger than one tile's logits is created besides the results,
// and each token's logits and routing are computed by the same operations
// as the unfused matmul and route, so the results are bitwise theirs.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "LoweringUtils.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::detail;

namespace {

/// Tokens per tile: a tile's logits [16, E] stay in L1 for E up to a few
/// hundred.
constexpr int64_t kGateTileTokens = 16;

/// logits[t, e] = sum_d x[t, d] * Wr[e, d] (+ bias[e]) for the n rows of
/// the tile `x` [n, D], in f32.
Value buildTileLogits(ImplicitLocOpBuilder &b, Value x, Value numRows,
                      Value weight, Value bias, int64_t numExperts) {
  Arith a{b};
  auto logitsType =
      RankedTensorType::get({ShapedType::kDynamic, numExperts}, b.getF32Type());
  Value init = filledTensor(b, logitsType, ValueRange{numRows}, a.f32(0.0));
  Value logits = linalg::MatmulTransposeBOp::create(
                     b, b.getLoc(), TypeRange{logitsType},
                     ValueRange{x, weight}, ValueRange{init})
                     .getResult(0);
  if (!bias)
    return logits;
  MLIRContext *ctx = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap perExpert = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  return linalg::GenericOp::create(
             b, TypeRange{logitsType}, ValueRange{bias}, ValueRange{logits},
             ArrayRef<AffineMap>{perExpert, identity},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [](OpBuilder &nb, Location nloc, ValueRange args) {
               Value sum = arith::AddFOp::create(nb, nloc, args[1], args[0]);
               linalg::YieldOp::create(nb, nloc, sum);
             })
      .getResult(0);
}

struct GateOpLowering : public OpConversionPattern<GateOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value tokens = adaptor.getTokens();
    int64_t numExperts = op.getNumExperts();
    int64_t modelSize = op.getTokens().getType().getDimSize(1);
    Type tokenType = op.getTokens().getType().getElementType();
    auto weightsType = cast<RankedTensorType>(op.getWeights().getType());
    auto idsType = cast<RankedTensorType>(op.getExpertIds().getType());
    int64_t k = op.getRouter().getK();
    Type idType = idsType.getElementType();
    Value numTokens = dimSize(b, tokens, 0);
    SmallVector<Value> sizes = {numTokens, a.index(k)};
    Value weights = tensor::EmptyOp::create(b, weightsType,
                                            dynamicSizesOf(weightsType, sizes));
    Value ids =
        tensor::EmptyOp::create(b, idsType, dynamicSizesOf(idsType, sizes));

    Value tile = a.index(kGateTileTokens);
    Value numTiles = arith::CeilDivUIOp::create(b, numTokens, tile);
    SmallVector<Value> results = buildFor(
        b, numTiles, ValueRange{weights, ids},
        [&](Value i, ValueRange iter) -> SmallVector<Value> {
          Value first = a.mul(i, tile);
          Value rows = arith::MinUIOp::create(b, tile, a.sub(numTokens, first));
          auto tileType = RankedTensorType::get(
              {ShapedType::kDynamic, modelSize}, tokenType);
          SmallVector<OpFoldResult> offsets = {first, b.getIndexAttr(0)};
          SmallVector<OpFoldResult> tileSizes = {rows,
                                                 b.getIndexAttr(modelSize)};
          SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
          Value x = tensor::ExtractSliceOp::create(b, tileType, tokens, offsets,
                                                   tileSizes, strides);
          Value logits = buildTileLogits(b, x, rows, adaptor.getRouterWeight(),
                                         adaptor.getRouterBias(), numExperts);
          // The tile's rows are routed into static [tile, k] tensors, whose
          // first `rows` rows are then inserted at the tile's rows of the
          // results: only the tile loop carries the dynamically shaped
          // results (docs/Design.md, host-level code).
          auto tileWeightsType = RankedTensorType::get(
              {kGateTileTokens, k}, weightsType.getElementType());
          auto tileIdsType =
              RankedTensorType::get({kGateTileTokens, k}, idType);
          Value tileWeightsInit =
              tensor::EmptyOp::create(b, tileWeightsType, ValueRange{});
          Value tileIdsInit =
              tensor::EmptyOp::create(b, tileIdsType, ValueRange{});
          auto [tileWeights, tileIds] = buildRouteRows(
              b, op.getRouter(), logits, rows, adaptor.getSelectionBias(),
              tileWeightsInit, tileIdsInit);
          SmallVector<Value> next;
          for (auto [tileResult, result, type] :
               {std::tuple<Value, Value, RankedTensorType>{tileWeights, iter[0],
                                                           weightsType},
                {tileIds, iter[1], idsType}}) {
            auto rowsType = RankedTensorType::get({ShapedType::kDynamic, k},
                                                  type.getElementType());
            SmallVector<OpFoldResult> rowSizes = {rows, b.getIndexAttr(k)};
            SmallVector<OpFoldResult> tileOffsets(2, b.getIndexAttr(0));
            SmallVector<OpFoldResult> resultOffsets = {first,
                                                       b.getIndexAttr(0)};
            Value routed = tensor::ExtractSliceOp::create(
                b, rowsType, tileResult, tileOffsets, rowSizes, strides);
            // A linalg.copy into the destination's slice, which
            // bufferization writes in place: a plain insert_slice of a
            // slice would become a strided memref.copy, a runtime call.
            Value slice = tensor::ExtractSliceOp::create(
                b, rowsType, result, resultOffsets, rowSizes, strides);
            Value copied =
                linalg::CopyOp::create(b, routed, slice).getResult(0);
            next.push_back(tensor::InsertSliceOp::create(
                b, copied, result, resultOffsets, rowSizes, strides));
          }
          return next;
        });
    // Each tile writes only its tokens' rows of the results.
    results.front().getDefiningOp()->setAttr(
        moe::kParallelRowsAttrName, b.getI64IntegerAttr(kGateTileTokens));
    rewriter.replaceOp(op, results);
    return success();
  }
};
} // namespace

void mlir::moe::detail::populateGatePatterns(RewritePatternSet &patterns) {
  patterns.add<GateOpLowering>(patterns.getContext());
}
