//===- Operands.cpp - A layer's operands as host arrays -------------------===//

#include "moe-mlir/Runner/Operands.h"

#include "moe-runtime/MoERuntime.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace llvm;

namespace moe::run {

StringRef roleName(Role role) {
  switch (role) {
  case Role::Tokens:
    return "tokens";
  case Role::Router:
    return "router weight";
  case Role::RouterBias:
    return "router bias";
  case Role::SelectionBias:
    return "selection bias";
  case Role::Gate:
    return "gate weight";
  case Role::GateBias:
    return "gate bias";
  case Role::Up:
    return "up weight";
  case Role::UpBias:
    return "up bias";
  case Role::Down:
    return "down weight";
  case Role::DownBias:
    return "down bias";
  case Role::SharedGate:
    return "shared gate weight";
  case Role::SharedUp:
    return "shared up weight";
  case Role::SharedDown:
    return "shared down weight";
  case Role::SharedSigmoidGate:
    return "shared sigmoid gate";
  }
  return "operand";
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(shape))
    text += (i ? ", " : "") + std::to_string(dim);
  return text + "]";
}

OperandSpec operandSpec(Role role, const ref::LayerConfig &config, int64_t T) {
  const int64_t D = config.D, F = config.F, E = config.E, S = config.sharedF;
  auto d = static_cast<float>(D), f = static_cast<float>(F);
  switch (role) {
  case Role::Tokens:
    return {{T, D}, 1.0f};
  case Role::Router:
    return {{E, D}, 4.0f / std::sqrt(d)};
  case Role::RouterBias:
  case Role::SelectionBias:
    return {{E}, 0.5f};
  case Role::Gate:
  case Role::Up:
    return {{E, F, D}, 1.0f / std::sqrt(d)};
  case Role::Down:
    return {{E, D, F}, 1.0f / std::sqrt(f)};
  case Role::GateBias:
  case Role::UpBias:
    return {{E, F}, 0.5f};
  case Role::DownBias:
    return {{E, D}, 0.5f};
  case Role::SharedGate:
  case Role::SharedUp:
    return {{S, D}, 1.0f / std::sqrt(d)};
  case Role::SharedDown:
    return {{D, S}, 1.0f / std::sqrt(float(S))};
  case Role::SharedSigmoidGate:
    return {{1, D}, 2.0f / std::sqrt(d)};
  }
  return {};
}

uint64_t argumentSeed(uint64_t seed, size_t argument) {
  return seed * 1000003ull + argument;
}

Expected<HostTensor> randomTensor(const OperandSpec &spec, uint64_t seed) {
  HostTensor tensor;
  tensor.shape = spec.shape;
  int64_t size = 1;
  for (int64_t dim : spec.shape)
    size *= dim;
  tensor.data.resize(size);
  if (moe_rt_fill_uniform_f32(tensor.data.data(), size, seed, -spec.bound,
                              spec.bound) != MOE_RT_OK)
    return createStringError(moe_rt_last_error());
  return tensor;
}

void Input::narrowTo(ref::ElementType type) {
  element = type;
  if (type == ref::ElementType::F32)
    return;
  narrow.resize(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    narrow[i] = ref::toBits(type, data[i]);
    data[i] = ref::fromBits(type, narrow[i]);
  }
}

void *Input::buffer() {
  return element == ref::ElementType::F32 ? static_cast<void *>(data.data())
                                          : narrow.data();
}

ref::LayerWeights referenceWeights(ArrayRef<Role> roles,
                                   ArrayRef<Input> inputs) {
  ref::LayerWeights weights;
  for (auto [role, input] : llvm::zip(roles, inputs)) {
    const float *data = input.data.data();
    switch (role) {
    case Role::Tokens:
      break;
    case Role::Router:
      weights.router = data;
      break;
    case Role::RouterBias:
      weights.routerBias = data;
      break;
    case Role::SelectionBias:
      weights.selectionBias = data;
      break;
    case Role::Gate:
      weights.gate = data;
      break;
    case Role::Up:
      weights.up = data;
      break;
    case Role::Down:
      weights.down = data;
      break;
    case Role::GateBias:
      weights.gateBias = data;
      break;
    case Role::UpBias:
      weights.upBias = data;
      break;
    case Role::DownBias:
      weights.downBias = data;
      break;
    case Role::SharedGate:
      weights.sharedGate = data;
      break;
    case Role::SharedUp:
      weights.sharedUp = data;
      break;
    case Role::SharedDown:
      weights.sharedDown = data;
      break;
    case Role::SharedSigmoidGate:
      weights.sharedSigmoidGate = data;
      break;
    }
  }
  return weights;
}

} // namespace moe::run
