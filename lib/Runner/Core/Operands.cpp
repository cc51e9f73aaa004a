//===- Operands.cpp - A layer's operands as host arrays -------------------===//

#include "moe-mlir/Runner/Operands.h"

#include "moe-runtime/MoERuntime.h"

#include <cmath>

namespace moe::run {

const char *roleName(Role role) {
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

namespace {
constexpr Role kRoles[] = {Role::Tokens,     Role::Router,
                           Role::RouterBias, Role::SelectionBias,
                           Role::Gate,       Role::GateBias,
                           Role::Up,         Role::UpBias,
                           Role::Down,       Role::DownBias,
                           Role::SharedGate, Role::SharedUp,
                           Role::SharedDown, Role::SharedSigmoidGate};
} // namespace

const char *roleKey(Role role) {
  switch (role) {
  case Role::Tokens:
    return "tokens";
  case Role::Router:
    return "router";
  case Role::RouterBias:
    return "router_bias";
  case Role::SelectionBias:
    return "selection_bias";
  case Role::Gate:
    return "gate";
  case Role::GateBias:
    return "gate_bias";
  case Role::Up:
    return "up";
  case Role::UpBias:
    return "up_bias";
  case Role::Down:
    return "down";
  case Role::DownBias:
    return "down_bias";
  case Role::SharedGate:
    return "shared_gate";
  case Role::SharedUp:
    return "shared_up";
  case Role::SharedDown:
    return "shared_down";
  case Role::SharedSigmoidGate:
    return "shared_sigmoid_gate";
  }
  return "operand";
}

std::optional<Role> roleFromKey(const std::string &key) {
  for (Role role : kRoles)
    if (key == roleKey(role))
      return role;
  return std::nullopt;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
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

std::string randomTensor(const OperandSpec &spec, uint64_t seed,
                         HostTensor &tensor) {
  tensor.shape = spec.shape;
  int64_t size = 1;
  for (int64_t dim : spec.shape)
    size *= dim;
  tensor.data.resize(size);
  if (moe_rt_fill_uniform_f32(tensor.data.data(), size, seed, -spec.bound,
                              spec.bound) != MOE_RT_OK)
    return moe_rt_last_error();
  return "";
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

ref::LayerWeights referenceWeights(const std::vector<Role> &roles,
                                   const std::vector<Input> &inputs) {
  ref::LayerWeights weights;
  for (size_t i = 0; i < roles.size() && i < inputs.size(); ++i) {
    const float *data = inputs[i].data.data();
    switch (roles[i]) {
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
