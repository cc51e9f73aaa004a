//===- BatchInvariance.h - A token alone and in batches ---------*- C++ -*-===//
//
// Checks a compiled layer for batch invariance: each probe token's output is
// bitwise identical whether it runs alone or at the start, the middle or the
// end of batches of other random tokens, at several batch sizes and thread
// counts. This holds for layers whose routing of a token depends on that
// token alone (dropless, token-choice): the code must not let T, a row's
// position or the thread count change any summation order.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_BATCHINVARIANCE_H
#define MOE_MLIR_RUNNER_BATCHINVARIANCE_H

#include "moe-mlir/Runner/Inputs.h"
#include "moe-mlir/Runner/LayerCall.h"

#include <functional>
#include <string>
#include <vector>

namespace moe::run {

struct InvarianceOptions {
  /// Batch sizes the probes are placed in (each at least 1).
  std::vector<int64_t> batchSizes;
  /// Thread counts every batch runs with; the probes run alone with the
  /// first.
  std::vector<int> threadCounts;
  /// Seed of the probes and of the other tokens.
  uint64_t seed = 0;
  /// Number of probe tokens.
  int64_t probes = 3;
};

struct InvarianceResult {
  /// (probe, batch size, position, thread count) cases compared.
  int64_t placements = 0;
  /// One line per case whose output differs, empty when invariant.
  std::vector<std::string> mismatches;
};

/// Why a layer cannot be checked for batch invariance, or an empty string.
std::string batchInvarianceUnsupported(const ref::LayerConfig &config);

/// Runs `layer` on the probes alone and in the batches; `weights` gives
/// every argument but the tokens (theirs is replaced). `setThreads` sets the
/// compiled code's thread count. Returns an empty string or why a call
/// failed.
std::string checkBatchInvariance(LayerCall &layer, const LayerInputs &weights,
                                 const std::vector<Role> &roles,
                                 const ref::LayerConfig &config,
                                 const InvarianceOptions &options,
                                 const std::function<void(int)> &setThreads,
                                 InvarianceResult &result);

/// The report: "  batch invariance: ...: PASS\n" and a line per mismatch.
std::string formatBatchInvariance(const InvarianceOptions &options,
                                  const InvarianceResult &result);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_BATCHINVARIANCE_H
