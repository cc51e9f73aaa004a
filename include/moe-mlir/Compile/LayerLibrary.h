//===- LayerLibrary.h - A layer compiled ahead of time ----------*- C++ -*-===//
//
// Compiles a layer function into a shared library that runs with no MLIR or
// LLVM: the layer lowered by moe-cpu-pipeline (for the host CPU or a named
// one) or moe-gpu-pipeline (kernels embedded as a fat binary: the chip's
// cubin and PTX), an object file emitted by LLVM, linked against the
// portable runtime. The library's C ABI (docs/AheadOfTime.md):
//
//   void moe_layer_call(void **args);          the packed C interface
//   const char *moe_layer_description(void);   LayerDescription's text
//   void moe_layer_set_threads(int threads);   CPU threads (OpenMP's)
//   int moe_layer_max_threads(void);
//   _mlir_ciface_<function>(...)               the typed C interface
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_COMPILE_LAYERLIBRARY_H
#define MOE_MLIR_COMPILE_LAYERLIBRARY_H

#include "moe-mlir/Runner/LayerDescription.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace moe::compile {

struct LibraryOptions {
  /// "cpu" or "gpu".
  std::string target = "cpu";
  /// The pipeline's options, as moe-opt spells them (e.g. "amx=off").
  std::string pipelineOptions;
  /// CPU: the LLVM CPU the code is for; "native" is the host (its features
  /// as LLVM detects them).
  std::string cpu = "native";
  /// GPU: the chip ("sm_80", "sm_90a") and the PTX features.
  std::string chip = "sm_90a";
  std::string gpuFeatures = "+ptx80";
  /// The function computing the layer; empty: the module's only one.
  std::string entry;
  /// Where the portable runtime (libmoe_runtime.so) is, and the libraries
  /// the linker needs besides; from the build when empty.
  std::string runtimeDir;
  /// The C compiler driver that links; from the build when empty.
  std::string linker;
};

/// What was built.
struct LibraryResult {
  run::LayerDescription description;
  /// The files written: the library, and the runtime libraries copied next
  /// to it (libmoe_runtime.so, libomp.so.5 for a parallel CPU layer).
  std::vector<std::string> files;
  /// Functions in the object file.
  unsigned functions = 0;
};

/// Compiles the layer of `module` into the shared library `outputPath`,
/// copying the runtime libraries it needs into the same folder (its rpath
/// is $ORIGIN). Diagnostics about the IR go to the context's handler; other
/// failures come back as errors.
llvm::Expected<LibraryResult>
compileLayerLibrary(mlir::ModuleOp module, const LibraryOptions &options,
                    const std::string &outputPath);

} // namespace moe::compile

#endif // MOE_MLIR_COMPILE_LAYERLIBRARY_H
