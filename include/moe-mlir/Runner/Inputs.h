//===- Inputs.h - Arguments: generated, .npy, safetensors -------*- C++ -*-===//
//
// The arguments a runner passes to a layer function, from three sources:
// seeded random values (each argument its own stream of the seed), .npy files
// (--inputs DIR/argN.npy, as --dump writes them) and a Hugging Face
// safetensors checkpoint (--weights, the weights only). Every argument's
// shape is checked against the layer's; bf16 and f16 arguments are rounded,
// so that the reference sees exactly what the compiled layer reads. Plain
// C++: a checkpoint reader comes in as a function (moe-run's links LLVM).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_INPUTS_H
#define MOE_MLIR_RUNNER_INPUTS_H

#include "moe-mlir/Runner/Operands.h"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace moe::run {

/// Where the arguments come from and how generated ones are drawn. The
/// strings name moe-run's flags in the messages.
struct InputOptions {
  uint64_t seed = 0;
  /// The token count asked for; -1 when not given.
  int64_t tokens = -1;
  /// The layer's static T, or -1 for a dynamic one (then T defaults to 64).
  int64_t staticTokens = -1;
  /// --inputs: DIR/argN.npy; empty: none.
  std::string inputsDir;
  /// --weights: a safetensors checkpoint, its layout and key prefix.
  std::string weightsFile, weightsLayout, weightsPrefix;
  /// Reads the weights of --weights (every role but the tokens); returns an
  /// empty string or why not. Needed when weightsFile is given.
  std::function<std::string(std::map<Role, HostTensor> &weights)> loadWeights;
  /// Generated tokens are multiplied by this.
  double tokenScale = 1.0;
  /// An expert whose router bias gets `hotBias` added (-1: none).
  int64_t hotExpert = -1;
  float hotBias = 100.0f;
};

/// The arguments of one call, in argument order.
struct LayerInputs {
  std::vector<Input> args;
  int64_t tokens = 0;
  /// Some argument was generated from the seed.
  bool generated = false;
  /// The tokens argument.
  Input &tokenArg(const std::vector<Role> &roles);
};

/// The arguments of a layer whose function arguments have `roles` and
/// element types `elements`, described by `config`, into `inputs`. Returns
/// an empty string or a message naming the flag at fault.
std::string makeInputs(const ref::LayerConfig &config,
                       const std::vector<Role> &roles,
                       const std::vector<ref::ElementType> &elements,
                       bool hasRouterBias, const InputOptions &options,
                       LayerInputs &inputs);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_INPUTS_H
