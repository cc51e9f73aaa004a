//===- MoEAttrs.td - Attributes of the moe dialect ---------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOEATTRS_TD
#define MOE_DIALECT_MOE_IR_MOEATTRS_TD

include "moe-mlir/Dialect/MoE/IR/MoEDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def MoE_Scoring : I32EnumAttr<"Scoring", "how router logits become scores", [
    I32EnumAttrCase<"softmax", 0>,
    I32EnumAttrCase<"sigmoid", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_ScoreOrder : I32EnumAttr<"ScoreOrder",
    "whether softmax comes before or after the top-k selection", [
    I32EnumAttrCase<"softmax_topk", 0>,
    I32EnumAttrCase<"topk_softmax", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_GroupScore : I32EnumAttr<"GroupScore",
    "how an expert group is scored in group-limited routing", [
    I32EnumAttrCase<"max", 0>,
    I32EnumAttrCase<"sum_top2", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_CapacityKind : I32EnumAttr<"CapacityKind",
    "how the per-expert capacity is given", [
    I32EnumAttrCase<"dropless", 0>,
    I32EnumAttrCase<"fixed", 1>,
    I32EnumAttrCase<"factor", 2>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_DropPolicy : I32EnumAttr<"DropPolicy",
    "which assignments an over-full expert drops", [
    I32EnumAttrCase<"position", 0>,
    I32EnumAttrCase<"probability", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_DroppedOutput : I32EnumAttr<"DroppedOutput",
    "what a dropped assignment contributes to the token's output", [
    I32EnumAttrCase<"zero", 0>,
    I32EnumAttrCase<"identity", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_Choice : I32EnumAttr<"Choice", "who chooses: tokens or experts", [
    I32EnumAttrCase<"token", 0>,
    I32EnumAttrCase<"expert", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_WeightsOn : I32EnumAttr<"WeightsOn",
    "whether the gate weight scales the expert's output or its input", [
    I32EnumAttrCase<"output", 0>,
    I32EnumAttrCase<"input", 1>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def MoE_Activation : I32EnumAttr<"Activation", "expert FFN activation", [
    I32EnumAttrCase<"swiglu", 0>,
    I32EnumAttrCase<"geglu", 1>,
    I32EnumAttrCase<"gelu", 2>,
    I32EnumAttrCase<"gelu_tanh", 3>,
    I32EnumAttrCase<"relu", 4>,
    I32EnumAttrCase<"silu", 5>,
    I32EnumAttrCase<"clamped_swiglu", 6>]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class MoE_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<MoE_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

/// A floating-point parameter (stored as an f64 APFloat, which hashes and
/// compares bitwise) printed so that it round-trips exactly.
class MoE_F64Parameter<string desc, string default>
    : AttrParameter<"::llvm::APFloat", desc> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{[&]() -> ::mlir::FailureOr<::llvm::APFloat> {
      double value;
      if (::mlir::failed($_parser.parseFloat(value)))
        return ::mlir::failure();
      return ::llvm::APFloat(value);
    }()}];
  let printer = [{$_printer.printFloat($_self)}];
  let defaultValue = "::llvm::APFloat(" # default # ")";
}

class MoE_EnumParameter<EnumAttrInfo info, string default>
    : EnumParameter<info> {
  let defaultValue = default;
}

def MoE_ActivationAttr : MoE_Attr<"Activation", "activation"> {
  let summary = "expert FFN activation";
  let description = [{
    The expert FFN's activation. Gated forms (`swiglu`, `geglu`,
    `clamped_swiglu`) need a gate projection: `down(act(x Wg, x Wu))`.
    Ungated forms (`gelu` with erf, `gelu_tanh`, `relu`, `silu`) apply to the
    up projection: `down(act(x Wu))`.

    - `swiglu`: `silu(g) * u`; `geglu`: `gelu(g) * u`.
    - `clamped_swiglu` (GPT-OSS): `g' = min(g, limit)`,
      `u' = clamp(u, -limit, limit)`, `(u' + 1) * g' * sigmoid(alpha * g')`.
      Its parameters `alpha` (default 1.702) and `limit` (default 7.0) are
      always printed.

    Examples: `#moe.activation<swiglu>`,
    `#moe.activation<clamped_swiglu, alpha = 1.702, limit = 7.0>`
  }];
  let parameters = (ins
    EnumParameter<MoE_Activation>:$kind,
    MoE_F64Parameter<"clamped_swiglu's sigmoid scale", "1.702">:$alpha,
    MoE_F64Parameter<"clamped_swiglu's clamp limit", "7.0">:$limit
  );
  let builders = [
    AttrBuilder<(ins "::mlir::moe::Activation":$kind), [{
      return $_get($_ctxt, kind, ::llvm::APFloat(1.702), ::llvm::APFloat(7.0));
    }]>
  ];
  let skipDefaultBuilders = 0;
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  // Ops read the kind through getActivation(), as for an enum attribute;
  // getActivationAttr() gives the parameters.
  let returnType = "::mlir::moe::Activation";
  let convertFromStorage = "$_self.getKind()";
  let constBuilderCall =
      "::mlir::moe::ActivationAttr::get($_builder.getContext(), $0)";
  let extraClassDeclaration = [{
    double getAlphaValue() const { return getAlpha().convertToDouble(); }
    double getLimitValue() const { return getLimit().convertToDouble(); }
  }];
}

def MoE_RouterAttr : MoE_Attr<"Router", "router"> {
  let summary = "top-k router configuration";
  let description = [{
    How a token's router logits become k expert ids and k gate weights.

    - `k`: experts per token.
    - `scoring`: `softmax` (default) or `sigmoid`.
    - `order`: for softmax, `softmax_topk` (score all experts, pick the top
      k; default) or `topk_softmax` (pick the top k logits, softmax over
      those k: Mixtral, GPT-OSS).
    - `renormalize`: divide the k weights by their sum (default false).
    - `scale`: multiply the weights by a routed scaling factor (default 1.0).
    - `choice`: `token` (default): each token picks its top-k experts;
      `expert`: expert-choice routing (Zhou et al. 2022): each expert
      takes the `C = ceil(k * T / E)` tokens with the largest softmax
      scores, so k is the average number of experts per token; a token
      may get none or several. Needs softmax scoring, `softmax_topk`, no
      renormalisation, no groups, weights on the output, and a `dropless`
      layer capacity (the router bounds every expert's load itself).
    - `weights_on`: `output` (default) multiplies each expert's output by
      its gate weight; `input` multiplies the expert's input instead
      (Llama-4: the token is scaled before the FFN).
    - `groups`, `topk_groups`, `group_score`: group-limited routing
      (DeepSeek): experts form `groups` contiguous groups; only experts of
      the `topk_groups` best groups may be picked. A group scores its best
      expert (`max`, default) or the sum of its two best (`sum_top2`).

    Ties go to the lower expert id and a NaN score never wins a selection.
    The full semantics are in `docs/Semantics.md`.

    Examples:

    ```mlir
    #moe.router<k = 2, order = topk_softmax, renormalize = true>
    #moe.router<k = 8, scoring = sigmoid, renormalize = true, scale = 2.5,
                groups = 8, topk_groups = 4, group_score = sum_top2>
    ```
  }];
  let parameters = (ins
    "int64_t":$k,
    MoE_EnumParameter<MoE_Scoring, "::mlir::moe::Scoring::softmax">:$scoring,
    MoE_EnumParameter<MoE_ScoreOrder,
                      "::mlir::moe::ScoreOrder::softmax_topk">:$order,
    DefaultValuedParameter<"bool", "false">:$renormalize,
    MoE_F64Parameter<"routed scaling factor", "1.0">:$scale,
    DefaultValuedParameter<"int64_t", "1">:$groups,
    DefaultValuedParameter<"int64_t", "1">:$topk_groups,
    MoE_EnumParameter<MoE_GroupScore, "::mlir::moe::GroupScore::max">
        :$group_score,
    MoE_EnumParameter<MoE_WeightsOn, "::mlir::moe::WeightsOn::output">
        :$weights_on,
    MoE_EnumParameter<MoE_Choice, "::mlir::moe::Choice::token">:$choice
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Checks the rules that depend on the number of experts; emits at
    /// `emitError` and fails if one is broken.
    double getScaleValue() const { return getScale().convertToDouble(); }
    ::llvm::LogicalResult verifyForExperts(
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError,
        int64_t numExperts) const;
  }];
}

def MoE_CapacityAttr : MoE_Attr<"Capacity", "capacity"> {
  let summary = "per-expert capacity and drop policy";
  let description = [{
    How many assignments each expert may take.

    - `dropless`: no limit; nothing is ever dropped.
    - `fixed = C`: each expert keeps at most C assignments.
    - `factor = f`: C = ceil(f * T * k / E), computed from the actual token
      count T (at run time when T is dynamic).

    Assignments beyond an expert's capacity are dropped under the drop
    policy, and counted. `position` (the default) keeps first choices before
    second choices, then token order, as in GShard. `probability` keeps the
    assignments with the largest gate weights (ties: the `position` order),
    so that a token's strongest choice survives an overflow.

    A dropped assignment contributes zero to the token's output
    (`dropped = zero`, the default: Switch Transformer paper, GShard), or
    its gate weight times the token itself (`dropped = identity`: Hugging
    Face's Switch Transformers block passes a dropped token through, scaled
    by its router probability).

    Examples:

    ```mlir
    #moe.capacity<dropless>
    #moe.capacity<fixed = 16>
    #moe.capacity<factor = 1.25, drop = position>
    #moe.capacity<fixed = 64, dropped = identity>
    #moe.capacity<factor = 1.0, drop = probability>
    ```
  }];
  let parameters = (ins
    EnumParameter<MoE_CapacityKind>:$kind,
    DefaultValuedParameter<"int64_t", "0">:$capacity,
    MoE_F64Parameter<"capacity factor", "0.0">:$factor,
    MoE_EnumParameter<MoE_DropPolicy, "::mlir::moe::DropPolicy::position">
        :$drop,
    MoE_EnumParameter<MoE_DroppedOutput, "::mlir::moe::DroppedOutput::zero">
        :$dropped
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    double getFactorValue() const { return getFactor().convertToDouble(); }
    bool isDropless() const { return getKind() == CapacityKind::dropless; }
    /// The capacity for `numTokens` tokens (static), or std::nullopt when
    /// dropless.
    std::optional<int64_t> capacityFor(int64_t numTokens, int64_t k,
                                       int64_t numExperts) const;
  }];
}

#endif // MOE_DIALECT_MOE_IR_MOEATTRS_TD
