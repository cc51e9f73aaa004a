//===- JitLayer.cpp - A layer compiled for the host and called ------------===//

#include "moe-mlir/Runner/JitLayer.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>
#include <functional>

using namespace mlir;

namespace moe::run {

llvm::Expected<std::unique_ptr<JitLayer>>
JitLayer::compile(ModuleOp module, const EntryPoint &entry,
                  const mlir::moe::CPUPipelineOptions &options) {
  std::unique_ptr<JitLayer> layer(new JitLayer);
  mlir::moe::LayerOp op = entry.layer;
  LayerResults results;
  results.element = elementTypeOf(op.getTokens());
  results.numExperts = op.getNumExperts();
  results.hasDropped = static_cast<bool>(op.getDropped());
  results.hasStatistics = op.hasStatistics();
  func::FuncOp func = entry.func;
  // The lowering replaces the func.func: its name, kept.
  std::string name = func.getSymName().str();
  std::string symbol = "_mlir_ciface_" + name;

  PassManager pm(module.getContext());
  mlir::moe::buildCPUPipeline(pm, options);
  if (failed(pm.run(module)))
    return llvm::createStringError("moe-cpu-pipeline failed");
  // The weights the lowered function takes packed (pack-weights).
  Operation *lowered = module.lookupSymbol(name);
  FailureOr<std::vector<PackedWeight>> packedWeights =
      lowered
          ? packedWeightsOf(lowered)
          : FailureOr<std::vector<PackedWeight>>(std::vector<PackedWeight>());
  if (failed(packedWeights))
    return llvm::createStringError("moe-cpu-pipeline failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // LLVM's optimizations for the host CPU (its vector width and features),
  // as the JIT's code generation does.
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return machineBuilder.takeError();
  auto targetMachine = machineBuilder->createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();
  // engineOptions.transformer is a function_ref: the transformer it calls
  // must outlive the engine's creation.
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return llvm::createStringError("JIT compilation failed: " +
                                   llvm::toString(engine.takeError()));
  layer->engine = std::move(*engine);
  // The engine wraps the C interface in its packed form, void(void **).
  auto packed = layer->engine->lookupPacked(symbol);
  if (!packed)
    return llvm::createStringError("JIT compilation failed: " +
                                   llvm::toString(packed.takeError()));
  layer->call = std::make_unique<LayerCall>(
      results, [entry = *packed](void **args) -> std::string {
        entry(args);
        return "";
      });
  std::vector<WeightPacking> packings;
  for (const PackedWeight &weight : *packedWeights) {
    auto pack = layer->engine->lookupPacked("_mlir_ciface_" + weight.function);
    if (!pack)
      return llvm::createStringError("JIT compilation failed: " +
                                     llvm::toString(pack.takeError()));
    packings.push_back(WeightPacking::byEntry(weight.argument, weight.shape,
                                              weight.element, *pack));
  }
  layer->call->setWeightPacking(std::move(packings));
  return layer;
}

} // namespace moe::run
