//===- downstream-opt.cpp - An opt tool built on the installed moe-mlir ---===//
//
// What a project that embeds moe-mlir writes: register the moe dialect (and
// the upstream dialects its passes produce) and moe's passes and pipelines
// in its own tool, next to whatever else it has.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::moe::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::moe::registerAllDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "downstream optimizer with the moe dialect\n", registry));
}
