//===- RouteToLinalg.cpp - moe.route to scf loops of scalar code ----------===//
//
// Each token is routed by scalar passes over its E logits, in one loop over
// the tokens:
//   1. max and softmax denominator (softmax_topk only);
//   2. for group-limited routing, each group's score (into a [G] scratch
//      tensor reused by every token), then topk_groups passes that find the
//      last kept group (the one every kept group comes no later than);
//   3. k selection passes; pass j picks the best eligible expert that comes
//      after pass j-1's pick in the order (key descending, id ascending), so
//      no "already selected" mask is needed;
//   4. for topk_softmax, a softmax over the k picked logits; then one pass
//      that normalizes and scales the k weights.
// A token's k weights and ids are built in static [k] tensors and written
// into the [T, k] results with one tensor.insert_slice each. So the token
// loop is the only loop that carries a dynamically shaped tensor, and no
// scalar is inserted into a rank-2 tensor: IREE, which runs this host-level
// code in its VM, cannot compile the first and miscompiles the second
// (docs/IREE.md).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::detail;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// Emits the scalar code that routes one token. Every method builds at the
/// current insertion point of `b`.
class TokenRouter {
public:
  TokenRouter(ImplicitLocOpBuilder &b, RouterAttr router, Value logits,
              Value selectionBias, Value token, int64_t numExperts)
      : b(b), a{b}, router(router), logits(logits),
        selectionBias(selectionBias), token(token), numExperts(numExperts) {}

  /// The max logit and softmax denominator (softmax_topk only).
  void computeSoftmaxStatistics() {
    if (router.getScoring() != Scoring::softmax ||
        router.getOrder() != ScoreOrder::softmax_topk)
      return;
    // cmpf + select, not maxnumf (which IREE's VM cannot run); both ignore
    // a NaN logit since the accumulator starts at -inf.
    max = overExperts(a.f32(kNegInf), [&](Value e, Value acc) -> Value {
      return maxIgnoringNaN(b, acc, logit(e));
    });
    sumExp = overExperts(a.f32(0.0), [&](Value e, Value acc) -> Value {
      Value shifted = shiftedByMax(logit(e), max);
      return a.add(acc, math::ExpOp::create(b, shifted));
    });
  }

  /// For group-limited routing: every group's score into `scores` (a [G]
  /// tensor reused across tokens), then the last kept group (score and id).
  Value computeGroups(Value scores) {
    if (router.getGroups() <= 1)
      return scores;
    groupScores =
        buildFor(b, router.getGroups(), ValueRange{scores},
                 [&](Value g, ValueRange iter) -> SmallVector<Value> {
                   return {tensor::InsertOp::create(b, groupScore(g), iter[0],
                                                    ValueRange{g})
                               .getResult()};
                 })[0];
    SmallVector<Value> last = buildFor(
        b, router.getTopkGroups(), ValueRange{a.f32(kNegInf), a.index(-1)},
        [&](Value, ValueRange prev) -> SmallVector<Value> {
          auto [key, id] = selectNext(
              prev[0], prev[1], router.getGroups(),
              [&](Value g) {
                return tensor::ExtractOp::create(b, groupScores, ValueRange{g})
                    .getResult();
              },
              nullptr);
          return {key, id};
        });
    thresholdKey = last[0];
    thresholdId = last[1];
    return groupScores;
  }

  /// Selects the k experts: returns their weights and ids as static [k]
  /// tensors (f32 and `idType`), slot j = 0 first.
  std::pair<Value, Value> select(Type idType) {
    int64_t k = router.getK();
    bool topkSoftmax = router.getScoring() == Scoring::softmax &&
                       router.getOrder() == ScoreOrder::topk_softmax;
    Value weights = tensor::EmptyOp::create(
        b, RankedTensorType::get({k}, b.getF32Type()), ValueRange{});
    Value ids = tensor::EmptyOp::create(b, RankedTensorType::get({k}, idType),
                                        ValueRange{});
    // iter_args: weights, ids, previous pick (key, id), the sum of the
    // weights, and the largest picked logit. For topk_softmax the weights
    // hold the picked logits until the softmax below.
    SmallVector<Value> picked =
        buildFor(b, k,
                 ValueRange{weights, ids, a.f32(kNegInf), a.index(-1),
                            a.f32(0.0), a.f32(kNegInf)},
                 [&](Value j, ValueRange iter) -> SmallVector<Value> {
                   auto [key, expert] = selectNext(
                       iter[2], iter[3], numExperts,
                       [&](Value e) { return selectionKey(e); },
                       [&](Value e) { return expertEligible(e); });
                   Value weight = topkSoftmax ? logit(expert) : score(expert);
                   Value newWeights = tensor::InsertOp::create(
                       b, weight, iter[0], ValueRange{j});
                   Value id = arith::IndexCastOp::create(b, idType, expert);
                   Value newIds =
                       tensor::InsertOp::create(b, id, iter[1], ValueRange{j});
                   Value maxLogit = maxIgnoringNaN(b, iter[5], weight);
                   Value sum = a.add(iter[4], weight);
                   return {newWeights, newIds, key, expert, sum, maxLogit};
                 });
    weights = picked[0];
    ids = picked[1];
    Value sum = picked[4];

    if (topkSoftmax) {
      // w_j = exp(z_j - max picked z); the max (not the first pick's logit,
      // which a selection bias may make smaller) keeps exp from overflowing.
      Value maxLogit = picked[5];
      SmallVector<Value> exps =
          buildFor(b, k, ValueRange{weights, a.f32(0.0)},
                   [&](Value j, ValueRange iter) -> SmallVector<Value> {
                     Value z =
                         tensor::ExtractOp::create(b, iter[0], ValueRange{j});
                     Value shifted = shiftedByMax(z, maxLogit);
                     Value w = math::ExpOp::create(b, shifted);
                     Value newWeights =
                         tensor::InsertOp::create(b, w, iter[0], ValueRange{j});
                     return {newWeights, a.add(iter[1], w)};
                   });
      weights = exps[0];
      sum = exps[1];
    }

    bool normalize = topkSoftmax || router.getRenormalize();
    double scale = router.getScaleValue();
    if (!normalize && scale == 1.0)
      return {weights, ids};
    // w = w / sum * scale (normalizing), or w * scale.
    weights = buildFor(
        b, k, ValueRange{weights},
        [&](Value j, ValueRange iter) -> SmallVector<Value> {
          Value w = tensor::ExtractOp::create(b, iter[0], ValueRange{j});
          if (normalize)
            w = a.div(w, sum);
          if (scale != 1.0)
            w = a.mul(w, a.f32(scale));
          return {tensor::InsertOp::create(b, w, iter[0], ValueRange{j})
                      .getResult()};
        })[0];
    return {weights, ids};
  }

private:
  Value logit(Value e) {
    return tensor::ExtractOp::create(b, logits, ValueRange{token, e});
  }

  /// The score of expert e: what its gate weight is made from.
  Value score(Value e) {
    Value z = logit(e);
    if (router.getScoring() == Scoring::sigmoid) {
      Value one = a.f32(1.0);
      Value negExp = math::ExpOp::create(b, a.sub(a.f32(0.0), z));
      return a.div(one, a.add(one, negExp));
    }
    if (router.getOrder() == ScoreOrder::topk_softmax)
      return z;
    Value shifted = shiftedByMax(z, max);
    return a.div(math::ExpOp::create(b, shifted), sumExp);
  }

  /// z - max for a softmax, or 0 where z is the max: an infinite max then
  /// gives the infinite logits equal shares (+inf) or all logits equal
  /// shares (every logit -inf), never inf - inf = NaN.
  Value shiftedByMax(Value z, Value max) {
    Value atMax = a.cmpf(CmpFPredicate::OEQ, z, max);
    Value zero = a.f32(0.0);
    Value difference = a.sub(z, max);
    return a.select(atMax, zero, difference);
  }

  /// The key expert e is selected by: its score plus the selection bias, with
  /// NaN read as -inf so that NaN never wins against a number.
  Value selectionKey(Value e) {
    // softmax and sigmoid are monotonic: without a bias or groups, select
    // on the logits themselves, which f32 underflow or saturation cannot
    // turn into ties.
    if (!selectionBias && router.getGroups() == 1)
      return withoutNaN(logit(e));
    Value key = score(e);
    if (selectionBias)
      key = a.add(key,
                  tensor::ExtractOp::create(b, selectionBias, ValueRange{e}));
    return withoutNaN(key);
  }

  Value withoutNaN(Value x) {
    Value isNaN = a.cmpf(CmpFPredicate::UNO, x, x);
    return a.select(isNaN, a.f32(kNegInf), x);
  }

  /// A group's score: its best key, or the sum of its two best.
  Value groupScore(Value g) {
    int64_t perGroup = numExperts / router.getGroups();
    Value first = a.mul(g, a.index(perGroup));
    SmallVector<Value> best =
        buildFor(b, perGroup, ValueRange{a.f32(kNegInf), a.f32(kNegInf)},
                 [&](Value i, ValueRange top) -> SmallVector<Value> {
                   Value key = selectionKey(a.add(first, i));
                   Value beatsBest = a.cmpf(CmpFPredicate::OGT, key, top[0]);
                   Value beatsSecond = a.cmpf(CmpFPredicate::OGT, key, top[1]);
                   return {a.select(beatsBest, key, top[0]),
                           a.select(beatsBest, top[0],
                                    a.select(beatsSecond, key, top[1]))};
                 });
    if (router.getGroupScore() == GroupScore::max)
      return best[0];
    return withoutNaN(a.add(best[0], best[1]));
  }

  /// Whether expert e's group is among the kept groups (null: no groups).
  Value expertEligible(Value e) {
    if (router.getGroups() <= 1)
      return nullptr;
    int64_t perGroup = numExperts / router.getGroups();
    Value g = arith::DivUIOp::create(b, e, a.index(perGroup));
    Value key = tensor::ExtractOp::create(b, groupScores, ValueRange{g});
    Value better = a.cmpf(CmpFPredicate::OGT, key, thresholdKey);
    Value sameKey = a.cmpf(CmpFPredicate::OEQ, key, thresholdKey);
    Value notAfter = a.cmpi(CmpIPredicate::sle, g, thresholdId);
    Value tie = a.andI(sameKey, notAfter);
    return a.orI(better, tie);
  }

  /// (key, id) comes strictly after (prevKey, prevId) in the selection
  /// order; prevId < 0 means there is no previous pick.
  Value comesAfter(Value key, Value id, Value prevKey, Value prevId) {
    Value first = a.cmpi(CmpIPredicate::slt, prevId, a.index(0));
    Value worse = a.cmpf(CmpFPredicate::OLT, key, prevKey);
    Value sameKey = a.cmpf(CmpFPredicate::OEQ, key, prevKey);
    Value laterId = a.cmpi(CmpIPredicate::sgt, id, prevId);
    Value tie = a.andI(sameKey, laterId);
    return a.orI(first, a.orI(worse, tie));
  }

  /// One selection pass over `count` candidates: the best eligible candidate
  /// that comes after (prevKey, prevId). Returns its (key, id).
  std::pair<Value, Value>
  selectNext(Value prevKey, Value prevId, int64_t count,
             llvm::function_ref<Value(Value)> keyOf,
             llvm::function_ref<Value(Value)> eligibleOf) {
    SmallVector<Value> best = buildFor(
        b, count, ValueRange{a.f32(kNegInf), a.index(-1)},
        [&](Value c, ValueRange top) -> SmallVector<Value> {
          Value key = keyOf(c);
          Value candidate = comesAfter(key, c, prevKey, prevId);
          if (eligibleOf)
            if (Value eligible = eligibleOf(c))
              candidate = a.andI(candidate, eligible);
          // Scanning ids upwards with a strict comparison keeps ties with
          // the lower id.
          Value none = a.cmpi(CmpIPredicate::slt, top[1], a.index(0));
          Value better = a.cmpf(CmpFPredicate::OGT, key, top[0]);
          Value take = a.andI(candidate, a.orI(none, better));
          return {a.select(take, key, top[0]), a.select(take, c, top[1])};
        });
    return {best[0], best[1]};
  }

  /// acc = combine(e, acc) for e = 0 .. E-1.
  Value overExperts(Value init,
                    llvm::function_ref<Value(Value, Value)> combine) {
    return buildFor(b, numExperts, ValueRange{init},
                    [&](Value e, ValueRange acc) -> SmallVector<Value> {
                      return {combine(e, acc[0])};
                    })[0];
  }

  ImplicitLocOpBuilder &b;
  Arith a;
  RouterAttr router;
  Value logits, selectionBias, token;
  int64_t numExperts;
  Value max, sumExp;
  Value groupScores, thresholdKey, thresholdId;
};

} // namespace

std::pair<Value, Value> mlir::moe::detail::buildRouteRows(
    ImplicitLocOpBuilder &b, RouterAttr router, Value logits, Value numRows,
    Value selectionBias, Value weights, Value ids) {
  int64_t numExperts = cast<RankedTensorType>(logits.getType()).getDimSize(1);

  // Group-limited routing threads a [G] scratch tensor for the group
  // scores through the token loop, reused by every token.
  int64_t groups = router.getGroups();
  SmallVector<Value> iterArgs = {weights, ids};
  if (groups > 1)
    iterArgs.push_back(tensor::EmptyOp::create(
        b, RankedTensorType::get({groups}, b.getF32Type()), ValueRange{}));

  int64_t k = router.getK();
  Type idType = cast<RankedTensorType>(ids.getType()).getElementType();
  SmallVector<Value> results =
      buildFor(b, numRows, iterArgs,
               [&](Value token, ValueRange iter) -> SmallVector<Value> {
                 TokenRouter tokenRouter(b, router, logits, selectionBias,
                                         token, numExperts);
                 tokenRouter.computeSoftmaxStatistics();
                 SmallVector<Value> next;
                 if (groups > 1)
                   next.push_back(tokenRouter.computeGroups(iter[2]));
                 auto [rowWeights, rowIds] = tokenRouter.select(idType);
                 // Row `token` of each result: one rank-reducing insert_slice.
                 SmallVector<OpFoldResult> offsets = {token, b.getIndexAttr(0)};
                 SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                                    b.getIndexAttr(k)};
                 SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
                 Value newWeights = tensor::InsertSliceOp::create(
                     b, rowWeights, iter[0], offsets, sizes, strides);
                 Value newIds = tensor::InsertSliceOp::create(
                     b, rowIds, iter[1], offsets, sizes, strides);
                 next.insert(next.begin(), {newWeights, newIds});
                 return next;
               });
  return {results[0], results[1]};
}

namespace {

struct RouteOpLowering : public OpConversionPattern<RouteOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RouteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value logits = adaptor.getLogits();
    auto weightsType = cast<RankedTensorType>(op.getWeights().getType());
    auto idsType = cast<RankedTensorType>(op.getExpertIds().getType());
    Value numTokens = dimSize(b, logits, 0);
    SmallVector<Value> sizes = {numTokens, a.index(op.getRouter().getK())};
    Value weights = tensor::EmptyOp::create(b, weightsType,
                                            dynamicSizesOf(weightsType, sizes));
    Value ids =
        tensor::EmptyOp::create(b, idsType, dynamicSizesOf(idsType, sizes));
    auto [routedWeights, routedIds] =
        buildRouteRows(b, op.getRouter(), logits, numTokens,
                       adaptor.getSelectionBias(), weights, ids);
    rewriter.replaceOp(op, ValueRange{routedWeights, routedIds});
    return success();
  }
};

/// moe.router_statistics: one loop over the T * k ids for the counts, one
/// over the tokens for the softmax sums and the z-loss (per token: the max,
/// the log-sum-exp, then each expert's probability), then the two losses
/// from the sums.
struct RouterStatisticsOpLowering
    : public OpConversionPattern<RouterStatisticsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RouterStatisticsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value logits = adaptor.getLogits();
    Value ids = adaptor.getExpertIds();
    int64_t numExperts = cast<RankedTensorType>(logits.getType()).getDimSize(1);
    Value numTokens = dimSize(b, logits, 0);
    Value k = dimSize(b, ids, 1);
    Type i64 = b.getI64Type(), f32 = b.getF32Type();

    // Counts; an id outside [0, E) is not counted.
    Value zeroCounts =
        filledTensor(b, RankedTensorType::get({numExperts}, i64), {}, a.i64(0));
    Value numAssignments = a.mul(numTokens, k);
    Value counts = buildFor(
        b, numAssignments, ValueRange{zeroCounts},
        [&](Value i, ValueRange iter) -> SmallVector<Value> {
          Value t = arith::DivUIOp::create(b, i, k);
          Value j = arith::RemUIOp::create(b, i, k);
          Value e = tensor::ExtractOp::create(b, ids, ValueRange{t, j});
          Value zero = a.i32(0);
          Value nonNegative = a.cmpi(CmpIPredicate::sge, e, zero);
          Value belowE = a.cmpi(CmpIPredicate::slt, e, a.i32(numExperts));
          Value valid = a.andI(nonNegative, belowE);
          Value slot = a.toIndex(a.select(valid, e, zero));
          Value count = tensor::ExtractOp::create(b, iter[0], ValueRange{slot});
          Value one = a.i64(1);
          Value next = a.select(valid, a.add(count, one), count);
          return {tensor::InsertOp::create(b, next, iter[0], ValueRange{slot})
                      .getResult()};
        })[0];

    // Per-expert sums of the softmax probabilities, and the sum of the
    // squared log-sum-exps.
    Value zeroSums = filledTensor(b, RankedTensorType::get({numExperts}, f32),
                                  {}, a.f32(0.0));
    SmallVector<Value> sums = buildFor(
        b, numTokens, ValueRange{zeroSums, a.f32(0.0)},
        [&](Value t, ValueRange iter) -> SmallVector<Value> {
          auto logit = [&](Value e) -> Value {
            return tensor::ExtractOp::create(b, logits, ValueRange{t, e});
          };
          Value max =
              buildFor(b, numExperts, ValueRange{a.f32(kNegInf)},
                       [&](Value e, ValueRange acc) -> SmallVector<Value> {
                         return {maxIgnoringNaN(b, acc[0], logit(e))};
                       })[0];
          Value sumExp = buildFor(
              b, numExperts, ValueRange{a.f32(0.0)},
              [&](Value e, ValueRange acc) -> SmallVector<Value> {
                Value shifted = a.sub(logit(e), max);
                return {a.add(acc[0], math::ExpOp::create(b, shifted))};
              })[0];
          Value logSumExp = a.add(max, math::LogOp::create(b, sumExp));
          Value squared = a.mul(logSumExp, logSumExp);
          Value zSum = a.add(iter[1], squared);
          Value probabilities = buildFor(
              b, numExperts, ValueRange{iter[0]},
              [&](Value e, ValueRange acc) -> SmallVector<Value> {
                Value shifted = a.sub(logit(e), logSumExp);
                Value p = math::ExpOp::create(b, shifted);
                Value old = tensor::ExtractOp::create(b, acc[0], ValueRange{e});
                Value sum = a.add(old, p);
                return {tensor::InsertOp::create(b, sum, acc[0], ValueRange{e})
                            .getResult()};
              })[0];
          return {probabilities, zSum};
        });

    // aux = E * sum_e (count_e / T) * (P_e / T); z = zSum / T; 0 when T = 0.
    Value tokensI64 = arith::IndexCastUIOp::create(b, i64, numTokens);
    Value tokensF32 = arith::UIToFPOp::create(b, f32, tokensI64);
    Value auxSum = buildFor(
        b, numExperts, ValueRange{a.f32(0.0)},
        [&](Value e, ValueRange acc) -> SmallVector<Value> {
          Value count = tensor::ExtractOp::create(b, counts, ValueRange{e});
          Value countF32 = arith::SIToFPOp::create(b, f32, count);
          Value p = tensor::ExtractOp::create(b, sums[0], ValueRange{e});
          Value fraction = a.div(countF32, tokensF32);
          Value meanP = a.div(p, tokensF32);
          return {a.add(acc[0], a.mul(fraction, meanP))};
        })[0];
    Value hasTokens = a.cmpi(CmpIPredicate::ugt, numTokens, a.index(0));
    Value aux = a.mul(a.f32(double(numExperts)), auxSum);
    aux = a.select(hasTokens, aux, a.f32(0.0));
    Value z = a.div(sums[1], tokensF32);
    z = a.select(hasTokens, z, a.f32(0.0));
    auto scalarType = RankedTensorType::get({}, f32);
    Value auxTensor =
        tensor::FromElementsOp::create(b, scalarType, ValueRange{aux});
    Value zTensor =
        tensor::FromElementsOp::create(b, scalarType, ValueRange{z});
    rewriter.replaceOp(op, ValueRange{counts, auxTensor, zTensor});
    return success();
  }
};
} // namespace

void mlir::moe::detail::populateRoutePatterns(RewritePatternSet &patterns) {
  patterns.add<RouteOpLowering, RouterStatisticsOpLowering>(
      patterns.getContext());
}
