//===- ExpandLayer.cpp - Split moe.layer into its level-1 parts -----------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEEXPANDLAYERPASS
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The sizes of the dynamic dimensions of a [T, ...] tensor whose T is that
/// of `tokens`: tensor.dim of the tokens when T is dynamic, else nothing.
SmallVector<Value> dynamicTokenSizes(OpBuilder &b, Location loc, Value tokens) {
  if (!cast<RankedTensorType>(tokens.getType()).isDynamicDim(0))
    return {};
  return {tensor::DimOp::create(b, loc, tokens, 0)};
}

/// logits[t, e] = sum_d x[t, d] * Wr[e, d] (+ bias[e]), in f32.
Value buildRouterLogits(OpBuilder &b, Location loc, LayerOp op) {
  Value tokens = op.getTokens();
  int64_t numTokens = op.getTokens().getType().getDimSize(0);
  auto logitsType =
      RankedTensorType::get({numTokens, op.getNumExperts()}, b.getF32Type());
  Value empty = tensor::EmptyOp::create(b, loc, logitsType,
                                        dynamicTokenSizes(b, loc, tokens));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  Value logits = linalg::MatmulTransposeBOp::create(
                     b, loc, TypeRange{logitsType},
                     ValueRange{tokens, op.getRouterWeight()}, ValueRange{init})
                     .getResult(0);
  Value bias = op.getRouterBias();
  if (!bias)
    return logits;

  // logits[t, e] += bias[e]
  MLIRContext *ctx = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap perExpert = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  auto addBias = linalg::GenericOp::create(
      b, loc, TypeRange{logitsType}, ValueRange{bias}, ValueRange{logits},
      ArrayRef<AffineMap>{perExpert, identity},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::parallel},
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        Value sum = arith::AddFOp::create(nb, nloc, args[1], args[0]);
        linalg::YieldOp::create(nb, nloc, sum);
      });
  return addBias.getResult(0);
}

struct ExpandLayerPattern : public OpRewritePattern<LayerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value tokens = op.getTokens();
    auto tokensType = op.getTokens().getType();
    int64_t numTokens = tokensType.getDimSize(0);
    int64_t modelSize = tokensType.getDimSize(1);
    int64_t numExperts = op.getNumExperts();
    int64_t k = op.getRouter().getK();
    Type f32 = rewriter.getF32Type();
    Type i32 = rewriter.getI32Type();

    Value logits = buildRouterLogits(rewriter, loc, op);

    auto route =
        RouteOp::create(rewriter, loc,
                        TypeRange{RankedTensorType::get({numTokens, k}, f32),
                                  RankedTensorType::get({numTokens, k}, i32)},
                        logits, op.getSelectionBias(), op.getRouter());

    int64_t numRows =
        ShapedType::isDynamic(numTokens) ? ShapedType::kDynamic : numTokens * k;
    auto dispatch = DispatchOp::create(
        rewriter, loc,
        TypeRange{RankedTensorType::get({numRows, modelSize},
                                        tokensType.getElementType()),
                  RankedTensorType::get({numExperts + 1}, i32),
                  RankedTensorType::get({numTokens, k}, i32),
                  RankedTensorType::get({numRows}, i32),
                  RankedTensorType::get({}, rewriter.getI64Type())},
        tokens, route.getExpertIds(), rewriter.getI64IntegerAttr(numExperts),
        op.getCapacity());

    auto experts = ExpertsOp::create(
        rewriter, loc, dispatch.getDispatched().getType(),
        dispatch.getDispatched(), dispatch.getOffsets(), op.getGateWeight(),
        op.getUpWeight(), op.getDownWeight(), op.getActivation());

    auto combine = CombineOp::create(rewriter, loc, op.getOutput().getType(),
                                     experts.getOutput(), dispatch.getRows(),
                                     route.getWeights());

    SmallVector<Value> replacements = {combine.getOutput()};
    if (op.getDropped())
      replacements.push_back(dispatch.getDropped());
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

struct MoEExpandLayerPass
    : public moe::impl::MoEExpandLayerPassBase<MoEExpandLayerPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandLayerPatterns(patterns);
    // One rewrite per layer: no folding or region simplification, so the
    // output is exactly the layer's parts and nothing else moves.
    if (failed(applyPatternsGreedily(
            getOperation(), std::move(patterns),
            GreedyRewriteConfig()
                .enableFolding(false)
                .setRegionSimplificationLevel(
                    GreedySimplifyRegionLevel::Disabled))))
      signalPassFailure();
  }
};
} // namespace

void mlir::moe::populateExpandLayerPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpandLayerPattern>(patterns.getContext());
}
