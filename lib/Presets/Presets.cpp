//===- Presets.cpp - The MoE layers of published models -------------------===//
//
// The hyper-parameters come from each model's published config.json (the
// spec's `source` names it); docs/Presets.md gives the details.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Presets/Presets.h"

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::moe;
using llvm::json::Object;

//===----------------------------------------------------------------------===//
// The named presets
//===----------------------------------------------------------------------===//

static LayerSpec spec(const char *name, const char *model, const char *source,
                      int64_t D, int64_t F, int64_t E, int64_t k) {
  LayerSpec s;
  s.name = name;
  s.model = model;
  s.source = source;
  s.D = D;
  s.F = F;
  s.E = E;
  s.k = k;
  return s;
}

static std::vector<LayerSpec> makeNamedPresets() {
  std::vector<LayerSpec> presets;
  {
    LayerSpec p =
        spec("mixtral-8x7b", "Mixtral-8x7B",
             "mistralai/Mixtral-8x7B-v0.1 config.json", 4096, 14336, 8, 2);
    // Softmax over all 8, top-2, renormalised == softmax of the 2 logits.
    p.order = ScoreOrder::topk_softmax;
    presets.push_back(p);
  }
  {
    LayerSpec p =
        spec("deepseek-v2", "DeepSeek-V2",
             "deepseek-ai/DeepSeek-V2 config.json", 5120, 1536, 160, 6);
    // group_limited_greedy: a group scores its best softmax probability.
    p.groups = 8;
    p.topkGroups = 3;
    p.scale = 16.0;
    p.sharedF = 2 * 1536;
    presets.push_back(p);
  }
  {
    LayerSpec p =
        spec("deepseek-v3", "DeepSeek-V3",
             "deepseek-ai/DeepSeek-V3 config.json", 7168, 2048, 256, 8);
    p.scoring = Scoring::sigmoid;
    p.renormalize = true;
    p.scale = 2.5;
    p.groups = 8;
    p.topkGroups = 4;
    p.groupScore = GroupScore::sum_top2;
    p.selectionBias = true; // e_score_correction_bias
    p.sharedF = 2048;
    presets.push_back(p);
  }
  {
    // DeepSeek-V3's layer at 384 experts, with n_group = topk_group = 1 (no
    // group limit) and its own scaling factor.
    LayerSpec p = presets.back();
    p.name = "kimi-k2";
    p.model = "Kimi-K2";
    p.source = "moonshotai/Kimi-K2-Instruct config.json";
    p.E = 384;
    p.groups = 1;
    p.topkGroups = 1;
    p.groupScore = GroupScore::max;
    p.scale = 2.827;
    presets.push_back(p);
  }
  {
    LayerSpec p = spec("qwen2-moe", "Qwen2-57B-A14B",
                       "Qwen/Qwen2-57B-A14B config.json", 3584, 2560, 64, 8);
    // norm_topk_prob = false; a shared expert with a sigmoid gate.
    p.sharedF = 20480;
    p.sharedSigmoidGate = true;
    presets.push_back(p);
  }
  {
    LayerSpec p = spec("qwen3-30b-a3b", "Qwen3-30B-A3B",
                       "Qwen/Qwen3-30B-A3B config.json", 2048, 768, 128, 8);
    p.renormalize = true; // norm_topk_prob = true
    presets.push_back(p);
  }
  {
    LayerSpec p = spec("switch-base-8", "Switch Transformer (switch-base-8)",
                       "google/switch-base-8 config.json", 768, 3072, 8, 1);
    // expert_capacity = 64 per sequence. A dropped token gives zero (the
    // paper; Hugging Face 5.x, whose residual connection outside the block
    // carries it on); DroppedOutput::identity gives Hugging Face 4.x's
    // block, which passed it through scaled by its router probability.
    p.capacityKind = CapacityKind::fixed;
    p.capacity = 64;
    p.activation = Activation::relu;
    presets.push_back(p);
  }
  {
    LayerSpec p =
        spec("gshard", "GShard M4 (600B, 2048 experts)",
             "Lepikhin et al. 2020, GShard: the 600B model, top-2 gating", 1024,
             8192, 2048, 2);
    // Top-2 with gates normalised over the two, capacity 2N/E (factor 1
    // with k = 2), first choices before second choices.
    p.renormalize = true;
    p.capacityKind = CapacityKind::factor;
    p.factor = 1.0;
    p.activation = Activation::relu;
    presets.push_back(p);
  }
  {
    LayerSpec p = spec("gpt-oss-20b", "gpt-oss-20b",
                       "openai/gpt-oss-20b config.json", 2880, 2880, 32, 4);
    p.order = ScoreOrder::topk_softmax;
    p.routerBias = true;
    p.expertBiases = true;
    p.activation = Activation::clamped_swiglu; // swiglu_limit 7, alpha 1.702
    presets.push_back(p);
  }
  {
    // norm_topk_prob = false
    presets.push_back(spec("olmoe-1b-7b", "OLMoE-1B-7B",
                           "allenai/OLMoE-1B-7B-0924 config.json", 2048, 1024,
                           64, 8));
  }
  {
    LayerSpec p =
        spec("llama4-scout", "Llama-4-Scout-17B-16E",
             "meta-llama/Llama-4-Scout-17B-16E config.json (text_config)", 5120,
             8192, 16, 1);
    // Top-1 logit, sigmoid of it scales the expert's input; a shared
    // expert of the same width.
    p.scoring = Scoring::sigmoid;
    p.weightsOn = WeightsOn::input;
    p.sharedF = 8192;
    presets.push_back(p);
  }
  return presets;
}

const std::vector<LayerSpec> &mlir::moe::namedPresets() {
  static const std::vector<LayerSpec> presets = makeNamedPresets();
  return presets;
}

std::optional<LayerSpec> mlir::moe::findPreset(StringRef name) {
  for (const LayerSpec &p : namedPresets())
    if (p.name == name)
      return p;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Hugging Face config.json
//===----------------------------------------------------------------------===//

namespace {
/// Reads the keys of one config object; the first failure is kept, with the
/// model type and the key in its message.
class ConfigReader {
public:
  ConfigReader(const Object &object, StringRef modelType, StringRef file)
      : object(object), modelType(modelType.str()), file(file.str()) {}

  /// The first of `keys` present, as a positive integer.
  int64_t size(std::initializer_list<const char *> keys) {
    for (const char *key : keys)
      if (const llvm::json::Value *value = object.get(key)) {
        std::optional<int64_t> n = value->getAsInteger();
        if (!n || *n < 1) {
          fail(Twine("'") + key + "' must be a positive integer");
          return 1;
        }
        return *n;
      }
    missing(keys);
    return 1;
  }

  /// An optional integer (null counts as absent).
  std::optional<int64_t> optionalInt(const char *key) {
    const llvm::json::Value *value = object.get(key);
    if (!value || value->getAsNull())
      return std::nullopt;
    std::optional<int64_t> n = value->getAsInteger();
    if (!n || *n < 0) {
      fail(Twine("'") + key + "' must be a non-negative integer");
      return std::nullopt;
    }
    return n;
  }

  double number(const char *key, double fallback) {
    const llvm::json::Value *value = object.get(key);
    if (!value || value->getAsNull())
      return fallback;
    std::optional<double> x = value->getAsNumber();
    if (!x || !std::isfinite(*x)) {
      fail(Twine("'") + key + "' must be a number");
      return fallback;
    }
    return *x;
  }

  bool flag(const char *key, bool fallback) {
    const llvm::json::Value *value = object.get(key);
    if (!value || value->getAsNull())
      return fallback;
    std::optional<bool> b = value->getAsBoolean();
    if (!b) {
      fail(Twine("'") + key + "' must be true or false");
      return fallback;
    }
    return *b;
  }

  std::string string(const char *key, StringRef fallback) {
    const llvm::json::Value *value = object.get(key);
    if (!value || value->getAsNull())
      return fallback.str();
    std::optional<StringRef> s = value->getAsString();
    if (!s) {
      fail(Twine("'") + key + "' must be a string");
      return fallback.str();
    }
    return s->str();
  }

  void fail(const Twine &message) {
    if (error.empty())
      error = file + ": " + modelType + ": " + message.str();
  }

  void missing(std::initializer_list<const char *> keys) {
    std::string names;
    for (const char *key : keys)
      names += (names.empty() ? "'" : " or '") + std::string(key) + "'";
    fail("missing key " + names);
  }

  std::string error;

private:
  const Object &object;
  std::string modelType, file;
};

/// The gated activation of a hidden_act: silu gives SwiGLU, gelu GeGLU.
std::optional<Activation> gatedActivation(StringRef act) {
  if (act == "silu" || act == "swish")
    return Activation::swiglu;
  if (act == "gelu")
    return Activation::geglu;
  return std::nullopt;
}

/// Switch Transformers' dense_act_fn: the expert is not gated.
std::optional<Activation> plainActivation(StringRef act) {
  if (act == "relu")
    return Activation::relu;
  if (act == "gelu")
    return Activation::gelu;
  if (act == "gelu_new" || act == "gelu_pytorch_tanh")
    return Activation::gelu_tanh;
  if (act == "silu" || act == "swish")
    return Activation::silu;
  return std::nullopt;
}

/// DeepSeek-V2, V3 and Kimi-K2 share their keys; `v3` selects V3's router
/// (sigmoid scores, a selection bias, groups scored by their best two).
void readDeepSeek(ConfigReader &c, LayerSpec &s, bool v3) {
  s.D = c.size({"hidden_size"});
  s.F = c.size({"moe_intermediate_size"});
  s.E = c.size({"n_routed_experts"});
  s.k = c.size({"num_experts_per_tok"});
  s.sharedF = c.optionalInt("n_shared_experts").value_or(0) * s.F;
  s.renormalize = c.flag("norm_topk_prob", v3);
  s.scale = c.number("routed_scaling_factor", 1.0);
  std::string scoring = c.string("scoring_func", v3 ? "sigmoid" : "softmax");
  if (scoring != "sigmoid" && scoring != "softmax")
    c.fail("scoring_func '" + scoring +
           "' is not supported (softmax or "
           "sigmoid)");
  s.scoring = scoring == "sigmoid" ? Scoring::sigmoid : Scoring::softmax;
  std::string method = c.string("topk_method", v3 ? "noaux_tc" : "greedy");
  int64_t groups = c.optionalInt("n_group").value_or(1);
  int64_t topkGroups = c.optionalInt("topk_group").value_or(groups);
  if (method == "noaux_tc") {
    // The correction bias picks the experts; groups score their best two.
    s.selectionBias = true;
    s.groupScore = GroupScore::sum_top2;
  } else if (method == "group_limited_greedy") {
    s.groupScore = GroupScore::max;
  } else if (method == "greedy") {
    groups = topkGroups = 1;
  } else {
    c.fail("topk_method '" + method +
           "' is not supported (greedy, "
           "group_limited_greedy or noaux_tc)");
  }
  s.groups = std::max<int64_t>(groups, 1);
  s.topkGroups = std::max<int64_t>(std::min(topkGroups, s.groups), 1);
  if (s.groups == 1)
    s.groupScore = GroupScore::max;
  std::string act = c.string("hidden_act", "silu");
  if (std::optional<Activation> a = gatedActivation(act))
    s.activation = *a;
  else
    c.fail("hidden_act '" + act + "' is not supported (silu or gelu)");
}
} // namespace

StringRef mlir::moe::supportedHFModelTypes() {
  return "mixtral, deepseek_v2, deepseek_v3, kimi_k2, qwen2_moe, qwen3_moe, "
         "olmoe, gpt_oss, llama4, llama4_text, switch_transformers";
}

llvm::Expected<LayerSpec>
mlir::moe::specFromHFConfig(const llvm::json::Value &config,
                            StringRef sourceName) {
  auto error = [&](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   sourceName + ": " + message);
  };
  const Object *top = config.getAsObject();
  if (!top)
    return error("expected a JSON object");
  std::optional<StringRef> type = top->getString("model_type");
  if (!type)
    return error("no 'model_type' string: cannot tell the model family");
  // Llama-4's language model sits in text_config.
  const Object *object = top;
  std::string modelType = type->str();
  if (modelType == "llama4") {
    object = top->getObject("text_config");
    if (!object)
      return error("llama4: missing key 'text_config'");
    modelType = "llama4_text";
  }

  ConfigReader c(*object, modelType, sourceName);
  LayerSpec s;
  s.name = modelType;
  std::replace(s.name.begin(), s.name.end(), '_', '-');
  s.source = sourceName.str();
  std::string act = c.string("hidden_act", "silu");
  auto gated = [&] {
    if (std::optional<Activation> a = gatedActivation(act))
      s.activation = *a;
    else
      c.fail("hidden_act '" + act + "' is not supported (silu or gelu)");
  };

  if (modelType == "mixtral") {
    s.model = "Mixtral";
    s.D = c.size({"hidden_size"});
    s.F = c.size({"intermediate_size"});
    s.E = c.size({"num_local_experts"});
    s.k = c.size({"num_experts_per_tok"});
    // Softmax over all, top-k, renormalised == softmax of the k logits.
    s.order = ScoreOrder::topk_softmax;
    gated();
  } else if (modelType == "deepseek_v2") {
    s.model = "DeepSeek-V2";
    readDeepSeek(c, s, /*v3=*/false);
  } else if (modelType == "deepseek_v3" || modelType == "kimi_k2") {
    s.model = modelType == "kimi_k2" ? "Kimi-K2" : "DeepSeek-V3";
    readDeepSeek(c, s, /*v3=*/true);
  } else if (modelType == "qwen2_moe") {
    s.model = "Qwen2-MoE";
    s.D = c.size({"hidden_size"});
    s.F = c.size({"moe_intermediate_size"});
    s.E = c.size({"num_experts", "num_local_experts"});
    s.k = c.size({"num_experts_per_tok"});
    s.renormalize = c.flag("norm_topk_prob", false);
    // Qwen2-MoE's shared expert always has its sigmoid gate.
    s.sharedF = c.optionalInt("shared_expert_intermediate_size").value_or(0);
    s.sharedSigmoidGate = s.sharedF > 0;
    gated();
  } else if (modelType == "qwen3_moe" || modelType == "olmoe") {
    bool qwen = modelType == "qwen3_moe";
    s.model = qwen ? "Qwen3-MoE" : "OLMoE";
    s.D = c.size({"hidden_size"});
    s.F = c.size({qwen ? "moe_intermediate_size" : "intermediate_size"});
    s.E = c.size({"num_experts", "num_local_experts"});
    s.k = c.size({"num_experts_per_tok"});
    s.renormalize = c.flag("norm_topk_prob", false);
    gated();
  } else if (modelType == "gpt_oss") {
    s.model = "gpt-oss";
    s.D = c.size({"hidden_size"});
    s.F = c.size({"intermediate_size"});
    s.E = c.size({"num_local_experts"});
    s.k = c.size({"num_experts_per_tok", "experts_per_token"});
    s.order = ScoreOrder::topk_softmax;
    s.routerBias = true;
    s.expertBiases = true;
    s.activation = Activation::clamped_swiglu;
    // The dialect's clamped SwiGLU has GPT-OSS's constants built in.
    double limit = c.number("swiglu_limit", 7.0);
    double alpha = c.number("swiglu_alpha", 1.702);
    if (limit != 7.0 || alpha != 1.702)
      c.fail("swiglu_limit " + llvm::formatv("{0}", limit).str() +
             " and swiglu_alpha " + llvm::formatv("{0}", alpha).str() +
             " are not supported (clamped_swiglu has 7 and 1.702)");
  } else if (modelType == "llama4_text") {
    s.model = "Llama-4";
    s.D = c.size({"hidden_size"});
    s.F = c.size({"intermediate_size"});
    s.E = c.size({"num_local_experts"});
    s.k = c.size({"num_experts_per_tok"});
    // Sigmoid of the top logit scales the expert's input; the shared
    // expert has the routed experts' width.
    s.scoring = Scoring::sigmoid;
    s.weightsOn = WeightsOn::input;
    s.sharedF = s.F;
    gated();
  } else if (modelType == "switch_transformers") {
    s.model = "Switch Transformer";
    s.D = c.size({"d_model"});
    s.F = c.size({"d_ff"});
    s.E = c.size({"num_experts"});
    s.k = 1;
    s.capacityKind = CapacityKind::fixed;
    s.capacity = c.size({"expert_capacity"});
    if (c.flag("router_bias", false))
      s.routerBias = true;
    std::string dense = c.string("dense_act_fn", "relu");
    if (std::optional<Activation> a = plainActivation(dense))
      s.activation = *a;
    else
      c.fail("dense_act_fn '" + dense +
             "' is not supported (relu, gelu, "
             "gelu_new, silu)");
  } else {
    return error("model_type '" + modelType +
                 "' is not supported; the "
                 "supported ones are " +
                 supportedHFModelTypes());
  }
  if (!c.error.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), c.error);
  if (s.k > s.E)
    return error(modelType + ": " + Twine(s.k) + " experts per token but " +
                 Twine(s.E) + " experts");
  if (s.topkGroups * (s.E / s.groups) < s.k || s.E % s.groups != 0)
    return error(modelType + ": " + Twine(s.E) + " experts in " +
                 Twine(s.groups) + " groups, " + Twine(s.topkGroups) +
                 " of them kept, cannot give " + Twine(s.k) +
                 " experts per token");
  return s;
}

//===----------------------------------------------------------------------===//
// Building the layer
//===----------------------------------------------------------------------===//

std::string mlir::moe::routingSummary(const LayerSpec &p, int64_t sharedWidth) {
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

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::moe::buildLayerModule(MLIRContext &context, const LayerSpec &p,
                            const LayerBuildOptions &options) {
  auto error = [&](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (options.scaleDown < 1)
    return error("the scale-down factor must be at least 1");
  for (auto [what, size] : {std::pair<const char *, int64_t>{"D", p.D},
                            {"F", p.F},
                            {"S", p.sharedF}})
    if (size % options.scaleDown != 0)
      return error(Twine("scale-down ") + Twine(options.scaleDown) +
                   " does not divide " + what + " = " + Twine(size) + " of " +
                   p.name);
  if (options.tokens == 0 || options.tokens < -1)
    return error("the token count must be at least 1");
  const int64_t D = p.D / options.scaleDown, F = p.F / options.scaleDown,
                S = p.sharedF / options.scaleDown, E = p.E;
  const int64_t T =
      options.tokens > 0 ? options.tokens : int64_t(ShapedType::kDynamic);

  OpBuilder b(&context);
  Type element = options.elementType ? options.elementType : b.getF32Type();
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
  if (options.statistics) {
    resultTypes.push_back(tensor({E}, b.getI64Type()));
    resultTypes.push_back(tensor({}, f32));
    resultTypes.push_back(tensor({}, f32));
  }

  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  std::string funcName = p.name;
  for (char &c : funcName)
    if (!llvm::isAlnum(c))
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
  Value sharedGate = take(S && gated), sharedUp = take(S), sharedDown = take(S),
        sharedSigmoidGate = take(S && p.sharedSigmoidGate);

  auto routerAttr = RouterAttr::get(
      &context, p.k, p.scoring, p.order, p.renormalize, APFloat(p.scale),
      p.groups, p.topkGroups, p.groupScore, p.weightsOn, Choice::token);
  auto capacityAttr =
      CapacityAttr::get(&context, p.capacityKind, p.capacity, APFloat(p.factor),
                        DropPolicy::position, p.dropped);
  auto layer = LayerOp::create(
      b, loc, resultTypes[0], TypeRange(resultTypes).drop_front(), tokens,
      router, routerBias, selectionBias, gate, gateBias, up, upBias, down,
      downBias, sharedGate, sharedUp, sharedDown, sharedSigmoidGate, routerAttr,
      capacityAttr, ActivationAttr::get(&context, p.activation));
  func::ReturnOp::create(b, loc, layer->getResults());
  // The verifier's diagnostics name the rule the spec broke.
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      diagnostics += (diagnostics.empty() ? "" : "; ") + diag.str();
      return success();
    });
    if (failed(verify(*module)))
      return error("the layer of " + p.name +
                   " does not verify: " + diagnostics);
  }
  return module;
}
