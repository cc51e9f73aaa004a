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
#include "moe-mlir/Runner/LayerCall.h"
#include "moe-mlir/Runner/LayerEntry.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"

#include <memory>
#include <optional>

namespace moe::run {

/// A layer lowered by moe-cpu-pipeline and JIT-compiled for the host, called
/// through a LayerCall.
class JitLayer {
public:
  /// Lowers `module` (which `entry` is in; the pipeline replaces the layer)
  /// with moe-cpu-pipeline and `options`, then JIT-compiles it. Fails with a
  /// message.
  static llvm::Expected<std::unique_ptr<JitLayer>>
  compile(mlir::ModuleOp module, const EntryPoint &entry,
          const mlir::moe::CPUPipelineOptions &options);

  /// The compiled layer's calls.
  LayerCall &calls() { return *call; }

private:
  JitLayer() = default;

  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::unique_ptr<LayerCall> call;
};

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_JITLAYER_H
