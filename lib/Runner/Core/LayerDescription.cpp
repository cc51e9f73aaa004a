//===- LayerDescription.cpp - What a runner needs to know of a layer ------===//

#include "moe-mlir/Runner/LayerDescription.h"

#include "moe-mlir/Runner/Check.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <utility>

namespace moe::run {

namespace {
constexpr const char *kHeader = "moe-layer-description 1";

/// An enum's spellings in the text.
template <typename Enum>
using Names = std::vector<std::pair<Enum, const char *>>;

const Names<ref::ElementType> kElements = {{ref::ElementType::F32, "f32"},
                                           {ref::ElementType::BF16, "bf16"},
                                           {ref::ElementType::F16, "f16"}};
const Names<ref::Scoring> kScorings = {{ref::Scoring::Softmax, "softmax"},
                                       {ref::Scoring::Sigmoid, "sigmoid"}};
const Names<ref::ScoreOrder> kOrders = {
    {ref::ScoreOrder::SoftmaxTopK, "softmax_topk"},
    {ref::ScoreOrder::TopKSoftmax, "topk_softmax"}};
const Names<ref::GroupScore> kGroupScores = {
    {ref::GroupScore::Max, "max"}, {ref::GroupScore::SumTop2, "sum_top2"}};
const Names<ref::CapacityKind> kCapacities = {
    {ref::CapacityKind::Dropless, "dropless"},
    {ref::CapacityKind::Fixed, "fixed"},
    {ref::CapacityKind::Factor, "factor"}};
const Names<ref::Activation> kActivations = {
    {ref::Activation::SwiGLU, "swiglu"},
    {ref::Activation::GeGLU, "geglu"},
    {ref::Activation::Gelu, "gelu"},
    {ref::Activation::GeluTanh, "gelu_tanh"},
    {ref::Activation::Relu, "relu"},
    {ref::Activation::Silu, "silu"},
    {ref::Activation::ClampedSwiGLU, "clamped_swiglu"}};

template <typename Enum>
const char *nameOf(const Names<Enum> &names, Enum value) {
  for (const auto &[enumValue, name] : names)
    if (enumValue == value)
      return name;
  return "?";
}

template <typename Enum>
bool parseName(const Names<Enum> &names, const std::string &text, Enum &value) {
  for (const auto &[enumValue, name] : names)
    if (text == name) {
      value = enumValue;
      return true;
    }
  return false;
}

bool parseInt(const std::string &text, int64_t &value) {
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno)
    return false;
  value = parsed;
  return true;
}

bool parseDouble(const std::string &text, double &value) {
  char *end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return !text.empty() && !*end && !errno;
}

bool parseBool(const std::string &text, bool &value) {
  if (text != "0" && text != "1")
    return false;
  value = text == "1";
  return true;
}
} // namespace

const char *elementTypeName(ref::ElementType type) {
  return nameOf(kElements, type);
}

bool LayerDescription::hasRouterBias() const {
  return std::find(roles.begin(), roles.end(), Role::RouterBias) != roles.end();
}

LayerResults LayerDescription::results() const {
  LayerResults results;
  results.element = config.element;
  results.numExperts = config.E;
  results.hasDropped = hasDropped;
  results.hasStatistics = hasStatistics;
  return results;
}

std::string printDescription(const LayerDescription &d) {
  const ref::LayerConfig &c = d.config;
  std::string text = std::string(kHeader) + "\n";
  auto line = [&](const char *key, const std::string &value) {
    text += std::string(key) + " " + value + "\n";
  };
  auto number = [](double value) { return formatString("%.17g", value); };
  line("function", d.function);
  line("target", d.target);
  if (!d.chip.empty())
    line("chip", d.chip);
  if (!d.pipeline.empty())
    line("pipeline", d.pipeline);
  line("ranks", std::to_string(d.ranks));
  line("element", elementTypeName(c.element));
  line("tokens",
       d.staticTokens < 0 ? "dynamic" : std::to_string(d.staticTokens));
  line("D", std::to_string(c.D));
  line("F", std::to_string(c.F));
  line("E", std::to_string(c.E));
  line("shared_f", std::to_string(c.sharedF));
  line("router.scoring", nameOf(kScorings, c.router.scoring));
  line("router.order", nameOf(kOrders, c.router.order));
  line("router.k", std::to_string(c.router.k));
  line("router.renormalize", std::to_string(int(c.router.renormalize)));
  line("router.scale", number(c.router.scale));
  line("router.groups", std::to_string(c.router.groups));
  line("router.topk_groups", std::to_string(c.router.topkGroups));
  line("router.group_score", nameOf(kGroupScores, c.router.groupScore));
  line("router.weights_on_input", std::to_string(int(c.router.weightsOnInput)));
  line("router.expert_choice", std::to_string(int(c.router.expertChoice)));
  line("capacity.kind", nameOf(kCapacities, c.capacity.kind));
  line("capacity.capacity", std::to_string(c.capacity.capacity));
  line("capacity.factor", number(c.capacity.factor));
  line("capacity.dropped_identity",
       std::to_string(int(c.capacity.droppedIdentity)));
  line("capacity.drop_by_probability",
       std::to_string(int(c.capacity.dropByProbability)));
  line("activation", nameOf(kActivations, c.activation));
  line("activation.alpha", number(c.alpha));
  line("activation.limit", number(c.limit));
  std::string arguments;
  for (size_t i = 0; i < d.roles.size(); ++i)
    arguments += std::string(i ? " " : "") + roleKey(d.roles[i]) + ":" +
                 elementTypeName(d.elements[i]);
  line("arguments", arguments);
  if (!d.packedWeights.empty()) {
    // "2:f32:8x14x256x64:mixtral_pack_arg2 ...": argument, element, packed
    // shape, packing function.
    std::string packed;
    for (const PackedWeight &weight : d.packedWeights) {
      std::string shape;
      for (size_t i = 0; i < weight.shape.size(); ++i)
        shape += (i ? "x" : "") + std::to_string(weight.shape[i]);
      packed += std::string(packed.empty() ? "" : " ") +
                std::to_string(weight.argument) + ":" +
                elementTypeName(weight.element) + ":" + shape + ":" +
                weight.function;
    }
    line("packed_weights", packed);
  }
  line("results.dropped", std::to_string(int(d.hasDropped)));
  line("results.statistics", std::to_string(int(d.hasStatistics)));
  line("flops.per_token", std::to_string(d.flops.perToken));
  line("flops.per_assignment", std::to_string(d.flops.perAssignment));
  return text;
}

std::string parseDescription(const std::string &text, LayerDescription &d) {
  d = LayerDescription();
  ref::LayerConfig &c = d.config;
  auto integer = [](int64_t &slot) {
    return [&slot](const std::string &v) { return parseInt(v, slot); };
  };
  auto real = [](double &slot) {
    return [&slot](const std::string &v) { return parseDouble(v, slot); };
  };
  auto flag = [](bool &slot) {
    return [&slot](const std::string &v) { return parseBool(v, slot); };
  };
  auto string = [](std::string &slot) {
    return [&slot](const std::string &v) {
      slot = v;
      return !v.empty();
    };
  };
  auto named = [](const auto &names, auto &slot) {
    return [&names, &slot](const std::string &v) {
      return parseName(names, v, slot);
    };
  };
  using Parser = std::function<bool(const std::string &)>;
  const std::map<std::string, Parser> parsers = {
      {"function", string(d.function)},
      {"target", string(d.target)},
      {"chip", string(d.chip)},
      {"pipeline", string(d.pipeline)},
      {"ranks",
       [&](const std::string &v) {
         return parseInt(v, d.ranks) && d.ranks >= 1;
       }},
      {"element", named(kElements, c.element)},
      {"tokens",
       [&](const std::string &v) {
         if (v == "dynamic") {
           d.staticTokens = -1;
           return true;
         }
         return parseInt(v, d.staticTokens) && d.staticTokens >= 0;
       }},
      {"D", integer(c.D)},
      {"F", integer(c.F)},
      {"E", integer(c.E)},
      {"shared_f", integer(c.sharedF)},
      {"router.scoring", named(kScorings, c.router.scoring)},
      {"router.order", named(kOrders, c.router.order)},
      {"router.k", integer(c.router.k)},
      {"router.renormalize", flag(c.router.renormalize)},
      {"router.scale", real(c.router.scale)},
      {"router.groups", integer(c.router.groups)},
      {"router.topk_groups", integer(c.router.topkGroups)},
      {"router.group_score", named(kGroupScores, c.router.groupScore)},
      {"router.weights_on_input", flag(c.router.weightsOnInput)},
      {"router.expert_choice", flag(c.router.expertChoice)},
      {"capacity.kind", named(kCapacities, c.capacity.kind)},
      {"capacity.capacity", integer(c.capacity.capacity)},
      {"capacity.factor", real(c.capacity.factor)},
      {"capacity.dropped_identity", flag(c.capacity.droppedIdentity)},
      {"capacity.drop_by_probability", flag(c.capacity.dropByProbability)},
      {"activation", named(kActivations, c.activation)},
      {"activation.alpha", real(c.alpha)},
      {"activation.limit", real(c.limit)},
      {"arguments",
       [&](const std::string &v) {
         std::istringstream words(v);
         for (std::string word; words >> word;) {
           size_t colon = word.find(':');
           if (colon == std::string::npos)
             return false;
           std::optional<Role> role = roleFromKey(word.substr(0, colon));
           ref::ElementType element;
           if (!role || !parseName(kElements, word.substr(colon + 1), element))
             return false;
           d.roles.push_back(*role);
           d.elements.push_back(element);
         }
         return !d.roles.empty();
       }},
      {"packed_weights",
       [&](const std::string &v) {
         std::istringstream words(v);
         for (std::string word; words >> word;) {
           std::vector<std::string> fields;
           std::istringstream parts(word);
           for (std::string field; std::getline(parts, field, ':');)
             fields.push_back(field);
           PackedWeight weight;
           int64_t argument = 0;
           if (fields.size() != 4 || !parseInt(fields[0], argument) ||
               argument < 0 ||
               !parseName(kElements, fields[1], weight.element) ||
               fields[3].empty())
             return false;
           weight.argument = size_t(argument);
           std::istringstream extents(fields[2]);
           for (std::string extent; std::getline(extents, extent, 'x');) {
             int64_t size = 0;
             if (!parseInt(extent, size) || size <= 0)
               return false;
             weight.shape.push_back(size);
           }
           if (weight.shape.empty())
             return false;
           weight.function = fields[3];
           d.packedWeights.push_back(std::move(weight));
         }
         return !d.packedWeights.empty();
       }},
      {"results.dropped", flag(d.hasDropped)},
      {"results.statistics", flag(d.hasStatistics)},
      {"flops.per_token", integer(d.flops.perToken)},
      {"flops.per_assignment", integer(d.flops.perAssignment)},
  };

  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line) || line != kHeader)
    return "not a layer description (its first line is not '" +
           std::string(kHeader) + "')";
  std::set<std::string> seen;
  for (int number = 2; std::getline(lines, line); ++number) {
    if (line.empty())
      continue;
    size_t space = line.find(' ');
    std::string key = line.substr(0, space);
    std::string value =
        space == std::string::npos ? "" : line.substr(space + 1);
    auto parser = parsers.find(key);
    std::string where = "line " + std::to_string(number) + ": ";
    if (parser == parsers.end())
      return where + "unknown key '" + key + "'";
    if (!seen.insert(key).second)
      return where + "'" + key + "' given twice";
    if (!parser->second(value))
      return where + "bad value '" + value + "' for '" + key + "'";
  }
  for (const char *key : {"function", "element", "D", "F", "E", "router.k",
                          "arguments", "flops.per_assignment"})
    if (!seen.count(key))
      return std::string("no '") + key + "'";
  if (std::find(d.roles.begin(), d.roles.end(), Role::Tokens) == d.roles.end())
    return "'arguments' has no tokens";
  for (const PackedWeight &weight : d.packedWeights)
    if (weight.argument >= d.roles.size())
      return "'packed_weights' names argument " +
             std::to_string(weight.argument) + " of " +
             std::to_string(d.roles.size());
  return "";
}

} // namespace moe::run
