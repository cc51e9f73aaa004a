//===- Inputs.cpp - A layer's arguments: generated, .npy, safetensors -----===//

#include "moe-mlir/Runner/Inputs.h"

#include "moe-mlir/Runner/Npy.h"

#include <algorithm>

namespace moe::run {

Input &LayerInputs::tokenArg(const std::vector<Role> &roles) {
  size_t i =
      std::find(roles.begin(), roles.end(), Role::Tokens) - roles.begin();
  return args[i];
}

std::string makeInputs(const ref::LayerConfig &config,
                       const std::vector<Role> &roles,
                       const std::vector<ref::ElementType> &elements,
                       bool hasRouterBias, const InputOptions &options,
                       LayerInputs &inputs) {
  inputs = LayerInputs();
  size_t numArgs = roles.size();
  inputs.args.resize(numArgs);
  std::vector<bool> given(numArgs, false);
  bool fromWeights = !options.weightsFile.empty();
  if ((!options.inputsDir.empty() || fromWeights) && options.hotExpert >= 0)
    return "--hot-expert changes generated inputs; it does not combine with "
           "--inputs or --weights";

  // Given rather than generated: with --inputs, DIR/argN.npy (only the tokens
  // when --weights gives the weights); with --weights, the weights from a
  // checkpoint. T is then the tokens' row count.
  int64_t tokens = options.tokens;
  if (!options.inputsDir.empty()) {
    for (size_t i = 0; i < numArgs; ++i) {
      Role role = roles[i];
      if (fromWeights && role != Role::Tokens)
        continue;
      std::string path = options.inputsDir;
      if (!path.empty() && path.back() != '/')
        path += '/';
      path += "arg" + std::to_string(i) + ".npy";
      if (std::string error = readNpy(path, inputs.args[i]); !error.empty())
        return "--inputs: " + error;
      given[i] = true;
      if (role != Role::Tokens)
        continue;
      const std::vector<int64_t> &shape = inputs.args[i].shape;
      if (shape.size() != 2)
        return "--inputs: the tokens " + path + " must be [T, D], got " +
               formatShape(shape);
      if (tokens >= 0 && tokens != shape[0])
        return "--tokens=" + std::to_string(tokens) + " but " + path + " has " +
               std::to_string(shape[0]) + " tokens";
      tokens = shape[0];
    }
  }
  if (fromWeights) {
    if (!options.loadWeights)
      return "--weights: this runner reads no checkpoints";
    std::map<Role, HostTensor> loaded;
    if (std::string error = options.loadWeights(loaded); !error.empty())
      return error;
    for (size_t i = 0; i < numArgs; ++i) {
      if (roles[i] == Role::Tokens)
        continue;
      static_cast<HostTensor &>(inputs.args[i]) = std::move(loaded[roles[i]]);
      given[i] = true;
    }
  }

  // T: the tokens given, else --tokens, else the static T, else 64.
  if (options.staticTokens < 0) {
    if (tokens < 0)
      tokens = 64;
  } else if (tokens >= 0 && tokens != options.staticTokens) {
    return "--tokens=" + std::to_string(tokens) + " but the layer's T is " +
           std::to_string(options.staticTokens);
  } else {
    tokens = options.staticTokens;
  }
  inputs.tokens = tokens;
  if (options.hotExpert >= 0 &&
      (options.hotExpert >= config.E || !hasRouterBias))
    return "--hot-expert needs a layer with a router bias and an expert id "
           "below E = " +
           std::to_string(config.E);

  // The others, each from its own stream of the seed; shapes checked.
  for (size_t i = 0; i < numArgs; ++i) {
    Role role = roles[i];
    OperandSpec spec = operandSpec(role, config, tokens);
    Input &input = inputs.args[i];
    if (!given[i]) {
      if (std::string error =
              randomTensor(spec, argumentSeed(options.seed, i), input);
          !error.empty())
        return error;
      if (role == Role::Tokens && options.tokenScale != 1.0)
        for (float &value : input.data)
          value = float(value * options.tokenScale);
      if (role == Role::RouterBias && options.hotExpert >= 0)
        input.data[options.hotExpert] += options.hotBias;
      inputs.generated = true;
    } else if (input.shape != spec.shape) {
      return (role != Role::Tokens && fromWeights
                  ? "--weights: " + std::string(roleName(role)) + " is "
                  : "--inputs: arg" + std::to_string(i) + ".npy is ") +
             formatShape(input.shape) + ", the layer expects " +
             formatShape(spec.shape);
    }
    input.narrowTo(elements[i]);
  }
  return "";
}

} // namespace moe::run
