//===- Check.cpp - A compiled layer's results against the reference -------===//

#include "moe-mlir/Runner/Check.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

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
  if (outputs.output.size() != expected.output.size()) {
    check.sizeMatches = false;
    check.finite = false;
    return check;
  }
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

std::string formatString(const char *format, ...) {
  va_list args, copy;
  va_start(args, format);
  va_copy(copy, args);
  int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(size > 0 ? size : 0, '\0');
  if (size > 0)
    std::vsnprintf(text.data(), size + 1, format, args);
  va_end(args);
  return text;
}

std::string formatCheck(const CheckResult &check, const LayerOutputs &outputs,
                        const ref::LayerResult &expected, int64_t modelSize,
                        double rtol, const std::string &externalName) {
  if (!check.sizeMatches)
    return "  check: the output has " + std::to_string(outputs.output.size()) +
           " values, the reference " + std::to_string(expected.output.size()) +
           ": FAIL\n";
  std::string os =
      formatString("  check: max abs err %.3e, rel err %.3e (tolerance %.1e)",
                   check.output.maxAbs, check.output.relative, rtol);
  if (outputs.dropped)
    os += ", dropped " + std::to_string(*outputs.dropped) + " (reference " +
          std::to_string(expected.dropped) + ")";
  else if (expected.dropped != 0)
    os += ", reference dropped " + std::to_string(expected.dropped);
  if (check.tiedTokens)
    os += ", " + std::to_string(check.tiedTokens) + " token" +
          (check.tiedTokens == 1 ? "" : "s") +
          " with a routing tie at f32 precision not compared";
  if (check.output.nonFinite || check.output.finiteMismatches) {
    const std::vector<float> &result = outputs.output;
    int64_t T = modelSize ? int64_t(result.size()) / modelSize : 0;
    int64_t tokensHit = 0;
    for (int64_t t = 0; t < T; ++t)
      tokensHit += std::any_of(result.begin() + t * modelSize,
                               result.begin() + (t + 1) * modelSize,
                               [](float v) { return !std::isfinite(v); });
    os += ", non-finite outputs in " + std::to_string(tokensHit) + " of " +
          std::to_string(T) + " tokens (" +
          (check.finite ? std::string("where the reference has them")
                        : std::to_string(check.output.finiteMismatches) +
                              " elements unlike the reference") +
          ")";
  }
  if (check.external)
    os += formatString("; against %s: compiled rel err %.3e, reference rel "
                       "err %.3e",
                       externalName.c_str(), check.external->first.relative,
                       check.external->second.relative);
  os += std::string(": ") + (check.pass ? "PASS" : "FAIL") + "\n";

  if (!outputs.statistics)
    return os;
  const LayerOutputs::Statistics &s = *outputs.statistics;
  const ref::RouterStatistics &r = expected.statistics;
  const std::vector<int64_t> &counts = s.expertCounts;
  os += "  statistics: expert counts ";
  if (counts.size() <= 32) {
    os += "[";
    for (size_t e = 0; e < counts.size(); ++e)
      os += (e ? ", " : "") + std::to_string(counts[e]);
    os += "]";
  } else {
    int64_t used = std::count_if(counts.begin(), counts.end(),
                                 [](int64_t c) { return c > 0; });
    os += "(" + std::to_string(used) + " of " + std::to_string(counts.size()) +
          " experts used, at most " +
          std::to_string(*std::max_element(counts.begin(), counts.end())) + ")";
  }
  os += counts == r.expertCounts ? " as the reference" : ", reference differs";
  os += formatString(", aux loss %.8e (reference %.8e), z-loss %.8e "
                     "(reference %.8e): %s\n",
                     s.auxLoss, r.auxLoss, s.zLoss, r.zLoss,
                     check.statisticsMatch ? "PASS" : "FAIL");
  return os;
}

std::string formatExpertLoads(const ref::LayerResult &expected,
                              int64_t numExperts) {
  std::string os = "  kept assignments per expert (reference): [";
  for (int64_t e = 0; e < numExperts; ++e)
    os += (e ? ", " : "") +
          std::to_string(expected.offsets[e + 1] - expected.offsets[e]);
  return os + "]\n";
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

std::string formatTiming(const Timing &timing, double flops) {
  return formatString("  time: median %.3f ms over %d runs (min %.3f ms), %.2f "
                      "GFLOP/s\n",
                      timing.median() * 1e3, int(timing.seconds.size()),
                      timing.min() * 1e3, flops / timing.median() * 1e-9);
}

std::string formatWeightPacking(const LayerCall &layer, double seconds) {
  if (!layer.packsWeights())
    return "";
  return formatString("  packed weights: %zu, packed in %.3f ms (once, before "
                      "the calls)\n",
                      layer.weightPackings().size(), seconds * 1e3);
}

} // namespace moe::run
