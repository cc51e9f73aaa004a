//===- ExpertsToGroupedMatmul.cpp - moe.experts to grouped matmuls --------===//
//
// moe.experts becomes two moe.grouped_matmul products over its offsets:
//
//   h = grouped_matmul(x, [gate; up], offsets) {activation}   [R, F]
//   y = grouped_matmul(h, down, offsets)                      [R, D]
//
// with the fusions the options select: the activation in the first product's
// epilogue (gate and up as one [E, 2F, D] weight), the dispatch's gather in
// its loads (the tokens read through the dispatch's sources), and the
// combine's gate weights in the second product's epilogue (a per-row scale;
// the combine then sums with weights of one).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"
#include "moe-mlir/Dialect/MoE/Utils/Activation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEEXPERTSTOGROUPEDMATMULPASS
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct Fusions {
  bool activation, gather, scale;
};

/// The dynamic sizes of a tensor whose dimension 0 is that of `like`.
SmallVector<Value> dynamicRows(ImplicitLocOpBuilder &b, RankedTensorType type,
                               Value like) {
  if (!type.isDynamicDim(0))
    return {};
  return {tensor::DimOp::create(b, like, 0)};
}

/// A tensor of `type` (static shape) filled with `value`.
Value filled(ImplicitLocOpBuilder &b, RankedTensorType type, ValueRange sizes,
             double value) {
  Value empty = tensor::EmptyOp::create(b, type, sizes);
  Value scalar = arith::ConstantOp::create(
      b, b.getFloatAttr(type.getElementType(), value));
  return linalg::FillOp::create(b, scalar, empty).getResult(0);
}

/// [gate; up] along dimension 1 (N): [E, F, X] twice to [E, 2F, X], or
/// [E, F] twice to [E, 2F]. A missing half (a bias only one projection has)
/// is zeros; both missing gives null.
Value concatGateUp(ImplicitLocOpBuilder &b, Value gate, Value up) {
  if (!gate && !up)
    return Value();
  auto type = cast<RankedTensorType>((gate ? gate : up).getType());
  if (!gate)
    gate = filled(b, type, {}, 0.0);
  if (!up)
    up = filled(b, type, {}, 0.0);
  return tensor::ConcatOp::create(b, /*dim=*/1, ValueRange{gate, up});
}

/// The [R] per-row gate weights: row r, kept for assignment (t, j) with
/// t = sources[r] and rows[t, j] = r, gets weights[t, j]; a padding row
/// (sources[r] = -1) gets 0. A reduction over j that selects the one
/// matching assignment (no arithmetic on the weight: the scale is the
/// weight, bit for bit).
Value buildRowScale(ImplicitLocOpBuilder &b, Value sources, Value rows,
                    Value weights) {
  auto sourcesType = cast<RankedTensorType>(sources.getType());
  int64_t k = cast<RankedTensorType>(rows.getType()).getDimSize(1);
  auto scaleType =
      RankedTensorType::get(sourcesType.getShape(), b.getF32Type());
  Value init = filled(b, scaleType, dynamicRows(b, scaleType, sources), 0.0);
  // Iterate over (r, j): a [R, k] domain whose j extent comes from a [k]
  // dummy operand.
  MLIRContext *ctx = b.getContext();
  AffineMap perRow = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  AffineMap perChoice = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  Value choices = tensor::EmptyOp::create(
      b, RankedTensorType::get({k}, b.getI32Type()), ValueRange{});
  return linalg::GenericOp::create(
             b, TypeRange{scaleType}, ValueRange{sources, choices},
             ValueRange{init}, ArrayRef<AffineMap>{perRow, perChoice, perRow},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::reduction},
             [&](OpBuilder &nested, Location loc, ValueRange args) {
               ImplicitLocOpBuilder nb(loc, nested);
               Value source = args[0], acc = args[2];
               Value zero =
                   arith::ConstantIntOp::create(nb, nb.getI32Type(), 0);
               Value present = arith::CmpIOp::create(
                   nb, arith::CmpIPredicate::sge, source, zero);
               Value safe = arith::SelectOp::create(nb, present, source, zero);
               Value t =
                   arith::IndexCastOp::create(nb, nb.getIndexType(), safe);
               Value j = linalg::IndexOp::create(nb, 1);
               Value row =
                   tensor::ExtractOp::create(nb, rows, ValueRange{t, j});
               Value r = linalg::IndexOp::create(nb, 0);
               Value r32 = arith::IndexCastOp::create(nb, nb.getI32Type(), r);
               Value same = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq,
                                                  row, r32);
               Value match = arith::AndIOp::create(nb, present, same);
               Value weight =
                   tensor::ExtractOp::create(nb, weights, ValueRange{t, j});
               linalg::YieldOp::create(
                   nb, Value(arith::SelectOp::create(nb, match, weight, acc)));
             })
      .getResult(0);
}

/// h = act(g, u) (or act(u)) of two f32 [R, F] products, rounded to
/// `elementType`: the activation when it is not fused into the product.
Value buildActivationGeneric(ImplicitLocOpBuilder &b, ActivationAttr act,
                             Value gate, Value up, Type elementType) {
  auto upType = cast<RankedTensorType>(up.getType());
  auto hiddenType = RankedTensorType::get(upType.getShape(), elementType);
  Value init =
      tensor::EmptyOp::create(b, hiddenType, dynamicRows(b, hiddenType, up));
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
               if (!elementType.isF32())
                 h = arith::TruncFOp::create(nb, elementType, h);
               linalg::YieldOp::create(nb, h);
             })
      .getResult(0);
}

/// The combine whose gate weights the down projection can apply: the only
/// user of the experts' output, without identity, on the rows of a
/// dispatch that does not scale its rows; null otherwise.
std::pair<CombineOp, DispatchOp> scaleFusionTarget(ExpertsOp op) {
  if (!op.getOutput().hasOneUse())
    return {};
  auto combine = dyn_cast<CombineOp>(*op.getOutput().getUsers().begin());
  if (!combine || combine.getExpertOutput() != op.getOutput() ||
      combine.getIdentity())
    return {};
  auto dispatch = combine.getRows().getDefiningOp<DispatchOp>();
  if (!dispatch || dispatch.getScale())
    return {};
  // The per-row scale has the dispatch's R rows: they must be the experts'.
  int64_t rows = op.getOutput().getType().getDimSize(0);
  int64_t sources = dispatch.getSources().getType().getDimSize(0);
  if (rows != sources)
    return {};
  return {combine, dispatch};
}

struct ExpertsToGroupedMatmulPattern : public OpRewritePattern<ExpertsOp> {
  ExpertsToGroupedMatmulPattern(MLIRContext *ctx, Fusions fusions)
      : OpRewritePattern(ctx), fusions(fusions) {}

  LogicalResult matchAndRewrite(ExpertsOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value offsets = op.getOffsets();
    auto outputType = op.getOutput().getType();
    Type elementType = outputType.getElementType();
    Type f32 = b.getF32Type();
    int64_t numRows = outputType.getDimSize(0);
    int64_t hiddenSize = op.getUpWeight().getType().getDimSize(1);
    ActivationAttr act = op.getActivationAttr();
    bool gated = isGated(act.getKind());

    // The first product's rows: the dispatched buffer, or the tokens read
    // through the dispatch's sources.
    Value input = op.getInput(), gather;
    if (fusions.gather) {
      if (auto dispatch = input.getDefiningOp<DispatchOp>();
          dispatch && dispatch.getDispatched() == input &&
          !dispatch.getScale()) {
        input = dispatch.getTokens();
        gather = dispatch.getSources();
      }
    }

    Value hidden;
    auto hiddenType = RankedTensorType::get({numRows, hiddenSize}, elementType);
    if (fusions.activation) {
      Value weight = op.getUpWeight(), bias = op.getUpBias();
      if (gated) {
        weight = concatGateUp(b, op.getGateWeight(), op.getUpWeight());
        bias = concatGateUp(b, op.getGateBias(), op.getUpBias());
      }
      hidden = GroupedMatmulOp::create(b, hiddenType, input, weight, offsets,
                                       gather, bias, /*scale=*/Value(), act)
                   .getOutput();
    } else {
      // Each projection in f32, the activation as its own linalg.generic,
      // which rounds h as the fused epilogue does.
      auto accType = RankedTensorType::get({numRows, hiddenSize}, f32);
      Value gate;
      if (gated)
        gate = GroupedMatmulOp::create(b, accType, input, op.getGateWeight(),
                                       offsets, gather, op.getGateBias(),
                                       /*scale=*/Value(), ActivationAttr())
                   .getOutput();
      Value up = GroupedMatmulOp::create(b, accType, input, op.getUpWeight(),
                                         offsets, gather, op.getUpBias(),
                                         /*scale=*/Value(), ActivationAttr())
                     .getOutput();
      hidden = buildActivationGeneric(b, act, gate, up, elementType);
    }

    // The down projection, scaled by the gate weights when the combine's
    // multiplication can move into its epilogue. Only for f32: in bf16 and
    // f16 the expert's output rows are rounded before they are weighted.
    Value rowScale;
    CombineOp combine;
    if (fusions.scale && elementType.isF32()) {
      auto [target, dispatch] = scaleFusionTarget(op);
      if (target) {
        combine = target;
        rowScale = buildRowScale(b, dispatch.getSources(), dispatch.getRows(),
                                 combine.getWeights());
      }
    }
    Value output = GroupedMatmulOp::create(b, outputType, hidden,
                                           op.getDownWeight(), offsets,
                                           /*gather=*/Value(), op.getDownBias(),
                                           rowScale, ActivationAttr())
                       .getOutput();
    if (combine) {
      auto weightsType = combine.getWeights().getType();
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(combine);
      ImplicitLocOpBuilder cb(combine.getLoc(), rewriter);
      Value ones =
          filled(cb, weightsType,
                 dynamicRows(cb, weightsType, combine.getWeights()), 1.0);
      rewriter.modifyOpInPlace(
          combine, [&] { combine.getWeightsMutable().assign(ones); });
    }
    rewriter.replaceOp(op, output);
    return success();
  }

  Fusions fusions;
};

struct MoEExpertsToGroupedMatmulPass
    : public moe::impl::MoEExpertsToGroupedMatmulPassBase<
          MoEExpertsToGroupedMatmulPass> {
  using MoEExpertsToGroupedMatmulPassBase::MoEExpertsToGroupedMatmulPassBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpertsToGroupedMatmulPatterns(patterns, fuseActivation, fuseGather,
                                           fuseScale);
    // One rewrite per moe.experts, nothing folded: the output is the
    // products and the ops that feed them, in order.
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

void mlir::moe::populateExpertsToGroupedMatmulPatterns(
    RewritePatternSet &patterns, bool fuseActivation, bool fuseGather,
    bool fuseScale) {
  patterns.add<ExpertsToGroupedMatmulPattern>(
      patterns.getContext(), Fusions{fuseActivation, fuseGather, fuseScale});
}
