//===- Activation.h - The expert activations as arith/math ops --*- C++ -*-===//
//
// One builder of the expert FFN activations (docs/Semantics.md), shared by
// the lowering of moe.experts and moe.grouped_matmul and by the passes that
// leave an activation outside a product. Header-only: its users link the
// arith and math dialects already.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_DIALECT_MOE_UTILS_ACTIVATION_H
#define MOE_MLIR_DIALECT_MOE_UTILS_ACTIVATION_H

#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

namespace mlir::moe {

/// act(g) * u for gated activations, act(u) otherwise (`g` is then null);
/// f32 in and out. Its exp, erf and tanh carry the `afn` fast-math flag: an
/// activation tolerates a few ulp, so a backend may use a vector
/// approximation (moe-cpu-approximate-math, NVVM's fast exp), as PyTorch's
/// and oneDNN's vector kernels do. One op per statement: C++ leaves argument
/// evaluation order unspecified, and the IR must not depend on the compiler
/// that built the pass.
inline Value buildActivation(ImplicitLocOpBuilder &b, ActivationAttr activation,
                             Value g, Value u) {
  auto f32 = [&](double v) -> Value {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  };
  auto add = [&](Value x, Value y) -> Value {
    return arith::AddFOp::create(b, x, y);
  };
  auto sub = [&](Value x, Value y) -> Value {
    return arith::SubFOp::create(b, x, y);
  };
  auto mul = [&](Value x, Value y) -> Value {
    return arith::MulFOp::create(b, x, y);
  };
  auto div = [&](Value x, Value y) -> Value {
    return arith::DivFOp::create(b, x, y);
  };
  auto approximate = arith::FastMathFlags::afn;
  auto sigmoid = [&](Value x) {
    Value one = f32(1.0);
    Value zero = f32(0.0);
    Value negExp = math::ExpOp::create(b, sub(zero, x), approximate);
    return div(one, add(one, negExp));
  };
  auto gelu = [&](Value x) {
    Value half = f32(0.5);
    Value one = f32(1.0);
    Value invSqrt2 = f32(M_SQRT1_2);
    Value erf = math::ErfOp::create(b, mul(x, invSqrt2), approximate);
    return mul(x, mul(half, add(one, erf)));
  };
  switch (activation.getKind()) {
  case Activation::swiglu: {
    Value silu = mul(g, sigmoid(g));
    return mul(silu, u);
  }
  case Activation::geglu:
    return mul(gelu(g), u);
  case Activation::gelu:
    return gelu(u);
  case Activation::gelu_tanh: {
    Value half = f32(0.5);
    Value one = f32(1.0);
    Value scale = f32(std::sqrt(2.0 / M_PI));
    Value coefficient = f32(0.044715);
    Value cube = mul(u, mul(u, u));
    Value inner = mul(scale, add(u, mul(coefficient, cube)));
    Value tanh = math::TanhOp::create(b, inner, approximate);
    Value halfU = mul(half, u);
    return mul(halfU, add(one, tanh));
  }
  case Activation::relu:
    return arith::MaximumFOp::create(b, u, f32(0.0));
  case Activation::silu:
    return mul(u, sigmoid(u));
  case Activation::clamped_swiglu: {
    // GPT-OSS: g' = min(g, limit), u' = clamp(u, -limit, limit),
    // (u' + 1) * g' * sigmoid(alpha * g'). cmpf + select keep a NaN.
    auto cmpf = [&](arith::CmpFPredicate p, Value x, Value y) -> Value {
      return arith::CmpFOp::create(b, p, x, y);
    };
    auto select = [&](Value c, Value x, Value y) -> Value {
      return arith::SelectOp::create(b, c, x, y);
    };
    Value limit = f32(activation.getLimitValue());
    Value negLimit = f32(-activation.getLimitValue());
    Value gAbove = cmpf(arith::CmpFPredicate::OGT, g, limit);
    Value gClamped = select(gAbove, limit, g);
    Value uAbove = cmpf(arith::CmpFPredicate::OGT, u, limit);
    Value uCapped = select(uAbove, limit, u);
    Value uBelow = cmpf(arith::CmpFPredicate::OLT, uCapped, negLimit);
    Value uClamped = select(uBelow, negLimit, uCapped);
    Value alpha = f32(activation.getAlphaValue());
    Value glu = mul(gClamped, sigmoid(mul(alpha, gClamped)));
    Value one = f32(1.0);
    return mul(add(uClamped, one), glu);
  }
  }
  llvm_unreachable("covered switch");
}

} // namespace mlir::moe

#endif // MOE_MLIR_DIALECT_MOE_UTILS_ACTIVATION_H
