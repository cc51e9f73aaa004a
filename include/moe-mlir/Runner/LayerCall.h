//===- LayerCall.h - A compiled layer called through its C ABI --*- C++ -*-===//
//
// Calls a layer function compiled with a C interface (`_mlir_ciface_F`:
// the results' memref descriptors, then one descriptor per argument)
// through its packed form (`void F(void **args)`, one pointer per
// parameter), and reads its results back. The JIT (ExecutionEngine's
// invokePacked) and the ahead-of-time libraries (moe_layer_call) both have
// that form, so both runners call layers through this. Plain C++.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_LAYERCALL_H
#define MOE_MLIR_RUNNER_LAYERCALL_H

#include "moe-mlir/Runner/Operands.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace moe::run {

/// What a layer call returned.
struct LayerOutputs {
  /// [T, D]; bf16 and f16 outputs widened exactly.
  std::vector<float> output;
  /// The dropped count, when the layer returns one.
  std::optional<int64_t> dropped;
  /// The training statistics, when the layer returns them.
  struct Statistics {
    std::vector<int64_t> expertCounts;
    double auxLoss = 0.0, zLoss = 0.0;
  };
  std::optional<Statistics> statistics;
};

/// The results of a layer function: the output [T, D] of the layer's element
/// type, then the dropped count (i64, rank 0) when it has one, then the
/// statistics (counts i64 [E], aux and z losses f32, rank 0) when it has
/// them.
struct LayerResults {
  ref::ElementType element = ref::ElementType::F32;
  int64_t numExperts = 0;
  bool hasDropped = false, hasStatistics = false;
  /// The rank of each result, in order.
  std::vector<int64_t> ranks() const;
};

/// Where a layer's buffers live. By default the arguments are used in place
/// and results are released with free(); a GPU layer that reads host-shared
/// memory gets its arguments copied into buffers from `allocate` and its
/// results released with `release`.
struct LayerMemory {
  std::function<void *(size_t bytes)> allocate;
  std::function<void(void *)> release;
};

/// A weight the layer takes packed into its kernels' panels
/// (moe-cpu-pipeline's pack-weights): binding the weight packs it into a
/// buffer of `shape` with the layer's packing function and binds that.
struct WeightPacking {
  /// The function argument.
  size_t argument = 0;
  std::vector<int64_t> shape;
  ref::ElementType element = ref::ElementType::F32;
  /// The packing function's packed form: args[0] and args[1] point to the
  /// descriptors of the weight and of the packed buffer.
  std::function<std::string(void **args)> pack;

  /// A packing done by a compiled function's packed entry (which cannot
  /// fail: the packed weight's shape is checked before it is called).
  static WeightPacking byEntry(size_t argument, std::vector<int64_t> shape,
                               ref::ElementType element,
                               void (*entry)(void **args)) {
    return {argument, std::move(shape), element,
            [entry](void **args) -> std::string {
              entry(args);
              return "";
            }};
  }
};

class LayerCall {
public:
  /// Calls the packed entry on `args`; returns an empty string or why the
  /// call failed.
  using Invoke = std::function<std::string(void **args)>;

  LayerCall(LayerResults results, Invoke invoke, LayerMemory memory = {});
  ~LayerCall();
  LayerCall(const LayerCall &) = delete;
  LayerCall &operator=(const LayerCall &) = delete;

  /// The weights the layer takes packed; bind() packs them.
  void setWeightPacking(std::vector<WeightPacking> packings);
  bool packsWeights() const { return !packings.empty(); }
  const std::vector<WeightPacking> &weightPackings() const { return packings; }

  /// Makes `args` (one per function argument, in order) the arguments of
  /// the calls that follow. Without a LayerMemory the layer reads them in
  /// place: they must outlive those calls. Weights the layer takes packed
  /// are packed here, once per bind (what a deployment does at load time).
  std::string bind(const std::vector<Input> &args);
  /// The seconds the last bind() spent packing weights.
  double packSeconds() const { return lastPackSeconds; }

  /// Calls the layer on the bound arguments and reads its results.
  std::string call(LayerOutputs &outputs);
  /// Calls the layer and discards its results (what timing measures).
  std::string callDiscarding();

  /// bind(args), then call(outputs).
  std::string call(const std::vector<Input> &args, LayerOutputs &outputs);

private:
  std::string invoke();
  void releaseResults();
  void releaseArguments();

  LayerResults results;
  Invoke invokePacked;
  LayerMemory memory;
  /// One descriptor per bound argument: {allocated, aligned, offset,
  /// sizes[rank], strides[rank]}, as the LLVM lowering lays memrefs out.
  std::vector<std::vector<int64_t>> argumentDescriptors;
  /// Buffers from memory.allocate holding the bound arguments.
  std::vector<void *> ownedArguments;
  std::vector<WeightPacking> packings;
  /// The packed weights the bound arguments point to.
  std::vector<Input> packedArguments;
  double lastPackSeconds = 0.0;
  /// The results come back as a struct of descriptors of 3 + 2 * rank words;
  /// where each starts.
  std::vector<size_t> resultOffsets;
  std::vector<int64_t> resultWords;
};

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_LAYERCALL_H
