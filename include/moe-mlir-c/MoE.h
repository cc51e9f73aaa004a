//===- moe-mlir-c/MoE.h - C API of the moe dialect ----------------*- C -*-===//
//
// The C API of moe-mlir, in the style of upstream's mlir-c/Dialect/*.h: the
// dialect handle, registration of the dialect (with what its pipelines need)
// and of the passes, and builders and accessors for the #moe.router,
// #moe.capacity and #moe.activation attributes. Operations (`moe.layer`,
// `moe.route`, ...) are built with the generic mlirOperationCreate API of
// mlir-c/IR.h and these attributes.
//
// The library libMLIRMoECAPI.so implements this header and also exports
// upstream's core C API (mlir-c/IR.h, BuiltinAttributes.h, BuiltinTypes.h,
// Diagnostics.h, Pass.h, ...), Transforms.h and RegisterEverything.h, on top
// of the libMLIR.so it was built against: a C program links only it.
//
// The builders load the moe dialect into the context when it is not loaded
// yet, and check their parameters against the attributes' verifiers:
// on invalid parameters they report a diagnostic through the context's
// diagnostic handlers and return a null attribute (test it with
// mlirAttributeIsNull), never an invalid attribute. The accessors, as
// upstream's, take an attribute of their kind (check with
// mlirAttributeIsAMoE...).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_C_MOE_H
#define MOE_MLIR_C_MOE_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//===----------------------------------------------------------------------===//
// Dialect and registration
//===----------------------------------------------------------------------===//

/// mlirGetDialectHandle__moe__(): the moe dialect alone.
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(MoE, moe);

/// Inserts the moe dialect, the upstream dialects its passes produce (arith,
/// func, linalg, math, scf, tensor) and the bufferization and deallocation
/// external models that moe-cpu-pipeline needs into `registry`
/// (mlir::moe::registerAllDialects). Append the registry to a context with
/// mlirContextAppendDialectRegistry.
MLIR_CAPI_EXPORTED void
mlirMoERegisterAllDialects(MlirDialectRegistry registry);

/// Registers the moe passes (moe-expand-layer, moe-cpu-matmul-kernels,
/// moe-emit-c-interface, moe-cost), the conversion convert-moe-to-linalg and
/// the pipeline moe-cpu-pipeline in the global pass registry, so that
/// mlirParsePassPipeline and mlirOpPassManagerAddPipeline know them
/// (mlir::moe::registerAllPasses). Registers once: later calls do nothing.
MLIR_CAPI_EXPORTED void mlirMoERegisterPasses(void);

//===----------------------------------------------------------------------===//
// Enums (values as in MoEAttrs.td; the implementation checks they match)
//===----------------------------------------------------------------------===//

/// How router logits become scores.
typedef enum MlirMoEScoring {
  MLIR_MOE_SCORING_SOFTMAX = 0,
  MLIR_MOE_SCORING_SIGMOID = 1,
  /// Not a value: widens the enum so that any value in [0, 2^31) a caller
  /// passes is representable and can be rejected (not undefined behaviour;
  /// negative values are outside the enum's range).
  MLIR_MOE_SCORING_FORCE_INT32 = 0x7fffffff,
} MlirMoEScoring;

/// Whether softmax comes before (softmax_topk) or after (topk_softmax) the
/// top-k selection.
typedef enum MlirMoEScoreOrder {
  MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK = 0,
  MLIR_MOE_SCORE_ORDER_TOPK_SOFTMAX = 1,
  /// Not a value: widens the enum so that any value in [0, 2^31) a caller
  /// passes is representable and can be rejected (not undefined behaviour;
  /// negative values are outside the enum's range).
  MLIR_MOE_SCORE_ORDER_FORCE_INT32 = 0x7fffffff,
} MlirMoEScoreOrder;

/// How an expert group is scored in group-limited routing.
typedef enum MlirMoEGroupScore {
  MLIR_MOE_GROUP_SCORE_MAX = 0,
  MLIR_MOE_GROUP_SCORE_SUM_TOP2 = 1,
  /// Not a value: widens the enum so that any value in [0, 2^31) a caller
  /// passes is representable and can be rejected (not undefined behaviour;
  /// negative values are outside the enum's range).
  MLIR_MOE_GROUP_SCORE_FORCE_INT32 = 0x7fffffff,
} MlirMoEGroupScore;

/// How the per-expert capacity is given.
typedef enum MlirMoECapacityKind {
  MLIR_MOE_CAPACITY_DROPLESS = 0,
  MLIR_MOE_CAPACITY_FIXED = 1,
  MLIR_MOE_CAPACITY_FACTOR = 2,
  /// Not a value: widens the enum so that any value in [0, 2^31) a caller
  /// passes is representable and can be rejected (not undefined behaviour;
  /// negative values are outside the enum's range).
  MLIR_MOE_CAPACITY_KIND_FORCE_INT32 = 0x7fffffff,
} MlirMoECapacityKind;

/// Who chooses: each token its top-k experts, or each expert its tokens
/// (expert-choice routing).
typedef enum MlirMoEChoice {
  MLIR_MOE_CHOICE_TOKEN = 0,
  MLIR_MOE_CHOICE_EXPERT = 1,
  /// Not a value: widens the enum to int32 (see MLIR_MOE_SCORING_FORCE_INT32).
  MLIR_MOE_CHOICE_FORCE_INT32 = 0x7fffffff,
} MlirMoEChoice;

/// Whether the gate weight scales the expert's output (the usual) or its
/// input (Llama-4, k = 1).
typedef enum MlirMoEWeightsOn {
  MLIR_MOE_WEIGHTS_ON_OUTPUT = 0,
  MLIR_MOE_WEIGHTS_ON_INPUT = 1,
  /// Not a value: widens the enum to int32 (see MLIR_MOE_SCORING_FORCE_INT32).
  MLIR_MOE_WEIGHTS_ON_FORCE_INT32 = 0x7fffffff,
} MlirMoEWeightsOn;

/// Which assignments an over-full expert keeps: by position (first choices,
/// then token order) or by gate weight.
typedef enum MlirMoEDropPolicy {
  MLIR_MOE_DROP_POSITION = 0,
  MLIR_MOE_DROP_PROBABILITY = 1,
  /// Not a value: widens the enum to int32 (see MLIR_MOE_SCORING_FORCE_INT32).
  MLIR_MOE_DROP_FORCE_INT32 = 0x7fffffff,
} MlirMoEDropPolicy;

/// What a dropped assignment contributes: zero, or the token itself times
/// its gate weight.
typedef enum MlirMoEDroppedOutput {
  MLIR_MOE_DROPPED_ZERO = 0,
  MLIR_MOE_DROPPED_IDENTITY = 1,
  /// Not a value: widens the enum to int32 (see MLIR_MOE_SCORING_FORCE_INT32).
  MLIR_MOE_DROPPED_FORCE_INT32 = 0x7fffffff,
} MlirMoEDroppedOutput;

/// Expert FFN activation.
typedef enum MlirMoEActivation {
  MLIR_MOE_ACTIVATION_SWIGLU = 0,
  MLIR_MOE_ACTIVATION_GEGLU = 1,
  MLIR_MOE_ACTIVATION_GELU = 2,
  MLIR_MOE_ACTIVATION_GELU_TANH = 3,
  MLIR_MOE_ACTIVATION_RELU = 4,
  MLIR_MOE_ACTIVATION_SILU = 5,
  /// GPT-OSS: alpha 1.702, limit 7.0 (the C API builds the defaults).
  MLIR_MOE_ACTIVATION_CLAMPED_SWIGLU = 6,
  /// Not a value: widens the enum so that any value in [0, 2^31) a caller
  /// passes is representable and can be rejected (not undefined behaviour;
  /// negative values are outside the enum's range).
  MLIR_MOE_ACTIVATION_FORCE_INT32 = 0x7fffffff,
} MlirMoEActivation;

//===----------------------------------------------------------------------===//
// #moe.router
//===----------------------------------------------------------------------===//

/// Whether `attr` is a #moe.router attribute.
MLIR_CAPI_EXPORTED bool mlirAttributeIsAMoERouter(MlirAttribute attr);

/// The TypeID of #moe.router.
MLIR_CAPI_EXPORTED MlirTypeID mlirMoERouterAttrGetTypeID(void);

/// Creates #moe.router<k = k, scoring = ..., order = ..., renormalize = ...,
/// scale = ..., groups = ..., topk_groups = ..., group_score = ...>. The
/// defaults of the textual form are SOFTMAX, SOFTMAX_TOPK, false, 1.0, 1, 1,
/// MAX. Invalid parameters (k <= 0, a scale that is not finite and positive,
/// groups <= 0, topkGroups outside [1, groups], sigmoid with topk_softmax)
/// are reported at an unknown location and give a null attribute.
MLIR_CAPI_EXPORTED MlirAttribute mlirMoERouterAttrGet(
    MlirContext ctx, int64_t k, MlirMoEScoring scoring, MlirMoEScoreOrder order,
    bool renormalize, double scale, int64_t groups, int64_t topkGroups,
    MlirMoEGroupScore groupScore);

/// As mlirMoERouterAttrGet, reporting invalid parameters at `loc`.
MLIR_CAPI_EXPORTED MlirAttribute mlirMoERouterAttrGetChecked(
    MlirLocation loc, int64_t k, MlirMoEScoring scoring,
    MlirMoEScoreOrder order, bool renormalize, double scale, int64_t groups,
    int64_t topkGroups, MlirMoEGroupScore groupScore);

MLIR_CAPI_EXPORTED int64_t mlirMoERouterAttrGetK(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirMoEScoring
mlirMoERouterAttrGetScoring(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirMoEScoreOrder
mlirMoERouterAttrGetOrder(MlirAttribute attr);
MLIR_CAPI_EXPORTED bool mlirMoERouterAttrGetRenormalize(MlirAttribute attr);
MLIR_CAPI_EXPORTED double mlirMoERouterAttrGetScale(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t mlirMoERouterAttrGetGroups(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t mlirMoERouterAttrGetTopkGroups(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirMoEGroupScore
mlirMoERouterAttrGetGroupScore(MlirAttribute attr);

/// `router` with `weights_on` and `choice` set (the builders above give
/// output and token). The attribute's rules are checked (weights on the
/// input need k = 1; expert choice needs softmax scoring, one group, no
/// renormalisation and weights on the output): a broken one is reported at
/// `loc` and gives a null attribute.
MLIR_CAPI_EXPORTED MlirAttribute mlirMoERouterAttrWithSelection(
    MlirAttribute router, MlirLocation loc, MlirMoEWeightsOn weightsOn,
    MlirMoEChoice choice);
MLIR_CAPI_EXPORTED MlirMoEWeightsOn
mlirMoERouterAttrGetWeightsOn(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirMoEChoice mlirMoERouterAttrGetChoice(MlirAttribute attr);

/// Checks the rules that depend on the number of experts E (k <= E, groups
/// divides E, the kept groups hold at least k experts, sum_top2 needs groups
/// of at least 2), as moe.layer's verifier does; reports the first broken
/// rule at `loc`.
MLIR_CAPI_EXPORTED MlirLogicalResult mlirMoERouterAttrVerifyForExperts(
    MlirAttribute attr, MlirLocation loc, int64_t numExperts);

//===----------------------------------------------------------------------===//
// #moe.capacity
//===----------------------------------------------------------------------===//

/// Whether `attr` is a #moe.capacity attribute.
MLIR_CAPI_EXPORTED bool mlirAttributeIsAMoECapacity(MlirAttribute attr);

/// The TypeID of #moe.capacity.
MLIR_CAPI_EXPORTED MlirTypeID mlirMoECapacityAttrGetTypeID(void);

/// #moe.capacity<dropless>.
MLIR_CAPI_EXPORTED MlirAttribute
mlirMoECapacityAttrGetDropless(MlirContext ctx);

/// #moe.capacity<fixed = capacity>; capacity <= 0 is reported and gives a
/// null attribute.
MLIR_CAPI_EXPORTED MlirAttribute mlirMoECapacityAttrGetFixed(MlirContext ctx,
                                                             int64_t capacity);

/// #moe.capacity<factor = factor>; a factor that is not finite and positive
/// is reported and gives a null attribute.
MLIR_CAPI_EXPORTED MlirAttribute mlirMoECapacityAttrGetFactor(MlirContext ctx,
                                                              double factor);

/// `capacity` with the drop policy and the dropped output set (the builders
/// above give position and zero). Reported at `loc`, with a null result,
/// when the attribute's rules are broken (a dropless capacity takes only
/// the defaults) or an enum value is out of range.
MLIR_CAPI_EXPORTED MlirAttribute mlirMoECapacityAttrWithPolicies(
    MlirAttribute capacity, MlirLocation loc, MlirMoEDropPolicy drop,
    MlirMoEDroppedOutput dropped);

MLIR_CAPI_EXPORTED MlirMoECapacityKind
mlirMoECapacityAttrGetKind(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirMoEDropPolicy
mlirMoECapacityAttrGetDrop(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirMoEDroppedOutput
mlirMoECapacityAttrGetDropped(MlirAttribute attr);
/// The C of `fixed = C` (0 for other kinds).
MLIR_CAPI_EXPORTED int64_t mlirMoECapacityAttrGetCapacity(MlirAttribute attr);
/// The f of `factor = f` (0.0 for other kinds).
MLIR_CAPI_EXPORTED double mlirMoECapacityAttrGetFactorValue(MlirAttribute attr);
/// The capacity for `numTokens` tokens, `k` experts per token and
/// `numExperts` experts; -1 when dropless.
MLIR_CAPI_EXPORTED int64_t mlirMoECapacityAttrCapacityFor(MlirAttribute attr,
                                                          int64_t numTokens,
                                                          int64_t k,
                                                          int64_t numExperts);

//===----------------------------------------------------------------------===//
// #moe.activation
//===----------------------------------------------------------------------===//

/// Whether `attr` is a #moe.activation attribute.
MLIR_CAPI_EXPORTED bool mlirAttributeIsAMoEActivation(MlirAttribute attr);

/// The TypeID of #moe.activation.
MLIR_CAPI_EXPORTED MlirTypeID mlirMoEActivationAttrGetTypeID(void);

/// #moe.activation<activation>; an out-of-range value gives a null attribute.
MLIR_CAPI_EXPORTED MlirAttribute
mlirMoEActivationAttrGet(MlirContext ctx, MlirMoEActivation activation);

MLIR_CAPI_EXPORTED MlirMoEActivation
mlirMoEActivationAttrGetValue(MlirAttribute attr);

/// Whether `activation` is gated (swiglu, geglu): a moe.layer with it needs
/// a gate weight operand.
MLIR_CAPI_EXPORTED bool mlirMoEActivationIsGated(MlirMoEActivation activation);

//===----------------------------------------------------------------------===//
// Operations
//===----------------------------------------------------------------------===//

/// Whether `op` is an operation of the moe dialect (moe.layer, moe.route,
/// moe.dispatch, moe.experts, moe.combine).
MLIR_CAPI_EXPORTED bool mlirOperationIsAMoEOp(MlirOperation op);

/// Whether `op` is a moe.layer.
MLIR_CAPI_EXPORTED bool mlirOperationIsAMoELayer(MlirOperation op);

#ifdef __cplusplus
}
#endif

#endif // MOE_MLIR_C_MOE_H
