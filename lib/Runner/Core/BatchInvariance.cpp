//===- BatchInvariance.cpp - A token's output does not depend on its batch ===//

#include "moe-mlir/Runner/BatchInvariance.h"

#include "moe-mlir/Runner/Check.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace moe::run {

namespace {
/// Streams of the invariance check's tokens, apart from the arguments'.
constexpr uint64_t kProbeStream = 7919, kBatchStream = 104729;

/// Random tokens [T, D] rounded to the layer's element type.
std::string randomTokens(const ref::LayerConfig &config, int64_t T,
                         uint64_t seed, Input &input) {
  if (std::string error =
          randomTensor(operandSpec(Role::Tokens, config, T), seed, input);
      !error.empty())
    return error;
  input.narrowTo(config.element);
  return "";
}

/// Row `row` of `tokens` replaced by row `from` of `source`.
void copyRow(Input &tokens, int64_t row, const Input &source, int64_t from,
             int64_t D) {
  std::copy_n(source.data.begin() + from * D, D, tokens.data.begin() + row * D);
  if (!tokens.narrow.empty())
    std::copy_n(source.narrow.begin() + from * D, D,
                tokens.narrow.begin() + row * D);
}
} // namespace

std::string batchInvarianceUnsupported(const ref::LayerConfig &config) {
  if (config.capacity.kind != ref::CapacityKind::Dropless)
    return "the layer has a capacity: whether a token is dropped depends on "
           "the others";
  if (config.router.expertChoice)
    return "expert-choice routing picks tokens by comparing them with the "
           "others";
  return "";
}

std::string checkBatchInvariance(LayerCall &layer, const LayerInputs &weights,
                                 const std::vector<Role> &roles,
                                 const ref::LayerConfig &config,
                                 const InvarianceOptions &options,
                                 const std::function<void(int)> &setThreads,
                                 InvarianceResult &result) {
  result = InvarianceResult();
  const int64_t D = config.D;
  size_t tokenIndex =
      std::find(roles.begin(), roles.end(), Role::Tokens) - roles.begin();
  Input probes;
  if (std::string error =
          randomTokens(config, options.probes,
                       argumentSeed(options.seed, kProbeStream), probes);
      !error.empty())
    return error;

  std::vector<Input> args = weights.args;
  auto run = [&](Input tokens, std::vector<float> &output) -> std::string {
    args[tokenIndex] = std::move(tokens);
    LayerOutputs outputs;
    if (std::string error = layer.call(args, outputs); !error.empty())
      return error;
    output = std::move(outputs.output);
    return "";
  };

  // Each probe alone, with the first thread count.
  setThreads(options.threadCounts.front());
  std::vector<std::vector<float>> alone(options.probes);
  for (int64_t p = 0; p < options.probes; ++p) {
    Input single;
    single.shape = {1, D};
    single.data.resize(D);
    if (config.element != ref::ElementType::F32)
      single.narrow.resize(D);
    single.element = probes.element;
    copyRow(single, 0, probes, p, D);
    if (std::string error = run(std::move(single), alone[p]); !error.empty())
      return error;
  }

  for (int64_t T : options.batchSizes) {
    Input batch;
    if (std::string error = randomTokens(
            config, T, argumentSeed(options.seed, kBatchStream + uint64_t(T)),
            batch);
        !error.empty())
      return error;
    // The probes at the start, the middle and the end, in turns.
    std::vector<int64_t> positions = {0, T / 2, T - 1};
    positions.erase(std::unique(positions.begin(), positions.end()),
                    positions.end());
    for (int threads : options.threadCounts) {
      setThreads(threads);
      for (int64_t p = 0; p < options.probes; ++p) {
        for (int64_t position : positions) {
          Input tokens = batch;
          copyRow(tokens, position, probes, p, D);
          std::vector<float> output;
          if (std::string error = run(std::move(tokens), output);
              !error.empty())
            return error;
          ++result.placements;
          const float *row = output.data() + position * D;
          if (std::memcmp(row, alone[p].data(), D * sizeof(float)) == 0)
            continue;
          int64_t differing = 0;
          double maxDiff = 0.0;
          for (int64_t d = 0; d < D; ++d) {
            uint32_t a, b;
            std::memcpy(&a, &row[d], 4);
            std::memcpy(&b, &alone[p][d], 4);
            if (a == b)
              continue;
            ++differing;
            maxDiff = std::max(maxDiff,
                               std::fabs(double(row[d]) - double(alone[p][d])));
          }
          result.mismatches.push_back(formatString(
              "probe %lld at row %lld of T=%lld with %d threads: %lld of %lld "
              "values differ from its output alone (max abs diff %e)",
              (long long)p, (long long)position, (long long)T, threads,
              (long long)differing, (long long)D, maxDiff));
        }
      }
    }
  }
  return "";
}

std::string formatBatchInvariance(const InvarianceOptions &options,
                                  const InvarianceResult &result) {
  auto list = [](const auto &values) {
    std::string text;
    for (size_t i = 0; i < values.size(); ++i)
      text += (i ? "," : "") + std::to_string(values[i]);
    return text;
  };
  std::string os = "  batch invariance: " + std::to_string(options.probes) +
                   " tokens alone and in " + std::to_string(result.placements) +
                   " placements (T=" + list(options.batchSizes) + "; threads " +
                   list(options.threadCounts) + "): ";
  if (result.mismatches.empty())
    return os + "bitwise identical: PASS\n";
  os += std::to_string(result.mismatches.size()) + " differ: FAIL\n";
  for (const std::string &mismatch : result.mismatches)
    os += "    " + mismatch + "\n";
  return os;
}

} // namespace moe::run
