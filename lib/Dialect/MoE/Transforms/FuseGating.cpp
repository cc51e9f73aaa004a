//===- FuseGating.cpp - Router matmul and moe.route into moe.gate ---------===//
//
// Matches what moe-expand-layer emits for the router:
//
//   %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<TxExf32>)
//   %mm = linalg.matmul indexing_maps = [(t, e, d) -> (t, d),
//                                        (t, e, d) -> (e, d),
//                                        (t, e, d) -> (t, e)]
//           ins(%x, %wr) outs(%init)
//   %logits = linalg.generic {(t, e) -> (e), (t, e) -> (t, e)}
//               ins(%bias) outs(%mm) { addf }          (optional)
//   %w, %ids = moe.route %logits ...
//
// and replaces it by one moe.gate when every intermediate value has the next
// op as its only user.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEFUSEGATINGPASS
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The bias [E] of a linalg.generic that computes out[t, e] + bias[e] over
/// a [T, E] f32 tensor (in place of its init), or null.
Value matchRouterBias(linalg::GenericOp generic) {
  if (generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
      generic.getNumLoops() != 2 || generic.getNumReductionLoops() != 0)
    return Value();
  MLIRContext *ctx = generic.getContext();
  AffineMap perExpert = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (maps[0] != perExpert || !maps[1].isIdentity())
    return Value();
  Value bias = generic.getDpsInputs()[0];
  auto biasType = dyn_cast<RankedTensorType>(bias.getType());
  if (!biasType || biasType.getRank() != 1 ||
      !biasType.getElementType().isF32())
    return Value();
  // The body: yield (addf of the two arguments).
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return Value();
  auto add = dyn_cast<arith::AddFOp>(body.front());
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!add || !yield || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != add.getResult() ||
      add.getFastmath() != arith::FastMathFlags::none)
    return Value();
  Value in = body.getArgument(0), out = body.getArgument(1);
  if (!((add.getLhs() == out && add.getRhs() == in) ||
        (add.getLhs() == in && add.getRhs() == out)))
    return Value();
  return bias;
}

/// Whether `value` is a linalg.fill of +0.0.
bool isZeroFilled(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.value(), m_PosZeroFloat());
}

struct FuseGatingPattern : public OpRewritePattern<RouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouteOp route,
                                PatternRewriter &rewriter) const override {
    Value logits = route.getLogits();
    // Router statistics (or anything else) reading the logits need them
    // whole: nothing to fuse.
    if (!logits.hasOneUse())
      return rewriter.notifyMatchFailure(route, "the logits have other users");

    Value product = logits, bias;
    auto biasAdd = logits.getDefiningOp<linalg::GenericOp>();
    if (biasAdd) {
      bias = matchRouterBias(biasAdd);
      if (!bias)
        return rewriter.notifyMatchFailure(route, "not a router bias add");
      product = biasAdd.getDpsInits()[0];
      if (!product.hasOneUse())
        return rewriter.notifyMatchFailure(
            route, "the router product has other users");
    }

    auto matmul = product.getDefiningOp<linalg::MatmulOp>();
    if (!matmul || !isa<linalg::MatmulTransposeBOp>(matmul.getOperation()) ||
        matmul.getCast() != linalg::TypeFn::cast_signed ||
        !matmul.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(
          route, "the logits are not a matmul with transposed weights");
    if (!isZeroFilled(matmul.getDpsInits()[0]))
      return rewriter.notifyMatchFailure(
          route, "the router product does not start from zeros");

    // The operands must be what moe.gate takes: tokens [T, D] and a router
    // weight [E, D] of one element type (f32, bf16 or f16).
    Value tokens = matmul.getDpsInputs()[0];
    Value weight = matmul.getDpsInputs()[1];
    auto tokensType = cast<RankedTensorType>(tokens.getType());
    auto weightType = cast<RankedTensorType>(weight.getType());
    Type elementType = tokensType.getElementType();
    if (weightType.getElementType() != elementType ||
        !isa<Float32Type, BFloat16Type, Float16Type>(elementType) ||
        !weightType.hasStaticShape() || tokensType.isDynamicDim(1))
      return rewriter.notifyMatchFailure(route, "unsupported router operands");

    auto gate = GateOp::create(rewriter, route.getLoc(), route.getResultTypes(),
                               tokens, weight, bias, route.getSelectionBias(),
                               route.getRouterAttr());
    rewriter.replaceOp(route, gate.getResults());
    if (biasAdd)
      rewriter.eraseOp(biasAdd);
    Operation *fill = matmul.getDpsInits()[0].getDefiningOp();
    rewriter.eraseOp(matmul);
    if (fill->use_empty())
      rewriter.eraseOp(fill);
    return success();
  }
};

struct MoEFuseGatingPass
    : public moe::impl::MoEFuseGatingPassBase<MoEFuseGatingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseGatingPatterns(patterns);
    // No folding or region simplification: only the fused ops change (the
    // dead tensor.empty and tensor.dim of the logits go too).
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

void mlir::moe::populateFuseGatingPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseGatingPattern>(patterns.getContext());
}
