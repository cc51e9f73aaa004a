//===- JitLayer.h - A layer compiled for the host and called ----*- C++ -*-===//
//
// Compiles a module with moe-cpu-pipeline, JIT-compiles it for the host CPU
// (LLVM's optimizations at -O3 for the features LLVM detects) and calls the
// layer function through its C interface, returning its results as host
// arrays.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_JITLAYER_H
#define MOE_MLIR_RUNNER_JITLAYER_H

#include "moe-mlir/Pipelines/Pipelines.h"
#include "moe-mlir/Runner/LayerEntry.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"

#include <memory>
#include <optional>

namespace moe::run {

/// What one call of a layer returns, as f32 host values.
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

class JitLayer {
public:
  /// Lowers `module` (which `entry` is in; the pipeline replaces the layer)
  /// with moe-cpu-pipeline and `options`, then JIT-compiles it. Fails with a
  /// message.
  static llvm::Expected<std::unique_ptr<JitLayer>>
  compile(mlir::ModuleOp module, const EntryPoint &entry,
          const mlir::moe::CPUPipelineOptions &options);

  /// Calls the layer on `args` (one per function argument, in order).
  llvm::Expected<LayerOutputs> call(llvm::ArrayRef<Input> args);

  /// Calls the layer and discards its results (what timing measures).
  llvm::Error callDiscarding(llvm::ArrayRef<Input> args);

private:
  JitLayer() = default;
  /// Calls the layer; the results stay in `resultWords` until freed.
  llvm::Error invoke(llvm::ArrayRef<Input> args);
  void freeResults();

  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::string symbol;
  ref::ElementType element = ref::ElementType::F32;
  int64_t numExperts = 0;
  bool hasDropped = false, hasStatistics = false;
  /// Each result comes back as a memref descriptor of 3 + 2 * rank words
  /// ({allocated, aligned, offset, sizes, strides}); where each starts.
  llvm::SmallVector<size_t> resultOffsets;
  std::vector<int64_t> resultWords;
};

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_JITLAYER_H
