//===- moe-preset.cpp - moe.layer of a real model's MoE block -------------===//
//
// moe-preset NAME [--scale-down=N] [--tokens=T] [--dtype=f32|bf16|f16]
//
// Prints a module with one function that computes the MoE layer of a
// published model (its arguments are the layer's operands, its results the
// layer's), ready for moe-run and moe-opt. --scale-down divides the model
// width D and the expert and shared-expert widths F and S by N and keeps the
// number of experts, k and the routing, so that every preset runs on a small
// machine. --list prints the table.
//
// The hyper-parameters come from each model's published config.json; the
// table's `source` column names it. docs/Presets.md gives the details.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

using namespace mlir;
using namespace mlir::moe;
namespace cl = llvm::cl;

static cl::opt<std::string> presetName(cl::Positional,
                                       cl::desc("<preset> (see --list)"),
                                       cl::init(""));
static cl::opt<bool> listPresets("list", cl::desc("List the presets"),
                                 cl::init(false));
static cl::opt<int64_t>
    scaleDown("scale-down",
              cl::desc("Divide D, F and S by N (they must be multiples of "
                       "N); E, k and the routing stay"),
              cl::init(1));
static cl::opt<int64_t>
    tokensOpt("tokens", cl::desc("A static token count T (default: dynamic)"),
              cl::init(-1));
static cl::opt<std::string>
    dtypeOpt("dtype", cl::desc("Element type of tokens and weights: f32 "
                               "(default; what moe-run checks), bf16, f16"),
             cl::init("f32"));
static cl::opt<int64_t> capacityOpt(
    "capacity",
    cl::desc("Replace a fixed per-expert capacity by this one (tests that "
             "need drops at small T)"),
    cl::init(-1));

static cl::opt<bool> statisticsOpt(
    "statistics",
    cl::desc("Also return the training-time statistics: expert counts, "
             "load-balancing loss, z-loss"),
    cl::init(false));
static cl::opt<std::string> droppedOpt(
    "dropped",
    cl::desc("What a dropped assignment contributes, for presets with a "
             "capacity: zero (the papers, Hugging Face >= 5) or identity "
             "(the token times its weight: Hugging Face 4.x Switch)"),
    cl::init(""));

namespace {

/// One published model's MoE layer.
struct Preset {
  const char *name;
  const char *model;
  const char *source; ///< where the figures come from
  int64_t D, F, E, k;
  Scoring scoring = Scoring::softmax;
  ScoreOrder order = ScoreOrder::softmax_topk;
  bool renormalize = false;
  double scale = 1.0;
  int64_t groups = 1, topkGroups = 1;
  GroupScore groupScore = GroupScore::max;
  WeightsOn weightsOn = WeightsOn::output;
  bool routerBias = false, selectionBias = false;
  CapacityKind capacityKind = CapacityKind::dropless;
  int64_t capacity = 0;
  double factor = 0.0;
  DroppedOutput dropped = DroppedOutput::zero;
  Activation activation = Activation::swiglu;
  bool expertBiases = false;
  int64_t sharedF = 0; ///< S: shared experts fused into one FFN
  bool sharedSigmoidGate = false;
};

Preset makePresets(int index) {
  switch (index) {
  case 0: {
    Preset p{"mixtral-8x7b", "Mixtral-8x7B",
             "mistralai/Mixtral-8x7B-v0.1 config.json", 4096, 14336, 8, 2};
    // Softmax over all 8, top-2, renormalised == softmax of the 2 logits.
    p.order = ScoreOrder::topk_softmax;
    return p;
  }
  case 1: {
    Preset p{"deepseek-v2", "DeepSeek-V2",
             "deepseek-ai/DeepSeek-V2 config.json", 5120, 1536, 160, 6};
    // group_limited_greedy: a group scores its best softmax probability.
    p.groups = 8;
    p.topkGroups = 3;
    p.scale = 16.0;
    p.sharedF = 2 * 1536;
    return p;
  }
  case 2: {
    Preset p{"deepseek-v3", "DeepSeek-V3",
             "deepseek-ai/DeepSeek-V3 config.json", 7168, 2048, 256, 8};
    p.scoring = Scoring::sigmoid;
    p.renormalize = true;
    p.scale = 2.5;
    p.groups = 8;
    p.topkGroups = 4;
    p.groupScore = GroupScore::sum_top2;
    p.selectionBias = true; // e_score_correction_bias
    p.sharedF = 2048;
    return p;
  }
  case 3: {
    // DeepSeek-V3's layer at 384 experts, with n_group = topk_group = 1 (no
    // group limit) and its own scaling factor.
    Preset p = makePresets(2);
    p.name = "kimi-k2";
    p.model = "Kimi-K2";
    p.source = "moonshotai/Kimi-K2-Instruct config.json";
    p.E = 384;
    p.groups = 1;
    p.topkGroups = 1;
    p.groupScore = GroupScore::max;
    p.scale = 2.827;
    return p;
  }
  case 4: {
    Preset p{"qwen2-moe", "Qwen2-57B-A14B",
             "Qwen/Qwen2-57B-A14B config.json", 3584, 2560, 64, 8};
    // norm_topk_prob = false; a shared expert with a sigmoid gate.
    p.sharedF = 20480;
    p.sharedSigmoidGate = true;
    return p;
  }
  case 5: {
    Preset p{"qwen3-30b-a3b", "Qwen3-30B-A3B",
             "Qwen/Qwen3-30B-A3B config.json", 2048, 768, 128, 8};
    p.renormalize = true; // norm_topk_prob = true
    return p;
  }
  case 6: {
    Preset p{"switch-base-8", "Switch Transformer (switch-base-8)",
             "google/switch-base-8 config.json", 768, 3072, 8, 1};
    // expert_capacity = 64 per sequence. A dropped token gives zero (the
    // paper; Hugging Face 5.x, whose residual connection outside the block
    // carries it on); --dropped=identity gives Hugging Face 4.x's block,
    // which passed it through scaled by its router probability.
    p.capacityKind = CapacityKind::fixed;
    p.capacity = 64;
    p.activation = Activation::relu;
    return p;
  }
  case 7: {
    Preset p{"gshard", "GShard M4 (600B, 2048 experts)",
             "Lepikhin et al. 2020, GShard: the 600B model, top-2 gating", 1024, 8192,
             2048, 2};
    // Top-2 with gates normalised over the two, capacity 2N/E (factor 1
    // with k = 2), first choices before second choices.
    p.renormalize = true;
    p.capacityKind = CapacityKind::factor;
    p.factor = 1.0;
    p.activation = Activation::relu;
    return p;
  }
  case 8: {
    Preset p{"gpt-oss-20b", "gpt-oss-20b", "openai/gpt-oss-20b config.json",
             2880, 2880, 32, 4};
    p.order = ScoreOrder::topk_softmax;
    p.routerBias = true;
    p.expertBiases = true;
    p.activation = Activation::clamped_swiglu; // swiglu_limit 7.0, alpha 1.702
    return p;
  }
  case 9: {
    Preset p{"olmoe-1b-7b", "OLMoE-1B-7B",
             "allenai/OLMoE-1B-7B-0924 config.json", 2048, 1024, 64, 8};
    return p; // norm_topk_prob = false
  }
  case 10: {
    Preset p{"llama4-scout", "Llama-4-Scout-17B-16E",
             "meta-llama/Llama-4-Scout-17B-16E config.json (text_config)",
             5120, 8192, 16, 1};
    // Top-1 logit, sigmoid of it scales the expert's input; a shared
    // expert of the same width.
    p.scoring = Scoring::sigmoid;
    p.weightsOn = WeightsOn::input;
    p.sharedF = 8192;
    return p;
  }
  default:
    return Preset{nullptr, nullptr, nullptr, 0, 0, 0, 0};
  }
}

std::optional<Preset> findPreset(StringRef name) {
  for (int i = 0;; ++i) {
    Preset p = makePresets(i);
    if (!p.name)
      return std::nullopt;
    if (name == p.name)
      return p;
  }
}

std::string routingSummary(const Preset &p, int64_t sharedWidth) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << (p.scoring == Scoring::sigmoid ? "sigmoid" : "softmax");
  if (p.order == ScoreOrder::topk_softmax)
    os << " of the top-" << p.k;
  else
    os << ", top-" << p.k;
  if (p.groups > 1)
    os << ", " << p.topkGroups << " of " << p.groups << " groups ("
       << (p.groupScore == GroupScore::sum_top2 ? "sum of top 2" : "best")
       << ")";
  if (p.selectionBias)
    os << ", selection bias";
  if (p.routerBias)
    os << ", router bias";
  if (p.renormalize)
    os << ", renormalised";
  if (p.scale != 1.0)
    os << ", x" << llvm::format("%g", p.scale);
  if (p.weightsOn == WeightsOn::input)
    os << ", weight on the input";
  if (p.capacityKind == CapacityKind::fixed)
    os << ", capacity " << p.capacity;
  if (p.capacityKind == CapacityKind::factor)
    os << ", capacity factor " << llvm::format("%g", p.factor);
  if (p.dropped == DroppedOutput::identity)
    os << " (dropped pass through)";
  if (p.sharedF)
    os << "; shared experts width " << sharedWidth
       << (p.sharedSigmoidGate ? " with sigmoid gate" : "");
  return text;
}

int error(const Twine &message) {
  llvm::errs() << "moe-preset: error: " << message << "\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "moe-preset: the moe.layer of a published model's MoE block\n");
  if (listPresets) {
    for (int i = 0;; ++i) {
      Preset p = makePresets(i);
      if (!p.name)
        break;
      llvm::outs() << llvm::format("%-14s %-36s D=%-5lld F=%-5lld E=%-4lld ",
                                   p.name, p.model, (long long)p.D,
                                   (long long)p.F, (long long)p.E)
                   << stringifyActivation(p.activation) << "; "
                   << routingSummary(p, p.sharedF) << " [" << p.source
                   << "]\n";
    }
    return 0;
  }
  if (presetName.empty())
    return error("name a preset (--list shows them)");
  std::optional<Preset> found = findPreset(presetName);
  if (!found)
    return error("unknown preset '" + presetName + "' (--list shows them)");
  Preset p = *found;
  if (scaleDown < 1)
    return error("--scale-down must be at least 1");
  for (auto [what, size] : {std::pair<const char *, int64_t>{"D", p.D},
                            {"F", p.F},
                            {"S", p.sharedF}})
    if (size % scaleDown != 0)
      return error(Twine("--scale-down=") + Twine(int64_t(scaleDown)) +
                   " does not divide " + what + " = " + Twine(size) + " of " +
                   p.name);
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
  const int64_t D = p.D / scaleDown, F = p.F / scaleDown,
                S = p.sharedF / scaleDown, E = p.E;

  DialectRegistry registry;
  registry.insert<func::FuncDialect>();
  mlir::moe::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  OpBuilder b(&context);
  Type element;
  if (dtypeOpt == "f32")
    element = b.getF32Type();
  else if (dtypeOpt == "bf16")
    element = b.getBF16Type();
  else if (dtypeOpt == "f16")
    element = b.getF16Type();
  else
    return error("--dtype must be f32, bf16 or f16, got '" + dtypeOpt + "'");
  if (tokensOpt == 0 || tokensOpt < -1)
    return error("--tokens must be at least 1");
  int64_t T = tokensOpt > 0 ? int64_t(tokensOpt) : ShapedType::kDynamic;

  auto tensor = [&](ArrayRef<int64_t> shape, Type type) -> Type {
    return RankedTensorType::get(shape, type);
  };
  Type f32 = b.getF32Type();
  bool gated = isGated(p.activation);
  // Argument types in the layer's operand order.
  SmallVector<Type> argTypes = {tensor({T, D}, element),
                                tensor({E, D}, element)};
  if (p.routerBias)
    argTypes.push_back(tensor({E}, f32));
  if (p.selectionBias)
    argTypes.push_back(tensor({E}, f32));
  if (gated) {
    argTypes.push_back(tensor({E, F, D}, element));
    if (p.expertBiases)
      argTypes.push_back(tensor({E, F}, element));
  }
  argTypes.push_back(tensor({E, F, D}, element));
  if (p.expertBiases)
    argTypes.push_back(tensor({E, F}, element));
  argTypes.push_back(tensor({E, D, F}, element));
  if (p.expertBiases)
    argTypes.push_back(tensor({E, D}, element));
  if (S) {
    if (gated)
      argTypes.push_back(tensor({S, D}, element));
    argTypes.push_back(tensor({S, D}, element));
    argTypes.push_back(tensor({D, S}, element));
    if (p.sharedSigmoidGate)
      argTypes.push_back(tensor({1, D}, element));
  }
  bool canDrop = p.capacityKind != CapacityKind::dropless;
  SmallVector<Type> resultTypes = {tensor({T, D}, element)};
  if (canDrop)
    resultTypes.push_back(tensor({}, b.getI64Type()));
  if (statisticsOpt) {
    resultTypes.push_back(tensor({E}, b.getI64Type()));
    resultTypes.push_back(tensor({}, f32));
    resultTypes.push_back(tensor({}, f32));
  }

  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  std::string funcName = p.name;
  for (char &c : funcName)
    if (c == '-')
      c = '_';
  auto func = func::FuncOp::create(b, loc, funcName,
                                   b.getFunctionType(argTypes, resultTypes));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  auto args = body->getArguments();
  unsigned next = 0;
  auto take = [&](bool present) -> Value {
    return present ? Value(args[next++]) : Value();
  };
  Value tokens = take(true), router = take(true);
  Value routerBias = take(p.routerBias), selectionBias = take(p.selectionBias);
  Value gate = take(gated), gateBias = take(gated && p.expertBiases);
  Value up = take(true), upBias = take(p.expertBiases);
  Value down = take(true), downBias = take(p.expertBiases);
  Value sharedGate = take(S && gated), sharedUp = take(S),
        sharedDown = take(S), sharedSigmoidGate = take(S && p.sharedSigmoidGate);

  auto routerAttr = RouterAttr::get(
      &context, p.k, p.scoring, p.order, p.renormalize, APFloat(p.scale),
      p.groups, p.topkGroups, p.groupScore, p.weightsOn, Choice::token);
  auto capacityAttr = CapacityAttr::get(
      &context, p.capacityKind, p.capacity, APFloat(p.factor),
      DropPolicy::position, p.dropped);
  auto layer = LayerOp::create(
      b, loc, resultTypes[0], TypeRange(resultTypes).drop_front(), tokens,
      router, routerBias, selectionBias, gate, gateBias, up, upBias, down,
      downBias, sharedGate, sharedUp, sharedDown, sharedSigmoidGate,
      routerAttr, capacityAttr, ActivationAttr::get(&context, p.activation));
  func::ReturnOp::create(b, loc, layer->getResults());
  if (failed(verify(*module)))
    return error("the generated layer does not verify");

  llvm::outs() << "// " << p.model << " MoE layer";
  if (scaleDown > 1)
    llvm::outs() << ", D and F scaled down by " << scaleDown;
  llvm::outs() << ": D=" << D << " F=" << F << " E=" << E << " k=" << p.k;
  if (S)
    llvm::outs() << " S=" << S;
  llvm::outs() << ", " << stringifyActivation(p.activation) << "; "
               << routingSummary(p, S) << ".\n// Source: " << p.source
               << ". Generated by: moe-preset " << p.name;
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
  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
