//===- Check.h - Compiled results against the reference ---------*- C++ -*-===//
//
// Compares what a compiled layer returned with the independent reference
// (and optionally an external oracle's output), and formats the runners'
// report lines: the check, the statistics, the expert loads, the time.
// Plain C++: moe-run and moe-exec print the same lines.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_CHECK_H
#define MOE_MLIR_RUNNER_CHECK_H

#include "moe-mlir/Reference/MoEReference.h"
#include "moe-mlir/Runner/LayerCall.h"

#include <optional>
#include <string>
#include <vector>

namespace moe::run {

/// The verdict on one call's results.
struct CheckResult {
  ref::OutputError output;
  /// Non-finite outputs only where the reference has them (an overflow of a
  /// bf16 or f16 hidden state, which it models).
  bool finite = true;
  bool droppedMatches = true;
  bool statisticsMatch = true;
  /// Against an external oracle: the compiled output's and the reference's
  /// errors.
  std::optional<std::pair<ref::OutputError, ref::OutputError>> external;
  /// Tokens left out of the comparison: their selection in the reference is
  /// within `kRoutingTieTolerance` of a different one (`routingMargins`), so
  /// the f32 keys of the compiled layer may rightly choose the other expert.
  int64_t tiedTokens = 0;
  /// The output's size is not the reference's (nothing else is compared).
  bool sizeMatches = true;
  bool pass = false;
};

/// The relative gap between selection keys below which a token's routing is
/// a tie at f32 precision: a dot product over D terms rounds to about
/// sqrt(D) * 6e-8 of its magnitude; 1e-5 leaves a wide berth and excludes
/// about one token in 10^4 of random data.
constexpr double kRoutingTieTolerance = 1e-5;

/// Checks `outputs` against `expected` within `rtol` (relative to the
/// reference's largest magnitude), and both against `external` when given.
CheckResult checkOutputs(const LayerOutputs &outputs,
                         const ref::LayerResult &expected, double rtol,
                         const HostTensor *external);

/// "  check: max abs err .., rel err .. (tolerance ..)[, dropped ..]: PASS",
/// then the statistics line when the layer returns them.
std::string formatCheck(const CheckResult &check, const LayerOutputs &outputs,
                        const ref::LayerResult &expected, int64_t modelSize,
                        double rtol, const std::string &externalName);

/// "  kept assignments per expert (reference): [..]".
std::string formatExpertLoads(const ref::LayerResult &expected,
                              int64_t numExperts);

/// Wall-clock seconds of timed calls.
struct Timing {
  std::vector<double> seconds;
  double median() const;
  double min() const;
};

/// "  time: median .. ms over N runs (min .. ms), .. GFLOP/s".
std::string formatTiming(const Timing &timing, double flops);

/// "  packed weights: N in .. ms (once, before the calls)\n" for a layer
/// that takes packed weights (`seconds`: what binding them took); empty
/// otherwise.
std::string formatWeightPacking(const LayerCall &layer, double seconds);

/// printf into a std::string.
std::string formatString(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_CHECK_H
