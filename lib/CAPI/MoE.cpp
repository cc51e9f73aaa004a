//===- MoE.cpp - C API of the moe dialect ---------------------------------===//
//
// Implements moe-mlir-c/MoE.h on the C++ dialect. Built into
// libMLIRMoECAPI.so together with upstream's core C API (see CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir-c/MoE.h"

#include "moe-mlir/Dialect/MoE/IR/MoEDialect.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/InitAll.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

#include <cmath>
#include <mutex>

using namespace mlir;
using namespace mlir::moe;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(MoE, moe, mlir::moe::MoEDialect)

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void mlirMoERegisterAllDialects(MlirDialectRegistry registry) {
  mlir::moe::registerAllDialects(*unwrap(registry));
}

void mlirMoERegisterPasses(void) {
  // The pass and pipeline registries are process-wide and refuse a pipeline
  // registered twice.
  static std::once_flag once;
  std::call_once(once, [] { mlir::moe::registerAllPasses(); });
}

//===----------------------------------------------------------------------===//
// Enums: the C values are the C++ ones.
//===----------------------------------------------------------------------===//

#define MOE_CAPI_SAME_ENUM(C, CXX)                                             \
  static_assert(static_cast<int>(C) == static_cast<int>(CXX),                  \
                #C " does not match " #CXX)

MOE_CAPI_SAME_ENUM(MLIR_MOE_SCORING_SOFTMAX, Scoring::softmax);
MOE_CAPI_SAME_ENUM(MLIR_MOE_SCORING_SIGMOID, Scoring::sigmoid);
MOE_CAPI_SAME_ENUM(MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK, ScoreOrder::softmax_topk);
MOE_CAPI_SAME_ENUM(MLIR_MOE_SCORE_ORDER_TOPK_SOFTMAX, ScoreOrder::topk_softmax);
MOE_CAPI_SAME_ENUM(MLIR_MOE_GROUP_SCORE_MAX, GroupScore::max);
MOE_CAPI_SAME_ENUM(MLIR_MOE_GROUP_SCORE_SUM_TOP2, GroupScore::sum_top2);
MOE_CAPI_SAME_ENUM(MLIR_MOE_CAPACITY_DROPLESS, CapacityKind::dropless);
MOE_CAPI_SAME_ENUM(MLIR_MOE_CAPACITY_FIXED, CapacityKind::fixed);
MOE_CAPI_SAME_ENUM(MLIR_MOE_CAPACITY_FACTOR, CapacityKind::factor);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_SWIGLU, Activation::swiglu);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_GEGLU, Activation::geglu);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_GELU, Activation::gelu);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_GELU_TANH, Activation::gelu_tanh);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_RELU, Activation::relu);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_SILU, Activation::silu);
MOE_CAPI_SAME_ENUM(MLIR_MOE_ACTIVATION_CLAMPED_SWIGLU,
                   Activation::clamped_swiglu);

MOE_CAPI_SAME_ENUM(MLIR_MOE_CHOICE_TOKEN, Choice::token);
MOE_CAPI_SAME_ENUM(MLIR_MOE_CHOICE_EXPERT, Choice::expert);
MOE_CAPI_SAME_ENUM(MLIR_MOE_WEIGHTS_ON_OUTPUT, WeightsOn::output);
MOE_CAPI_SAME_ENUM(MLIR_MOE_WEIGHTS_ON_INPUT, WeightsOn::input);
MOE_CAPI_SAME_ENUM(MLIR_MOE_DROP_POSITION, DropPolicy::position);
MOE_CAPI_SAME_ENUM(MLIR_MOE_DROP_PROBABILITY, DropPolicy::probability);
MOE_CAPI_SAME_ENUM(MLIR_MOE_DROPPED_ZERO, DroppedOutput::zero);
MOE_CAPI_SAME_ENUM(MLIR_MOE_DROPPED_IDENTITY, DroppedOutput::identity);

#undef MOE_CAPI_SAME_ENUM

namespace {
/// The builders load the moe dialect first: attributes of a dialect that is
/// registered but not yet loaded in a context cannot be created (C++ asserts
/// on it; C callers would get a crash).
MLIRContext *loadedContext(MLIRContext *ctx) {
  ctx->getOrLoadDialect<MoEDialect>();
  return ctx;
}

/// Converts a C enum value to the C++ enum, or std::nullopt when it is out of
/// range (a C caller can pass any int).
template <typename CxxEnum>
std::optional<CxxEnum> toCxx(int value,
                             std::optional<CxxEnum> (*symbolize)(uint32_t)) {
  if (value < 0)
    return std::nullopt;
  return symbolize(static_cast<uint32_t>(value));
}

/// Emits "invalid <what> value N" at `loc`.
MlirAttribute invalidEnum(Location loc, llvm::StringRef what, int value) {
  emitError(loc) << "invalid " << what << " value " << value;
  return MlirAttribute{nullptr};
}
} // namespace

//===----------------------------------------------------------------------===//
// #moe.router
//===----------------------------------------------------------------------===//

bool mlirAttributeIsAMoERouter(MlirAttribute attr) {
  return llvm::isa<RouterAttr>(unwrap(attr));
}

MlirTypeID mlirMoERouterAttrGetTypeID(void) {
  return wrap(TypeID::get<RouterAttr>());
}

MlirAttribute mlirMoERouterAttrGetChecked(MlirLocation cLoc, int64_t k,
                                          MlirMoEScoring scoring,
                                          MlirMoEScoreOrder order,
                                          bool renormalize, double scale,
                                          int64_t groups, int64_t topkGroups,
                                          MlirMoEGroupScore groupScore) {
  Location loc = unwrap(cLoc);
  MLIRContext *ctx = loadedContext(loc.getContext());
  std::optional<Scoring> cxxScoring = toCxx<Scoring>(scoring, symbolizeScoring);
  if (!cxxScoring)
    return invalidEnum(loc, "router scoring", scoring);
  std::optional<ScoreOrder> cxxOrder =
      toCxx<ScoreOrder>(order, symbolizeScoreOrder);
  if (!cxxOrder)
    return invalidEnum(loc, "router order", order);
  std::optional<GroupScore> cxxGroupScore =
      toCxx<GroupScore>(groupScore, symbolizeGroupScore);
  if (!cxxGroupScore)
    return invalidEnum(loc, "router group_score", groupScore);
  return wrap(RouterAttr::getChecked(
      [&] { return emitError(loc); }, ctx, k, *cxxScoring, *cxxOrder,
      renormalize, llvm::APFloat(scale), groups, topkGroups, *cxxGroupScore,
      WeightsOn::output, Choice::token));
}

MlirAttribute mlirMoERouterAttrGet(MlirContext ctx, int64_t k,
                                   MlirMoEScoring scoring,
                                   MlirMoEScoreOrder order, bool renormalize,
                                   double scale, int64_t groups,
                                   int64_t topkGroups,
                                   MlirMoEGroupScore groupScore) {
  return mlirMoERouterAttrGetChecked(
      wrap(Location(UnknownLoc::get(unwrap(ctx)))), k, scoring, order,
      renormalize, scale, groups, topkGroups, groupScore);
}

int64_t mlirMoERouterAttrGetK(MlirAttribute attr) {
  return llvm::cast<RouterAttr>(unwrap(attr)).getK();
}

MlirMoEScoring mlirMoERouterAttrGetScoring(MlirAttribute attr) {
  return static_cast<MlirMoEScoring>(
      llvm::cast<RouterAttr>(unwrap(attr)).getScoring());
}

MlirMoEScoreOrder mlirMoERouterAttrGetOrder(MlirAttribute attr) {
  return static_cast<MlirMoEScoreOrder>(
      llvm::cast<RouterAttr>(unwrap(attr)).getOrder());
}

bool mlirMoERouterAttrGetRenormalize(MlirAttribute attr) {
  return llvm::cast<RouterAttr>(unwrap(attr)).getRenormalize();
}

double mlirMoERouterAttrGetScale(MlirAttribute attr) {
  return llvm::cast<RouterAttr>(unwrap(attr)).getScaleValue();
}

int64_t mlirMoERouterAttrGetGroups(MlirAttribute attr) {
  return llvm::cast<RouterAttr>(unwrap(attr)).getGroups();
}

int64_t mlirMoERouterAttrGetTopkGroups(MlirAttribute attr) {
  return llvm::cast<RouterAttr>(unwrap(attr)).getTopkGroups();
}

MlirMoEGroupScore mlirMoERouterAttrGetGroupScore(MlirAttribute attr) {
  return static_cast<MlirMoEGroupScore>(
      llvm::cast<RouterAttr>(unwrap(attr)).getGroupScore());
}

MlirAttribute mlirMoERouterAttrWithSelection(MlirAttribute router,
                                             MlirLocation cLoc,
                                             MlirMoEWeightsOn weightsOn,
                                             MlirMoEChoice choice) {
  Location loc = unwrap(cLoc);
  auto base = llvm::cast<RouterAttr>(unwrap(router));
  std::optional<WeightsOn> cxxWeightsOn =
      toCxx<WeightsOn>(weightsOn, symbolizeWeightsOn);
  if (!cxxWeightsOn)
    return invalidEnum(loc, "router weights_on", weightsOn);
  std::optional<Choice> cxxChoice = toCxx<Choice>(choice, symbolizeChoice);
  if (!cxxChoice)
    return invalidEnum(loc, "router choice", choice);
  return wrap(RouterAttr::getChecked(
      [&] { return emitError(loc); }, base.getContext(), base.getK(),
      base.getScoring(), base.getOrder(), base.getRenormalize(),
      base.getScale(), base.getGroups(), base.getTopkGroups(),
      base.getGroupScore(), *cxxWeightsOn, *cxxChoice));
}

MlirMoEWeightsOn mlirMoERouterAttrGetWeightsOn(MlirAttribute attr) {
  return static_cast<MlirMoEWeightsOn>(
      llvm::cast<RouterAttr>(unwrap(attr)).getWeightsOn());
}

MlirMoEChoice mlirMoERouterAttrGetChoice(MlirAttribute attr) {
  return static_cast<MlirMoEChoice>(
      llvm::cast<RouterAttr>(unwrap(attr)).getChoice());
}

MlirLogicalResult mlirMoERouterAttrVerifyForExperts(MlirAttribute attr,
                                                    MlirLocation cLoc,
                                                    int64_t numExperts) {
  Location loc = unwrap(cLoc);
  return wrap(
      llvm::cast<RouterAttr>(unwrap(attr))
          .verifyForExperts([&] { return emitError(loc); }, numExperts));
}

//===----------------------------------------------------------------------===//
// #moe.capacity
//===----------------------------------------------------------------------===//

namespace {
MlirAttribute getCapacity(MlirContext cCtx, CapacityKind kind, int64_t capacity,
                          double factor) {
  MLIRContext *ctx = loadedContext(unwrap(cCtx));
  Location loc = UnknownLoc::get(ctx);
  return wrap(CapacityAttr::getChecked(
      [&] { return emitError(loc); }, ctx, kind, capacity,
      llvm::APFloat(factor), DropPolicy::position, DroppedOutput::zero));
}
} // namespace

bool mlirAttributeIsAMoECapacity(MlirAttribute attr) {
  return llvm::isa<CapacityAttr>(unwrap(attr));
}

MlirTypeID mlirMoECapacityAttrGetTypeID(void) {
  return wrap(TypeID::get<CapacityAttr>());
}

MlirAttribute mlirMoECapacityAttrGetDropless(MlirContext ctx) {
  return getCapacity(ctx, CapacityKind::dropless, 0, 0.0);
}

MlirAttribute mlirMoECapacityAttrGetFixed(MlirContext ctx, int64_t capacity) {
  return getCapacity(ctx, CapacityKind::fixed, capacity, 0.0);
}

MlirAttribute mlirMoECapacityAttrGetFactor(MlirContext ctx, double factor) {
  return getCapacity(ctx, CapacityKind::factor, 0, factor);
}

MlirAttribute mlirMoECapacityAttrWithPolicies(MlirAttribute capacity,
                                              MlirLocation cLoc,
                                              MlirMoEDropPolicy drop,
                                              MlirMoEDroppedOutput dropped) {
  Location loc = unwrap(cLoc);
  auto base = llvm::cast<CapacityAttr>(unwrap(capacity));
  std::optional<DropPolicy> cxxDrop =
      toCxx<DropPolicy>(drop, symbolizeDropPolicy);
  if (!cxxDrop)
    return invalidEnum(loc, "capacity drop", drop);
  std::optional<DroppedOutput> cxxDropped =
      toCxx<DroppedOutput>(dropped, symbolizeDroppedOutput);
  if (!cxxDropped)
    return invalidEnum(loc, "capacity dropped", dropped);
  return wrap(CapacityAttr::getChecked(
      [&] { return emitError(loc); }, base.getContext(), base.getKind(),
      base.getCapacity(), base.getFactor(), *cxxDrop, *cxxDropped));
}

MlirMoEDropPolicy mlirMoECapacityAttrGetDrop(MlirAttribute attr) {
  return static_cast<MlirMoEDropPolicy>(
      llvm::cast<CapacityAttr>(unwrap(attr)).getDrop());
}

MlirMoEDroppedOutput mlirMoECapacityAttrGetDropped(MlirAttribute attr) {
  return static_cast<MlirMoEDroppedOutput>(
      llvm::cast<CapacityAttr>(unwrap(attr)).getDropped());
}

MlirMoECapacityKind mlirMoECapacityAttrGetKind(MlirAttribute attr) {
  return static_cast<MlirMoECapacityKind>(
      llvm::cast<CapacityAttr>(unwrap(attr)).getKind());
}

int64_t mlirMoECapacityAttrGetCapacity(MlirAttribute attr) {
  return llvm::cast<CapacityAttr>(unwrap(attr)).getCapacity();
}

double mlirMoECapacityAttrGetFactorValue(MlirAttribute attr) {
  return llvm::cast<CapacityAttr>(unwrap(attr)).getFactorValue();
}

int64_t mlirMoECapacityAttrCapacityFor(MlirAttribute attr, int64_t numTokens,
                                       int64_t k, int64_t numExperts) {
  std::optional<int64_t> capacity = llvm::cast<CapacityAttr>(unwrap(attr))
                                        .capacityFor(numTokens, k, numExperts);
  return capacity ? *capacity : -1;
}

//===----------------------------------------------------------------------===//
// #moe.activation
//===----------------------------------------------------------------------===//

bool mlirAttributeIsAMoEActivation(MlirAttribute attr) {
  return llvm::isa<ActivationAttr>(unwrap(attr));
}

MlirTypeID mlirMoEActivationAttrGetTypeID(void) {
  return wrap(TypeID::get<ActivationAttr>());
}

MlirAttribute mlirMoEActivationAttrGet(MlirContext cCtx,
                                       MlirMoEActivation activation) {
  MLIRContext *ctx = loadedContext(unwrap(cCtx));
  std::optional<Activation> value =
      toCxx<Activation>(activation, symbolizeActivation);
  if (!value)
    return invalidEnum(UnknownLoc::get(ctx), "activation", activation);
  return wrap(ActivationAttr::get(ctx, *value));
}

MlirMoEActivation mlirMoEActivationAttrGetValue(MlirAttribute attr) {
  return static_cast<MlirMoEActivation>(
      llvm::cast<ActivationAttr>(unwrap(attr)).getKind());
}

bool mlirMoEActivationIsGated(MlirMoEActivation activation) {
  std::optional<Activation> value =
      toCxx<Activation>(activation, symbolizeActivation);
  return value && isGated(*value);
}

//===----------------------------------------------------------------------===//
// Operations
//===----------------------------------------------------------------------===//

bool mlirOperationIsAMoEOp(MlirOperation op) {
  Dialect *dialect = unwrap(op)->getDialect();
  return dialect && llvm::isa<MoEDialect>(dialect);
}

bool mlirOperationIsAMoELayer(MlirOperation op) {
  return llvm::isa<LayerOp>(unwrap(op));
}
