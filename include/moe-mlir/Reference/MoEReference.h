//===- MoEReference.h - Independent reference of the MoE semantics -*- C++ -*-//
//
// A plain-loop implementation of the MoE layer semantics (docs/Semantics.md),
// with double accumulation. It shares no code with the MLIR lowering and has
// no MLIR dependency: it is the oracle of moe-run and of the execution tests.
//
// Layouts follow PyTorch's Linear convention [out, in]:
//   tokens [T, D], router [E, D], gate/up [E, F, D], down [E, D, F].
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_REFERENCE_MOEREFERENCE_H
#define MOE_MLIR_REFERENCE_MOEREFERENCE_H

#include <cstdint>
#include <string>
#include <vector>

namespace moe::ref {

enum class Scoring { Softmax, Sigmoid };
/// Softmax over all experts then top-k, or top-k of the logits then softmax
/// over the k picked (Mixtral, GPT-OSS). Ignored for sigmoid scoring.
enum class ScoreOrder { SoftmaxTopK, TopKSoftmax };
/// Score of an expert group: its best selection score, or the sum of its two
/// best (DeepSeek-V3).
enum class GroupScore { Max, SumTop2 };
enum class Activation {
  SwiGLU,
  GeGLU,
  Gelu,
  GeluTanh,
  Relu,
  Silu,
  /// GPT-OSS: g' = min(g, limit), u' = clamp(u, -limit, limit),
  /// (u' + 1) * g' * sigmoid(alpha * g').
  ClampedSwiGLU
};
enum class CapacityKind { Dropless, Fixed, Factor };

struct RouterConfig {
  Scoring scoring = Scoring::Softmax;
  ScoreOrder order = ScoreOrder::SoftmaxTopK;
  int64_t k = 1;
  bool renormalize = false;
  double scale = 1.0;
  int64_t groups = 1;     ///< G contiguous expert groups (1: no grouping).
  int64_t topkGroups = 1; ///< M groups kept.
  GroupScore groupScore = GroupScore::Max;
  /// The weight scales the expert's input instead of its output (Llama-4).
  bool weightsOnInput = false;
  /// Expert choice: each expert takes the ceil(k T / E) tokens with the
  /// largest softmax scores (k: experts per token on average).
  bool expertChoice = false;
};

struct CapacityConfig {
  CapacityKind kind = CapacityKind::Dropless;
  int64_t capacity = 0; ///< For Fixed.
  double factor = 1.0;  ///< For Factor: C = ceil(factor * T * k / E).
  /// A dropped assignment adds w * x (Hugging Face Switch) instead of zero.
  bool droppedIdentity = false;
  /// The `probability` drop policy: an expert keeps the assignments with the
  /// largest (f32) gate weights, ties in position order.
  bool dropByProbability = false;
};

/// The element type of a layer's tokens and weights. The compiled layer
/// computes in f32 and rounds, as a framework computing in bf16 or f16 does,
/// the hidden state, each expert's output rows and the layer's output to it;
/// the reference rounds at the same places (and nowhere for f32, keeping
/// double). A value beyond the type's range rounds to +-inf.
enum class ElementType { F32, BF16, F16 };

/// `value` rounded to `type` (nearest even), as a double.
double roundTo(ElementType type, double value);

/// The 16 bits of `value` rounded to bf16 or f16 (nearest even; past the
/// range it is inf, a NaN stays a quiet NaN). `type` is BF16 or F16. The one
/// conversion of the project's host code: the reference, moe-run and the
/// checkpoint reader all use it.
uint16_t toBits(ElementType type, float value);
/// The f32 value of a bf16 or f16 bit pattern (exact). `type` is BF16 or F16.
float fromBits(ElementType type, uint16_t bits);

struct LayerConfig {
  int64_t D = 0, F = 0, E = 0;
  ElementType element = ElementType::F32;
  RouterConfig router;
  CapacityConfig capacity;
  Activation activation = Activation::SwiGLU;
  double alpha = 1.702, limit = 7.0; ///< ClampedSwiGLU's parameters.
  /// Width S of the shared experts' FFN (0: none). The shared FFN uses the
  /// routed experts' activation.
  int64_t sharedF = 0;
};

/// Non-owning views of the layer's weights (row-major, fp32).
struct LayerWeights {
  const float *router = nullptr;        ///< [E, D]
  const float *routerBias = nullptr;    ///< [E] or null: added to the logits.
  const float *selectionBias = nullptr; ///< [E] or null: selection only.
  const float *gate = nullptr;          ///< [E, F, D], gated activations only.
  const float *up = nullptr;            ///< [E, F, D]
  const float *down = nullptr;          ///< [E, D, F]
  const float *gateBias = nullptr;      ///< [E, F] or null.
  const float *upBias = nullptr;        ///< [E, F] or null.
  const float *downBias = nullptr;      ///< [E, D] or null.
  const float *sharedGate = nullptr;    ///< [S, D], gated activations only.
  const float *sharedUp = nullptr;      ///< [S, D] when sharedF > 0.
  const float *sharedDown = nullptr;    ///< [D, S] when sharedF > 0.
  /// [1, D] or null: the shared output is scaled by sigmoid(x . w).
  const float *sharedSigmoidGate = nullptr;
};

struct RouteResult {
  std::vector<float> weights; ///< [T, k]
  std::vector<int32_t> ids;   ///< [T, k]
};

struct DispatchPlan {
  int64_t capacity = -1;        ///< Per-expert capacity, -1 when dropless.
  std::vector<int32_t> offsets; ///< [E + 1], segment starts; offsets[E] = kept.
  std::vector<int32_t> rows;    ///< [T, k], row of each assignment, -1 dropped.
  std::vector<int32_t> sources; ///< [T * k], token of each row, -1 padding.
  int64_t dropped = 0;
};

/// Training-time statistics of a routing (docs/Semantics.md).
struct RouterStatistics {
  std::vector<int64_t> expertCounts; ///< [E] assignments, before capacity.
  /// E * sum_e (count_e / T) * mean_t softmax(z_t)_e; 0 when T = 0.
  double auxLoss = 0.0;
  double zLoss = 0.0; ///< mean_t logsumexp(z_t)^2; 0 when T = 0.
};

struct LayerResult {
  std::vector<float> output; ///< [T, D]
  int64_t dropped = 0;
  std::vector<int32_t> offsets; ///< [E + 1], the dispatch plan's segments.
  RouterStatistics statistics;
  /// [T]: how close each token's selection is to a different one: the
  /// smallest gap between the key of a kept expert (or group) and one left
  /// out, relative to their magnitude (at least 1); +inf when nothing
  /// competes. A compiled layer computes the keys in f32: where the gap is
  /// below f32's rounding, it may rightly choose the other expert.
  std::vector<double> routingMargins;
};

/// The statistics of logits [T, E] (router bias included, in double) and
/// the chosen ids [T, k].
RouterStatistics routerStatistics(const double *logits, const int32_t *ids,
                                  int64_t T, int64_t E, int64_t k);

/// Checks a configuration; returns an empty string when it is valid, else a
/// sentence that says what is wrong.
std::string validate(const LayerConfig &config);

/// Per-expert capacity for T tokens; -1 when dropless.
int64_t capacityFor(const LayerConfig &config, int64_t T);

/// Routes logits [T, E] (router bias already added).
RouteResult route(const RouterConfig &router, const float *logits,
                  const float *selectionBias, int64_t T, int64_t E);

/// Plans the dispatch of expert ids [T, k] under the capacity policy; the
/// `probability` policy ranks by `weights` [T, k] (required then).
DispatchPlan plan(const LayerConfig &config, const int32_t *ids, int64_t T,
                  const float *weights = nullptr);

/// The whole layer on tokens [T, D].
LayerResult layer(const LayerConfig &config, const LayerWeights &weights,
                  const float *tokens, int64_t T);

/// How far an output [n] is from the reference's: the largest absolute
/// error, that error relative to the reference's largest magnitude (the
/// absolute error when the reference is all zeros), both over the elements
/// finite in both; whether every output element is finite; and at how many
/// elements one is finite and the other is not. (Which non-finite value an
/// overflow ends in, +-inf or NaN, depends on the order of the f32 sums
/// after it, so only finiteness is compared.)
struct OutputError {
  double maxAbs = 0.0;
  double relative = 0.0;
  bool finite = true;
  int64_t nonFinite = 0;        ///< non-finite elements of `actual`
  int64_t finiteMismatches = 0; ///< finite in one, not in the other
};
OutputError compareOutput(const float *actual, const float *expected,
                          int64_t n);

/// The activation of one hidden unit: a gated activation takes the gate
/// projection g and the up projection u; an ungated one only u. `alpha` and
/// `limit` are ClampedSwiGLU's.
double activate(Activation act, double g, double u, double alpha = 1.702,
                double limit = 7.0);

} // namespace moe::ref

#endif // MOE_MLIR_REFERENCE_MOEREFERENCE_H
