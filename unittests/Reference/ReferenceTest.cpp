//===- ReferenceTest.cpp - Tests of the independent MoE reference ---------===//
//
// Hand-computed cases for each rule of docs/Semantics.md, and a property test
// that checks the whole layer against a naive per-token computation.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Reference/MoEReference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

using namespace moe::ref;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

double sigmoidOf(double x) { return 1.0 / (1.0 + std::exp(-x)); }

RouterConfig makeRouter(int64_t k, Scoring scoring = Scoring::Softmax,
                        ScoreOrder order = ScoreOrder::SoftmaxTopK) {
  RouterConfig r;
  r.k = k;
  r.scoring = scoring;
  r.order = order;
  return r;
}

LayerConfig makeConfig(int64_t D, int64_t F, int64_t E, int64_t k) {
  LayerConfig c;
  c.D = D;
  c.F = F;
  c.E = E;
  c.router.k = k;
  return c;
}

/// Logits whose softmax over four experts is {3, 1, 4, 2} / 10.
std::vector<float> tenthsLogits() {
  return {float(std::log(3.0)), float(std::log(1.0)), float(std::log(4.0)),
          float(std::log(2.0))};
}

//===----------------------------------------------------------------------===//
// Router
//===----------------------------------------------------------------------===//

TEST(Route, SoftmaxThenTopK) {
  std::vector<float> z = tenthsLogits();
  RouteResult r = route(makeRouter(2), z.data(), nullptr, 1, 4);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{2, 0}));
  EXPECT_NEAR(r.weights[0], 0.4, 1e-6);
  EXPECT_NEAR(r.weights[1], 0.3, 1e-6);
}

TEST(Route, SoftmaxIsStableForLargeLogits) {
  // Shifting every logit by a huge constant must not change the softmax.
  std::vector<float> z = {1000.0f, 1001.0f, 999.0f};
  RouteResult r = route(makeRouter(1), z.data(), nullptr, 1, 3);
  double s = 1.0 + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_EQ(r.ids[0], 1);
  EXPECT_NEAR(r.weights[0], 1.0 / s, 1e-6);
}

TEST(Route, TopKThenSoftmax) {
  std::vector<float> z = tenthsLogits();
  RouteResult r =
      route(makeRouter(2, Scoring::Softmax, ScoreOrder::TopKSoftmax), z.data(),
            nullptr, 1, 4);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{2, 0}));
  EXPECT_NEAR(r.weights[0], 4.0 / 7.0, 1e-6);
  EXPECT_NEAR(r.weights[1], 3.0 / 7.0, 1e-6);
}

TEST(Route, SeveralTokens) {
  // Two tokens routed independently: the second is the first reversed.
  std::vector<float> z = tenthsLogits();
  std::vector<float> both = z;
  both.insert(both.end(), z.rbegin(), z.rend());
  RouteResult r = route(makeRouter(2), both.data(), nullptr, 2, 4);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{2, 0, 1, 3}));
  EXPECT_NEAR(r.weights[2], 0.4, 1e-6);
  EXPECT_NEAR(r.weights[3], 0.3, 1e-6);
}

TEST(Route, SigmoidSelectionBiasMovesChoiceNotWeight) {
  std::vector<float> z = {0.0f, 1.0f, -1.0f, 2.0f};
  RouterConfig cfg = makeRouter(1, Scoring::Sigmoid);

  RouteResult plain = route(cfg, z.data(), nullptr, 1, 4);
  EXPECT_EQ(plain.ids[0], 3);
  EXPECT_NEAR(plain.weights[0], 0.8807970779778823, 1e-6);

  // Keys become {0.5, 0.731, 1.269, 0.881}: expert 2 wins, weighted by its
  // unbiased score sigmoid(-1).
  std::vector<float> bias = {0.0f, 0.0f, 1.0f, 0.0f};
  RouteResult biased = route(cfg, z.data(), bias.data(), 1, 4);
  EXPECT_EQ(biased.ids[0], 2);
  EXPECT_NEAR(biased.weights[0], 0.2689414213699951, 1e-6);

  cfg.k = 2;
  RouteResult two = route(cfg, z.data(), bias.data(), 1, 4);
  EXPECT_EQ(two.ids, (std::vector<int32_t>{2, 3}));
  EXPECT_NEAR(two.weights[0], 0.2689414213699951, 1e-6);
  EXPECT_NEAR(two.weights[1], 0.8807970779778823, 1e-6);
}

TEST(Route, SoftmaxSelectionBias) {
  // The bias applies to the softmax scores too, and the weight stays s[e].
  std::vector<float> z = tenthsLogits(); // s = {.3, .1, .4, .2}
  std::vector<float> bias = {0.0f, 0.5f, 0.0f, 0.0f};
  RouteResult r = route(makeRouter(2), z.data(), bias.data(), 1, 4);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(r.weights[0], 0.1, 1e-6);
  EXPECT_NEAR(r.weights[1], 0.4, 1e-6);
}

TEST(Route, TiesGoToLowerId) {
  std::vector<float> z = {1.0f, 2.0f, 2.0f, 2.0f};
  RouteResult r = route(makeRouter(2), z.data(), nullptr, 1, 4);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_FLOAT_EQ(r.weights[0], r.weights[1]);

  // The same among -inf keys.
  std::vector<float> inf = {-kInf, 3.0f, -kInf, -kInf};
  RouteResult ri =
      route(makeRouter(3, Scoring::Softmax, ScoreOrder::TopKSoftmax),
            inf.data(), nullptr, 1, 4);
  EXPECT_EQ(ri.ids, (std::vector<int32_t>{1, 0, 2}));
}

TEST(Route, NaNIsNeverSelected) {
  std::vector<float> z = {kNaN, -1.0f, -2.0f, -3.0f};
  RouterConfig cfg = makeRouter(2, Scoring::Softmax, ScoreOrder::TopKSoftmax);
  RouteResult r = route(cfg, z.data(), nullptr, 1, 4);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(r.weights[0], sigmoidOf(1.0), 1e-6);
  EXPECT_NEAR(r.weights[1], sigmoidOf(-1.0), 1e-6);

  // With k = E a NaN is picked last, behind every number.
  std::vector<float> z2 = {kNaN, 1.0f, 2.0f, -100.0f};
  cfg.k = 4;
  EXPECT_EQ(route(cfg, z2.data(), nullptr, 1, 4).ids,
            (std::vector<int32_t>{2, 1, 3, 0}));
  // It counts as -inf exactly, so against -inf the lower id wins.
  std::vector<float> z3 = {-kInf, kNaN, 1.0f, 2.0f};
  EXPECT_EQ(route(cfg, z3.data(), nullptr, 1, 4).ids,
            (std::vector<int32_t>{3, 2, 0, 1}));

  // A NaN selection bias is a NaN key as well.
  std::vector<float> s = {5.0f, 1.0f, 0.0f, -1.0f};
  std::vector<float> bias = {kNaN, 0.0f, 0.0f, 0.0f};
  RouteResult rs =
      route(makeRouter(2, Scoring::Sigmoid), s.data(), bias.data(), 1, 4);
  EXPECT_EQ(rs.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(rs.weights[0], sigmoidOf(1.0), 1e-6);
  EXPECT_NEAR(rs.weights[1], 0.5, 1e-6);
}

TEST(Route, RenormalizeAndScale) {
  std::vector<float> z = tenthsLogits();
  RouterConfig cfg = makeRouter(2);
  cfg.scale = 2.5;
  RouteResult scaled = route(cfg, z.data(), nullptr, 1, 4);
  EXPECT_NEAR(scaled.weights[0], 1.0, 1e-6);
  EXPECT_NEAR(scaled.weights[1], 0.75, 1e-6);

  cfg.renormalize = true;
  RouteResult both = route(cfg, z.data(), nullptr, 1, 4);
  EXPECT_NEAR(both.weights[0], 2.5 * 4.0 / 7.0, 1e-6);
  EXPECT_NEAR(both.weights[1], 2.5 * 3.0 / 7.0, 1e-6);

  // Renormalized sigmoid weights: the sigmoid-scored DeepSeek-V3 form.
  std::vector<float> s = {0.0f, 1.0f, -1.0f, 2.0f};
  RouterConfig sig = makeRouter(2, Scoring::Sigmoid);
  sig.renormalize = true;
  RouteResult rs = route(sig, s.data(), nullptr, 1, 4);
  double a = sigmoidOf(2.0), b = sigmoidOf(1.0);
  EXPECT_EQ(rs.ids, (std::vector<int32_t>{3, 1}));
  EXPECT_NEAR(rs.weights[0], a / (a + b), 1e-6);
  EXPECT_NEAR(rs.weights[1], b / (a + b), 1e-6);
}

// Eight experts in four groups of two. With topk_softmax the keys are the
// logits themselves, so the group scores can be read off directly:
//   group 0 {10, 0}: max 10, sum_top2 10
//   group 1 {9, 8.5}: max 9, sum_top2 17.5
//   group 2 {6, 6}: max 6, sum_top2 12
//   group 3 {9.5, -5}: max 9.5, sum_top2 4.5
// Ungrouped top-2 is {0, 6}.
std::vector<float> groupedLogits() {
  return {10.0f, 0.0f, 9.0f, 8.5f, 6.0f, 6.0f, 9.5f, -5.0f};
}

RouterConfig groupedRouter(int64_t topkGroups, GroupScore score) {
  RouterConfig r = makeRouter(2, Scoring::Softmax, ScoreOrder::TopKSoftmax);
  r.groups = 4;
  r.topkGroups = topkGroups;
  r.groupScore = score;
  return r;
}

TEST(Route, GroupLimitedTopK) {
  std::vector<float> z = groupedLogits();
  RouterConfig flat = makeRouter(2, Scoring::Softmax, ScoreOrder::TopKSoftmax);
  EXPECT_EQ(route(flat, z.data(), nullptr, 1, 8).ids,
            (std::vector<int32_t>{0, 6}));

  // One group kept: max keeps group 0, sum_top2 keeps group 1.
  RouteResult max1 =
      route(groupedRouter(1, GroupScore::Max), z.data(), nullptr, 1, 8);
  EXPECT_EQ(max1.ids, (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(max1.weights[0], 1.0 / (1.0 + std::exp(-10.0)), 1e-6);
  RouteResult sum1 =
      route(groupedRouter(1, GroupScore::SumTop2), z.data(), nullptr, 1, 8);
  EXPECT_EQ(sum1.ids, (std::vector<int32_t>{2, 3}));
  EXPECT_NEAR(sum1.weights[0], sigmoidOf(0.5), 1e-6);
  EXPECT_NEAR(sum1.weights[1], sigmoidOf(-0.5), 1e-6);

  // Two groups kept: max keeps {0, 3}, sum_top2 keeps {1, 2}.
  EXPECT_EQ(
      route(groupedRouter(2, GroupScore::Max), z.data(), nullptr, 1, 8).ids,
      (std::vector<int32_t>{0, 6}));
  EXPECT_EQ(
      route(groupedRouter(2, GroupScore::SumTop2), z.data(), nullptr, 1, 8).ids,
      (std::vector<int32_t>{2, 3}));
}

TEST(Route, GroupScoresUseBiasedKeysAndScoresForWeights) {
  // Sigmoid scores with a bias that makes group 1 the best group; the weights
  // are still the unbiased sigmoid scores.
  std::vector<float> z = {2.0f, 1.0f, 0.0f, -1.0f};
  std::vector<float> bias = {0.0f, 0.0f, 1.0f, 1.0f};
  RouterConfig r = makeRouter(2, Scoring::Sigmoid);
  r.groups = 2;
  r.topkGroups = 1;
  r.groupScore = GroupScore::SumTop2;
  RouteResult res = route(r, z.data(), bias.data(), 1, 4);
  EXPECT_EQ(res.ids, (std::vector<int32_t>{2, 3}));
  EXPECT_NEAR(res.weights[0], 0.5, 1e-6);
  EXPECT_NEAR(res.weights[1], sigmoidOf(-1.0), 1e-6);
}

TEST(Route, GroupTiesGoToLowerGroup) {
  RouterConfig r = makeRouter(2, Scoring::Softmax, ScoreOrder::TopKSoftmax);
  r.groups = 2;
  r.topkGroups = 1;

  // Max scores tie at 1: group 0 is kept, so expert 2 is out.
  std::vector<float> zMax = {1.0f, 0.0f, 1.0f, 0.5f};
  r.groupScore = GroupScore::Max;
  EXPECT_EQ(route(r, zMax.data(), nullptr, 1, 4).ids,
            (std::vector<int32_t>{0, 1}));

  // Sum scores tie at 4.
  std::vector<float> zSum = {3.0f, 1.0f, 2.0f, 2.0f};
  r.groupScore = GroupScore::SumTop2;
  EXPECT_EQ(route(r, zSum.data(), nullptr, 1, 4).ids,
            (std::vector<int32_t>{0, 1}));
}

TEST(Route, IneligibleExpertLosesToEligibleMinusInf) {
  // Groups {0.5, 0.4}, {-inf, 1}, {2, 3}; keep two by max: groups 2 and 1.
  // With k = 4 the last pick is the eligible -inf expert 2, never the finite
  // but ineligible experts 0 and 1.
  std::vector<float> z = {0.5f, 0.4f, -kInf, 1.0f, 2.0f, 3.0f};
  RouterConfig r = makeRouter(4, Scoring::Softmax, ScoreOrder::TopKSoftmax);
  r.groups = 3;
  r.topkGroups = 2;
  r.groupScore = GroupScore::Max;
  EXPECT_EQ(route(r, z.data(), nullptr, 1, 6).ids,
            (std::vector<int32_t>{5, 4, 3, 2}));

  // The same when the eligible key is NaN.
  z[2] = kNaN;
  EXPECT_EQ(route(r, z.data(), nullptr, 1, 6).ids,
            (std::vector<int32_t>{5, 4, 3, 2}));
}

//===----------------------------------------------------------------------===//
// Capacity and dispatch
//===----------------------------------------------------------------------===//

TEST(Capacity, Policies) {
  LayerConfig c = makeConfig(4, 4, 8, 1);
  EXPECT_EQ(capacityFor(c, 100), -1);

  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 3;
  EXPECT_EQ(capacityFor(c, 100), 3);

  c.capacity.kind = CapacityKind::Factor;
  c.capacity.factor = 1.25;
  EXPECT_EQ(capacityFor(c, 8), 2);  // ceil(1.25), never 3.
  EXPECT_EQ(capacityFor(c, 16), 3); // ceil(2.5).
  EXPECT_EQ(capacityFor(c, 0), 0);

  // 1.1 * 100 / 110 is 1.0000000000000002 in double; the capacity is 1.
  LayerConfig d = makeConfig(4, 4, 110, 1);
  d.capacity.kind = CapacityKind::Factor;
  d.capacity.factor = 1.1;
  EXPECT_EQ(capacityFor(d, 100), 1);

  // k multiplies: ceil(1.5 * 3 * 2 / 4) = ceil(2.25) = 3.
  LayerConfig e = makeConfig(4, 4, 4, 2);
  e.capacity.kind = CapacityKind::Factor;
  e.capacity.factor = 1.5;
  EXPECT_EQ(capacityFor(e, 3), 3);
  EXPECT_EQ(capacityFor(e, 4), 3); // exactly 3.
}

TEST(Plan, DroplessLayout) {
  // T = 3, k = 2, E = 3; expert counts 1, 2, 3.
  LayerConfig c = makeConfig(4, 4, 3, 2);
  std::vector<int32_t> ids = {2, 0, 1, 2, 2, 1};
  DispatchPlan p = plan(c, ids.data(), 3);
  EXPECT_EQ(p.capacity, -1);
  EXPECT_EQ(p.dropped, 0);
  EXPECT_EQ(p.offsets, (std::vector<int32_t>{0, 1, 3, 6}));
  EXPECT_EQ(p.rows, (std::vector<int32_t>{3, 0, 1, 4, 5, 2}));
  EXPECT_EQ(p.sources, (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(Plan, PositionPolicyDropsLaterChoicesFirst) {
  // E = 2, k = 2, T = 3, C = 2. Priority order keeps the three first choices
  // (t0->0, t1->0, t2->1) before any second choice, so t0's second choice
  // takes the last slot of expert 1 and t1, t2 lose their second choices.
  LayerConfig c = makeConfig(4, 4, 2, 2);
  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 2;
  std::vector<int32_t> ids = {0, 1, 0, 1, 1, 0};
  DispatchPlan p = plan(c, ids.data(), 3);
  EXPECT_EQ(p.capacity, 2);
  EXPECT_EQ(p.dropped, 2);
  EXPECT_EQ(p.offsets, (std::vector<int32_t>{0, 2, 4}));
  // Expert 1's rows are in token order: (t0, j1) before (t2, j0).
  EXPECT_EQ(p.rows, (std::vector<int32_t>{0, 2, 1, -1, 3, -1}));
  EXPECT_EQ(p.sources, (std::vector<int32_t>{0, 1, 0, 2, -1, -1}));
}

TEST(Plan, PositionPolicyKeepsEarlierTokens) {
  // k = 1, every token to expert 1, capacity ceil(0.5 * 4 * 1 / 2) = 1.
  LayerConfig c = makeConfig(4, 4, 2, 1);
  c.capacity.kind = CapacityKind::Factor;
  c.capacity.factor = 0.5;
  std::vector<int32_t> ids = {1, 1, 0, 1};
  DispatchPlan p = plan(c, ids.data(), 4);
  EXPECT_EQ(p.capacity, 1);
  EXPECT_EQ(p.dropped, 2);
  EXPECT_EQ(p.offsets, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(p.rows, (std::vector<int32_t>{1, -1, 0, -1}));
  EXPECT_EQ(p.sources, (std::vector<int32_t>{2, 0, -1, -1}));
}

TEST(Plan, OutOfRangeIdsAreDroppedAndCounted) {
  LayerConfig c = makeConfig(4, 4, 3, 1);
  std::vector<int32_t> ids = {0, 3, -1, 2};
  DispatchPlan p = plan(c, ids.data(), 4);
  EXPECT_EQ(p.dropped, 2);
  EXPECT_EQ(p.offsets, (std::vector<int32_t>{0, 1, 1, 2}));
  EXPECT_EQ(p.rows, (std::vector<int32_t>{0, -1, -1, 1}));
  EXPECT_EQ(p.sources, (std::vector<int32_t>{0, 3, -1, -1}));

  // Under a capacity an out-of-range id takes no slot of anyone.
  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 1;
  std::vector<int32_t> ids2 = {7, 0, 0, -5};
  DispatchPlan q = plan(c, ids2.data(), 4);
  EXPECT_EQ(q.dropped, 3);
  EXPECT_EQ(q.rows, (std::vector<int32_t>{-1, 0, -1, -1}));
}

TEST(Plan, NoTokens) {
  LayerConfig c = makeConfig(4, 4, 3, 2);
  DispatchPlan p = plan(c, nullptr, 0);
  EXPECT_EQ(p.offsets, (std::vector<int32_t>{0, 0, 0, 0}));
  EXPECT_TRUE(p.rows.empty());
  EXPECT_TRUE(p.sources.empty());
  EXPECT_EQ(p.dropped, 0);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

TEST(Activate, ClosedForms) {
  // Phi(1) = 0.8413447460685429.
  EXPECT_NEAR(activate(Activation::Gelu, 0, 1.0), 0.8413447460685429, 1e-12);
  EXPECT_NEAR(activate(Activation::Gelu, 0, -1.0), -0.15865525393145707, 1e-12);
  EXPECT_NEAR(activate(Activation::Gelu, 0, 2.0), 1.9544997361036416, 1e-12);
  EXPECT_EQ(activate(Activation::Gelu, 0, 0.0), 0.0);

  EXPECT_NEAR(activate(Activation::GeluTanh, 0, 1.0), 0.8411919906082768,
              1e-12);
  EXPECT_NEAR(activate(Activation::GeluTanh, 0, -1.0), -0.15880800939172324,
              1e-12);
  EXPECT_NEAR(activate(Activation::GeluTanh, 0, 2.0), 1.954597694087775, 1e-12);

  EXPECT_EQ(activate(Activation::Relu, 0, -2.0), 0.0);
  EXPECT_EQ(activate(Activation::Relu, 0, 3.0), 3.0);

  EXPECT_NEAR(activate(Activation::Silu, 0, 1.0), 0.7310585786300049, 1e-12);
  EXPECT_NEAR(activate(Activation::Silu, 0, -1.0), -0.2689414213699951, 1e-12);
  EXPECT_NEAR(activate(Activation::Silu, 0, -0.5), -0.1887703343990727, 1e-12);
  // No overflow far in the tails.
  EXPECT_NEAR(activate(Activation::Silu, 0, -1000.0), 0.0, 1e-12);
  EXPECT_NEAR(activate(Activation::Silu, 0, 1000.0), 1000.0, 1e-9);

  // Gated: act(g) * u.
  EXPECT_NEAR(activate(Activation::SwiGLU, 1.0, 2.0), 2 * 0.7310585786300049,
              1e-12);
  EXPECT_NEAR(activate(Activation::SwiGLU, -1.0, -3.0), 3 * 0.2689414213699951,
              1e-12);
  EXPECT_NEAR(activate(Activation::GeGLU, 1.0, 3.0), 3 * 0.8413447460685429,
              1e-12);
  EXPECT_NEAR(activate(Activation::GeGLU, 2.0, -0.5), -0.5 * 1.9544997361036416,
              1e-12);
}

TEST(Activate, UngatedIgnoresGate) {
  EXPECT_EQ(activate(Activation::Relu, 100.0, -1.0), 0.0);
  EXPECT_EQ(activate(Activation::Gelu, 5.0, 1.0),
            activate(Activation::Gelu, -5.0, 1.0));
  EXPECT_EQ(activate(Activation::GeluTanh, 5.0, 1.0),
            activate(Activation::GeluTanh, -5.0, 1.0));
  EXPECT_EQ(activate(Activation::Silu, 5.0, 1.0),
            activate(Activation::Silu, -5.0, 1.0));
}

//===----------------------------------------------------------------------===//
// Whole layer
//===----------------------------------------------------------------------===//

TEST(Layer, TinyUngated) {
  // D = F = E = 2, k = 1, relu; the router is the identity, so z = x.
  //   t0: x = (2, 1) -> expert 0, weight softmax(2, 1)[0] = sigmoid(1).
  //       u = (3, 1), h = (3, 1), out = (3, 4).
  //   t1: x = (-1, 1) -> expert 1, weight sigmoid(2).
  //       u = (1, 2), h = (1, 2), out = (2, -2).
  LayerConfig c = makeConfig(2, 2, 2, 1);
  c.activation = Activation::Relu;
  std::vector<float> router = {1, 0, 0, 1};
  std::vector<float> up = {1, 1, 1, -1, /*e1*/ -1, 0, 0, 2};
  std::vector<float> down = {1, 0, 1, 1, /*e1*/ 2, 0, 0, -1};
  LayerWeights w;
  w.router = router.data();
  w.up = up.data();
  w.down = down.data();
  std::vector<float> x = {2, 1, -1, 1};
  LayerResult r = layer(c, w, x.data(), 2);
  ASSERT_EQ(r.output.size(), 4u);
  EXPECT_EQ(r.dropped, 0);
  double w0 = sigmoidOf(1.0), w1 = sigmoidOf(2.0);
  EXPECT_NEAR(r.output[0], 3 * w0, 1e-6);
  EXPECT_NEAR(r.output[1], 4 * w0, 1e-6);
  EXPECT_NEAR(r.output[2], 2 * w1, 1e-6);
  EXPECT_NEAR(r.output[3], -2 * w1, 1e-6);

  // A router bias that sends both tokens to expert 1.
  std::vector<float> rb = {0, 10};
  w.routerBias = rb.data();
  LayerResult rb1 = layer(c, w, x.data(), 2);
  // t0: z = (2, 11), weight sigmoid(9); u = (-2, 2), h = (0, 2), out = (0, -2).
  EXPECT_NEAR(rb1.output[0], 0.0, 1e-6);
  EXPECT_NEAR(rb1.output[1], -2 * sigmoidOf(9.0), 1e-6);
  EXPECT_NEAR(rb1.output[2], 2 * sigmoidOf(12.0), 1e-6);
}

TEST(Layer, RoutingMargins) {
  // D = 2, E = 3, k = 1, relu; the router is [x0, x1, x0 + x1 * 1e-7]: t0's
  // experts 0 and 2 differ by 1e-7 of its logit (a tie at f32 precision),
  // t1's best expert leads by 1 relative to its logit 2.
  LayerConfig c = makeConfig(2, 2, 3, 1);
  c.activation = Activation::Relu;
  std::vector<float> router = {1, 0, 0, 1, 1, 1e-7f};
  std::vector<float> up(3 * 2 * 2, 1.0f), down(3 * 2 * 2, 1.0f);
  LayerWeights w;
  w.router = router.data();
  w.up = up.data();
  w.down = down.data();
  std::vector<float> x = {1, 1, 2, 1};
  LayerResult r = layer(c, w, x.data(), 2);
  ASSERT_EQ(r.routingMargins.size(), 2u);
  EXPECT_NEAR(r.routingMargins[0], 1e-7, 1e-9);
  // t1: logits (2, 1, 2 + 1e-7): expert 2 leads expert 0 by 1e-7 of 2.
  EXPECT_NEAR(r.routingMargins[1], 1e-7 / 2, 1e-9);

  // Nothing competes when every expert is chosen.
  c.router.k = 3;
  LayerResult all = layer(c, w, x.data(), 2);
  EXPECT_TRUE(std::isinf(all.routingMargins[0]));
}

TEST(Layer, TinyGatedWithDrops) {
  // Both tokens go to expert 0; swiglu. Router rows (1, 0) and (-1, 0).
  //   t0: x = (1, 0), z = (1, -1), weight sigmoid(2).
  //       g = (1, 0), u = (2, 1), h = (2 silu(1), 0), out = h.
  //   t1: x = (0.5, 0), z = (0.5, -0.5), weight sigmoid(1).
  //       g = (0.5, 0), u = (1, 0.5), h = (silu(0.5), 0), out = h.
  LayerConfig c = makeConfig(2, 2, 2, 1);
  c.activation = Activation::SwiGLU;
  std::vector<float> router = {1, 0, -1, 0};
  std::vector<float> gate = {1, 0, 0, 1, /*e1*/ 9, 9, 9, 9};
  std::vector<float> up = {2, 0, 1, 0, /*e1*/ 9, 9, 9, 9};
  std::vector<float> down = {1, 0, 0, 1, /*e1*/ 9, 9, 9, 9};
  LayerWeights w;
  w.router = router.data();
  w.gate = gate.data();
  w.up = up.data();
  w.down = down.data();
  std::vector<float> x = {1, 0, 0.5f, 0};

  double silu1 = 0.7310585786300049, siluHalf = 0.5 * 0.6224593312018546;
  LayerResult all = layer(c, w, x.data(), 2);
  EXPECT_EQ(all.dropped, 0);
  EXPECT_NEAR(all.output[0], sigmoidOf(2.0) * 2 * silu1, 1e-6);
  EXPECT_NEAR(all.output[1], 0.0, 1e-6);
  EXPECT_NEAR(all.output[2], sigmoidOf(1.0) * siluHalf, 1e-6);
  EXPECT_NEAR(all.output[3], 0.0, 1e-6);

  // Capacity 1: t1 is dropped and contributes nothing.
  for (CapacityKind kind : {CapacityKind::Fixed, CapacityKind::Factor}) {
    c.capacity.kind = kind;
    c.capacity.capacity = 1;
    c.capacity.factor = 0.5; // ceil(0.5 * 2 * 1 / 2) = 1.
    LayerResult r = layer(c, w, x.data(), 2);
    EXPECT_EQ(r.dropped, 1);
    EXPECT_NEAR(r.output[0], sigmoidOf(2.0) * 2 * silu1, 1e-6);
    EXPECT_EQ(r.output[2], 0.0f);
    EXPECT_EQ(r.output[3], 0.0f);
  }
}

TEST(Layer, WeightsAreNotRenormalizedAfterDrops) {
  // D = F = 1, E = 3, k = 2, renormalize, capacity 1; router (1, 0, -1), so
  // z = (x, 0, -x). up = (1, 1, -1), relu, down = (1, 10, 100).
  //   t0: x = 1 picks (0, 1) with weights (sigmoid(1), sigmoid(-1)).
  //   t1: x = -1 picks (2, 1) with weights (sigmoid(1), sigmoid(-1)).
  // Priority keeps t0->0, t1->2, t0->1 and drops t1->1; t1 keeps its
  // weight sigmoid(1) on expert 2 instead of being renormalised to 1.
  LayerConfig c = makeConfig(1, 1, 3, 2);
  c.activation = Activation::Relu;
  c.router.renormalize = true;
  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 1;
  std::vector<float> router = {1, 0, -1};
  std::vector<float> up = {1, 1, -1};
  std::vector<float> down = {1, 10, 100};
  LayerWeights w;
  w.router = router.data();
  w.up = up.data();
  w.down = down.data();
  std::vector<float> x = {1, -1};
  LayerResult r = layer(c, w, x.data(), 2);
  EXPECT_EQ(r.dropped, 1);
  EXPECT_NEAR(r.output[0], sigmoidOf(1.0) * 1 + sigmoidOf(-1.0) * 10, 1e-5);
  EXPECT_NEAR(r.output[1], sigmoidOf(1.0) * 100, 1e-4);
}

//===----------------------------------------------------------------------===//
// Property test: the layer against a naive per-token computation.
//===----------------------------------------------------------------------===//

/// One token's output computed directly: route by sorting, then run each of
/// its k experts on the token and sum in slot order. Dropless, ungrouped.
std::vector<double> naiveToken(const LayerConfig &c, const LayerWeights &w,
                               const float *x) {
  const int64_t D = c.D, F = c.F, E = c.E, k = c.router.k;
  std::vector<double> z(E);
  for (int64_t e = 0; e < E; ++e) {
    z[e] = w.routerBias ? w.routerBias[e] : 0.0;
    for (int64_t d = 0; d < D; ++d)
      z[e] += double(w.router[e * D + d]) * x[d];
  }
  std::vector<double> s(E);
  bool topkSoftmax = c.router.scoring == Scoring::Softmax &&
                     c.router.order == ScoreOrder::TopKSoftmax;
  if (c.router.scoring == Scoring::Sigmoid) {
    for (int64_t e = 0; e < E; ++e)
      s[e] = sigmoidOf(z[e]);
  } else if (topkSoftmax) {
    s = z;
  } else {
    double sum = 0;
    for (int64_t e = 0; e < E; ++e)
      sum += std::exp(z[e]);
    for (int64_t e = 0; e < E; ++e)
      s[e] = std::exp(z[e]) / sum;
  }
  std::vector<int> order(E);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    double ka = s[a] + (w.selectionBias ? w.selectionBias[a] : 0.0f);
    double kb = s[b] + (w.selectionBias ? w.selectionBias[b] : 0.0f);
    return ka > kb;
  });
  std::vector<double> gw(k);
  double sum = 0;
  for (int64_t j = 0; j < k; ++j) {
    gw[j] = topkSoftmax ? std::exp(z[order[j]]) : s[order[j]];
    sum += gw[j];
  }
  for (int64_t j = 0; j < k; ++j) {
    if (topkSoftmax || c.router.renormalize)
      gw[j] /= sum;
    gw[j] *= c.router.scale;
  }

  std::vector<double> y(D, 0.0);
  for (int64_t j = 0; j < k; ++j) {
    int e = order[j];
    std::vector<double> h(F);
    for (int64_t f = 0; f < F; ++f) {
      double g = 0, u = 0;
      for (int64_t d = 0; d < D; ++d) {
        u += double(w.up[(e * F + f) * D + d]) * x[d];
        if (w.gate)
          g += double(w.gate[(e * F + f) * D + d]) * x[d];
      }
      switch (c.activation) {
      case Activation::SwiGLU:
        h[f] = g * sigmoidOf(g) * u;
        break;
      case Activation::GeGLU:
        h[f] = 0.5 * g * (1 + std::erf(g / std::sqrt(2.0))) * u;
        break;
      case Activation::Gelu:
        h[f] = 0.5 * u * (1 + std::erf(u / std::sqrt(2.0)));
        break;
      case Activation::GeluTanh: {
        double c0 = std::sqrt(2.0 / 3.14159265358979323846);
        h[f] = 0.5 * u * (1 + std::tanh(c0 * (u + 0.044715 * u * u * u)));
        break;
      }
      case Activation::Relu:
        h[f] = std::max(u, 0.0);
        break;
      case Activation::Silu:
        h[f] = u * sigmoidOf(u);
        break;
      case Activation::ClampedSwiGLU:
        ADD_FAILURE() << "this oracle does not implement clamped_swiglu";
        break;
      }
    }
    for (int64_t d = 0; d < D; ++d) {
      double o = 0;
      for (int64_t f = 0; f < F; ++f)
        o += double(w.down[(e * D + d) * F + f]) * h[f];
      y[d] += gw[j] * o;
    }
  }
  return y;
}

struct RandomLayer {
  std::vector<float> router, routerBias, selectionBias, gate, up, down, x;
  LayerWeights weights;

  RandomLayer(const LayerConfig &c, int64_t T, unsigned seed, bool biases) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 1.0f);
    auto fill = [&](std::vector<float> &v, size_t size) {
      v.resize(size);
      for (float &f : v)
        f = n(rng);
    };
    fill(router, c.E * c.D);
    fill(gate, c.E * c.F * c.D);
    fill(up, c.E * c.F * c.D);
    fill(down, c.E * c.D * c.F);
    fill(x, T * c.D);
    weights.router = router.data();
    weights.up = up.data();
    weights.down = down.data();
    bool gated =
        c.activation == Activation::SwiGLU || c.activation == Activation::GeGLU;
    weights.gate = gated ? gate.data() : nullptr;
    if (biases) {
      fill(routerBias, c.E);
      fill(selectionBias, c.E);
      weights.routerBias = routerBias.data();
      weights.selectionBias = selectionBias.data();
    }
  }
};

TEST(Layer, DroplessMatchesNaivePerToken) {
  const int64_t T = 13;
  const Activation acts[] = {Activation::SwiGLU, Activation::GeGLU,
                             Activation::Gelu,   Activation::GeluTanh,
                             Activation::Relu,   Activation::Silu};
  struct RouterCase {
    Scoring scoring;
    ScoreOrder order;
    int64_t k;
    bool renormalize;
    double scale;
    bool biases;
  };
  const RouterCase routers[] = {
      {Scoring::Softmax, ScoreOrder::SoftmaxTopK, 2, false, 1.0, false},
      {Scoring::Softmax, ScoreOrder::SoftmaxTopK, 3, true, 1.0, true},
      {Scoring::Softmax, ScoreOrder::TopKSoftmax, 2, false, 1.0, false},
      {Scoring::Sigmoid, ScoreOrder::SoftmaxTopK, 2, true, 2.5, true},
      {Scoring::Sigmoid, ScoreOrder::SoftmaxTopK, 1, false, 1.0, false},
      {Scoring::Softmax, ScoreOrder::SoftmaxTopK, 6, false, 0.5, false},
  };
  unsigned seed = 1;
  int checked = 0;
  for (Activation act : acts) {
    for (const RouterCase &rc : routers) {
      LayerConfig c = makeConfig(5, 7, 6, rc.k);
      c.activation = act;
      c.router.scoring = rc.scoring;
      c.router.order = rc.order;
      c.router.renormalize = rc.renormalize;
      c.router.scale = rc.scale;
      ASSERT_EQ(validate(c), "");
      RandomLayer rl(c, T, seed++, rc.biases);
      LayerResult r = layer(c, rl.weights, rl.x.data(), T);
      ASSERT_EQ(r.output.size(), size_t(T * c.D));
      EXPECT_EQ(r.dropped, 0);
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> want =
            naiveToken(c, rl.weights, rl.x.data() + t * c.D);
        for (int64_t d = 0; d < c.D; ++d) {
          EXPECT_NEAR(r.output[t * c.D + d], want[d],
                      1e-5 * (1.0 + std::fabs(want[d])))
              << "act " << int(act) << " seed " << seed - 1 << " t " << t
              << " d " << d;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 6 * 6 * 13 * 5);
}

TEST(Layer, DroplessIsBatchInvariant) {
  // Each token alone gives bit-identical results to the whole batch.
  LayerConfig c = makeConfig(4, 6, 8, 2);
  c.router.groups = 4;
  c.router.topkGroups = 2;
  c.router.groupScore = GroupScore::SumTop2;
  ASSERT_EQ(validate(c), "");
  const int64_t T = 9;
  RandomLayer rl(c, T, 77, true);
  LayerResult all = layer(c, rl.weights, rl.x.data(), T);
  for (int64_t t = 0; t < T; ++t) {
    LayerResult one = layer(c, rl.weights, rl.x.data() + t * c.D, 1);
    for (int64_t d = 0; d < c.D; ++d)
      EXPECT_EQ(one.output[d], all.output[t * c.D + d]);
  }
}

TEST(Layer, MatchesRoutePlanAndExperts) {
  // Under a dropping capacity the layer equals route() + plan() + the
  // experts run per kept row and combined, with the same dropped count.
  LayerConfig c = makeConfig(3, 4, 4, 2);
  c.activation = Activation::GeGLU;
  c.router.renormalize = true;
  c.capacity.kind = CapacityKind::Factor;
  c.capacity.factor = 0.75;
  const int64_t T = 11;
  RandomLayer rl(c, T, 5, true);
  LayerResult r = layer(c, rl.weights, rl.x.data(), T);

  std::vector<float> logits(T * c.E);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < c.E; ++e) {
      double acc = rl.routerBias[e];
      for (int64_t d = 0; d < c.D; ++d)
        acc += double(rl.router[e * c.D + d]) * rl.x[t * c.D + d];
      logits[t * c.E + e] = float(acc);
    }
  RouteResult rt =
      route(c.router, logits.data(), rl.selectionBias.data(), T, c.E);
  DispatchPlan p = plan(c, rt.ids.data(), T);
  EXPECT_EQ(p.capacity, 5); // ceil(0.75 * 11 * 2 / 4) = ceil(4.125).
  EXPECT_GT(p.dropped, 0);
  EXPECT_EQ(r.dropped, p.dropped);

  for (int64_t t = 0; t < T; ++t) {
    for (int64_t d = 0; d < c.D; ++d) {
      double want = 0;
      for (int64_t j = 0; j < c.router.k; ++j) {
        int32_t row = p.rows[t * c.router.k + j];
        if (row < 0)
          continue;
        EXPECT_EQ(p.sources[row], t);
        int32_t e = rt.ids[t * c.router.k + j];
        EXPECT_GE(row, p.offsets[e]);
        EXPECT_LT(row, p.offsets[e + 1]);
        double o = 0;
        for (int64_t f = 0; f < c.F; ++f) {
          double g = 0, u = 0;
          for (int64_t i = 0; i < c.D; ++i) {
            g += double(rl.gate[(e * c.F + f) * c.D + i]) * rl.x[t * c.D + i];
            u += double(rl.up[(e * c.F + f) * c.D + i]) * rl.x[t * c.D + i];
          }
          o += double(rl.down[(e * c.D + d) * c.F + f]) *
               activate(Activation::GeGLU, g, u);
        }
        want += rt.weights[t * c.router.k + j] * o;
      }
      EXPECT_NEAR(r.output[t * c.D + d], want, 1e-5 * (1 + std::fabs(want)));
    }
  }
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

void expectInvalid(const LayerConfig &c, const std::string &needle) {
  std::string msg = validate(c);
  EXPECT_FALSE(msg.empty())
      << "expected an error mentioning '" << needle << "'";
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
}

TEST(Validate, AcceptsValidConfigs) {
  LayerConfig c = makeConfig(8, 16, 8, 2);
  EXPECT_EQ(validate(c), "");
  c.router.groups = 4;
  c.router.topkGroups = 1;
  c.router.groupScore = GroupScore::SumTop2;
  EXPECT_EQ(validate(c), "");
  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 1;
  EXPECT_EQ(validate(c), "");
  c.capacity.kind = CapacityKind::Factor;
  c.capacity.factor = 0.1;
  EXPECT_EQ(validate(c), "");
  // k = E is allowed.
  EXPECT_EQ(validate(makeConfig(1, 1, 3, 3)), "");
  // sum_top2 is ignored without grouping.
  LayerConfig one = makeConfig(1, 1, 1, 1);
  one.router.groupScore = GroupScore::SumTop2;
  EXPECT_EQ(validate(one), "");
}

TEST(Validate, RejectsEachRule) {
  LayerConfig base = makeConfig(8, 16, 8, 2);

  LayerConfig c = base;
  c.D = 0;
  expectInvalid(c, "D must be positive");
  c = base;
  c.F = -1;
  expectInvalid(c, "F must be positive");
  c = base;
  c.E = 0;
  expectInvalid(c, "E must be positive");
  c = base;
  c.router.k = 0;
  expectInvalid(c, "k must be positive");
  c = base;
  c.router.k = 9;
  expectInvalid(c, "exceeds the number of experts");
  c = base;
  c.router.groups = 0;
  expectInvalid(c, "groups must be positive");
  c = base;
  c.router.groups = 3;
  expectInvalid(c, "equal groups");
  c = base;
  c.router.groups = 4;
  c.router.topkGroups = 0;
  expectInvalid(c, "topk_groups must be in [1, 4]");
  c.router.topkGroups = 5;
  expectInvalid(c, "topk_groups must be in [1, 4]");
  c = base;
  c.router.groups = 8;
  c.router.topkGroups = 1;
  expectInvalid(c, "fewer than k");
  c = base;
  c.router.groups = 8;
  c.router.topkGroups = 2;
  c.router.groupScore = GroupScore::SumTop2;
  expectInvalid(c, "at least 2 experts per group");
  c = base;
  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 0;
  expectInvalid(c, "fixed capacity must be positive");
  c = base;
  c.capacity.kind = CapacityKind::Factor;
  c.capacity.factor = 0.0;
  expectInvalid(c, "capacity factor must be positive");
  c.capacity.factor = -1.0;
  expectInvalid(c, "capacity factor must be positive");
  c.capacity.factor = std::nan("");
  expectInvalid(c, "capacity factor must be positive");
}

} // namespace

namespace {
TEST(CompareOutput, RelativeToTheLargestReferenceMagnitude) {
  const float expected[] = {2.0f, -4.0f, 0.5f};
  const float actual[] = {2.0f, -4.02f, 0.49f};
  moe::ref::OutputError error = moe::ref::compareOutput(actual, expected, 3);
  EXPECT_NEAR(error.maxAbs, 0.02, 1e-6);
  EXPECT_NEAR(error.relative, 0.02 / 4.0, 1e-6);
  EXPECT_TRUE(error.finite);

  const float zeros[] = {0.0f, 0.0f};
  const float small[] = {1e-3f, 0.0f};
  EXPECT_NEAR(moe::ref::compareOutput(small, zeros, 2).relative, 1e-3, 1e-9);

  const float withNaN[] = {2.0f, std::nanf(""), 0.5f};
  moe::ref::OutputError nan = moe::ref::compareOutput(withNaN, expected, 3);
  EXPECT_FALSE(nan.finite);
  EXPECT_EQ(nan.nonFinite, 1);
  EXPECT_EQ(nan.finiteMismatches, 1);
  EXPECT_DOUBLE_EQ(nan.maxAbs, 0.0) << "measured over finite elements only";
}

TEST(CompareOutput, NonFiniteElementsMatchByPlace) {
  const float inf = std::numeric_limits<float>::infinity();
  const float expected[] = {inf, -inf, std::nanf(""), 1.0f};
  // Which non-finite value does not matter, where it is does.
  const float same[] = {std::nanf(""), -inf, inf, 1.5f};
  moe::ref::OutputError error = moe::ref::compareOutput(same, expected, 4);
  EXPECT_EQ(error.nonFinite, 3);
  EXPECT_EQ(error.finiteMismatches, 0);
  EXPECT_NEAR(error.relative, 0.5, 1e-9);
  // A finite output where the reference overflowed, and the other way.
  const float finite[] = {1.0f, 1.0f, 1.0f, inf};
  EXPECT_EQ(moe::ref::compareOutput(finite, expected, 4).finiteMismatches, 4);
}

TEST(RoundTo, NearestEvenAndOverflowToInfinity) {
  using moe::ref::ElementType;
  using moe::ref::roundTo;
  EXPECT_EQ(roundTo(ElementType::F32, 1.0 + 1e-12), 1.0 + 1e-12);
  // bf16 keeps 8 significant bits: 1 + 2^-8 is halfway, ties to even (1).
  EXPECT_EQ(roundTo(ElementType::BF16, 1.0 + 1.0 / 256), 1.0);
  EXPECT_EQ(roundTo(ElementType::BF16, 1.0 + 3.0 / 256), 1.0 + 4.0 / 256);
  EXPECT_EQ(roundTo(ElementType::F16, 1.0 + 1.0 / 2048), 1.0);
  EXPECT_EQ(roundTo(ElementType::F16, 65504.0), 65504.0);
  EXPECT_TRUE(std::isinf(roundTo(ElementType::F16, 65536.0)));
  EXPECT_EQ(roundTo(ElementType::BF16, 3.3895313892515355e38),
            3.3895313892515355e38); // the largest bf16
  EXPECT_EQ(roundTo(ElementType::BF16, -3.4e38),
            -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(roundTo(ElementType::BF16, std::nan(""))));
}
} // namespace

//===----------------------------------------------------------------------===//
// Model-family variants
//===----------------------------------------------------------------------===//

TEST(Activation, ClampedSwiGLU) {
  // Inside the limits: (u + 1) * g * sigmoid(alpha g).
  EXPECT_NEAR(activate(Activation::ClampedSwiGLU, 1.0, 2.0, 1.702, 7.0),
              3.0 * 1.0 * sigmoidOf(1.702), 1e-12);
  // g is clamped from above only, u on both sides.
  EXPECT_NEAR(activate(Activation::ClampedSwiGLU, 10.0, -10.0, 1.702, 7.0),
              (-7.0 + 1.0) * 7.0 * sigmoidOf(1.702 * 7.0), 1e-12);
  EXPECT_NEAR(activate(Activation::ClampedSwiGLU, -10.0, 10.0, 1.702, 7.0),
              (7.0 + 1.0) * -10.0 * sigmoidOf(-17.02), 1e-12);
  // Other parameters.
  EXPECT_NEAR(activate(Activation::ClampedSwiGLU, 0.5, 0.3, 2.0, 0.4),
              (0.3 + 1.0) * 0.4 * sigmoidOf(0.8), 1e-12);
  EXPECT_TRUE(std::isnan(
      activate(Activation::ClampedSwiGLU, std::nan(""), 0.0, 1.702, 7.0)));
}

namespace {
/// The TinyUngated layer of the Layer tests: D = F = E = 2, k = 1, relu,
/// identity router. Token 0 goes to expert 0 with weight sigmoid(1), token
/// 1 to expert 1 with weight sigmoid(2); unweighted outputs (3, 4), (2, -2).
struct TinyLayer {
  LayerConfig c = makeConfig(2, 2, 2, 1);
  std::vector<float> router = {1, 0, 0, 1};
  std::vector<float> up = {1, 1, 1, -1, /*e1*/ -1, 0, 0, 2};
  std::vector<float> down = {1, 0, 1, 1, /*e1*/ 2, 0, 0, -1};
  std::vector<float> x = {2, 1, -1, 1};
  LayerWeights w;
  TinyLayer() {
    c.activation = Activation::Relu;
    w.router = router.data();
    w.up = up.data();
    w.down = down.data();
  }
};

// TinyLayer with a router bias that sends both tokens to expert 1 and a
// capacity of 1: token 1's assignment is dropped.
struct CrowdedTinyLayer : TinyLayer {
  std::vector<float> routerBias = {0, 10};
  CrowdedTinyLayer() {
    w.routerBias = routerBias.data();
    c.capacity.kind = CapacityKind::Fixed;
    c.capacity.capacity = 1;
  }
  CrowdedTinyLayer(const CrowdedTinyLayer &) = delete; // w points into it
};
} // namespace

TEST(Layer, SharedExpertWithSigmoidGate) {
  // Shared FFN S = 1: u = x0 - x1, relu, down = (1, 2); gate g = (1, 0).
  //   t0: u = 1, shared = (1, 2), scale sigmoid(2).
  //   t1: u = -2 -> 0, shared = (0, 0).
  TinyLayer l;
  l.c.sharedF = 1;
  std::vector<float> su = {1, -1}, sd = {1, 2}, g = {1, 0};
  l.w.sharedUp = su.data();
  l.w.sharedDown = sd.data();
  l.w.sharedSigmoidGate = g.data();
  ASSERT_EQ(validate(l.c), "");
  LayerResult r = layer(l.c, l.w, l.x.data(), 2);
  double w0 = sigmoidOf(1.0), w1 = sigmoidOf(2.0), s0 = sigmoidOf(2.0);
  EXPECT_NEAR(r.output[0], 3 * w0 + 1 * s0, 1e-6);
  EXPECT_NEAR(r.output[1], 4 * w0 + 2 * s0, 1e-6);
  EXPECT_NEAR(r.output[2], 2 * w1, 1e-6);
  EXPECT_NEAR(r.output[3], -2 * w1, 1e-6);
  // Without the gate the shared output is added unscaled.
  l.w.sharedSigmoidGate = nullptr;
  LayerResult u = layer(l.c, l.w, l.x.data(), 2);
  EXPECT_NEAR(u.output[0], 3 * w0 + 1, 1e-6);
  EXPECT_NEAR(u.output[1], 4 * w0 + 2, 1e-6);
}

TEST(Layer, DroppedIdentityPassesTokensThrough) {
  // Both tokens to expert 1 (router bias), capacity 1: token 1 is dropped.
  //   t0: z = (2, 11), weight sigmoid(9), out = (0, -2) (TinyUngated).
  //   t1: z = (-1, 11), weight sigmoid(12), dropped: x * weight.
  CrowdedTinyLayer l;
  LayerResult zero = layer(l.c, l.w, l.x.data(), 2);
  EXPECT_EQ(zero.dropped, 1);
  EXPECT_EQ(zero.output[2], 0.0f);
  EXPECT_EQ(zero.output[3], 0.0f);
  l.c.capacity.droppedIdentity = true;
  LayerResult id = layer(l.c, l.w, l.x.data(), 2);
  EXPECT_EQ(id.dropped, 1);
  double w9 = sigmoidOf(9.0), w12 = sigmoidOf(12.0);
  EXPECT_NEAR(id.output[0], 0.0, 1e-6);
  EXPECT_NEAR(id.output[1], -2 * w9, 1e-6);
  EXPECT_NEAR(id.output[2], -1 * w12, 1e-6);
  EXPECT_NEAR(id.output[3], 1 * w12, 1e-6);
  // Dropless: nothing to pass through.
  l.c.capacity.kind = CapacityKind::Dropless;
  EXPECT_NE(validate(l.c), "");
}

TEST(Layer, WeightsOnInput) {
  // relu without biases is positively homogeneous: scaling the input or the
  // output by a positive weight gives the same result.
  TinyLayer l;
  LayerResult out = layer(l.c, l.w, l.x.data(), 2);
  l.c.router.weightsOnInput = true;
  LayerResult in = layer(l.c, l.w, l.x.data(), 2);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(in.output[i], out.output[i], 1e-6);
  // An up bias breaks the symmetry. t0 goes to expert 0 with w0 =
  // sigmoid(1): u = w0 * (3, 1) + (-1, 5), h = relu(u), out = (h0, h0 + h1).
  std::vector<float> bu = {-1, 5, 0, 0};
  l.w.upBias = bu.data();
  LayerResult b = layer(l.c, l.w, l.x.data(), 2);
  double w0 = sigmoidOf(1.0);
  double h0 = std::max(0.0, 3 * w0 - 1), h1 = std::max(0.0, w0 + 5);
  EXPECT_NEAR(b.output[0], h0, 1e-6);
  EXPECT_NEAR(b.output[1], h0 + h1, 1e-6);
  // Only with k = 1.
  l.c.router.k = 2;
  EXPECT_NE(validate(l.c), "");
}

TEST(Layer, ExpertBiases) {
  // Expert 0 gets up bias (1, -10) and down bias (0.5, -0.5): t0 has
  // u = (3, 1) + (1, -10) = (4, -9), h = (4, 0), out = (4, 4) + bias.
  TinyLayer l;
  std::vector<float> bu = {1, -10, 0, 0}, bd = {0.5f, -0.5f, 0, 0};
  l.w.upBias = bu.data();
  l.w.downBias = bd.data();
  LayerResult r = layer(l.c, l.w, l.x.data(), 2);
  double w0 = sigmoidOf(1.0), w1 = sigmoidOf(2.0);
  EXPECT_NEAR(r.output[0], (4 + 0.5) * w0, 1e-6);
  EXPECT_NEAR(r.output[1], (4 - 0.5) * w0, 1e-6);
  EXPECT_NEAR(r.output[2], 2 * w1, 1e-6);
  EXPECT_NEAR(r.output[3], -2 * w1, 1e-6);
}

TEST(Statistics, HandComputed) {
  // T = 2, E = 2, k = 1. Logits t0 = (0, 0), t1 = (ln 3, 0): softmax
  // (1/2, 1/2) and (3/4, 1/4), mean P = (5/8, 3/8); log-sum-exps ln 2, ln 4.
  const double ln3 = std::log(3.0);
  std::vector<double> logits = {0, 0, ln3, 0};
  // Both tokens to expert 0: counts (2, 0), aux = 2 * (2/2 * 5/8) = 5/4.
  std::vector<int32_t> same = {0, 0};
  RouterStatistics s = routerStatistics(logits.data(), same.data(), 2, 2, 1);
  EXPECT_EQ(s.expertCounts, (std::vector<int64_t>{2, 0}));
  EXPECT_NEAR(s.auxLoss, 1.25, 1e-12);
  double ln2 = std::log(2.0), ln4 = std::log(4.0);
  EXPECT_NEAR(s.zLoss, (ln2 * ln2 + ln4 * ln4) / 2, 1e-12);
  // Balanced: counts (1, 1), aux = 2 * (1/2 * 5/8 + 1/2 * 3/8) = 1.
  std::vector<int32_t> balanced = {0, 1};
  s = routerStatistics(logits.data(), balanced.data(), 2, 2, 1);
  EXPECT_EQ(s.expertCounts, (std::vector<int64_t>{1, 1}));
  EXPECT_NEAR(s.auxLoss, 1.0, 1e-12);
  // Out-of-range ids are not counted; T = 0 gives zero losses.
  std::vector<int32_t> invalid = {-1, 2};
  s = routerStatistics(logits.data(), invalid.data(), 2, 2, 1);
  EXPECT_EQ(s.expertCounts, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(s.auxLoss, 0.0);
  s = routerStatistics(logits.data(), invalid.data(), 0, 2, 1);
  EXPECT_EQ(s.auxLoss, 0.0);
  EXPECT_EQ(s.zLoss, 0.0);
}

TEST(Statistics, LayerCountsBeforeCapacity) {
  // One assignment dropped, but both are counted.
  CrowdedTinyLayer l;
  LayerResult r = layer(l.c, l.w, l.x.data(), 2);
  EXPECT_EQ(r.dropped, 1);
  EXPECT_EQ(r.statistics.expertCounts, (std::vector<int64_t>{0, 2}));
}

TEST(Plan, ProbabilityDropPolicy) {
  // E = 2, k = 2, T = 3, capacity 2. Every token picks experts (0, 1):
  // expert 0 gets weights 0.2, 0.9, 0.5 (tokens 0..2), expert 1 gets
  // 0.8, 0.1, 0.5. Position keeps tokens 0 and 1 on both; probability
  // keeps the two heaviest: tokens 1, 2 on expert 0 and 0, 2 on expert 1.
  LayerConfig c = makeConfig(4, 4, 2, 2);
  c.capacity.kind = CapacityKind::Fixed;
  c.capacity.capacity = 2;
  std::vector<int32_t> ids = {0, 1, 0, 1, 0, 1};
  std::vector<float> w = {0.2f, 0.8f, 0.9f, 0.1f, 0.5f, 0.5f};
  DispatchPlan position = plan(c, ids.data(), 3, w.data());
  EXPECT_EQ(position.rows, (std::vector<int32_t>{0, 2, 1, 3, -1, -1}));
  c.capacity.dropByProbability = true;
  DispatchPlan p = plan(c, ids.data(), 3, w.data());
  EXPECT_EQ(p.dropped, 2);
  // Rows in token order inside each expert's segment: expert 0 rows 0, 1
  // hold tokens 1, 2; expert 1 rows 2, 3 hold tokens 0, 2.
  EXPECT_EQ(p.rows, (std::vector<int32_t>{-1, 2, 0, -1, 1, 3}));
  // Equal weights go in position order (first choices, then token order);
  // NaN weighs least.
  std::vector<float> tied = {0.5f, std::nanf(""), 0.5f, 0.7f, 0.5f, 0.6f};
  DispatchPlan t = plan(c, ids.data(), 3, tied.data());
  EXPECT_EQ(t.rows, (std::vector<int32_t>{0, -1, 1, 2, -1, 3}));
  // Dropless ignores the policy, and validate() rejects the combination.
  c.capacity.kind = CapacityKind::Dropless;
  EXPECT_NE(validate(c), "");
}

TEST(Layer, ExpertChoice) {
  // TinyLayer (identity router, E = 2) with k = 1 under expert choice: each
  // expert takes C = ceil(1 * 2 / 2) = 1 token. Tokens x0 = (2, 1) and
  // x1 = (3, 1) both prefer expert 0: scores (s(1), s(-1)) and (s(2),
  // s(-2)) with s = sigmoid. Expert 0 takes x1 (s(2) > s(1)); expert 1
  // takes x0 (s(-1) > s(-2)), which token choice would never do.
  //   x0 on expert 1: u = (-2, 2), h = (0, 2), out = (0, -2) * s(-1).
  //   x1 on expert 0: u = (4, 2), h = (4, 2), out = (4, 6) * s(2).
  TinyLayer l;
  l.x = {2, 1, 3, 1};
  l.c.router.expertChoice = true;
  ASSERT_EQ(validate(l.c), "");
  LayerResult r = layer(l.c, l.w, l.x.data(), 2);
  EXPECT_NEAR(r.output[0], 0.0, 1e-6);
  EXPECT_NEAR(r.output[1], -2 * sigmoidOf(-1.0), 1e-6);
  EXPECT_NEAR(r.output[2], 4 * sigmoidOf(2.0), 1e-6);
  EXPECT_NEAR(r.output[3], 6 * sigmoidOf(2.0), 1e-6);
  // Two of the four (token, expert) pairs are not taken.
  EXPECT_EQ(r.dropped, 2);
  // Only with softmax scores and no capacity of its own.
  l.c.router.scoring = Scoring::Sigmoid;
  EXPECT_NE(validate(l.c), "");
}

TEST(Route, InfiniteLogits) {
  const float inf = std::numeric_limits<float>::infinity();
  // Two +inf logits share the weight; the finite ones get none.
  std::vector<float> z = {inf, 0.0f, inf, 1.0f};
  RouterConfig r;
  r.k = 2;
  RouteResult s = route(r, z.data(), nullptr, 1, 4);
  EXPECT_EQ(s.ids, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(s.weights, (std::vector<float>{0.5f, 0.5f}));
  r.order = ScoreOrder::TopKSoftmax;
  s = route(r, z.data(), nullptr, 1, 4);
  EXPECT_EQ(s.weights, (std::vector<float>{0.5f, 0.5f}));
  // Every logit -inf: equal shares, ties to the lower ids.
  std::vector<float> cold = {-inf, -inf, -inf};
  r.order = ScoreOrder::SoftmaxTopK;
  s = route(r, cold.data(), nullptr, 1, 3);
  EXPECT_EQ(s.ids, (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(s.weights[0], 1.0 / 3.0, 1e-7);
  EXPECT_NEAR(s.weights[1], 1.0 / 3.0, 1e-7);
  // A single -inf logit is never picked and gets weight 0 in the softmax.
  std::vector<float> oneCold = {-inf, 0.0f, 0.0f};
  s = route(r, oneCold.data(), nullptr, 1, 3);
  EXPECT_EQ(s.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(s.weights[0], 0.5, 1e-7);
}
