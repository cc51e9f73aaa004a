//===- MoERunnerUtils.cpp - Test support for code run by mlir-runner ------===//
//
// C entry points that an MLIR test's main calls (with llvm.emit_c_interface)
// to make seeded random inputs and to check a layer's output against the
// independent reference. Loaded with mlir-runner -shared-libs=...
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Reference/MoEReference.h"
#include "moe-runtime/MoERuntime.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {
namespace ref = moe::ref;

/// A contiguous copy of a ranked memref's elements (any strides).
template <typename T> std::vector<T> contiguous(UnrankedMemRefType<T> *memref) {
  DynamicMemRefType<T> view(*memref);
  std::vector<T> values;
  for (int64_t i = 0; i < view.rank; ++i)
    if (view.sizes[i] == 0)
      return values; // the iterator does not handle empty memrefs
  for (T value : view)
    values.push_back(value);
  return values;
}

template <typename T> int64_t dimOf(UnrankedMemRefType<T> *memref, int i) {
  DynamicMemRefType<T> view(*memref);
  return i < view.rank ? view.sizes[i] : 0;
}

/// The config vector's layout, shared with the tests' memref.global.
enum ConfigSlot {
  kK,
  kScoring,     // 0 softmax, 1 sigmoid
  kOrder,       // 0 softmax_topk, 1 topk_softmax
  kRenormalize, // 0 / 1
  kScale,
  kGroups,
  kTopkGroups,
  kGroupScore,   // 0 max, 1 sum_top2
  kCapacityKind, // 0 dropless, 1 fixed, 2 factor
  kCapacity,
  kFactor,
  kActivation, // swiglu geglu gelu gelu_tanh relu silu
  kNumSlots
};
} // namespace

extern "C" {

/// Fills `memref` with values uniform in [-bound, bound) from (seed, stream).
void _mlir_ciface_moeFillRandom(UnrankedMemRefType<float> *memref, int64_t seed,
                                int64_t stream, float bound) {
  DynamicMemRefType<float> view(*memref);
  int64_t size = 1;
  for (int64_t i = 0; i < view.rank; ++i)
    size *= view.sizes[i];
  std::vector<float> values(size);
  if (moe_rt_fill_uniform_f32(values.data(), size,
                              uint64_t(seed) * 1000003ull + uint64_t(stream),
                              -bound, bound) != MOE_RT_OK) {
    std::printf("moeFillRandom: %s\n", moe_rt_last_error());
    return;
  }
  auto it = values.begin();
  for (float &element : view)
    element = *it++;
}

/// Adds `delta` to element `index` of a rank-1 memref (to make a hot expert).
void _mlir_ciface_moeAddAt(UnrankedMemRefType<float> *memref, int64_t index,
                           float delta) {
  DynamicMemRefType<float> view(*memref);
  if (view.rank == 1 && index >= 0 && index < view.sizes[0])
    view.data[view.offset + index * view.strides[0]] += delta;
}

/// The seed of this run (MOE_TEST_SEED or fresh), printed for replay.
int64_t moeTestSeed() {
  uint64_t seed = moe_rt_fresh_seed() & 0x7fffffffffffffffull;
  std::printf("seed: %" PRIu64 " (replay with MOE_TEST_SEED=%" PRIu64 ")\n",
              seed, seed);
  std::fflush(stdout);
  return static_cast<int64_t>(seed);
}

/// Runs the reference on the same inputs and prints one line:
///   moe-check: T=.. max abs err .., rel err .., dropped a (reference b): PASS
/// Absent optional operands (biases, gate) are passed as empty memrefs.
void _mlir_ciface_moeCheckLayer(
    UnrankedMemRefType<double> *configMemref, UnrankedMemRefType<float> *x,
    UnrankedMemRefType<float> *router, UnrankedMemRefType<float> *routerBias,
    UnrankedMemRefType<float> *selectionBias, UnrankedMemRefType<float> *gate,
    UnrankedMemRefType<float> *up, UnrankedMemRefType<float> *down,
    UnrankedMemRefType<float> *output, UnrankedMemRefType<int64_t> *dropped) {
  std::vector<double> slots = contiguous(configMemref);
  if (slots.size() != kNumSlots) {
    std::printf("moe-check: config has %zu slots, expected %d: FAIL\n",
                slots.size(), int(kNumSlots));
    return;
  }
  ref::LayerConfig config;
  config.D = dimOf(x, 1);
  config.E = dimOf(router, 0);
  config.F = dimOf(up, 1);
  config.router.k = int64_t(slots[kK]);
  config.router.scoring =
      slots[kScoring] ? ref::Scoring::Sigmoid : ref::Scoring::Softmax;
  config.router.order = slots[kOrder] ? ref::ScoreOrder::TopKSoftmax
                                      : ref::ScoreOrder::SoftmaxTopK;
  config.router.renormalize = slots[kRenormalize] != 0;
  config.router.scale = slots[kScale];
  config.router.groups = int64_t(slots[kGroups]);
  config.router.topkGroups = int64_t(slots[kTopkGroups]);
  config.router.groupScore =
      slots[kGroupScore] ? ref::GroupScore::SumTop2 : ref::GroupScore::Max;
  config.capacity.kind =
      static_cast<ref::CapacityKind>(int(slots[kCapacityKind]));
  config.capacity.capacity = int64_t(slots[kCapacity]);
  config.capacity.factor = slots[kFactor];
  config.activation = static_cast<ref::Activation>(int(slots[kActivation]));
  std::string invalid = ref::validate(config);
  if (!invalid.empty()) {
    std::printf("moe-check: invalid config: %s: FAIL\n", invalid.c_str());
    return;
  }

  std::vector<float> tokens = contiguous(x), wr = contiguous(router),
                     rb = contiguous(routerBias),
                     sb = contiguous(selectionBias), wg = contiguous(gate),
                     wu = contiguous(up), wd = contiguous(down),
                     y = contiguous(output);
  ref::LayerWeights weights;
  weights.router = wr.data();
  weights.routerBias = rb.empty() ? nullptr : rb.data();
  weights.selectionBias = sb.empty() ? nullptr : sb.data();
  weights.gate = wg.empty() ? nullptr : wg.data();
  weights.up = wu.data();
  weights.down = wd.data();
  int64_t T = dimOf(x, 0);
  ref::LayerResult expected = ref::layer(config, weights, tokens.data(), T);

  bool sameSize = y.size() == expected.output.size();
  ref::OutputError error =
      sameSize ? ref::compareOutput(y.data(), expected.output.data(),
                                    int64_t(y.size()))
               : ref::OutputError{0.0, 0.0, false};
  double maxAbs = error.maxAbs, rel = error.relative;
  bool finite = error.finite;
  int64_t got = contiguous(dropped).at(0);
  bool pass = finite && rel < 1e-5 && got == expected.dropped;
  std::printf("moe-check: T=%" PRId64 " max abs err %.3e, rel err %.3e, "
              "dropped %" PRId64 " (reference %" PRId64 "): %s\n",
              T, maxAbs, rel, got, expected.dropped, pass ? "PASS" : "FAIL");
  std::fflush(stdout);
}
}
