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

namespace {
/// A strided memref descriptor of a C-order buffer as the LLVM lowering lays
/// it out: {allocated, aligned, offset, sizes[rank], strides[rank]}.
SmallVector<int64_t> descriptorOf(void *data, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> words = {reinterpret_cast<int64_t>(data),
                                reinterpret_cast<int64_t>(data), 0};
  words.append(shape.begin(), shape.end());
  SmallVector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  words.append(strides.begin(), strides.end());
  return words;
}
} // namespace

llvm::Expected<std::unique_ptr<JitLayer>>
JitLayer::compile(ModuleOp module, const EntryPoint &entry,
                  const mlir::moe::CPUPipelineOptions &options) {
  std::unique_ptr<JitLayer> layer(new JitLayer);
  mlir::moe::LayerOp op = entry.layer;
  func::FuncOp func = entry.func;
  layer->symbol = "_mlir_ciface_" + func.getSymName().str();
  layer->element = elementTypeOf(op.getTokens());
  layer->numExperts = op.getNumExperts();
  layer->hasDropped = static_cast<bool>(op.getDropped());
  layer->hasStatistics = op.hasStatistics();
  size_t words = 0;
  for (Type type : op->getResultTypes()) {
    layer->resultOffsets.push_back(words);
    words += 3 + 2 * cast<RankedTensorType>(type).getRank();
  }
  layer->resultWords.assign(words, 0);

  PassManager pm(module.getContext());
  mlir::moe::buildCPUPipeline(pm, options);
  if (failed(pm.run(module)))
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
  return layer;
}

llvm::Error JitLayer::invoke(ArrayRef<Input> args) {
  // _mlir_ciface_<entry>(results*, args*...): the results are a struct of
  // descriptors.
  SmallVector<SmallVector<int64_t>> descriptors;
  for (const Input &input : args)
    descriptors.push_back(
        descriptorOf(const_cast<Input &>(input).buffer(), input.shape));
  void *resultPtr = resultWords.data();
  SmallVector<void *> descriptorPtrs;
  for (SmallVector<int64_t> &words : descriptors)
    descriptorPtrs.push_back(words.data());
  SmallVector<void *> packed = {&resultPtr};
  for (void *&ptr : descriptorPtrs)
    packed.push_back(&ptr);
  return engine->invokePacked(symbol, packed);
}

void JitLayer::freeResults() {
  for (size_t offset : resultOffsets)
    std::free(reinterpret_cast<void *>(resultWords[offset]));
}

llvm::Error JitLayer::callDiscarding(ArrayRef<Input> args) {
  if (llvm::Error error = invoke(args))
    return error;
  freeResults();
  return llvm::Error::success();
}

llvm::Expected<LayerOutputs> JitLayer::call(ArrayRef<Input> args) {
  if (llvm::Error error = invoke(args))
    return std::move(error);
  // Result i's aligned pointer and offset, in elements of T.
  auto data = [&](size_t i, auto *type) {
    using T = std::remove_pointer_t<decltype(type)>;
    size_t at = resultOffsets[i];
    return reinterpret_cast<const T *>(resultWords[at + 1]) +
           resultWords[at + 2];
  };
  LayerOutputs outputs;
  size_t at = resultOffsets[0];
  int64_t size = resultWords[at + 3] * resultWords[at + 4];
  outputs.output.resize(size);
  if (element == ref::ElementType::F32) {
    const float *output = data(0, (float *)nullptr);
    std::copy(output, output + size, outputs.output.begin());
  } else {
    const uint16_t *output = data(0, (uint16_t *)nullptr);
    for (int64_t i = 0; i < size; ++i)
      outputs.output[i] = ref::fromBits(element, output[i]);
  }
  size_t next = 1;
  if (hasDropped)
    outputs.dropped = *data(next++, (int64_t *)nullptr);
  if (hasStatistics) {
    // Counts [E] (offset, size, stride after the pointers), then the losses.
    LayerOutputs::Statistics statistics;
    const int64_t *counts = data(next, (int64_t *)nullptr);
    int64_t stride = resultWords[resultOffsets[next] + 4];
    for (int64_t e = 0; e < numExperts; ++e)
      statistics.expertCounts.push_back(counts[e * stride]);
    statistics.auxLoss = *data(next + 1, (float *)nullptr);
    statistics.zLoss = *data(next + 2, (float *)nullptr);
    outputs.statistics = std::move(statistics);
  }
  freeResults();
  return outputs;
}

} // namespace moe::run
