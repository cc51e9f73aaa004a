//===- moe-fuzz.cpp - libFuzzer target: parse, verify, lower --------------===//
//
// Feeds arbitrary bytes to the MLIR parser with the moe dialect registered;
// what parses and verifies goes through moe-cost, moe-expand-layer,
// convert-moe-to-linalg and, for modules with a layer, moe-cpu-pipeline.
// Diagnostics are expected and swallowed; a crash, a sanitizer report or a
// hang is a bug.
//
//   build-fuzz/bin/moe-fuzz -max_total_time=60 fuzz/corpus
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Conversion/Passes.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"
#include "moe-mlir/InitAll.h"
#include "moe-mlir/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace mlir;

namespace {
MLIRContext &fuzzContext() {
  static MLIRContext *context = [] {
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    moe::registerAllDialects(registry);
    auto *ctx = new MLIRContext(registry);
    ctx->disableMultithreading();
    ctx->loadAllAvailableDialects();
    return ctx;
  }();
  return *context;
}

bool hasLayer(ModuleOp module) {
  return module.walk([](moe::LayerOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// Runs `build`'s passes on a clone; failures are fine, crashes are not.
void runOnClone(ModuleOp module,
                llvm::function_ref<void(OpPassManager &)> build) {
  OwningOpRef<ModuleOp> clone = module.clone();
  PassManager pm(module.getContext());
  build(pm);
  (void)pm.run(*clone);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MLIRContext &ctx = fuzzContext();
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  // MLIR's lexer reads the byte after the buffer, expecting a NUL (source
  // files are loaded that way): give it a NUL-terminated copy.
  std::string source(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&ctx));
  if (!module || failed(verify(*module)))
    return 0;

  runOnClone(*module, [](OpPassManager &pm) {
    moe::MoECostPassOptions options;
    options.output = "/dev/null";
    pm.addPass(moe::createMoECostPass(options));
    pm.addPass(moe::createMoEExpandLayerPass());
    pm.addPass(createConvertMoEToLinalgPass());
  });
  if (hasLayer(*module))
    runOnClone(*module, [](OpPassManager &pm) {
      moe::buildCPUPipeline(pm, moe::CPUPipelineOptions());
    });
  return 0;
}
