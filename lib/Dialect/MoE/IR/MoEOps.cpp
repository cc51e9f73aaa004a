//===- MoEOps.cpp - Operations of the moe dialect -------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>

using namespace mlir;
using namespace mlir::moe;

//===----------------------------------------------------------------------===//
// Shape checking helpers
//===----------------------------------------------------------------------===//

namespace {
/// An expected dimension: a static size, or kAny when any size (static or
/// dynamic) is acceptable, as for a token count.
constexpr int64_t kAny = ShapedType::kDynamic;

bool dimsAgree(int64_t actual, int64_t expected) {
  return expected == kAny || ShapedType::isDynamic(actual) ||
         actual == expected;
}

std::string formatShape(ArrayRef<int64_t> dims, ArrayRef<StringRef> names) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  for (auto [i, dim] : llvm::enumerate(dims)) {
    if (i)
      os << ", ";
    if (dim == kAny)
      os << names[i];
    else
      os << dim;
  }
  os << ']';
  if (llvm::any_of(dims, [](int64_t d) { return d != kAny; })) {
    os << " (";
    llvm::interleave(names, os, " x ");
    os << ')';
  }
  return text;
}

/// Checks that `value` is a tensor of the given rank and dimensions (a
/// dynamic dimension agrees with any expected size: it is checked at run
/// time by the lowering's assumptions).
LogicalResult checkShape(Operation *op, StringRef role, Value value,
                         ArrayRef<int64_t> expected,
                         ArrayRef<StringRef> names) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != static_cast<int64_t>(expected.size()) ||
      !llvm::all_of(llvm::zip(type.getShape(), expected), [](auto pair) {
        return dimsAgree(std::get<0>(pair), std::get<1>(pair));
      }))
    return op->emitOpError()
           << "expects " << role << " of shape " << formatShape(expected, names)
           << ", got " << type;
  return success();
}

LogicalResult checkElementType(Operation *op, StringRef role, Value value,
                               Type expected, StringRef expectedFrom) {
  Type actual = cast<RankedTensorType>(value.getType()).getElementType();
  if (actual != expected)
    return op->emitOpError()
           << "expects " << role << " element type " << expected << " (that of "
           << expectedFrom << "), got " << actual;
  return success();
}

/// D, F and E must be static; the token count may be dynamic.
LogicalResult checkStatic(Operation *op, StringRef what, int64_t size) {
  if (ShapedType::isDynamic(size))
    return op->emitOpError() << "expects a static " << what;
  if (size <= 0)
    return op->emitOpError()
           << "expects a positive " << what << ", got " << size;
  return success();
}

int64_t dim(Value value, unsigned index) {
  auto type = cast<RankedTensorType>(value.getType());
  return index < type.getRank() ? type.getDimSize(index) : kAny;
}

int64_t rank(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank();
}

LogicalResult checkRank(Operation *op, StringRef role, Value value,
                        int64_t expected, StringRef layout) {
  if (rank(value) != expected)
    return op->emitOpError() << "expects " << role << " of rank " << expected
                             << " " << layout << ", got " << value.getType();
  return success();
}

/// The routed experts' weights and optional biases.
struct ExpertWeights {
  Value gate, gateBias, up, upBias, down, downBias;
};

/// Checks the expert weights shared by moe.layer and moe.experts.
LogicalResult checkExpertWeights(Operation *op, const ExpertWeights &w,
                                 Activation activation, int64_t numExperts,
                                 int64_t modelSize, Type elementType,
                                 StringRef elementFrom) {
  Value gate = w.gate, up = w.up, down = w.down;
  if (isGated(activation) && !gate)
    return op->emitOpError()
           << "activation '" << stringifyActivation(activation)
           << "' is gated and needs a gate weight";
  if (!isGated(activation) && gate)
    return op->emitOpError()
           << "activation '" << stringifyActivation(activation)
           << "' is not gated and takes no gate weight";
  if (failed(checkRank(op, "up weight", up, 3, "[E, F, D]")))
    return failure();
  int64_t hidden = dim(up, 1);
  if (failed(checkStatic(op, "expert hidden size F", hidden)))
    return failure();
  SmallVector<StringRef> upNames = {"E", "F", "D"};
  if (failed(checkShape(op, "up weight", up, {numExperts, hidden, modelSize},
                        upNames)) ||
      failed(checkElementType(op, "up weight", up, elementType, elementFrom)))
    return failure();
  if (gate && (failed(checkShape(op, "gate weight", gate,
                                 {numExperts, hidden, modelSize}, upNames)) ||
               failed(checkElementType(op, "gate weight", gate, elementType,
                                       elementFrom))))
    return failure();
  if (failed(checkShape(op, "down weight", down,
                        {numExperts, modelSize, hidden}, {"E", "D", "F"})) ||
      failed(
          checkElementType(op, "down weight", down, elementType, elementFrom)))
    return failure();
  if (w.gateBias && !gate)
    return op->emitOpError() << "has a gate bias but no gate weight";
  for (auto [role, bias, expected] :
       {std::tuple<StringRef, Value, int64_t>{"gate bias", w.gateBias, hidden},
        {"up bias", w.upBias, hidden},
        {"down bias", w.downBias, modelSize}}) {
    if (!bias)
      continue;
    StringRef width = expected == hidden ? "F" : "D";
    if (failed(
            checkShape(op, role, bias, {numExperts, expected}, {"E", width})) ||
        failed(checkElementType(op, role, bias, elementType, elementFrom)))
      return failure();
  }
  return success();
}

/// Checks the shared experts of a moe.layer: one FFN [S, D], [S, D], [D, S]
/// with the routed experts' activation and an optional sigmoid gate [1, D].
LogicalResult checkSharedExperts(LayerOp op, int64_t modelSize,
                                 Type elementType) {
  Operation *raw = op.getOperation();
  Value gate = op.getSharedGate(), up = op.getSharedUp(),
        down = op.getSharedDown(), sigmoidGate = op.getSharedSigmoidGate();
  if (!up && !down) {
    if (gate || sigmoidGate)
      return op.emitOpError()
             << "has a shared " << (gate ? "gate" : "sigmoid gate")
             << " but no shared experts (shared_up and "
                "shared_down)";
    return success();
  }
  if (!up || !down)
    return op.emitOpError() << "shared experts need both shared_up and "
                               "shared_down";
  Activation activation = op.getActivation();
  if (isGated(activation) != static_cast<bool>(gate))
    return op.emitOpError()
           << "activation '" << stringifyActivation(activation) << "' is "
           << (gate ? "not gated and the shared experts take no shared_gate"
                    : "gated and the shared experts need a shared_gate");
  if (failed(checkRank(raw, "shared up weight", up, 2, "[S, D]")))
    return failure();
  int64_t sharedSize = dim(up, 0);
  if (failed(checkStatic(raw, "shared hidden size S", sharedSize)))
    return failure();
  SmallVector<StringRef> names = {"S", "D"};
  for (auto [role, value] :
       {std::pair<StringRef, Value>{"shared up weight", up},
        {"shared gate weight", gate}}) {
    if (value &&
        (failed(checkShape(raw, role, value, {sharedSize, modelSize}, names)) ||
         failed(checkElementType(raw, role, value, elementType, "the tokens"))))
      return failure();
  }
  if (failed(checkShape(raw, "shared down weight", down,
                        {modelSize, sharedSize}, {"D", "S"})) ||
      failed(checkElementType(raw, "shared down weight", down, elementType,
                              "the tokens")))
    return failure();
  if (sigmoidGate &&
      (failed(checkShape(raw, "shared sigmoid gate", sigmoidGate,
                         {1, modelSize}, {"1", "D"})) ||
       failed(checkElementType(raw, "shared sigmoid gate", sigmoidGate,
                               elementType, "the tokens"))))
    return failure();
  return success();
}

/// The token count that several [T, ...] values share: the first static one,
/// or kAny when all are dynamic. Checking each value against it (rather than
/// against one value that may be dynamic) also rejects two static counts
/// that disagree, e.g. weights [4, k] and expert ids [5, k] of a route whose
/// logits are [?, E].
int64_t sharedTokenCount(ArrayRef<int64_t> counts) {
  for (int64_t count : counts)
    if (!ShapedType::isDynamic(count))
      return count;
  return kAny;
}

/// Two token counts agree when either is dynamic or they are equal.
LogicalResult checkTokenCount(Operation *op, StringRef role, int64_t actual,
                              int64_t expected) {
  if (!dimsAgree(actual, expected) || !dimsAgree(expected, actual))
    return op->emitOpError() << "expects " << role << " to have " << expected
                             << " rows (one per token), got " << actual;
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// LayerOp
//===----------------------------------------------------------------------===//

LogicalResult LayerOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "tokens", getTokens(), 2, "[T, D]")))
    return failure();
  int64_t numTokens = dim(getTokens(), 0), modelSize = dim(getTokens(), 1);
  if (failed(checkStatic(op, "model size D (tokens dim 1)", modelSize)))
    return failure();
  Type elementType = getTokens().getType().getElementType();

  if (failed(checkRank(op, "router weight", getRouterWeight(), 2, "[E, D]")))
    return failure();
  int64_t numExperts = dim(getRouterWeight(), 0);
  if (failed(checkStatic(op, "number of experts E", numExperts)))
    return failure();
  if (failed(checkShape(op, "router weight", getRouterWeight(),
                        {numExperts, modelSize}, {"E", "D"})) ||
      failed(checkElementType(op, "router weight", getRouterWeight(),
                              elementType, "the tokens")))
    return failure();
  for (auto [role, bias] :
       {std::pair<StringRef, Value>{"router bias", getRouterBias()},
        {"selection bias", getSelectionBias()}})
    if (bias && failed(checkShape(op, role, bias, {numExperts}, {"E"})))
      return failure();

  if (failed(getRouter().verifyForExperts([&] { return emitOpError(); },
                                          numExperts)))
    return failure();
  if (failed(checkExpertWeights(op,
                                {getGateWeight(), getGateBias(), getUpWeight(),
                                 getUpBias(), getDownWeight(), getDownBias()},
                                getActivation(), numExperts, modelSize,
                                elementType, "the tokens")) ||
      failed(checkSharedExperts(*this, modelSize, elementType)))
    return failure();
  if (getRouter().getChoice() == Choice::expert && !getCapacity().isDropless())
    return emitOpError() << "routes by expert choice, which bounds each "
                            "expert's load itself: its capacity must be "
                            "dropless";
  if (getCapacity().getDropped() == DroppedOutput::identity &&
      getRouter().getWeightsOn() == WeightsOn::input)
    return emitOpError() << "cannot pass dropped tokens through (capacity "
                            "dropped = identity) when the gate weights scale "
                            "the expert inputs (router weights_on = input)";

  if (getOutput().getType() != getTokens().getType() &&
      (failed(checkShape(op, "output", getOutput(), {numTokens, modelSize},
                         {"T", "D"})) ||
       failed(checkElementType(op, "output", getOutput(), elementType,
                               "the tokens"))))
    return failure();
  if (failed(checkTokenCount(op, "output", dim(getOutput(), 0), numTokens)))
    return failure();
  // Extra results: [dropped count] [expert counts, aux loss, z-loss].
  auto extras = getExtraResults();
  unsigned statistics = extras.size() - (getDropped() ? 1 : 0);
  if (statistics != 0 && statistics != 3)
    return emitOpError()
           << "expects its results to be the output, optionally the dropped "
              "count (tensor<i64>), and optionally the statistics (expert "
              "counts tensor<"
           << numExperts << "xi64>, aux loss tensor<f32>, z-loss tensor<f32>)"
           << "; got " << getNumResults() << " results";
  if (statistics == 3) {
    Type f32Scalar = RankedTensorType::get({}, Float32Type::get(getContext()));
    if (failed(checkShape(op, "expert counts", getExpertCounts(), {numExperts},
                          {"E"})) ||
        failed(checkElementType(op, "expert counts", getExpertCounts(),
                                IntegerType::get(getContext(), 64), "counts")))
      return failure();
    for (auto [role, value] :
         {std::pair<StringRef, Value>{"aux loss", getAuxLoss()},
          {"z-loss", getZLoss()}})
      if (value.getType() != f32Scalar)
        return emitOpError()
               << "expects the " << role << " result to be tensor<f32>, got "
               << value.getType();
  }
  if (!getCapacity().isDropless() && !getDropped())
    return emitOpError()
           << "has a capacity that can drop assignments but does not "
              "return the dropped count; add a tensor<i64> result";
  return success();
}

namespace {
bool isCountType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getRank() == 0 &&
         tensor.getElementType().isInteger(64);
}
} // namespace

Value LayerOp::getDropped() {
  auto extras = getExtraResults();
  return !extras.empty() && isCountType(extras.front().getType())
             ? Value(extras.front())
             : Value();
}

/// The statistics are the last three results, after the optional dropped
/// count (the verifier guarantees the pattern).
static Value statisticsResult(LayerOp op, unsigned index) {
  auto extras = op.getExtraResults();
  unsigned first = op.getDropped() ? 1 : 0;
  if (extras.size() != first + 3)
    return Value();
  return extras[first + index];
}
Value LayerOp::getExpertCounts() { return statisticsResult(*this, 0); }
Value LayerOp::getAuxLoss() { return statisticsResult(*this, 1); }
Value LayerOp::getZLoss() { return statisticsResult(*this, 2); }

//===----------------------------------------------------------------------===//
// RouteOp
//===----------------------------------------------------------------------===//

LogicalResult RouteOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "logits", getLogits(), 2, "[T, E]")))
    return failure();
  int64_t numExperts = dim(getLogits(), 1);
  int64_t numTokens = sharedTokenCount(
      {dim(getLogits(), 0), dim(getWeights(), 0), dim(getExpertIds(), 0)});
  if (failed(checkStatic(op, "number of experts E (logits dim 1)", numExperts)))
    return failure();
  if (failed(getRouter().verifyForExperts([&] { return emitOpError(); },
                                          numExperts)))
    return failure();
  if (getRouter().getChoice() == Choice::expert)
    return emitOpError() << "routes tokens; expert choice exists at the "
                            "layer level only (moe-expand-layer rewrites it "
                            "to a route of all E experts and a dispatch "
                            "that keeps each expert's best tokens)";
  if (getSelectionBias() &&
      failed(checkShape(op, "selection bias", getSelectionBias(), {numExperts},
                        {"E"})))
    return failure();
  int64_t k = getRouter().getK();
  for (auto [role, value] :
       {std::pair<StringRef, Value>{"weights", getWeights()},
        {"expert ids", getExpertIds()}}) {
    if (failed(checkShape(op, role, value, {kAny, k}, {"T", "k"})) ||
        failed(checkTokenCount(op, role, dim(value, 0), numTokens)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// DispatchOp
//===----------------------------------------------------------------------===//

LogicalResult DispatchOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "tokens", getTokens(), 2, "[T, D]")) ||
      failed(checkRank(op, "expert ids", getExpertIds(), 2, "[T, k]")))
    return failure();
  int64_t modelSize = dim(getTokens(), 1);
  int64_t numTokens = sharedTokenCount(
      {dim(getTokens(), 0), dim(getExpertIds(), 0), dim(getRows(), 0)});
  int64_t k = dim(getExpertIds(), 1);
  int64_t numExperts = getNumExperts();
  // Expert ids are i32 (and E + 1 below must not overflow).
  if (numExperts > std::numeric_limits<int32_t>::max())
    return emitOpError() << "expects num_experts to fit the i32 expert ids "
                            "(at most "
                         << std::numeric_limits<int32_t>::max() << "), got "
                         << numExperts;
  if (failed(checkStatic(op, "model size D (tokens dim 1)", modelSize)) ||
      failed(checkStatic(op, "k (expert ids dim 1)", k)) ||
      failed(
          checkTokenCount(op, "expert ids", dim(getExpertIds(), 0), numTokens)))
    return failure();

  int64_t numRows = ShapedType::isDynamic(numTokens) ? kAny : numTokens * k;
  if (failed(checkShape(op, "dispatched buffer", getDispatched(),
                        {numRows, modelSize}, {"T*k", "D"})) ||
      failed(checkElementType(op, "dispatched buffer", getDispatched(),
                              getTokens().getType().getElementType(),
                              "the tokens")) ||
      failed(
          checkShape(op, "offsets", getOffsets(), {numExperts + 1}, {"E+1"})) ||
      failed(checkShape(op, "rows", getRows(), {numTokens, k}, {"T", "k"})) ||
      failed(checkShape(op, "sources", getSources(), {numRows}, {"T*k"})))
    return failure();
  for (auto [role, value] : {std::pair<StringRef, Value>{"scale", getScale()},
                             {"priority", getPriority()}})
    if (value && (failed(checkShape(op, role, value, {kAny, k}, {"T", "k"})) ||
                  failed(checkTokenCount(op, role, dim(value, 0), numTokens))))
      return failure();
  bool byProbability = !getCapacity().isDropless() &&
                       getCapacity().getDrop() == DropPolicy::probability;
  if (byProbability && !getPriority())
    return emitOpError() << "drops by probability and needs the gate "
                            "weights: add priority(%weights)";
  if (!byProbability && getPriority())
    return emitOpError() << "takes priority weights only under a capacity "
                            "with drop = probability";
  if (ShapedType::isDynamic(numTokens) &&
      (!ShapedType::isDynamic(dim(getDispatched(), 0)) ||
       !ShapedType::isDynamic(dim(getSources(), 0))))
    return emitOpError() << "expects a dynamic row count T*k when the token "
                            "count is dynamic";
  return success();
}

//===----------------------------------------------------------------------===//
// ExpertsOp
//===----------------------------------------------------------------------===//

LogicalResult ExpertsOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "input", getInput(), 2, "[R, D]")) ||
      failed(checkRank(op, "offsets", getOffsets(), 1, "[E+1]")))
    return failure();
  int64_t numRows = dim(getInput(), 0), modelSize = dim(getInput(), 1);
  if (failed(checkStatic(op, "model size D (input dim 1)", modelSize)))
    return failure();
  int64_t numOffsets = dim(getOffsets(), 0);
  if (ShapedType::isDynamic(numOffsets) || numOffsets < 2)
    return emitOpError() << "expects static offsets of shape [E+1] with "
                            "E >= 1, got "
                         << getOffsets().getType();
  if (failed(checkExpertWeights(op,
                                {getGateWeight(), getGateBias(), getUpWeight(),
                                 getUpBias(), getDownWeight(), getDownBias()},
                                getActivation(), numOffsets - 1, modelSize,
                                getInput().getType().getElementType(),
                                "the input")))
    return failure();
  if (failed(checkShape(op, "output", getOutput(), {kAny, modelSize},
                        {"R", "D"})) ||
      failed(checkTokenCount(op, "output", dim(getOutput(), 0), numRows)) ||
      failed(checkElementType(op, "output", getOutput(),
                              getInput().getType().getElementType(),
                              "the input")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// CombineOp
//===----------------------------------------------------------------------===//

LogicalResult CombineOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "expert output", getExpertOutput(), 2, "[R, D]")) ||
      failed(checkRank(op, "rows", getRows(), 2, "[T, k]")))
    return failure();
  int64_t modelSize = dim(getExpertOutput(), 1);
  int64_t k = dim(getRows(), 1);
  int64_t numTokens = sharedTokenCount(
      {dim(getRows(), 0), dim(getWeights(), 0), dim(getOutput(), 0)});
  if (failed(
          checkStatic(op, "model size D (expert output dim 1)", modelSize)) ||
      failed(checkStatic(op, "k (rows dim 1)", k)))
    return failure();
  if (failed(checkShape(op, "weights", getWeights(), {kAny, k}, {"T", "k"})) ||
      failed(checkTokenCount(op, "weights", dim(getWeights(), 0), numTokens)))
    return failure();
  if (failed(checkShape(op, "output", getOutput(), {kAny, modelSize},
                        {"T", "D"})) ||
      failed(checkTokenCount(op, "output", dim(getOutput(), 0), numTokens)) ||
      failed(checkElementType(op, "output", getOutput(),
                              getExpertOutput().getType().getElementType(),
                              "the expert output")))
    return failure();
  if (getIdentity() &&
      (failed(checkShape(op, "identity tokens", getIdentity(),
                         {kAny, modelSize}, {"T", "D"})) ||
       failed(checkTokenCount(op, "identity tokens", dim(getIdentity(), 0),
                              numTokens)) ||
       failed(checkElementType(op, "identity tokens", getIdentity(),
                               getExpertOutput().getType().getElementType(),
                               "the expert output"))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RouterStatisticsOp
//===----------------------------------------------------------------------===//

LogicalResult RouterStatisticsOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "logits", getLogits(), 2, "[T, E]")) ||
      failed(checkRank(op, "expert ids", getExpertIds(), 2, "[T, k]")))
    return failure();
  int64_t numExperts = dim(getLogits(), 1);
  if (failed(
          checkStatic(op, "number of experts E (logits dim 1)", numExperts)) ||
      failed(checkTokenCount(op, "expert ids", dim(getExpertIds(), 0),
                             dim(getLogits(), 0))) ||
      failed(checkShape(op, "expert counts", getExpertCounts(), {numExperts},
                        {"E"})))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// AllToAllOp
//===----------------------------------------------------------------------===//

LogicalResult AllToAllOp::verify() {
  Operation *op = getOperation();
  int64_t ranks = getNumRanks();
  if (failed(checkStatic(op, "number of ranks R (send counts dim 0)", ranks)))
    return failure();
  if (getReceivedCounts().getType() != getSendCounts().getType())
    return emitOpError() << "expects received counts of the send counts' "
                            "type "
                         << getSendCounts().getType() << ", got "
                         << getReceivedCounts().getType();
  auto rows = cast<RankedTensorType>(getRows().getType());
  auto received = cast<RankedTensorType>(getReceived().getType());
  if (rows.getRank() < 1)
    return emitOpError() << "expects rows of rank 1 or more [N, ...], got "
                         << rows;
  // The runtime moves whole rows of a size every rank agrees on.
  for (int64_t d = 1; d < rows.getRank(); ++d)
    if (rows.isDynamicDim(d))
      return emitOpError() << "expects rows with static trailing "
                              "dimensions (the row size), got "
                           << rows;
  if (received.getRank() != rows.getRank() ||
      received.getElementType() != rows.getElementType() ||
      received.getShape().drop_front() != rows.getShape().drop_front()) {
    InFlightDiagnostic diag = emitOpError()
                              << "expects received rows like the rows sent ("
                              << rows.getElementType() << ", rows of shape [";
    llvm::interleaveComma(rows.getShape().drop_front(), diag);
    return diag << "]), got " << received;
  }
  return success();
}

LogicalResult AllToAllOp::fold(FoldAdaptor,
                               SmallVectorImpl<OpFoldResult> &results) {
  // One rank sends every row to itself.
  if (getNumRanks() != 1 || getReceived().getType() != getRows().getType())
    return failure();
  results.push_back(getRows());
  results.push_back(getSendCounts());
  return success();
}

//===----------------------------------------------------------------------===//
// GroupedMatmulOp
//===----------------------------------------------------------------------===//

LogicalResult GroupedMatmulOp::verify() {
  Operation *op = getOperation();
  bool gathered = static_cast<bool>(getGather());
  if (failed(checkRank(op, "input", getInput(), 2,
                       gathered ? "[T, K]" : "[R, K]")) ||
      failed(checkRank(op, "weight", getWeight(), 3, "[E, N, K]")) ||
      failed(checkRank(op, "offsets", getOffsets(), 1, "[E+1]")))
    return failure();
  int64_t numExperts = dim(getWeight(), 0), numColumns = dim(getWeight(), 1),
          reduction = dim(getWeight(), 2);
  if (failed(
          checkStatic(op, "number of experts E (weight dim 0)", numExperts)) ||
      failed(checkStatic(op, "output size N (weight dim 1)", numColumns)) ||
      failed(checkStatic(op, "reduction size K (weight dim 2)", reduction)))
    return failure();
  Type elementType = getInput().getType().getElementType();
  if (failed(checkShape(op, "input", getInput(), {kAny, reduction},
                        {gathered ? "T" : "R", "K"})) ||
      failed(checkElementType(op, "weight", getWeight(), elementType,
                              "the input")) ||
      failed(
          checkShape(op, "offsets", getOffsets(), {numExperts + 1}, {"E+1"})))
    return failure();

  // The result's columns: F = N / 2 under a gated activation, else N.
  int64_t resultColumns = numColumns;
  if (hasGatedActivation()) {
    if (numColumns % 2 != 0)
      return emitOpError() << "applies the gated activation '"
                           << stringifyActivation(*getActivation())
                           << "' and expects a weight [E, 2F, K] with gate "
                              "and up stacked along N, got an odd N = "
                           << numColumns;
    resultColumns = numColumns / 2;
  }
  // The row count R: that of the gather indices when the input is gathered,
  // else that of the input; the scale and the output have R rows too.
  if (gathered &&
      failed(checkRank(op, "gather indices", getGather(), 1, "[R]")))
    return failure();
  StringRef rowSource = gathered ? "gather indices" : "input";
  int64_t sourceRows = dim(gathered ? getGather() : getInput(), 0);
  auto checkRows = [&](StringRef role, Value value) -> LogicalResult {
    int64_t rows = dim(value, 0);
    if (!dimsAgree(rows, sourceRows) || !dimsAgree(sourceRows, rows))
      return emitOpError() << "expects " << role << " to have " << sourceRows
                           << " rows (R, those of the " << rowSource
                           << "), got " << rows;
    return success();
  };
  if (Value bias = getBias();
      bias &&
      (failed(checkShape(op, "bias", bias, {numExperts, numColumns},
                         {"E", "N"})) ||
       failed(checkElementType(op, "bias", bias, elementType, "the input"))))
    return failure();
  if (Value scale = getScale();
      scale && (failed(checkShape(op, "scale", scale, {kAny}, {"R"})) ||
                failed(checkRows("scale", scale))))
    return failure();
  StringRef columnsName = hasGatedActivation() ? "N/2" : "N";
  if (failed(checkShape(op, "output", getOutput(), {kAny, resultColumns},
                        {"R", columnsName})) ||
      failed(checkRows("output", getOutput())))
    return failure();
  // The result is rounded to the input's element type, or left in f32 (the
  // accumulator's type) for an epilogue that runs after the product.
  Type outputElementType = getOutput().getType().getElementType();
  if (outputElementType != elementType && !outputElementType.isF32())
    return emitOpError() << "expects output element type " << elementType
                         << " (that of the input) or f32 (the accumulator's), "
                            "got "
                         << outputElementType;
  return success();
}

//===----------------------------------------------------------------------===//
// GateOp
//===----------------------------------------------------------------------===//

LogicalResult GateOp::verify() {
  Operation *op = getOperation();
  // The router operands: the rules of moe.layer.
  if (failed(checkRank(op, "tokens", getTokens(), 2, "[T, D]")))
    return failure();
  int64_t modelSize = dim(getTokens(), 1);
  if (failed(checkStatic(op, "model size D (tokens dim 1)", modelSize)))
    return failure();
  if (failed(checkRank(op, "router weight", getRouterWeight(), 2, "[E, D]")))
    return failure();
  int64_t numExperts = dim(getRouterWeight(), 0);
  if (failed(checkStatic(op, "number of experts E (router weight dim 0)",
                         numExperts)))
    return failure();
  if (failed(checkShape(op, "router weight", getRouterWeight(),
                        {numExperts, modelSize}, {"E", "D"})) ||
      failed(checkElementType(op, "router weight", getRouterWeight(),
                              getTokens().getType().getElementType(),
                              "the tokens")))
    return failure();
  for (auto [role, bias] :
       {std::pair<StringRef, Value>{"router bias", getRouterBias()},
        {"selection bias", getSelectionBias()}})
    if (bias && failed(checkShape(op, role, bias, {numExperts}, {"E"})))
      return failure();

  // The router and the results: the rules of moe.route.
  if (failed(getRouter().verifyForExperts([&] { return emitOpError(); },
                                          numExperts)))
    return failure();
  if (getRouter().getChoice() == Choice::expert)
    return emitOpError() << "routes tokens; expert choice exists at the "
                            "layer level only (moe-expand-layer rewrites it "
                            "to a route of all E experts and a dispatch "
                            "that keeps each expert's best tokens)";
  int64_t numTokens = sharedTokenCount(
      {dim(getTokens(), 0), dim(getWeights(), 0), dim(getExpertIds(), 0)});
  int64_t k = getRouter().getK();
  for (auto [role, value] :
       {std::pair<StringRef, Value>{"weights", getWeights()},
        {"expert ids", getExpertIds()}}) {
    if (failed(checkShape(op, role, value, {kAny, k}, {"T", "k"})) ||
        failed(checkTokenCount(op, role, dim(value, 0), numTokens)))
      return failure();
  }
  return success();
}

#define GET_OP_CLASSES
#include "moe-mlir/Dialect/MoE/IR/MoEOps.cpp.inc"
