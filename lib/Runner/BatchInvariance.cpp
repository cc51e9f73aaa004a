//===- BatchInvariance.cpp - A token's output does not depend on its batch ===//

#include "moe-mlir/Runner/BatchInvariance.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

#include <cmath>
#include <cstring>

using namespace llvm;

namespace moe::run {

namespace {
/// Streams of the invariance check's tokens, apart from the arguments'.
constexpr uint64_t kProbeStream = 7919, kBatchStream = 104729;

/// Random tokens [T, D] rounded to the layer's element type.
Expected<Input> randomTokens(const ref::LayerConfig &config, int64_t T,
                             uint64_t seed) {
  Expected<HostTensor> tensor =
      randomTensor(operandSpec(Role::Tokens, config, T), seed);
  if (!tensor)
    return tensor.takeError();
  Input input;
  static_cast<HostTensor &>(input) = std::move(*tensor);
  input.narrowTo(config.element);
  return input;
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

Expected<InvarianceResult>
checkBatchInvariance(JitLayer &layer, const LayerInputs &weights,
                     ArrayRef<Role> roles, const ref::LayerConfig &config,
                     const InvarianceOptions &options,
                     function_ref<void(int)> setThreads) {
  const int64_t D = config.D;
  size_t tokenIndex = llvm::find(roles, Role::Tokens) - roles.begin();
  Expected<Input> probes = randomTokens(
      config, options.probes, argumentSeed(options.seed, kProbeStream));
  if (!probes)
    return probes.takeError();

  SmallVector<Input> args(weights.args.begin(), weights.args.end());
  auto run = [&](Input tokens) -> Expected<std::vector<float>> {
    args[tokenIndex] = std::move(tokens);
    Expected<LayerOutputs> outputs = layer.call(args);
    if (!outputs)
      return outputs.takeError();
    return std::move(outputs->output);
  };

  // Each probe alone, with the first thread count.
  setThreads(options.threadCounts.front());
  std::vector<std::vector<float>> alone;
  for (int64_t p = 0; p < options.probes; ++p) {
    Input single;
    single.shape = {1, D};
    single.data.resize(D);
    if (config.element != ref::ElementType::F32)
      single.narrow.resize(D);
    single.element = probes->element;
    copyRow(single, 0, *probes, p, D);
    Expected<std::vector<float>> output = run(std::move(single));
    if (!output)
      return output.takeError();
    alone.push_back(std::move(*output));
  }

  InvarianceResult result;
  for (int64_t T : options.batchSizes) {
    Expected<Input> batch = randomTokens(
        config, T, argumentSeed(options.seed, kBatchStream + uint64_t(T)));
    if (!batch)
      return batch.takeError();
    // The probes at the start, the middle and the end, in turns.
    SmallVector<int64_t> positions = {0, T / 2, T - 1};
    positions.erase(std::unique(positions.begin(), positions.end()),
                    positions.end());
    for (int threads : options.threadCounts) {
      setThreads(threads);
      for (int64_t p = 0; p < options.probes; ++p) {
        for (int64_t position : positions) {
          Input tokens = *batch;
          copyRow(tokens, position, *probes, p, D);
          Expected<std::vector<float>> output = run(std::move(tokens));
          if (!output)
            return output.takeError();
          ++result.placements;
          const float *row = output->data() + position * D;
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
          result.mismatches.push_back(
              ("probe " + Twine(p) + " at row " + Twine(position) +
               " of T=" + Twine(T) + " with " + Twine(threads) +
               " threads: " + Twine(differing) + " of " + Twine(D) +
               " values differ from its output alone (max abs diff " +
               formatv("{0:e}", maxDiff) + ")")
                  .str());
        }
      }
    }
  }
  return result;
}

} // namespace moe::run
