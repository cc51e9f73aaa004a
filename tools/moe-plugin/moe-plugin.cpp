//===- moe-plugin.cpp - moe dialect and passes as an mlir-opt plugin ------===//
//
// Loaded by upstream mlir-opt:
//
//   mlir-opt --load-dialect-plugin=lib/MoEPlugin.so \
//            --load-pass-plugin=lib/MoEPlugin.so \
//            --pass-pipeline='builtin.module(moe-cpu-pipeline)' layer.mlir
//
// The plugin links the libMLIR.so that mlir-opt itself is linked with, so the
// two share one copy of MLIR (its TypeIDs, its pass and dialect registries).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

#include <mutex>

using namespace mlir;

/// Passes and pipelines go into process-wide registries: register them once,
/// whichever of the two entry points mlir-opt calls first (the same file is
/// usually given to both flags).
static void registerMoEPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] { moe::registerAllPasses(); });
}

/// --load-dialect-plugin: the moe dialect and the upstream dialects its
/// passes produce; the passes too, as upstream's standalone plugin does, so
/// that one flag is enough.
extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "MoE", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            moe::registerAllDialects(*registry);
            registerMoEPassesOnce();
          }};
}

/// --load-pass-plugin: moe passes, conversions and named pipelines.
extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "MoEPasses", LLVM_VERSION_STRING,
          [] { registerMoEPassesOnce(); }};
}
