//===- ExpandLayer.cpp - Split moe.layer into its level-1 parts -----------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

/// A [T, k] f32 tensor of ones: the combine weights when the gate weights
/// were already applied to the expert inputs.
Value buildOnes(OpBuilder &b, Location loc, Value tokens, int64_t k) {
  int64_t numTokens = cast<RankedTensorType>(tokens.getType()).getDimSize(0);
  auto type = RankedTensorType::get({numTokens, k}, b.getF32Type());
  Value empty =
      tensor::EmptyOp::create(b, loc, type, dynamicTokenSizes(b, loc, tokens));
  Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));
  return linalg::FillOp::create(b, loc, one, empty).getResult(0);
}

/// A [S, D] (or [D, S]) shared weight as the stacked [1, S, D] weight of a
/// single expert.
Value asSingleExpert(OpBuilder &b, Location loc, Value weight) {
  if (!weight)
    return weight;
  auto type = cast<RankedTensorType>(weight.getType());
  auto stacked = RankedTensorType::get(
      {1, type.getDimSize(0), type.getDimSize(1)}, type.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, stacked, weight, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
}

/// The shared experts' output [T, D]: the FFN of every token, as a
/// moe.experts of one expert whose segment is all T rows.
Value buildSharedExperts(OpBuilder &b, Location loc, LayerOp op) {
  Value tokens = op.getTokens();
  Type i32 = b.getI32Type();
  Value zero = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value numTokens = tensor::DimOp::create(b, loc, tokens, 0);
  Value end = arith::IndexCastOp::create(b, loc, i32, numTokens);
  Value offsets = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({2}, i32), ValueRange{zero, end});
  Value gate = asSingleExpert(b, loc, op.getSharedGate());
  Value up = asSingleExpert(b, loc, op.getSharedUp());
  Value down = asSingleExpert(b, loc, op.getSharedDown());
  return ExpertsOp::create(b, loc, tokens.getType(), tokens, offsets, gate,
                           /*gate_bias=*/Value(), up, /*up_bias=*/Value(), down,
                           /*down_bias=*/Value(), op.getActivationAttr())
      .getOutput();
}

/// routed + shared, or routed + sigmoid(x . g) * shared with a shared
/// sigmoid gate g [1, D]; computed in f32, rounded to the tokens' type.
Value addSharedExperts(OpBuilder &b, Location loc, LayerOp op, Value routed,
                       Value shared) {
  auto type = cast<RankedTensorType>(routed.getType());
  Type elementType = type.getElementType();
  MLIRContext *ctx = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  SmallVector<Value> inputs = {routed, shared};
  SmallVector<AffineMap> maps = {identity, identity};
  if (Value gate = op.getSharedSigmoidGate()) {
    Value tokens = op.getTokens();
    auto logitType =
        RankedTensorType::get({type.getDimSize(0), 1}, b.getF32Type());
    Value empty = tensor::EmptyOp::create(b, loc, logitType,
                                          dynamicTokenSizes(b, loc, tokens));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
    Value logits = linalg::MatmulTransposeBOp::create(
                       b, loc, TypeRange{logitType}, ValueRange{tokens, gate},
                       ValueRange{init})
                       .getResult(0);
    inputs.push_back(logits);
    maps.push_back(AffineMap::get(
        2, 0, {b.getAffineDimExpr(0), b.getAffineConstantExpr(0)}, ctx));
  }
  maps.push_back(identity);
  Value init =
      tensor::EmptyOp::create(b, loc, type, dynamicTokenSizes(b, loc, routed));
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{init}, maps,
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Type f32 = nb.getF32Type();
               auto toF32 = [&](Value v) -> Value {
                 return v.getType() == f32
                            ? v
                            : arith::ExtFOp::create(nb, nloc, f32, v);
               };
               Value r = toF32(args[0]);
               Value s = toF32(args[1]);
               if (inputs.size() == 3) {
                 // sigmoid(z) = 1 / (1 + exp(-z))
                 Value one = arith::ConstantOp::create(
                     nb, nloc, nb.getF32FloatAttr(1.0f));
                 Value negZ = arith::NegFOp::create(nb, nloc, args[2]);
                 Value expNegZ = math::ExpOp::create(nb, nloc, negZ);
                 Value denominator =
                     arith::AddFOp::create(nb, nloc, one, expNegZ);
                 Value sigmoid =
                     arith::DivFOp::create(nb, nloc, one, denominator);
                 s = arith::MulFOp::create(nb, nloc, sigmoid, s);
               }
               Value sum = arith::AddFOp::create(nb, nloc, r, s);
               if (elementType != f32)
                 sum = arith::TruncFOp::create(nb, nloc, elementType, sum);
               linalg::YieldOp::create(nb, nloc, sum);
             })
      .getResult(0);
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

    // Expert choice is a token-choice route of all E experts (every token
    // scores every expert) and a dispatch whose probability policy keeps
    // each expert's C = ceil(k T / E) best tokens: capacity factor k / E
    // over T * E assignments.
    RouterAttr router = op.getRouter();
    CapacityAttr capacity = op.getCapacity();
    if (router.getChoice() == Choice::expert) {
      capacity =
          CapacityAttr::get(getContext(), CapacityKind::factor, 0,
                            APFloat(double(k) / double(numExperts)),
                            DropPolicy::probability, DroppedOutput::zero);
      k = numExperts;
      router = RouterAttr::get(getContext(), k, router.getScoring(),
                               router.getOrder(), router.getRenormalize(),
                               router.getScale(), router.getGroups(),
                               router.getTopkGroups(), router.getGroupScore(),
                               router.getWeightsOn(), Choice::token);
    }

    auto route =
        RouteOp::create(rewriter, loc,
                        TypeRange{RankedTensorType::get({numTokens, k}, f32),
                                  RankedTensorType::get({numTokens, k}, i32)},
                        logits, op.getSelectionBias(), router);

    int64_t numRows =
        ShapedType::isDynamic(numTokens) ? ShapedType::kDynamic : numTokens * k;
    // Llama-4 scales each expert's input by its gate weight; the combine
    // then sums the k outputs unweighted.
    bool weightsOnInput = op.getRouter().getWeightsOn() == WeightsOn::input;
    Value inputScale = weightsOnInput ? route.getWeights() : Value();
    auto dispatch = DispatchOp::create(
        rewriter, loc,
        TypeRange{RankedTensorType::get({numRows, modelSize},
                                        tokensType.getElementType()),
                  RankedTensorType::get({numExperts + 1}, i32),
                  RankedTensorType::get({numTokens, k}, i32),
                  RankedTensorType::get({numRows}, i32),
                  RankedTensorType::get({}, rewriter.getI64Type())},
        tokens, route.getExpertIds(),
        capacity.getDrop() == DropPolicy::probability && !capacity.isDropless()
            ? route.getWeights()
            : Value(),
        inputScale, rewriter.getI64IntegerAttr(numExperts), capacity);

    auto experts = ExpertsOp::create(
        rewriter, loc, dispatch.getDispatched().getType(),
        dispatch.getDispatched(), dispatch.getOffsets(), op.getGateWeight(),
        op.getGateBias(), op.getUpWeight(), op.getUpBias(), op.getDownWeight(),
        op.getDownBias(), op.getActivationAttr());

    Value combineWeights = weightsOnInput ? buildOnes(rewriter, loc, tokens, k)
                                          : route.getWeights();
    Value identity = op.getCapacity().getDropped() == DroppedOutput::identity
                         ? tokens
                         : Value();
    Value output = CombineOp::create(rewriter, loc, op.getOutput().getType(),
                                     experts.getOutput(), dispatch.getRows(),
                                     combineWeights, identity)
                       .getOutput();
    if (op.hasSharedExperts()) {
      Value shared = buildSharedExperts(rewriter, loc, op);
      output = addSharedExperts(rewriter, loc, op, output, shared);
    }

    SmallVector<Value> replacements = {output};
    if (op.getDropped())
      replacements.push_back(dispatch.getDropped());
    if (op.hasStatistics()) {
      auto statistics = RouterStatisticsOp::create(
          rewriter, loc,
          TypeRange{op.getExpertCounts().getType(), op.getAuxLoss().getType(),
                    op.getZLoss().getType()},
          logits, route.getExpertIds());
      llvm::append_range(replacements, statistics->getResults());
    }
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
