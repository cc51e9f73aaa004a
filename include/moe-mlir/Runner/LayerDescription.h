//===- LayerDescription.h - What a runner needs to know of a layer -*- C++ -*-//
//
// Everything a runner needs to call a compiled layer and check it: the
// reference's configuration, each argument's role and element type, the
// results, the FLOPs, and how it was compiled. moe-run derives it from the
// MLIR; moe-compile writes it into the library it builds, as text that
// `moe_layer_description()` returns and that moe-exec parses without MLIR.
//
// The text is one `key value` pair per line, after the first line
// `moe-layer-description 1`; docs/AheadOfTime.md lists the keys.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_LAYERDESCRIPTION_H
#define MOE_MLIR_RUNNER_LAYERDESCRIPTION_H

#include "moe-mlir/Runner/LayerCall.h"
#include "moe-mlir/Runner/Operands.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moe::run {

/// The version of a layer library's C ABI (docs/AheadOfTime.md), which
/// moe_layer_abi_version() returns: 2 since moe_layer_call returns a status.
/// A runner refuses a library of another version.
constexpr int kLayerLibraryABIVersion = 2;

/// The FLOPs of one call, from the cost model's per-token figures: the
/// router and the shared experts for every token, one expert FFN per
/// assignment the layer computes (dropped ones excluded).
struct FlopCount {
  int64_t perToken = 0;
  int64_t perAssignment = 0;
  double of(int64_t tokens, int64_t assignments) const {
    return double(perToken) * double(tokens) +
           double(perAssignment) * double(assignments);
  }
};

/// A weight the layer takes packed into its matmul kernels' panels
/// (moe-cpu-pipeline's pack-weights), and the packing function that makes it.
struct PackedWeight {
  size_t argument = 0;
  std::vector<int64_t> shape;
  ref::ElementType element = ref::ElementType::F32;
  /// The packing function's symbol (@<function>_pack_arg<argument>).
  std::string function;
};

struct LayerDescription {
  /// The function the layer was compiled from.
  std::string function;
  ref::LayerConfig config;
  /// One per function argument, in order.
  std::vector<Role> roles;
  std::vector<ref::ElementType> elements;
  /// The layer's static T, or -1 when T is dynamic.
  int64_t staticTokens = -1;
  bool hasDropped = false, hasStatistics = false;
  FlopCount flops;
  /// How it was compiled: "cpu" or "gpu"; the GPU's chip ("sm_90a"); the
  /// pipeline and its options, as moe-opt spells them.
  std::string target = "cpu", chip, pipeline;
  /// The ranks its routed experts are spread over (moe-expert-parallel): a
  /// library for R > 1 runs as one of R processes on its experts' weights.
  int64_t ranks = 1;
  /// The weights the layer takes packed; empty when it packs none.
  std::vector<PackedWeight> packedWeights;

  bool hasRouterBias() const;
  /// The results' layout, for a LayerCall.
  LayerResults results() const;
};

/// The description as text.
std::string printDescription(const LayerDescription &description);

/// Parses `text` into `description`; returns an empty string or what is
/// wrong with it (the line and the key).
std::string parseDescription(const std::string &text,
                             LayerDescription &description);

/// "f32", "bf16" or "f16".
const char *elementTypeName(ref::ElementType type);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_LAYERDESCRIPTION_H
