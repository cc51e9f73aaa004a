//===- LayerEntry.cpp - The layer function a runner calls -----------------===//

#include "moe-mlir/Runner/LayerEntry.h"

#include "moe-mlir/Codegen/CPU/Passes.h"
#include "moe-mlir/Dialect/MoE/Analysis/Cost.h"

#include "llvm/ADT/STLExtras.h"

#include <initializer_list>
#include <utility>

using namespace mlir;

namespace moe::run {

ref::ElementType elementTypeOf(Value value) {
  Type type = cast<RankedTensorType>(value.getType()).getElementType();
  if (type.isBF16())
    return ref::ElementType::BF16;
  if (type.isF16())
    return ref::ElementType::F16;
  return ref::ElementType::F32;
}

FailureOr<EntryPoint> findEntryPoint(ModuleOp module, StringRef name) {
  SmallVector<mlir::moe::LayerOp> layers;
  module.walk([&](mlir::moe::LayerOp layer) { layers.push_back(layer); });
  if (!name.empty())
    llvm::erase_if(layers, [&](mlir::moe::LayerOp layer) {
      auto func = layer->getParentOfType<func::FuncOp>();
      return !func || func.getSymName() != name;
    });
  if (layers.empty()) {
    if (name.empty())
      module.emitError("no moe.layer in the module");
    else
      module.emitError("no function '") << name << "' computing a moe.layer";
    return failure();
  }
  if (layers.size() > 1) {
    module.emitError("several moe.layer ops: choose one function with "
                     "--entry=NAME whose body is a single layer");
    return failure();
  }
  EntryPoint entry;
  entry.layer = layers.front();
  entry.func = entry.layer->getParentOfType<func::FuncOp>();
  if (!entry.func) {
    entry.layer.emitError("moe-run needs the layer inside a func.func");
    return failure();
  }

  DenseMap<Value, Role> operandRoles;
  mlir::moe::LayerOp layer = entry.layer;
  operandRoles[layer.getTokens()] = Role::Tokens;
  operandRoles[layer.getRouterWeight()] = Role::Router;
  if (layer.getRouterBias())
    operandRoles[layer.getRouterBias()] = Role::RouterBias;
  if (layer.getSelectionBias())
    operandRoles[layer.getSelectionBias()] = Role::SelectionBias;
  operandRoles[layer.getUpWeight()] = Role::Up;
  operandRoles[layer.getDownWeight()] = Role::Down;
  for (auto [value, role] :
       {std::pair<Value, Role>{layer.getGateWeight(), Role::Gate},
        {layer.getGateBias(), Role::GateBias},
        {layer.getUpBias(), Role::UpBias},
        {layer.getDownBias(), Role::DownBias},
        {layer.getSharedGate(), Role::SharedGate},
        {layer.getSharedUp(), Role::SharedUp},
        {layer.getSharedDown(), Role::SharedDown},
        {layer.getSharedSigmoidGate(), Role::SharedSigmoidGate}})
    if (value)
      operandRoles[value] = role;
  if (operandRoles.size() != layer->getNumOperands()) {
    layer.emitError("moe-run needs distinct values for the layer's operands");
    return failure();
  }
  for (BlockArgument arg : entry.func.getArguments()) {
    auto it = operandRoles.find(arg);
    if (it == operandRoles.end()) {
      entry.func.emitError("moe-run needs every argument of @")
          << entry.func.getSymName() << " to be an operand of its moe.layer";
      return failure();
    }
    entry.roles.push_back(it->second);
  }
  if (entry.roles.size() != layer->getNumOperands()) {
    layer.emitError("moe-run needs every operand of the layer to be an "
                    "argument of @")
        << entry.func.getSymName();
    return failure();
  }
  auto returnOp = cast<func::ReturnOp>(entry.func.getBody().back().back());
  if (returnOp.getNumOperands() != layer->getNumResults() ||
      !llvm::equal(returnOp.getOperands(), layer->getResults())) {
    entry.func.emitError("moe-run needs @")
        << entry.func.getSymName() << " to return the layer's results";
    return failure();
  }
  for (Value operand : layer->getOperands())
    if (!isa<Float32Type, BFloat16Type, Float16Type>(
            cast<RankedTensorType>(operand.getType()).getElementType())) {
      layer.emitError("moe-run checks f32, bf16 and f16 layers; this one has ")
          << operand.getType();
      return failure();
    }
  return entry;
}

ref::LayerConfig referenceConfig(mlir::moe::LayerOp layer) {
  ref::LayerConfig config;
  config.D = layer.getModelSize();
  config.element = elementTypeOf(layer.getTokens());
  config.F = layer.getHiddenSize();
  config.E = layer.getNumExperts();
  mlir::moe::RouterAttr router = layer.getRouter();
  config.router.k = router.getK();
  config.router.scoring = router.getScoring() == mlir::moe::Scoring::sigmoid
                              ? ref::Scoring::Sigmoid
                              : ref::Scoring::Softmax;
  config.router.order = router.getOrder() == mlir::moe::ScoreOrder::topk_softmax
                            ? ref::ScoreOrder::TopKSoftmax
                            : ref::ScoreOrder::SoftmaxTopK;
  config.router.renormalize = router.getRenormalize();
  config.router.scale = router.getScaleValue();
  config.router.groups = router.getGroups();
  config.router.topkGroups = router.getTopkGroups();
  config.router.groupScore =
      router.getGroupScore() == mlir::moe::GroupScore::sum_top2
          ? ref::GroupScore::SumTop2
          : ref::GroupScore::Max;
  config.router.weightsOnInput =
      router.getWeightsOn() == mlir::moe::WeightsOn::input;
  config.router.expertChoice = router.getChoice() == mlir::moe::Choice::expert;
  if (Value sharedUp = layer.getSharedUp())
    config.sharedF = cast<RankedTensorType>(sharedUp.getType()).getDimSize(0);
  mlir::moe::CapacityAttr capacity = layer.getCapacity();
  switch (capacity.getKind()) {
  case mlir::moe::CapacityKind::dropless:
    config.capacity.kind = ref::CapacityKind::Dropless;
    break;
  case mlir::moe::CapacityKind::fixed:
    config.capacity.kind = ref::CapacityKind::Fixed;
    config.capacity.capacity = capacity.getCapacity();
    break;
  case mlir::moe::CapacityKind::factor:
    config.capacity.kind = ref::CapacityKind::Factor;
    config.capacity.factor = capacity.getFactorValue();
    break;
  }
  config.capacity.droppedIdentity =
      capacity.getDropped() == mlir::moe::DroppedOutput::identity;
  config.capacity.dropByProbability =
      capacity.getDrop() == mlir::moe::DropPolicy::probability;
  switch (layer.getActivation()) {
  case mlir::moe::Activation::swiglu:
    config.activation = ref::Activation::SwiGLU;
    break;
  case mlir::moe::Activation::geglu:
    config.activation = ref::Activation::GeGLU;
    break;
  case mlir::moe::Activation::gelu:
    config.activation = ref::Activation::Gelu;
    break;
  case mlir::moe::Activation::gelu_tanh:
    config.activation = ref::Activation::GeluTanh;
    break;
  case mlir::moe::Activation::relu:
    config.activation = ref::Activation::Relu;
    break;
  case mlir::moe::Activation::silu:
    config.activation = ref::Activation::Silu;
    break;
  case mlir::moe::Activation::clamped_swiglu:
    config.activation = ref::Activation::ClampedSwiGLU;
    break;
  }
  mlir::moe::ActivationAttr activation = layer.getActivationAttr();
  config.alpha = activation.getAlphaValue();
  config.limit = activation.getLimitValue();
  return config;
}

FailureOr<FlopCount> flopCount(mlir::moe::LayerOp layer) {
  FailureOr<mlir::moe::LayerCost> cost =
      mlir::moe::LayerCost::get(layer, mlir::moe::CostAssumptions());
  if (failed(cost))
    return failure();
  return FlopCount{cost->routerFlops + cost->sharedFlops, cost->denseFfnFlops};
}

FailureOr<LayerDescription> describeLayer(const EntryPoint &entry) {
  mlir::moe::LayerOp layer = entry.layer;
  func::FuncOp func = entry.func;
  LayerDescription description;
  description.function = func.getSymName().str();
  description.config = referenceConfig(layer);
  description.roles = entry.roles;
  for (BlockArgument arg : func.getArguments())
    description.elements.push_back(elementTypeOf(arg));
  int64_t staticTokens = layer.getTokens().getType().getDimSize(0);
  description.staticTokens =
      ShapedType::isDynamic(staticTokens) ? -1 : staticTokens;
  description.hasDropped = static_cast<bool>(layer.getDropped());
  description.hasStatistics = layer.hasStatistics();
  FailureOr<FlopCount> flops = flopCount(layer);
  if (failed(flops))
    return failure();
  description.flops = *flops;
  return description;
}

FailureOr<std::vector<PackedWeight>> packedWeightsOf(Operation *function) {
  std::vector<PackedWeight> weights;
  auto records =
      function->getAttrOfType<ArrayAttr>(mlir::moe::kPackedWeightsAttrName);
  if (!records)
    return weights;
  for (Attribute record : records) {
    auto fields = dyn_cast<DictionaryAttr>(record);
    auto argument = fields ? fields.getAs<IntegerAttr>("argument") : nullptr;
    auto pack = fields ? fields.getAs<FlatSymbolRefAttr>("pack") : nullptr;
    auto shape = fields ? fields.getAs<DenseI64ArrayAttr>("shape") : nullptr;
    auto element = fields ? fields.getAs<TypeAttr>("element") : nullptr;
    if (!argument || !pack || !shape || !element || argument.getInt() < 0 ||
        !(element.getValue().isF32() || element.getValue().isBF16()))
      return function->emitError()
             << mlir::moe::kPackedWeightsAttrName
             << ": expected {argument, pack, shape, element = f32 or bf16} "
                "entries, got "
             << record;
    PackedWeight weight;
    weight.argument = size_t(argument.getInt());
    weight.shape.assign(shape.asArrayRef().begin(), shape.asArrayRef().end());
    weight.element = element.getValue().isF32() ? ref::ElementType::F32
                                                : ref::ElementType::BF16;
    weight.function = pack.getValue().str();
    weights.push_back(std::move(weight));
  }
  return weights;
}

} // namespace moe::run
