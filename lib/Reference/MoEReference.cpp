//===- MoEReference.cpp - Independent reference of the MoE semantics ------===//
//
// Plain loops over the contract of docs/Semantics.md. Everything is computed
// in double and only rounded to float on output. Clarity wins over speed: this
// is the oracle the compiled code is checked against.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Reference/MoEReference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>

namespace moe::ref {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kInf = std::numeric_limits<double>::infinity();

double sigmoid(double z) {
  // Two branches so that exp never overflows.
  if (z >= 0)
    return 1.0 / (1.0 + std::exp(-z));
  double ez = std::exp(z);
  return ez / (1.0 + ez);
}

double silu(double g) { return g * sigmoid(g); }

double gelu(double u) { return 0.5 * u * (1.0 + std::erf(u / std::sqrt(2.0))); }

double geluTanh(double u) {
  const double kPi = 3.14159265358979323846;
  double inner = std::sqrt(2.0 / kPi) * (u + 0.044715 * u * u * u);
  return 0.5 * u * (1.0 + std::tanh(inner));
}

bool isGated(Activation act) {
  return act == Activation::SwiGLU || act == Activation::GeGLU ||
         act == Activation::ClampedSwiGLU;
}

/// One FFN on one token x [D]: gate/up [F, D], down [D, F], optional
/// biases [F], [F], [D]; writes out [D] in double.
/// float to bf16 bits, round to nearest even; past the range it is inf.
uint16_t bf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return uint16_t((bits >> 16) | 0x40); // quiet
  bits += 0x7FFF + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}
} // namespace

uint16_t toBits(ElementType type, float value) {
  if (type == ElementType::BF16)
    return bf16Bits(value);
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, 2);
  return bits;
}

float fromBits(ElementType type, uint16_t bits) {
  if (type == ElementType::BF16) {
    uint32_t wide = uint32_t(bits) << 16;
    float value;
    std::memcpy(&value, &wide, 4);
    return value;
  }
  _Float16 half;
  std::memcpy(&half, &bits, 2);
  return float(half);
}

double roundTo(ElementType type, double value) {
  if (type == ElementType::F32)
    return value;
  return fromBits(type, toBits(type, float(value)));
}

namespace {
void ffn(const LayerConfig &config, int64_t F, const float *x, const float *wg,
         const float *bg, const float *wu, const float *bu, const float *wd,
         const float *bd, double *out) {
  const int64_t D = config.D;
  const bool gated = isGated(config.activation);
  std::vector<double> h(F);
  for (int64_t f = 0; f < F; ++f) {
    double g = gated && bg ? double(bg[f]) : 0.0;
    double u = bu ? double(bu[f]) : 0.0;
    for (int64_t d = 0; d < D; ++d) {
      u += double(wu[f * D + d]) * double(x[d]);
      if (gated)
        g += double(wg[f * D + d]) * double(x[d]);
    }
    h[f] = roundTo(config.element, activate(config.activation, g, u,
                                            config.alpha, config.limit));
  }
  for (int64_t d = 0; d < D; ++d) {
    double acc = bd ? double(bd[d]) : 0.0;
    for (int64_t f = 0; f < F; ++f)
      acc += double(wd[d * F + f]) * h[f];
    out[d] = roundTo(config.element, acc);
  }
}

/// z - max for a softmax, or 0 where z is the max: with an infinite max
/// the infinite logits (or, all -inf, all logits) share the weight equally
/// instead of giving inf - inf = NaN.
double shiftedByMax(double z, double max) { return z == max ? 0.0 : z - max; }

/// NaN never wins against a number, so it compares as -inf.
double orderKey(double v) { return std::isnan(v) ? kNegInf : v; }

/// Strictly better in selection order: larger key, then lower index.
bool better(double keyA, int64_t a, double keyB, int64_t b) {
  if (keyA != keyB)
    return keyA > keyB;
  return a < b;
}

/// How close a selection between keys `chosen` (the weakest kept) and
/// `rival` (the strongest left out) is to going the other way, relative to
/// their magnitude (at least 1).
double relativeGap(double chosen, double rival) {
  if (!std::isfinite(chosen) || !std::isfinite(rival))
    return kInf;
  return (chosen - rival) /
         std::max({1.0, std::fabs(chosen), std::fabs(rival)});
}

/// Routes one token with logits z[E] in double. Writes k ids and k weights,
/// and in `margin` how close its selection is to a different one (the
/// smallest relative gap between a kept and a left-out expert or group).
void routeToken(const RouterConfig &router, const double *z,
                const float *selectionBias, int64_t E, int32_t *ids,
                double *weights, double *margin = nullptr) {
  double closest = kInf;
  const int64_t k = router.k;

  // Scores.
  std::vector<double> s(E);
  if (router.scoring == Scoring::Sigmoid) {
    for (int64_t e = 0; e < E; ++e)
      s[e] = sigmoid(z[e]);
  } else if (router.order == ScoreOrder::TopKSoftmax) {
    for (int64_t e = 0; e < E; ++e)
      s[e] = z[e];
  } else {
    // Subtract the max so that exp never overflows.
    double mx = kNegInf;
    for (int64_t e = 0; e < E; ++e)
      mx = std::max(mx, z[e]);
    double sum = 0.0;
    for (int64_t e = 0; e < E; ++e) {
      s[e] = std::exp(shiftedByMax(z[e], mx));
      sum += s[e];
    }
    for (int64_t e = 0; e < E; ++e)
      s[e] /= sum;
  }

  // Selection keys: the bias moves the choice but never the weight. A router
  // without bias or groups selects on the logits: softmax and sigmoid are
  // monotonic, a NaN logit then cannot poison the other experts' keys, and
  // saturated sigmoids (1.0 for every logit above ~17 in f32) do not tie.
  std::vector<double> key(E);
  bool onLogits = !selectionBias && router.groups == 1;
  for (int64_t e = 0; e < E; ++e)
    key[e] = orderKey(onLogits        ? z[e]
                      : selectionBias ? s[e] + double(selectionBias[e])
                                      : s[e]);

  // Eligibility. Kept as a separate mask rather than by setting keys to -inf:
  // an ineligible expert must lose even against an eligible -inf key.
  std::vector<char> eligible(E, 1);
  const int64_t G = router.groups;
  if (G > 1) {
    const int64_t size = E / G;
    std::vector<double> groupScore(G);
    for (int64_t g = 0; g < G; ++g) {
      double best = kNegInf, second = kNegInf;
      for (int64_t i = 0; i < size; ++i) {
        double v = key[g * size + i];
        if (v > best) {
          second = best;
          best = v;
        } else if (v > second) {
          second = v;
        }
      }
      double score =
          router.groupScore == GroupScore::Max ? best : best + second;
      groupScore[g] = orderKey(score); // +inf + -inf is NaN.
    }
    std::vector<char> keptGroup(G, 0);
    int64_t weakestGroup = -1;
    for (int64_t m = 0; m < router.topkGroups; ++m) {
      int64_t pick = -1;
      for (int64_t g = 0; g < G; ++g)
        if (!keptGroup[g] &&
            (pick < 0 || better(groupScore[g], g, groupScore[pick], pick)))
          pick = g;
      keptGroup[pick] = 1;
      weakestGroup = pick;
    }
    for (int64_t g = 0; g < G; ++g)
      if (!keptGroup[g] && weakestGroup >= 0)
        closest = std::min(
            closest, relativeGap(groupScore[weakestGroup], groupScore[g]));
    for (int64_t e = 0; e < E; ++e)
      eligible[e] = keptGroup[e / size];
  }

  // Top-k by repeated scans: slot 0 gets the best expert.
  std::vector<char> taken(E, 0);
  for (int64_t j = 0; j < k; ++j) {
    int64_t pick = -1;
    for (int64_t e = 0; e < E; ++e)
      if (eligible[e] && !taken[e] &&
          (pick < 0 || better(key[e], e, key[pick], pick)))
        pick = e;
    taken[pick] = 1;
    ids[j] = int32_t(pick);
  }
  for (int64_t e = 0; e < E; ++e)
    if (eligible[e] && !taken[e])
      closest = std::min(closest, relativeGap(key[ids[k - 1]], key[e]));
  if (margin)
    *margin = closest;

  // Weights.
  if (router.scoring == Scoring::Softmax &&
      router.order == ScoreOrder::TopKSoftmax) {
    double mx = kNegInf;
    for (int64_t j = 0; j < k; ++j)
      mx = std::max(mx, z[ids[j]]);
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      weights[j] = std::exp(shiftedByMax(z[ids[j]], mx));
      sum += weights[j];
    }
    for (int64_t j = 0; j < k; ++j)
      weights[j] /= sum;
  } else {
    for (int64_t j = 0; j < k; ++j)
      weights[j] = s[ids[j]];
  }
  if (router.renormalize) {
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j)
      sum += weights[j];
    for (int64_t j = 0; j < k; ++j)
      weights[j] /= sum;
  }
  for (int64_t j = 0; j < k; ++j)
    weights[j] *= router.scale;
}

} // namespace

std::string validate(const LayerConfig &config) {
  std::ostringstream os;
  const RouterConfig &r = config.router;
  if (config.D <= 0) {
    os << "the model width D must be positive, got " << config.D << ".";
  } else if (config.F <= 0) {
    os << "the expert hidden width F must be positive, got " << config.F << ".";
  } else if (config.E <= 0) {
    os << "the number of experts E must be positive, got " << config.E << ".";
  } else if (r.k <= 0) {
    os << "k must be positive, got " << r.k << ".";
  } else if (r.k > config.E) {
    os << "k = " << r.k << " exceeds the number of experts E = " << config.E
       << ".";
  } else if (r.groups <= 0) {
    os << "the number of expert groups must be positive, got " << r.groups
       << ".";
  } else if (config.E % r.groups != 0) {
    os << "E = " << config.E << " experts do not split into " << r.groups
       << " equal groups.";
  } else if (r.topkGroups <= 0 || r.topkGroups > r.groups) {
    os << "topk_groups must be in [1, " << r.groups << "], got " << r.topkGroups
       << ".";
  } else if (r.topkGroups * (config.E / r.groups) < r.k) {
    os << "the " << r.topkGroups << " kept groups hold only "
       << r.topkGroups * (config.E / r.groups)
       << " experts, fewer than k = " << r.k << ".";
  } else if (r.groups > 1 && r.groupScore == GroupScore::SumTop2 &&
             config.E / r.groups < 2) {
    os << "the sum_top2 group score needs at least 2 experts per group, got "
       << config.E / r.groups << ".";
  } else if (r.expertChoice &&
             (r.scoring != Scoring::Softmax ||
              r.order != ScoreOrder::SoftmaxTopK || r.renormalize ||
              r.groups != 1 || r.weightsOnInput ||
              config.capacity.kind != CapacityKind::Dropless)) {
    os << "expert choice needs softmax scores over all experts, no "
          "renormalisation, no groups, weights on the output and no other "
          "capacity.";
  } else if (r.weightsOnInput && r.k != 1) {
    os << "weights on the expert input need k = 1, got k = " << r.k << ".";
  } else if ((config.capacity.droppedIdentity ||
              config.capacity.dropByProbability) &&
             config.capacity.kind == CapacityKind::Dropless) {
    os << "a dropless capacity drops nothing: no drop policy or dropped "
          "output applies.";
  } else if (config.sharedF < 0) {
    os << "the shared experts' width must not be negative, got "
       << config.sharedF << ".";
  } else if (config.capacity.kind == CapacityKind::Fixed &&
             config.capacity.capacity <= 0) {
    os << "a fixed capacity must be positive, got " << config.capacity.capacity
       << ".";
  } else if (config.capacity.kind == CapacityKind::Factor &&
             !(config.capacity.factor > 0 &&
               std::isfinite(config.capacity.factor))) {
    os << "a capacity factor must be positive and finite, got "
       << config.capacity.factor << ".";
  }
  return os.str();
}

int64_t capacityFor(const LayerConfig &config, int64_t T) {
  switch (config.capacity.kind) {
  case CapacityKind::Dropless:
    return -1;
  case CapacityKind::Fixed:
    return config.capacity.capacity;
  case CapacityKind::Factor: {
    double c = config.capacity.factor * double(T) * double(config.router.k) /
               double(config.E);
    // The epsilon absorbs rounding: 1.1 * 100 / 110 = 1.0000000000000002.
    return int64_t(std::ceil(c - 1e-9));
  }
  }
  return -1;
}

RouteResult route(const RouterConfig &router, const float *logits,
                  const float *selectionBias, int64_t T, int64_t E) {
  const int64_t k = router.k;
  RouteResult result;
  result.weights.resize(T * k);
  result.ids.resize(T * k);
  std::vector<double> z(E), w(k);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t e = 0; e < E; ++e)
      z[e] = logits[t * E + e];
    routeToken(router, z.data(), selectionBias, E, &result.ids[t * k],
               w.data());
    for (int64_t j = 0; j < k; ++j)
      result.weights[t * k + j] = float(w[j]);
  }
  return result;
}

DispatchPlan plan(const LayerConfig &config, const int32_t *ids, int64_t T,
                  const float *weights) {
  const int64_t E = config.E, k = config.router.k;
  DispatchPlan p;
  p.capacity = capacityFor(config, T);
  p.rows.assign(T * k, -1);
  p.sources.assign(T * k, -1);
  p.offsets.assign(E + 1, 0);

  std::vector<char> kept(T * k, 0);
  std::vector<int64_t> count(E, 0);
  if (config.capacity.dropByProbability && p.capacity >= 0) {
    // Each expert keeps its `capacity` heaviest assignments; NaN weighs
    // least; equal weights go in position order (j major, t minor).
    auto weightOf = [&](int64_t i) {
      double w = weights[i];
      return std::isnan(w) ? kNegInf : w;
    };
    std::vector<std::vector<int64_t>> members(E);
    for (int64_t j = 0; j < k; ++j)
      for (int64_t t = 0; t < T; ++t) {
        int64_t e = ids[t * k + j];
        if (e >= 0 && e < E)
          members[e].push_back(t * k + j);
        else
          ++p.dropped;
      }
    for (int64_t e = 0; e < E; ++e) {
      std::stable_sort(
          members[e].begin(), members[e].end(),
          [&](int64_t x, int64_t y) { return weightOf(x) > weightOf(y); });
      for (size_t r = 0; r < members[e].size(); ++r) {
        if (int64_t(r) < p.capacity) {
          kept[members[e][r]] = 1;
          ++count[e];
        } else {
          ++p.dropped;
        }
      }
    }
  } else {
    // Keep decision in priority order: all j = 0 in token order, then j = 1...
    for (int64_t j = 0; j < k; ++j) {
      for (int64_t t = 0; t < T; ++t) {
        int64_t e = ids[t * k + j];
        if (e < 0 || e >= E || (p.capacity >= 0 && count[e] >= p.capacity)) {
          ++p.dropped;
          continue;
        }
        ++count[e];
        kept[t * k + j] = 1;
      }
    }
  }

  for (int64_t e = 0; e < E; ++e)
    p.offsets[e + 1] = int32_t(p.offsets[e] + count[e]);

  // Row placement in (t, j) order, independent of the priority order.
  std::vector<int64_t> next(p.offsets.begin(), p.offsets.end() - 1);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t j = 0; j < k; ++j) {
      if (!kept[t * k + j])
        continue;
      int64_t row = next[ids[t * k + j]]++;
      p.rows[t * k + j] = int32_t(row);
      p.sources[row] = int32_t(t);
    }
  }
  return p;
}

// The config is assumed to pass validate(); the weights to match its shapes.
LayerResult layer(const LayerConfig &config, const LayerWeights &weights,
                  const float *tokens, int64_t T) {
  if (config.router.expertChoice) {
    // Every token scores every expert (k = E, in score order); each expert
    // keeps its ceil(k T / E) best: the probability policy at capacity
    // factor k / E over the T * E assignments.
    LayerConfig tokenChoice = config;
    tokenChoice.router.expertChoice = false;
    tokenChoice.router.k = config.E;
    tokenChoice.capacity.kind = CapacityKind::Factor;
    tokenChoice.capacity.factor = double(config.router.k) / double(config.E);
    tokenChoice.capacity.dropByProbability = true;
    return layer(tokenChoice, weights, tokens, T);
  }
  const int64_t D = config.D, F = config.F, E = config.E;
  const int64_t k = config.router.k;
  LayerResult result;
  result.output.assign(T * D, 0.0f);
  result.routingMargins.assign(T, kInf);

  // Route in double all the way: the logits are never rounded to float.
  std::vector<int32_t> ids(T * k);
  std::vector<double> gateWeights(T * k);
  std::vector<double> allLogits(T * E);
  for (int64_t t = 0; t < T; ++t) {
    const float *x = tokens + t * D;
    double *z = &allLogits[t * E];
    for (int64_t e = 0; e < E; ++e) {
      double acc = weights.routerBias ? double(weights.routerBias[e]) : 0.0;
      for (int64_t d = 0; d < D; ++d)
        acc += double(weights.router[e * D + d]) * double(x[d]);
      z[e] = acc;
    }
    routeToken(config.router, z, weights.selectionBias, E, &ids[t * k],
               &gateWeights[t * k], &result.routingMargins[t]);
  }
  result.statistics = routerStatistics(allLogits.data(), ids.data(), T, E, k);

  // The compiled layer's gate weights are f32: the probability policy
  // ranks those.
  std::vector<float> weightsF32(gateWeights.begin(), gateWeights.end());
  DispatchPlan p = plan(config, ids.data(), T, weightsF32.data());
  result.dropped = p.dropped;
  result.offsets = p.offsets;

  // Experts on the kept rows; padding rows stay zero. With the weights on
  // the input, a row is its token scaled by the assignment's weight.
  const bool gated = isGated(config.activation);
  std::vector<double> expertOut(T * k * D, 0.0);
  std::vector<int32_t> rowAssignment(T * k, -1);
  for (int64_t i = 0; i < T * k; ++i)
    if (p.rows[i] >= 0)
      rowAssignment[p.rows[i]] = int32_t(i);
  std::vector<float> scaled(D);
  for (int64_t e = 0; e < E; ++e) {
    const float *wg = gated ? weights.gate + e * F * D : nullptr;
    const float *bg = weights.gateBias ? weights.gateBias + e * F : nullptr;
    const float *bu = weights.upBias ? weights.upBias + e * F : nullptr;
    const float *bd = weights.downBias ? weights.downBias + e * D : nullptr;
    for (int64_t r = p.offsets[e]; r < p.offsets[e + 1]; ++r) {
      const float *x = tokens + int64_t(p.sources[r]) * D;
      if (config.router.weightsOnInput) {
        // The compiled layer rounds the scaled row to the tokens' type.
        double w = gateWeights[rowAssignment[r]];
        for (int64_t d = 0; d < D; ++d)
          scaled[d] = float(roundTo(config.element, w * double(x[d])));
        x = scaled.data();
      }
      ffn(config, F, x, wg, bg, weights.up + e * F * D, bu,
          weights.down + e * D * F, bd, &expertOut[r * D]);
    }
  }

  // Combine per token in j order; dropped assignments add nothing, or the
  // token itself times the weight. Then the shared experts.
  std::vector<double> y(D), shared(D);
  for (int64_t t = 0; t < T; ++t) {
    const float *x = tokens + t * D;
    std::fill(y.begin(), y.end(), 0.0);
    for (int64_t j = 0; j < k; ++j) {
      int64_t row = p.rows[t * k + j];
      double w = config.router.weightsOnInput ? 1.0 : gateWeights[t * k + j];
      if (row < 0) {
        if (config.capacity.droppedIdentity)
          for (int64_t d = 0; d < D; ++d)
            y[d] += w * double(x[d]);
        continue;
      }
      for (int64_t d = 0; d < D; ++d)
        y[d] += w * expertOut[row * D + d];
    }
    if (config.sharedF > 0) {
      // The routed sum is rounded before the shared output is added.
      for (int64_t d = 0; d < D; ++d)
        y[d] = roundTo(config.element, y[d]);
      ffn(config, config.sharedF, x, weights.sharedGate, nullptr,
          weights.sharedUp, nullptr, weights.sharedDown, nullptr,
          shared.data());
      double scale = 1.0;
      if (weights.sharedSigmoidGate) {
        double z = 0.0;
        for (int64_t d = 0; d < D; ++d)
          z += double(weights.sharedSigmoidGate[d]) * double(x[d]);
        scale = sigmoid(z);
      }
      for (int64_t d = 0; d < D; ++d)
        y[d] += scale * shared[d];
    }
    for (int64_t d = 0; d < D; ++d)
      result.output[t * D + d] = float(roundTo(config.element, y[d]));
  }
  return result;
}

RouterStatistics routerStatistics(const double *logits, const int32_t *ids,
                                  int64_t T, int64_t E, int64_t k) {
  RouterStatistics stats;
  stats.expertCounts.assign(E, 0);
  for (int64_t i = 0; i < T * k; ++i)
    if (ids[i] >= 0 && ids[i] < E)
      ++stats.expertCounts[ids[i]];
  if (T == 0)
    return stats;
  std::vector<double> meanProbability(E, 0.0);
  double zSum = 0.0;
  for (int64_t t = 0; t < T; ++t) {
    const double *z = logits + t * E;
    double mx = kNegInf;
    for (int64_t e = 0; e < E; ++e)
      if (z[e] > mx)
        mx = z[e];
    double sum = 0.0;
    for (int64_t e = 0; e < E; ++e)
      sum += std::exp(z[e] - mx);
    double logSumExp = mx + std::log(sum);
    zSum += logSumExp * logSumExp;
    for (int64_t e = 0; e < E; ++e)
      meanProbability[e] += std::exp(z[e] - logSumExp) / double(T);
  }
  for (int64_t e = 0; e < E; ++e)
    stats.auxLoss +=
        double(stats.expertCounts[e]) / double(T) * meanProbability[e];
  stats.auxLoss *= double(E);
  stats.zLoss = zSum / double(T);
  return stats;
}

double activate(Activation act, double g, double u, double alpha,
                double limit) {
  switch (act) {
  case Activation::SwiGLU:
    return silu(g) * u;
  case Activation::GeGLU:
    return gelu(g) * u;
  case Activation::Gelu:
    return gelu(u);
  case Activation::GeluTanh:
    return geluTanh(u);
  case Activation::Relu:
    // Written so that a NaN passes through rather than being hidden.
    return u < 0.0 ? 0.0 : u;
  case Activation::Silu:
    return silu(u);
  case Activation::ClampedSwiGLU: {
    // Comparisons written so that a NaN passes through.
    double gc = g > limit ? limit : g;
    double uc = u > limit ? limit : (u < -limit ? -limit : u);
    return (uc + 1.0) * gc * sigmoid(alpha * gc);
  }
  }
  return 0.0;
}

OutputError compareOutput(const float *actual, const float *expected,
                          int64_t n) {
  OutputError error;
  double maxReference = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    bool actualFinite = std::isfinite(actual[i]);
    bool expectedFinite = std::isfinite(expected[i]);
    error.nonFinite += !actualFinite;
    error.finiteMismatches += actualFinite != expectedFinite;
    if (!actualFinite || !expectedFinite)
      continue;
    error.maxAbs = std::max(error.maxAbs,
                            std::fabs(double(actual[i]) - double(expected[i])));
    maxReference = std::max(maxReference, std::fabs(double(expected[i])));
  }
  error.finite = error.nonFinite == 0;
  error.relative =
      maxReference > 0 ? error.maxAbs / maxReference : error.maxAbs;
  return error;
}

} // namespace moe::ref
