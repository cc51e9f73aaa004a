//===- moe-compile.cpp - Compile an MoE layer into a shared library -------===//
//
// moe-compile FILE.mlir [--target=cpu|gpu] [--chip=sm_90a] [--cpu=native]
//     [--pipeline=OPTIONS] [--entry=NAME] -o liblayer.so
//
// Lowers the function that computes a moe.layer with moe-cpu-pipeline or
// moe-gpu-pipeline, emits an object file and links a shared library that
// needs no MLIR or LLVM: its C ABI (moe_layer_call, moe_layer_description,
// moe_layer_set_threads, moe_layer_max_threads, _mlir_ciface_<function>) is
// in docs/AheadOfTime.md. The runtime libraries it needs are copied next to
// it. moe-exec runs and checks it.
//
// Exit status: 0 when the library is written, 2 otherwise.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Compile/LayerLibrary.h"
#include "moe-mlir/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory compileCategory("moe-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required, cl::cat(compileCategory));
static cl::opt<std::string> outputFile("o", cl::desc("The library to write"),
                                       cl::value_desc("liblayer.so"),
                                       cl::Required, cl::cat(compileCategory));
static cl::opt<std::string>
    target("target", cl::desc("What the layer runs on: cpu or gpu"),
           cl::init("cpu"), cl::cat(compileCategory));
static cl::opt<std::string>
    chip("chip",
         cl::desc("GPU: the chip of the cubin (sm_80, sm_90a, ...); the PTX "
                  "rides along for newer ones"),
         cl::init("sm_90a"), cl::cat(compileCategory));
static cl::opt<std::string> gpuFeatures("gpu-features",
                                        cl::desc("GPU: the PTX features"),
                                        cl::init("+ptx80"),
                                        cl::cat(compileCategory));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU: the LLVM CPU to generate code for (native: this "
                 "machine's, with its features as LLVM detects them). For "
                 "another CPU, say in --pipeline what it lacks (amx=off, "
                 "bf16-dot=off, vector-width=8)"),
        cl::init("native"), cl::cat(compileCategory));
static cl::opt<std::string>
    pipeline("pipeline",
             cl::desc("Options of moe-cpu-pipeline or moe-gpu-pipeline, as "
                      "moe-opt spells them (e.g. \"amx=off parallel=0\")"),
             cl::init(""), cl::cat(compileCategory));
static cl::opt<std::string>
    entry("entry",
          cl::desc("The function computing the layer (default: the only one)"),
          cl::init(""), cl::cat(compileCategory));
static cl::opt<std::string>
    runtimeDir("runtime-dir",
               cl::desc("Where the portable libmoe_runtime.so is (default: "
                        "the build's)"),
               cl::init(""), cl::cat(compileCategory));

namespace {
constexpr int kWritten = 0, kFailed = 2;

int fail(const llvm::Twine &message) {
  llvm::errs() << "moe-compile: error: " << message << "\n";
  return kFailed;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(compileCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "compile an MoE layer into a shared library that runs without MLIR\n\n"
      "  moe-compile FILE.mlir [--target=cpu|gpu] -o liblayer.so\n\n"
      "Examples:\n"
      "  moe-compile examples/mixtral.mlir -o out/libmixtral.so && "
      "moe-exec out/libmixtral.so --tokens=64\n"
      "  moe-compile layer.mlir --target=gpu --chip=sm_90a -o "
      "gpu/liblayer.so\n");

  DialectRegistry registry;
  registerAllDialects(registry);
  // The GPU pipeline's host lowering (gpu-to-llvm) converts through the
  // dialects' ConvertToLLVM interfaces, registered as extensions.
  registerAllExtensions(registry);
  mlir::moe::registerAllDialects(registry);
  // Every dialect's LLVM IR translation, and the GPU binaries' embedding
  // (gpu.binary's offloading handler).
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);

  std::string errorMessage;
  auto file = openInputFile(inputFile, &errorMessage);
  if (!file)
    return fail(errorMessage);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("could not parse '" + inputFile + "'");

  ::moe::compile::LibraryOptions options;
  options.target = target;
  options.pipelineOptions = pipeline;
  options.cpu = cpu;
  options.chip = chip;
  options.gpuFeatures = gpuFeatures;
  options.entry = entry;
  options.runtimeDir = runtimeDir;
  auto built =
      ::moe::compile::compileLayerLibrary(*module, options, outputFile);
  if (!built)
    return fail(llvm::toString(built.takeError()) + " ('" + inputFile + "')");

  const ::moe::run::LayerDescription &description = built->description;
  llvm::outs() << "moe-compile: " << outputFile << ": @" << description.function
               << " for " << (target == "gpu" ? chip.getValue() : "cpu " + cpu)
               << ", " << built->functions << " functions";
  if (built->files.size() > 1) {
    llvm::outs() << "; next to it:";
    for (size_t i = 1; i < built->files.size(); ++i)
      llvm::outs() << " " << llvm::sys::path::filename(built->files[i]);
  }
  llvm::outs() << "\n";
  return kWritten;
}
