//===- Inputs.cpp - A layer's arguments: generated, .npy, safetensors -----===//

#include "moe-mlir/Runner/Inputs.h"

#include "moe-mlir/Runner/Checkpoint.h"
#include "moe-mlir/Runner/Npy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace moe::run {

Input &LayerInputs::tokenArg(ArrayRef<Role> roles) {
  size_t i = llvm::find(roles, Role::Tokens) - roles.begin();
  return args[i];
}

Expected<LayerInputs> makeInputs(const ref::LayerConfig &config,
                                 ArrayRef<Role> roles,
                                 ArrayRef<ref::ElementType> elements,
                                 bool hasRouterBias,
                                 const InputOptions &options) {
  LayerInputs inputs;
  size_t numArgs = roles.size();
  inputs.args.resize(numArgs);
  SmallVector<bool> given(numArgs, false);
  bool fromWeights = !options.weightsFile.empty();
  if ((!options.inputsDir.empty() || fromWeights) && options.hotExpert >= 0)
    return createStringError("--hot-expert changes generated inputs; it does "
                             "not combine with --inputs or --weights");

  // Given rather than generated: with --inputs, DIR/argN.npy (only the tokens
  // when --weights gives the weights); with --weights, the weights from a
  // checkpoint. T is then the tokens' row count.
  int64_t tokens = options.tokens;
  if (!options.inputsDir.empty()) {
    for (auto [i, role] : llvm::enumerate(roles)) {
      if (fromWeights && role != Role::Tokens)
        continue;
      SmallString<256> path(options.inputsDir);
      sys::path::append(path, "arg" + Twine(i) + ".npy");
      Expected<HostTensor> tensor = readNpy(path);
      if (!tensor)
        return createStringError("--inputs: " + toString(tensor.takeError()));
      static_cast<HostTensor &>(inputs.args[i]) = std::move(*tensor);
      given[i] = true;
      if (role != Role::Tokens)
        continue;
      ArrayRef<int64_t> shape = inputs.args[i].shape;
      if (shape.size() != 2)
        return createStringError("--inputs: the tokens " + path +
                                 " must be [T, D], got " + formatShape(shape));
      if (tokens >= 0 && tokens != shape[0])
        return createStringError("--tokens=" + Twine(tokens) + " but " + path +
                                 " has " + Twine(shape[0]) + " tokens");
      tokens = shape[0];
    }
  }
  if (fromWeights) {
    if (options.weightsLayout.empty())
      return createStringError("--weights needs --weights-layout (one of " +
                               join(checkpointLayouts(), ", ") + ")");
    auto loaded = loadCheckpoint(options.weightsFile, options.weightsLayout,
                                 options.weightsPrefix, roles, config.E);
    if (!loaded)
      return createStringError("--weights: " + toString(loaded.takeError()));
    for (auto [i, role] : llvm::enumerate(roles)) {
      if (role == Role::Tokens)
        continue;
      static_cast<HostTensor &>(inputs.args[i]) = std::move((*loaded)[role]);
      given[i] = true;
    }
  }

  // T: the tokens given, else --tokens, else the static T, else 64.
  if (options.staticTokens < 0) {
    if (tokens < 0)
      tokens = 64;
  } else if (tokens >= 0 && tokens != options.staticTokens) {
    return createStringError("--tokens=" + Twine(tokens) +
                             " but the layer's T is " +
                             Twine(options.staticTokens));
  } else {
    tokens = options.staticTokens;
  }
  inputs.tokens = tokens;
  if (options.hotExpert >= 0 &&
      (options.hotExpert >= config.E || !hasRouterBias))
    return createStringError("--hot-expert needs a layer with a router bias "
                             "and an expert id below E = " +
                             Twine(config.E));

  // The others, each from its own stream of the seed; shapes checked.
  for (auto [i, role] : llvm::enumerate(roles)) {
    OperandSpec spec = operandSpec(role, config, tokens);
    Input &input = inputs.args[i];
    if (!given[i]) {
      Expected<HostTensor> tensor =
          randomTensor(spec, argumentSeed(options.seed, i));
      if (!tensor)
        return tensor.takeError();
      static_cast<HostTensor &>(input) = std::move(*tensor);
      if (role == Role::Tokens && options.tokenScale != 1.0)
        for (float &value : input.data)
          value = float(value * options.tokenScale);
      if (role == Role::RouterBias && options.hotExpert >= 0)
        input.data[options.hotExpert] += options.hotBias;
      inputs.generated = true;
    } else if (input.shape != spec.shape) {
      return createStringError(
          (role != Role::Tokens && fromWeights
               ? "--weights: " + roleName(role).str() + " is "
               : "--inputs: arg" + std::to_string(i) + ".npy is ") +
          formatShape(input.shape) + ", the layer expects " +
          formatShape(spec.shape));
    }
    input.narrowTo(elements[i]);
  }
  return inputs;
}

} // namespace moe::run
