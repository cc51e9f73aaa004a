//===- moe-preset.cpp - moe.layer of a real model's MoE block -------------===//
//
// moe-preset NAME | --config=config.json [--scale-down=N] [--tokens=T]
//            [--dtype=f32|bf16|f16] [--statistics]
//
// Prints a module with one function that computes the MoE layer of a
// published model (a named preset, or the model whose Hugging Face
// config.json is given), ready for moe-run and moe-opt. The specs and the
// layer building live in lib/Presets; this is the command line.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/InitAll.h"
#include "moe-mlir/Presets/Presets.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

using namespace mlir;
using namespace mlir::moe;
namespace cl = llvm::cl;

static cl::OptionCategory presetCategory("moe-preset options");

static cl::opt<std::string> presetName(cl::Positional,
                                       cl::desc("<preset> (see --list)"),
                                       cl::init(""), cl::cat(presetCategory));
static cl::opt<std::string> configFile(
    "config",
    cl::desc(
        "A Hugging Face config.json to read the layer from instead of a "
        "preset (model_type mixtral, deepseek_v2, deepseek_v3, kimi_k2, "
        "qwen2_moe, qwen3_moe, olmoe, gpt_oss, llama4, switch_transformers)"),
    cl::value_desc("file"), cl::init(""), cl::cat(presetCategory));
static cl::opt<bool> listPresets("list", cl::desc("List the presets"),
                                 cl::init(false), cl::cat(presetCategory));
static cl::opt<int64_t>
    scaleDown("scale-down",
              cl::desc("Divide D, F and S by N (they must be multiples of "
                       "N); E, k and the routing stay"),
              cl::value_desc("N"), cl::init(1), cl::cat(presetCategory));
static cl::opt<int64_t>
    tokensOpt("tokens", cl::desc("A static token count T (default: dynamic)"),
              cl::value_desc("T"), cl::init(-1), cl::cat(presetCategory));
static cl::opt<std::string>
    dtypeOpt("dtype",
             cl::desc("Element type of tokens and weights: f32 "
                      "(default; what moe-run checks), bf16, f16"),
             cl::init("f32"), cl::cat(presetCategory));
static cl::opt<int64_t> capacityOpt(
    "capacity",
    cl::desc("Replace a fixed per-expert capacity by this one (tests that "
             "need drops at small T)"),
    cl::value_desc("C"), cl::init(-1), cl::cat(presetCategory));
static cl::opt<bool> statisticsOpt(
    "statistics",
    cl::desc("Also return the training-time statistics: expert counts, "
             "load-balancing loss, z-loss"),
    cl::init(false), cl::cat(presetCategory));
static cl::opt<std::string> droppedOpt(
    "dropped",
    cl::desc("What a dropped assignment contributes, for presets with a "
             "capacity: zero (the papers, Hugging Face >= 5) or identity "
             "(the token times its weight: Hugging Face 4.x Switch)"),
    cl::init(""), cl::cat(presetCategory));

namespace {

int error(const Twine &message) {
  llvm::errs() << "moe-preset: error: " << message << "\n";
  return 2;
}

} // namespace

/// The spec the command line names: a preset, or a config.json.
std::optional<LayerSpec> namedSpec() {
  if (!configFile.empty()) {
    if (!presetName.empty()) {
      error("give a preset name or --config, not both");
      return std::nullopt;
    }
    auto buffer = llvm::MemoryBuffer::getFile(configFile);
    if (!buffer) {
      error("cannot read " + configFile + ": " + buffer.getError().message());
      return std::nullopt;
    }
    llvm::Expected<llvm::json::Value> json =
        llvm::json::parse((*buffer)->getBuffer());
    if (!json) {
      error(configFile + ": not JSON: " + llvm::toString(json.takeError()));
      return std::nullopt;
    }
    llvm::Expected<LayerSpec> spec =
        specFromHFConfig(*json, llvm::sys::path::filename(configFile));
    if (!spec) {
      error(llvm::toString(spec.takeError()));
      return std::nullopt;
    }
    return *spec;
  }
  if (presetName.empty()) {
    error("name a preset (--list shows them) or give --config=config.json");
    return std::nullopt;
  }
  std::optional<LayerSpec> found = findPreset(presetName);
  if (!found)
    error("unknown preset '" + presetName + "' (--list shows them)");
  return found;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(presetCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "the moe.layer of a published model's MoE block\n\n"
      "  moe-preset NAME [options]            a named preset (--list)\n"
      "  moe-preset --config=FILE [options]   the model of a Hugging Face "
      "config.json\n\n"
      "Examples:\n"
      "  moe-preset mixtral-8x7b --scale-down=8 > mixtral.mlir\n"
      "  moe-preset --config=Qwen3-30B-A3B/config.json --dtype=bf16 > "
      "qwen3.mlir\n"
      "  moe-run mixtral.mlir --tokens=64\n");
  if (listPresets) {
    for (const LayerSpec &p : namedPresets())
      llvm::outs() << llvm::format("%-14s %-36s D=%-5lld F=%-5lld E=%-4lld ",
                                   p.name.c_str(), p.model.c_str(),
                                   (long long)p.D, (long long)p.F,
                                   (long long)p.E)
                   << stringifyActivation(p.activation) << "; "
                   << routingSummary(p, p.sharedF) << " [" << p.source << "]\n";
    return 0;
  }
  std::optional<LayerSpec> found = namedSpec();
  if (!found)
    return 2;
  LayerSpec p = *found;
  if (capacityOpt >= 0) {
    if (p.capacityKind != CapacityKind::fixed)
      return error(Twine("--capacity: ") + p.name +
                   " has no fixed capacity to replace");
    if (capacityOpt < 1)
      return error("--capacity must be at least 1");
    p.capacity = capacityOpt;
  }
  if (!droppedOpt.empty()) {
    std::optional<DroppedOutput> dropped = symbolizeDroppedOutput(droppedOpt);
    if (!dropped)
      return error("--dropped must be zero or identity, got '" + droppedOpt +
                   "'");
    if (p.capacityKind == CapacityKind::dropless)
      return error(Twine("--dropped: ") + p.name + " is dropless");
    p.dropped = *dropped;
  }

  DialectRegistry registry;
  registry.insert<func::FuncDialect>();
  mlir::moe::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  OpBuilder b(&context);
  LayerBuildOptions options;
  if (dtypeOpt == "f32")
    options.elementType = b.getF32Type();
  else if (dtypeOpt == "bf16")
    options.elementType = b.getBF16Type();
  else if (dtypeOpt == "f16")
    options.elementType = b.getF16Type();
  else
    return error("--dtype must be f32, bf16 or f16, got '" + dtypeOpt + "'");
  if (scaleDown < 1)
    return error("--scale-down must be at least 1");
  if (tokensOpt == 0 || tokensOpt < -1)
    return error("--tokens must be at least 1");
  options.scaleDown = scaleDown;
  options.tokens = tokensOpt;
  options.statistics = statisticsOpt;
  llvm::Expected<OwningOpRef<ModuleOp>> module =
      buildLayerModule(context, p, options);
  if (!module)
    return error(llvm::toString(module.takeError()));

  const int64_t D = p.D / scaleDown, F = p.F / scaleDown,
                S = p.sharedF / scaleDown;
  llvm::outs() << "// " << p.model << " MoE layer";
  if (scaleDown > 1)
    llvm::outs() << ", D and F scaled down by " << scaleDown;
  llvm::outs() << ": D=" << D << " F=" << F << " E=" << p.E << " k=" << p.k;
  if (S)
    llvm::outs() << " S=" << S;
  llvm::outs() << ", " << stringifyActivation(p.activation) << "; "
               << routingSummary(p, S) << ".\n// Source: " << p.source
               << ". Generated by: moe-preset ";
  if (configFile.empty())
    llvm::outs() << p.name;
  else
    llvm::outs() << "--config=" << llvm::sys::path::filename(configFile);
  if (scaleDown > 1)
    llvm::outs() << " --scale-down=" << scaleDown;
  if (tokensOpt > 0)
    llvm::outs() << " --tokens=" << tokensOpt;
  if (dtypeOpt != "f32")
    llvm::outs() << " --dtype=" << dtypeOpt;
  if (capacityOpt >= 0)
    llvm::outs() << " --capacity=" << capacityOpt;
  if (!droppedOpt.empty())
    llvm::outs() << " --dropped=" << droppedOpt;
  if (statisticsOpt)
    llvm::outs() << " --statistics";
  llvm::outs() << "\n";
  (*module)->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
