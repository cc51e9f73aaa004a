//===- Operands.h - A layer's operands as host arrays -----------*- C++ -*-===//
//
// What each argument of a layer function is to its moe.layer (its role), the
// operand's shape for T tokens and the range of its random values, and the
// host arrays that hold the arguments. Shared by input generation, the
// checkpoint reader, the reference and the runners; plain C++ (no MLIR, no
// LLVM), so that a runner of ahead-of-time compiled layers links none.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_OPERANDS_H
#define MOE_MLIR_RUNNER_OPERANDS_H

#include "moe-mlir/Reference/MoEReference.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::run {

/// What an argument of the entry function is to the layer.
enum class Role {
  Tokens,
  Router,
  RouterBias,
  SelectionBias,
  Gate,
  GateBias,
  Up,
  UpBias,
  Down,
  DownBias,
  SharedGate,
  SharedUp,
  SharedDown,
  SharedSigmoidGate
};

/// How diagnostics name a role: "router bias", "up weight"...
const char *roleName(Role role);

/// How a layer description names a role: "tokens", "router_bias"...
const char *roleKey(Role role);
/// The role `key` names, if any.
std::optional<Role> roleFromKey(const std::string &key);

/// "[2, 3, 4]": how diagnostics print a shape.
std::string formatShape(const std::vector<int64_t> &shape);

/// An f32 host array in C order and its shape.
struct HostTensor {
  std::vector<float> data;
  std::vector<int64_t> shape;
};

/// The shape of an operand for T tokens and the bound of its generated
/// values, uniform in [-bound, bound): weights ~ 1/sqrt(fan-in), so that
/// activations stay O(1) and routing is neither flat nor saturated.
struct OperandSpec {
  std::vector<int64_t> shape;
  float bound = 0.5f;
};
OperandSpec operandSpec(Role role, const ref::LayerConfig &config, int64_t T);

/// The seed of argument `argument`'s random values: each argument draws from
/// its own stream of the run's seed.
uint64_t argumentSeed(uint64_t seed, size_t argument);

/// `spec.shape` filled from the runtime's generator seeded with `seed` into
/// `tensor`. Returns an empty string or the runtime's message.
std::string randomTensor(const OperandSpec &spec, uint64_t seed,
                         HostTensor &tensor);

/// One argument of a compiled layer. For a bf16 or f16 argument `data` holds
/// the values rounded to that type (what the reference sees) and `narrow`
/// their 16-bit words (the compiled layer's buffer).
struct Input : HostTensor {
  ref::ElementType element = ref::ElementType::F32;
  std::vector<uint16_t> narrow;

  /// Rounds `data` to `type` and fills `narrow` with its bits.
  void narrowTo(ref::ElementType type);
  /// The buffer the compiled layer reads.
  void *buffer();
};

/// The reference's views of the weights among `inputs`, one per role.
ref::LayerWeights referenceWeights(const std::vector<Role> &roles,
                                   const std::vector<Input> &inputs);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_OPERANDS_H
