//===- LayerCall.cpp - A compiled layer called through its C interface ----===//

#include "moe-mlir/Runner/LayerCall.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace moe::run {

namespace {
/// A strided memref descriptor of a C-order buffer.
std::vector<int64_t> descriptorOf(void *data,
                                  const std::vector<int64_t> &shape) {
  std::vector<int64_t> words = {reinterpret_cast<int64_t>(data),
                                reinterpret_cast<int64_t>(data), 0};
  words.insert(words.end(), shape.begin(), shape.end());
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  words.insert(words.end(), strides.begin(), strides.end());
  return words;
}

size_t elementBytes(ref::ElementType type) {
  return type == ref::ElementType::F32 ? 4 : 2;
}
} // namespace

std::vector<int64_t> LayerResults::ranks() const {
  std::vector<int64_t> ranks = {2};
  if (hasDropped)
    ranks.push_back(0);
  if (hasStatistics)
    ranks.insert(ranks.end(), {1, 0, 0});
  return ranks;
}

LayerCall::LayerCall(LayerResults results, Invoke invoke, LayerMemory memory)
    : results(results), invokePacked(std::move(invoke)),
      memory(std::move(memory)) {
  size_t words = 0;
  for (int64_t rank : results.ranks()) {
    resultOffsets.push_back(words);
    words += 3 + 2 * rank;
  }
  resultWords.assign(words, 0);
}

LayerCall::~LayerCall() { releaseArguments(); }

void LayerCall::releaseArguments() {
  for (void *buffer : ownedArguments)
    memory.release(buffer);
  ownedArguments.clear();
}

void LayerCall::setWeightPacking(std::vector<WeightPacking> weights) {
  packings = std::move(weights);
}

/// Packs `weight` into a new buffer of `packing.shape`.
static std::string packWeight(const WeightPacking &packing, Input &weight,
                              Input &packed) {
  auto product = [](const std::vector<int64_t> &shape) {
    int64_t size = 1;
    for (int64_t extent : shape)
      size *= extent;
    return size;
  };
  int64_t size = product(packing.shape);
  // Panels hold every value once: as many as the weight has.
  if (product(weight.shape) != size)
    return "a " + formatShape(weight.shape) + " weight does not pack into " +
           formatShape(packing.shape);
  packed = Input();
  packed.shape = packing.shape;
  packed.element = packing.element;
  if (packing.element == ref::ElementType::F32)
    packed.data.assign(size, 0.0f);
  else
    packed.narrow.assign(size, 0);
  std::vector<int64_t> source = descriptorOf(weight.buffer(), weight.shape);
  std::vector<int64_t> target = descriptorOf(packed.buffer(), packed.shape);
  void *pointers[] = {source.data(), target.data()};
  void *args[] = {&pointers[0], &pointers[1]};
  return packing.pack(args);
}

std::string LayerCall::bind(const std::vector<Input> &args) {
  releaseArguments();
  argumentDescriptors.clear();
  packedArguments.assign(packings.size(), Input());
  lastPackSeconds = 0.0;
  if (!packings.empty() && memory.allocate)
    return "a layer that takes packed weights reads host memory in place";
  auto start = std::chrono::steady_clock::now();
  std::vector<const Input *> bound;
  for (const Input &input : args)
    bound.push_back(&input);
  for (size_t i = 0; i < packings.size(); ++i) {
    const WeightPacking &packing = packings[i];
    if (packing.argument >= args.size())
      return "the layer packs argument " + std::to_string(packing.argument) +
             ", but it has " + std::to_string(args.size());
    if (std::string error =
            packWeight(packing, const_cast<Input &>(args[packing.argument]),
                       packedArguments[i]);
        !error.empty())
      return "packing argument " + std::to_string(packing.argument) + ": " +
             error;
    bound[packing.argument] = &packedArguments[i];
  }
  lastPackSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  for (const Input *argument : bound) {
    const Input &input = *argument;
    void *data = const_cast<Input &>(input).buffer();
    if (memory.allocate) {
      size_t bytes = input.data.size() * elementBytes(input.element);
      void *copy = bytes ? memory.allocate(bytes) : nullptr;
      if (bytes && !copy)
        return "cannot allocate " + std::to_string(bytes) +
               " bytes for the layer's " + formatShape(input.shape) +
               " argument";
      if (bytes)
        std::memcpy(copy, data, bytes);
      ownedArguments.push_back(copy);
      data = copy;
    }
    argumentDescriptors.push_back(descriptorOf(data, input.shape));
  }
  return "";
}

std::string LayerCall::invoke() {
  // _mlir_ciface_<entry>(results*, args*...), packed: a pointer to each
  // parameter.
  void *resultPtr = resultWords.data();
  std::vector<void *> descriptorPtrs;
  for (std::vector<int64_t> &words : argumentDescriptors)
    descriptorPtrs.push_back(words.data());
  std::vector<void *> packed = {&resultPtr};
  for (void *&ptr : descriptorPtrs)
    packed.push_back(&ptr);
  return invokePacked(packed.data());
}

void LayerCall::releaseResults() {
  for (size_t offset : resultOffsets) {
    void *allocated = reinterpret_cast<void *>(resultWords[offset]);
    if (memory.release)
      memory.release(allocated);
    else
      std::free(allocated);
    resultWords[offset] = 0;
  }
}

std::string LayerCall::callDiscarding() {
  if (std::string error = invoke(); !error.empty())
    return error;
  releaseResults();
  return "";
}

std::string LayerCall::call(const std::vector<Input> &args,
                            LayerOutputs &outputs) {
  if (std::string error = bind(args); !error.empty())
    return error;
  return call(outputs);
}

std::string LayerCall::call(LayerOutputs &outputs) {
  if (std::string error = invoke(); !error.empty())
    return error;
  // Result i's aligned pointer and offset, in elements of T.
  auto data = [&](size_t i, auto *type) {
    using T = std::remove_pointer_t<decltype(type)>;
    size_t at = resultOffsets[i];
    return reinterpret_cast<const T *>(resultWords[at + 1]) +
           resultWords[at + 2];
  };
  outputs = LayerOutputs();
  size_t at = resultOffsets[0];
  // {allocated, aligned, offset, T, D, stride T, stride D}: a C-order
  // [T, D] array is all this reads.
  int64_t rows = resultWords[at + 3], columns = resultWords[at + 4];
  if (rows < 0 || columns < 0 || resultWords[at + 6] != 1 ||
      (rows > 1 && resultWords[at + 5] != columns) ||
      (rows * columns > 0 && !resultWords[at + 1])) {
    std::string shape = std::to_string(rows) + "x" + std::to_string(columns) +
                        " (strides " + std::to_string(resultWords[at + 5]) +
                        ", " + std::to_string(resultWords[at + 6]) + ")";
    releaseResults();
    return "the layer returned an output of " + shape +
           ", not a C-order [T, D] array";
  }
  int64_t size = rows * columns;
  outputs.output.resize(size);
  if (results.element == ref::ElementType::F32) {
    const float *output = data(0, (float *)nullptr);
    std::copy(output, output + size, outputs.output.begin());
  } else {
    const uint16_t *output = data(0, (uint16_t *)nullptr);
    for (int64_t i = 0; i < size; ++i)
      outputs.output[i] = ref::fromBits(results.element, output[i]);
  }
  size_t next = 1;
  if (results.hasDropped)
    outputs.dropped = *data(next++, (int64_t *)nullptr);
  if (results.hasStatistics) {
    // Counts [E] (offset, size, stride after the pointers), then the losses.
    LayerOutputs::Statistics statistics;
    const int64_t *counts = data(next, (int64_t *)nullptr);
    int64_t stride = resultWords[resultOffsets[next] + 4];
    for (int64_t e = 0; e < results.numExperts; ++e)
      statistics.expertCounts.push_back(counts[e * stride]);
    statistics.auxLoss = *data(next + 1, (float *)nullptr);
    statistics.zLoss = *data(next + 2, (float *)nullptr);
    outputs.statistics = std::move(statistics);
  }
  releaseResults();
  return "";
}

} // namespace moe::run
