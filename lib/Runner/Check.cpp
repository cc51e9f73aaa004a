//===- Check.cpp - A compiled layer's results against the reference -------===//

#include "moe-mlir/Runner/Check.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace moe::run {

namespace {
double relativeTo(double actual, double reference) {
  double scale = std::max(std::fabs(reference), 1e-30);
  return std::fabs(actual - reference) / scale;
}
} // namespace

CheckResult checkOutputs(const LayerOutputs &outputs,
                         const ref::LayerResult &expected, double rtol,
                         const HostTensor *external) {
  CheckResult check;
  int64_t size = int64_t(outputs.output.size());
  // Tokens whose routing ties at f32 precision are not compared: zeroed in
  // copies of both outputs.
  const float *actual = outputs.output.data();
  const float *reference = expected.output.data();
  std::vector<float> actualKept, referenceKept;
  int64_t T = int64_t(expected.routingMargins.size());
  int64_t D = T ? size / T : 0;
  for (int64_t t = 0; t < T && D; ++t) {
    if (!(expected.routingMargins[t] < kRoutingTieTolerance))
      continue;
    if (!check.tiedTokens++) {
      actualKept = outputs.output;
      referenceKept = expected.output;
      actual = actualKept.data();
      reference = referenceKept.data();
    }
    std::fill_n(actualKept.begin() + t * D, D, 0.0f);
    std::fill_n(referenceKept.begin() + t * D, D, 0.0f);
  }
  check.output = ref::compareOutput(actual, reference, size);
  check.finite = check.output.finiteMismatches == 0;
  check.droppedMatches =
      !outputs.dropped || *outputs.dropped == expected.dropped;
  check.pass =
      check.finite && check.output.relative <= rtol && check.droppedMatches;
  if (outputs.statistics) {
    const ref::RouterStatistics &r = expected.statistics;
    check.statisticsMatch =
        outputs.statistics->expertCounts == r.expertCounts &&
        relativeTo(outputs.statistics->auxLoss, r.auxLoss) <= rtol &&
        relativeTo(outputs.statistics->zLoss, r.zLoss) <= rtol;
    check.pass &= check.statisticsMatch;
  }
  if (external) {
    check.external = {
        ref::compareOutput(outputs.output.data(), external->data.data(), size),
        ref::compareOutput(expected.output.data(), external->data.data(),
                           size)};
    check.pass &= check.external->first.relative <= rtol &&
                  check.external->second.relative <= rtol;
  }
  return check;
}

void printCheck(raw_ostream &os, const CheckResult &check,
                const LayerOutputs &outputs, const ref::LayerResult &expected,
                int64_t modelSize, double rtol, StringRef externalName) {
  os << format("  check: max abs err %.3e, rel err %.3e (tolerance %.1e)",
               check.output.maxAbs, check.output.relative, rtol);
  if (outputs.dropped)
    os << ", dropped " << *outputs.dropped << " (reference " << expected.dropped
       << ")";
  else if (expected.dropped != 0)
    os << ", reference dropped " << expected.dropped;
  if (check.tiedTokens)
    os << ", " << check.tiedTokens << " token"
       << (check.tiedTokens == 1 ? "" : "s")
       << " with a routing tie at f32 precision not compared";
  if (check.output.nonFinite || check.output.finiteMismatches) {
    const std::vector<float> &result = outputs.output;
    int64_t T = modelSize ? int64_t(result.size()) / modelSize : 0;
    int64_t tokensHit = 0;
    for (int64_t t = 0; t < T; ++t)
      tokensHit += std::any_of(result.begin() + t * modelSize,
                               result.begin() + (t + 1) * modelSize,
                               [](float v) { return !std::isfinite(v); });
    os << ", non-finite outputs in " << tokensHit << " of " << T << " tokens ("
       << (check.finite ? "where the reference has them"
                        : Twine(check.output.finiteMismatches).str() +
                              " elements unlike the reference")
       << ")";
  }
  if (check.external)
    os << format("; against %s: compiled rel err %.3e, reference rel err "
                 "%.3e",
                 externalName.str().c_str(), check.external->first.relative,
                 check.external->second.relative);
  os << ": " << (check.pass ? "PASS" : "FAIL") << "\n";

  if (!outputs.statistics)
    return;
  const LayerOutputs::Statistics &s = *outputs.statistics;
  const ref::RouterStatistics &r = expected.statistics;
  const std::vector<int64_t> &counts = s.expertCounts;
  os << "  statistics: expert counts ";
  if (counts.size() <= 32) {
    os << "[";
    for (auto [e, count] : llvm::enumerate(counts))
      os << (e ? ", " : "") << count;
    os << "]";
  } else {
    int64_t used = llvm::count_if(counts, [](int64_t c) { return c > 0; });
    os << "(" << used << " of " << counts.size() << " experts used, at most "
       << *std::max_element(counts.begin(), counts.end()) << ")";
  }
  os << (counts == r.expertCounts ? " as the reference" : ", reference differs")
     << format(", aux loss %.8e (reference %.8e), z-loss %.8e (reference "
               "%.8e): %s\n",
               s.auxLoss, r.auxLoss, s.zLoss, r.zLoss,
               check.statisticsMatch ? "PASS" : "FAIL");
}

void printExpertLoads(raw_ostream &os, const ref::LayerResult &expected,
                      int64_t numExperts) {
  os << "  kept assignments per expert (reference): [";
  for (int64_t e = 0; e < numExperts; ++e)
    os << (e ? ", " : "") << expected.offsets[e + 1] - expected.offsets[e];
  os << "]\n";
}

double Timing::median() const {
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  if (n == 0)
    return 0.0;
  return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

double Timing::min() const {
  return seconds.empty() ? 0.0
                         : *std::min_element(seconds.begin(), seconds.end());
}

void printTiming(raw_ostream &os, const Timing &timing, double flops) {
  os << format("  time: median %.3f ms over %d runs (min %.3f ms), %.2f "
               "GFLOP/s\n",
               timing.median() * 1e3, int(timing.seconds.size()),
               timing.min() * 1e3, flops / timing.median() * 1e-9);
}

} // namespace moe::run
