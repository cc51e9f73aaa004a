//===- moe-opt.cpp - mlir-opt with the moe dialect and passes -------------===//
//
// Upstream's dialects, passes and extensions are all registered next to ours,
// so that moe-opt can run any pipeline mlir-opt runs, plus moe's.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"

/// LLVM registers its back ends' flags (--amdgpu-..., --arm-..., --x86-...)
/// when libLLVM loads; they have nothing to do with moe-opt and filled most
/// of its --help. Hide every option registered so far: MLIR's own options
/// and the pass flags are registered later, inside MlirOptMain, and stay
/// visible; the hidden ones still work and --help-hidden lists them.
static void hideBackendOptions() {
  for (auto &entry : llvm::cl::getRegisteredOptions()) {
    llvm::StringRef name = entry.first;
    if (name == "help" || name == "help-hidden" || name == "help-list" ||
        name == "version" || name == "color")
      continue;
    entry.second->setHiddenFlag(llvm::cl::Hidden);
  }
}

int main(int argc, char **argv) {
  hideBackendOptions();
  mlir::registerAllPasses();
  mlir::moe::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::moe::registerAllDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "moe-mlir optimizer driver: mlir-opt with the moe dialect, its passes "
      "and pipelines\n\n"
      "  moe-opt [options] <input file>\n\n"
      "The moe flags (the full list of passes, upstream's included, is "
      "below):\n"
      "  --moe-cpu-pipeline, --moe-gpu-pipeline   moe.layer to the LLVM "
      "dialect (CPU) or to GPU kernels\n"
      "  --moe-expand-layer                       moe.layer to route, "
      "dispatch, experts, combine\n"
      "  --moe-experts-to-grouped-matmul          experts to grouped "
      "matmuls\n"
      "  --moe-expert-parallel=ranks=R            experts sharded over R "
      "ranks, with all-to-alls\n"
      "  --convert-moe-to-linalg                  moe ops to portable "
      "linalg/tensor/scf\n"
      "  --convert-moe-to-runtime                 all-to-alls to runtime "
      "calls\n"
      "  --moe-cost                               parameters, FLOPs, bytes "
      "of each layer\n\n"
      "Examples:\n"
      "  moe-opt layer.mlir --moe-expand-layer\n"
      "  moe-opt layer.mlir --moe-cpu-pipeline -o layer.llvm.mlir\n"
      "  moe-opt layer.mlir --moe-cost=\"format=json\" -o /dev/null\n",
      registry));
}
