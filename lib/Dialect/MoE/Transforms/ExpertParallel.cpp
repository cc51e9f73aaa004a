//===- ExpertParallel.cpp - The moe-expert-parallel pass ------------------===//
//
// Shards the routed experts of a layer over R ranks. The exchange is built
// from level-1 ops around moe.all_to_all, so the owner's experts go through
// the same passes and kernels (grouped matmuls included) as a single-rank
// layer's: only the rows they see differ. Design.md, "Expert parallelism".
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEEXPERTPARALLELPASS
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The name of the function attribute that records the sharding.
constexpr const char *kExpertParallelAttr = "moe.expert_parallel";

/// The routed experts' weights and biases, in operand order.
SmallVector<OpOperand *> expertWeightOperands(ExpertsOp experts) {
  SmallVector<OpOperand *> operands;
  for (OpOperand *operand :
       {experts.getGateWeightMutable().empty()
            ? nullptr
            : &experts.getGateWeightMutable()[0],
        experts.getGateBiasMutable().empty() ? nullptr
                                             : &experts.getGateBiasMutable()[0],
        &experts.getUpWeightMutable(),
        experts.getUpBiasMutable().empty() ? nullptr
                                           : &experts.getUpBiasMutable()[0],
        &experts.getDownWeightMutable(),
        experts.getDownBiasMutable().empty()
            ? nullptr
            : &experts.getDownBiasMutable()[0]})
    if (operand)
      operands.push_back(operand);
  return operands;
}

/// Checks what the sharding needs; emits the located error otherwise.
LogicalResult checkShardable(ExpertsOp experts, DispatchOp dispatch,
                             func::FuncOp func, int64_t ranks) {
  int64_t numExperts = dispatch.getNumExperts();
  if (numExperts % ranks != 0)
    return experts.emitOpError()
           << "cannot be spread over " << ranks << " ranks: its " << numExperts
           << " experts are not a multiple of " << ranks;
  if (dispatch.getCapacity().getKind() == CapacityKind::factor)
    return dispatch.emitOpError()
           << "has a capacity factor (" << dispatch.getCapacity()
           << "), which under expert parallelism would need every rank's "
              "token count to size the experts (give a fixed capacity)";
  if (!func)
    return experts.emitOpError()
           << "cannot be sharded outside a func.func: its weights must be "
              "function arguments";
  for (OpOperand *operand : expertWeightOperands(experts)) {
    auto argument = dyn_cast<BlockArgument>(operand->get());
    if (!argument || argument.getOwner() != &func.getBody().front())
      return experts.emitOpError()
             << "cannot be sharded: its operand #"
             << operand->getOperandNumber() << " is not an argument of @"
             << func.getSymName()
             << " (each rank is given only its experts' weights)";
    if (!argument.hasOneUse())
      return experts.emitOpError()
             << "cannot be sharded: its operand #"
             << operand->getOperandNumber() << " (argument #"
             << argument.getArgNumber() << " of @" << func.getSymName()
             << ") has other users, which would see only E/R experts";
  }
  for (Operation *user : experts.getOutput().getUsers())
    if (!isa<CombineOp>(user))
      return experts.emitOpError()
             << "cannot be sharded: its output is read by '" << user->getName()
             << "', and only moe.combine reads the rows that come back";
  return success();
}

/// The sharded function's callers would pass every expert.
LogicalResult checkNotCalled(func::FuncOp func, Operation *module) {
  if (SymbolTable::symbolKnownUseEmpty(func, module))
    return success();
  return func.emitOpError() << "cannot be sharded: it is called in the "
                               "module, and its callers pass every expert";
}

/// `value` (rows [?, ...]) when it has `rows` rows, else zeros of that many
/// rows: what a failed exchange leaves must not be read out of bounds.
Value rowsOrZeros(OpBuilder &b, Location loc, Value value, Value rows) {
  auto type = cast<RankedTensorType>(value.getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value have = tensor::DimOp::create(b, loc, value, zero);
  Value same =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, have, rows);
  auto select = scf::IfOp::create(b, loc, TypeRange{type}, same,
                                  /*withElseRegion=*/true);
  OpBuilder nb = select.getThenBodyBuilder();
  scf::YieldOp::create(nb, loc, value);
  nb = select.getElseBodyBuilder();
  Value empty = tensor::EmptyOp::create(
      nb, loc, type.getShape(), type.getElementType(), ValueRange{rows});
  Value zeroElement =
      arith::ConstantOp::create(nb, loc, nb.getZeroAttr(type.getElementType()));
  Value zeros =
      linalg::FillOp::create(nb, loc, zeroElement, empty).getResult(0);
  scf::YieldOp::create(nb, loc, zeros);
  return select.getResult(0);
}

/// i32 element `index` of the 1-D `tensor`, as an index.
Value extractIndex(OpBuilder &b, Location loc, Value tensor, int64_t index) {
  Value element = tensor::ExtractOp::create(
      b, loc, tensor,
      ValueRange{arith::ConstantIndexOp::create(b, loc, index)});
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), element);
}

/// The owner-local expert of each of the first `rows` dispatched rows:
/// expert e's segment holds e mod (E/R).
Value localExpertIds(OpBuilder &b, Location loc, Value offsets, Value rows,
                     int64_t numExperts, int64_t localExperts) {
  Type i32 = b.getI32Type();
  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, i32);
  Value init = tensor::EmptyOp::create(b, loc, idsType.getShape(), i32,
                                       ValueRange{rows});
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value perRank = arith::ConstantIndexOp::create(b, loc, localExperts);
  auto loop = scf::ForOp::create(
      b, loc, zero, arith::ConstantIndexOp::create(b, loc, numExperts), one,
      ValueRange{init},
      [&](OpBuilder &nb, Location nloc, Value expert, ValueRange ids) {
        Value next = arith::AddIOp::create(nb, nloc, expert, one);
        auto offsetAt = [&](Value index) -> Value {
          Value element =
              tensor::ExtractOp::create(nb, nloc, offsets, ValueRange{index});
          return arith::IndexCastOp::create(nb, nloc, nb.getIndexType(),
                                            element);
        };
        Value begin = offsetAt(expert), end = offsetAt(next);
        Value length = arith::SubIOp::create(nb, nloc, end, begin);
        Value local = arith::IndexCastOp::create(
            nb, nloc, i32, arith::RemUIOp::create(nb, nloc, expert, perRank));
        Value segment = tensor::EmptyOp::create(nb, nloc, idsType.getShape(),
                                                i32, ValueRange{length});
        Value filled =
            linalg::FillOp::create(nb, nloc, local, segment).getResult(0);
        Value updated = tensor::InsertSliceOp::create(
            nb, nloc, filled, ids[0], OpFoldResult(begin), OpFoldResult(length),
            OpFoldResult(nb.getIndexAttr(1)));
        scf::YieldOp::create(nb, nloc, updated);
      });
  return loop.getResult(0);
}

/// A 1-D linalg.generic over `size` elements: `inputs` (1-D, `size` long)
/// in, one tensor per type of `results` out; `body` maps the input elements
/// and the index to the outputs.
ValueRange mapRows(
    OpBuilder &b, Location loc, ValueRange inputs, TypeRange elementTypes,
    Value size,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange, Value)>
        body) {
  SmallVector<Value> inits;
  SmallVector<Type> types;
  for (Type element : elementTypes) {
    auto type = RankedTensorType::get({ShapedType::kDynamic}, element);
    inits.push_back(tensor::EmptyOp::create(b, loc, type.getShape(), element,
                                            ValueRange{size}));
    types.push_back(type);
  }
  MLIRContext *context = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
  SmallVector<AffineMap> maps(inputs.size() + inits.size(), identity);
  auto generic = linalg::GenericOp::create(
      b, loc, types, inputs, inits, maps,
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange arguments) {
        Value index = linalg::IndexOp::create(nb, nloc, 0);
        SmallVector<Value> values =
            body(nb, nloc, arguments.take_front(inputs.size()), index);
        linalg::YieldOp::create(nb, nloc, values);
      });
  return generic.getResults();
}

/// `tensor[index]` for an i32 index that may be out of range only where the
/// caller discards the value: clamped to 0, so the read stays in bounds when
/// the tensor is not empty.
Value extractClamped(OpBuilder &b, Location loc, Value tensor, Value index,
                     ArrayRef<Value> trailing = {}) {
  Value zero32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  Value clamped = arith::MaxSIOp::create(b, loc, index, zero32);
  SmallVector<Value> indices{
      arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped)};
  indices.append(trailing.begin(), trailing.end());
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

Value unitColumn(OpBuilder &b, Location loc, Value rows) {
  auto type = RankedTensorType::get({ShapedType::kDynamic, 1}, b.getF32Type());
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), b.getF32Type(),
                                        ValueRange{rows});
  Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));
  return linalg::FillOp::create(b, loc, one, empty).getResult(0);
}

Value asColumn(OpBuilder &b, Location loc, Value vector, Value rows) {
  auto type = cast<RankedTensorType>(vector.getType());
  auto columnType =
      RankedTensorType::get({ShapedType::kDynamic, 1}, type.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, columnType, vector, ArrayRef<ReassociationIndices>{{0, 1}},
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(1)});
}

/// For each of the `kept` planned rows, the slot j of its assignment and,
/// when `weights` ([T, k] f32) is given, its gate weight: a scatter through
/// the plan's `rows` [T, k]. Returns {choices [kept] i32, weights [kept]}.
std::pair<Value, Value> plannedChoices(OpBuilder &b, Location loc,
                                       Value planRows, Value weights,
                                       Value kept) {
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto vector = [&](Type element) {
    return tensor::EmptyOp::create(b, loc,
                                   ArrayRef<int64_t>{ShapedType::kDynamic},
                                   element, ValueRange{kept})
        .getResult();
  };
  SmallVector<Value> inits{vector(i32)};
  if (weights)
    inits.push_back(vector(f32));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value tokens = tensor::DimOp::create(b, loc, planRows, zero);
  int64_t k = cast<RankedTensorType>(planRows.getType()).getDimSize(1);
  auto overTokens = scf::ForOp::create(
      b, loc, zero, tokens, one, inits,
      [&](OpBuilder &tb, Location tloc, Value t, ValueRange perToken) {
        auto overSlots = scf::ForOp::create(
            tb, tloc, zero, arith::ConstantIndexOp::create(tb, tloc, k), one,
            perToken,
            [&](OpBuilder &jb, Location jloc, Value j, ValueRange perSlot) {
              Value row = tensor::ExtractOp::create(jb, jloc, planRows,
                                                    ValueRange{t, j});
              Value planned = arith::CmpIOp::create(
                  jb, jloc, arith::CmpIPredicate::sge, row,
                  arith::ConstantIntOp::create(jb, jloc, i32, 0));
              auto store = scf::IfOp::create(jb, jloc, perSlot.getTypes(),
                                             planned, /*withElseRegion=*/true);
              OpBuilder then = store.getThenBodyBuilder();
              Value at = arith::IndexCastOp::create(then, jloc,
                                                    then.getIndexType(), row);
              SmallVector<Value> updated{tensor::InsertOp::create(
                  then, jloc,
                  arith::IndexCastOp::create(then, jloc, i32, j).getResult(),
                  perSlot[0], ValueRange{at})};
              if (weights)
                updated.push_back(tensor::InsertOp::create(
                    then, jloc,
                    tensor::ExtractOp::create(then, jloc, weights,
                                              ValueRange{t, j})
                        .getResult(),
                    perSlot[1], ValueRange{at}));
              scf::YieldOp::create(then, jloc, updated);
              OpBuilder otherwise = store.getElseBodyBuilder();
              scf::YieldOp::create(otherwise, jloc, perSlot);
              scf::YieldOp::create(jb, jloc, store.getResults());
            });
        scf::YieldOp::create(tb, tloc, overSlots.getResults());
      });
  return {overTokens.getResult(0), weights ? overTokens.getResult(1) : Value()};
}

/// What the owner runs on the rows it received.
struct OwnerResult {
  /// The experts' outputs in the received order.
  Value outputs;
  /// With a capacity: 1 where the row was kept, 0 where it was dropped.
  Value kept;
};

/// The owner's local experts on `rows`, dispatched by `ids` (local expert
/// per row) under `capacity`, with `priority` (a column, or null) deciding
/// its drops; the outputs are combined with weight 1 back to the order of
/// `rows` (exact), dropped rows as zeros. Returns the combined outputs and
/// the dispatch, whose rows say where each row went.
std::pair<Value, DispatchOp>
runOwnerExperts(OpBuilder &b, Location loc, ExpertsOp experts, Value rows,
                Value ids, Value priority, Value received, int64_t localExperts,
                CapacityAttr capacity) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto rowsType = cast<RankedTensorType>(rows.getType());
  auto dispatch = DispatchOp::create(
      b, loc,
      TypeRange{rowsType, RankedTensorType::get({localExperts + 1}, i32),
                RankedTensorType::get({ShapedType::kDynamic, 1}, i32),
                RankedTensorType::get({ShapedType::kDynamic}, i32),
                RankedTensorType::get({}, i64)},
      rows, asColumn(b, loc, ids, received), priority, /*scale=*/Value(),
      b.getI64IntegerAttr(localExperts), capacity);
  // Made before the experts, so that moe-experts-to-grouped-matmul may
  // move them into the down projection's epilogue.
  Value ones = unitColumn(b, loc, received);
  auto ownerExperts = ExpertsOp::create(
      b, loc, rowsType, dispatch.getDispatched(), dispatch.getOffsets(),
      experts.getGateWeight(), experts.getGateBias(), experts.getUpWeight(),
      experts.getUpBias(), experts.getDownWeight(), experts.getDownBias(),
      experts.getActivationAttr());
  Value outputs = CombineOp::create(b, loc, rowsType, ownerExperts.getOutput(),
                                    dispatch.getRows(), ones, Value())
                      .getOutput();
  return {outputs, dispatch};
}

CapacityAttr droplessCapacity(MLIRContext *context) {
  return CapacityAttr::get(context, CapacityKind::dropless, 0,
                           llvm::APFloat(0.0), DropPolicy::position,
                           DroppedOutput::zero);
}

/// The owner's experts, one assignment per received row, dropless.
OwnerResult runOwnerDropless(OpBuilder &b, Location loc, ExpertsOp experts,
                             Value rows, Value ids, Value received,
                             int64_t localExperts) {
  Value outputs = runOwnerExperts(b, loc, experts, rows, ids,
                                  /*priority=*/Value(), received, localExperts,
                                  droplessCapacity(b.getContext()))
                      .first;
  return {outputs, Value()};
}

/// The owner's experts under the layer's capacity. The received rows are
/// first put in the global priority order (a stable dispatch by slot j:
/// all first choices, rank 0's tokens first, then all second choices...),
/// which is the order in which the single-rank layer's dispatch considers
/// them; the capacity dispatch then keeps, per expert, what the single-rank
/// one keeps (ties of the probability policy included).
OwnerResult runOwnerWithCapacity(OpBuilder &b, Location loc, ExpertsOp experts,
                                 CapacityAttr capacity, Value rows, Value ids,
                                 Value choices, Value weights, Value received,
                                 int64_t k, int64_t localExperts) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type(), f32 = b.getF32Type();
  auto rowsType = cast<RankedTensorType>(rows.getType());
  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, i32);
  auto columnType = RankedTensorType::get({ShapedType::kDynamic, 1}, i32);
  auto bySlot = DispatchOp::create(
      b, loc,
      TypeRange{rowsType, RankedTensorType::get({k + 1}, i32), columnType,
                idsType, RankedTensorType::get({}, i64)},
      rows, asColumn(b, loc, choices, received), Value(), Value(),
      b.getI64IntegerAttr(k), droplessCapacity(b.getContext()));
  // The ids and weights of the reordered rows.
  SmallVector<Type> gathered{i32};
  if (weights)
    gathered.push_back(f32);
  ValueRange reordered = mapRows(
      b, loc, ValueRange{bySlot.getSources()}, gathered, received,
      [&](OpBuilder &nb, Location nloc, ValueRange source, Value) {
        SmallVector<Value> values{extractClamped(nb, nloc, ids, source[0])};
        if (weights)
          values.push_back(extractClamped(nb, nloc, weights, source[0]));
        return values;
      });
  Value priority = weights ? asColumn(b, loc, reordered[1], received) : Value();
  // Dropped rows come out as zeros; then back from the priority order to
  // the received order.
  // (Not a structured binding: the lambda below captures the dispatch.)
  std::pair<Value, DispatchOp> owner =
      runOwnerExperts(b, loc, experts, bySlot.getDispatched(), reordered[0],
                      priority, received, localExperts, capacity);
  Value inPriorityOrder = owner.first;
  DispatchOp dispatch = owner.second;
  Value ones = unitColumn(b, loc, received);
  Value outputs = CombineOp::create(b, loc, rowsType, inPriorityOrder,
                                    bySlot.getRows(), ones, Value())
                      .getOutput();
  // Row i was kept when its reordered row has a place in the dispatch.
  Value position =
      tensor::CollapseShapeOp::create(b, loc, idsType, bySlot.getRows(),
                                      ArrayRef<ReassociationIndices>{{0, 1}});
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value kept = mapRows(b, loc, ValueRange{position}, TypeRange{i32}, received,
                       [&](OpBuilder &nb, Location nloc, ValueRange at, Value) {
                         Value row = extractClamped(
                             nb, nloc, dispatch.getRows(), at[0], {zeroIndex});
                         Value isKept = arith::CmpIOp::create(
                             nb, nloc, arith::CmpIPredicate::sge, row,
                             arith::ConstantIntOp::create(nb, nloc, i32, 0));
                         return SmallVector<Value>{
                             arith::ExtUIOp::create(nb, nloc, i32, isKept)};
                       })[0];
  return {outputs, kept};
}

/// Replaces `experts` by the exchange, the owner's experts and the return.
/// Under a capacity the first dispatch keeps every assignment (the owners
/// decide), and the owners' verdicts come back with the outputs: a dropped
/// assignment's row becomes -1 for the layer's combine, and the dropped
/// count is this rank's assignments that were dropped.
void shardExperts(ExpertsOp experts, DispatchOp dispatch, func::FuncOp func,
                  int64_t ranks) {
  OpBuilder b(experts);
  Location loc = experts.getLoc();
  int64_t numExperts = dispatch.getNumExperts();
  int64_t localExperts = numExperts / ranks;
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto bufferType = cast<RankedTensorType>(dispatch.getDispatched().getType());
  int64_t modelSize = bufferType.getDimSize(1);
  auto rowsType = RankedTensorType::get({ShapedType::kDynamic, modelSize},
                                        bufferType.getElementType());
  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, i32);
  auto countsType = RankedTensorType::get({ranks}, i64);
  auto planRowsType = cast<RankedTensorType>(dispatch.getRows().getType());
  int64_t k = planRowsType.getDimSize(1);

  CapacityAttr capacity = dispatch.getCapacity();
  bool hasCapacity = !capacity.isDropless();
  Value priority = dispatch.getPriority();
  DispatchOp plan = dispatch;
  if (hasCapacity) {
    OpBuilder before(dispatch);
    plan = DispatchOp::create(
        before, dispatch.getLoc(), dispatch->getResultTypes(),
        dispatch.getTokens(), dispatch.getExpertIds(), /*priority=*/Value(),
        dispatch.getScale(), dispatch.getNumExpertsAttr(),
        CapacityAttr::get(b.getContext(), CapacityKind::dropless, 0,
                          llvm::APFloat(0.0), DropPolicy::position,
                          DroppedOutput::zero));
    for (unsigned i = 0; i < 4; ++i)
      dispatch->getResult(i).replaceAllUsesWith(plan->getResult(i));
  }
  Value offsets = plan.getOffsets();

  // 1. What goes where: the kept rows, grouped by owner.
  Value kept = extractIndex(b, loc, offsets, numExperts);
  SmallVector<Value> counts;
  for (int64_t j = 0; j < ranks; ++j) {
    Value begin = tensor::ExtractOp::create(
        b, loc, offsets,
        ValueRange{arith::ConstantIndexOp::create(b, loc, j * localExperts)});
    Value end =
        tensor::ExtractOp::create(b, loc, offsets,
                                  ValueRange{arith::ConstantIndexOp::create(
                                      b, loc, (j + 1) * localExperts)});
    counts.push_back(arith::ExtSIOp::create(
        b, loc, i64, arith::SubIOp::create(b, loc, end, begin)));
  }
  Value sendCounts = tensor::FromElementsOp::create(b, loc, countsType, counts);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value sendRows = tensor::ExtractSliceOp::create(
      b, loc, rowsType, plan.getDispatched(),
      ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{kept, b.getIndexAttr(modelSize)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  Value sendIds =
      localExpertIds(b, loc, offsets, kept, numExperts, localExperts);
  Value sendWeights;
  Value kValue = arith::ConstantIntOp::create(b, loc, i32, k);
  if (hasCapacity) {
    // Each row's id becomes local * k + j: its slot travels with it.
    auto [choices, weights] =
        plannedChoices(b, loc, plan.getRows(), priority, kept);
    sendIds =
        mapRows(b, loc, ValueRange{sendIds, choices}, TypeRange{i32}, kept,
                [&](OpBuilder &nb, Location nloc, ValueRange in, Value) {
                  Value scaled = arith::MulIOp::create(nb, nloc, in[0], kValue);
                  return SmallVector<Value>{
                      arith::AddIOp::create(nb, nloc, scaled, in[1])};
                })[0];
    sendWeights = weights;
  }

  // 2. The forward exchange.
  auto rowsExchange = AllToAllOp::create(
      b, loc, TypeRange{rowsType, countsType}, sendRows, sendCounts);
  auto idsExchange = AllToAllOp::create(b, loc, TypeRange{idsType, countsType},
                                        sendIds, sendCounts);
  Value receivedIds = idsExchange.getReceived();
  Value received = tensor::DimOp::create(b, loc, receivedIds, zero);
  Value receivedRows =
      rowsOrZeros(b, loc, rowsExchange.getReceived(), received);
  Value receivedCounts = idsExchange.getReceivedCounts();

  // 3. The owner's experts.
  OwnerResult owner;
  if (!hasCapacity) {
    owner = runOwnerDropless(b, loc, experts, receivedRows, receivedIds,
                             received, localExperts);
  } else {
    Value receivedWeights;
    if (sendWeights) {
      auto weightsType =
          RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
      auto weightsExchange = AllToAllOp::create(
          b, loc, TypeRange{weightsType, countsType}, sendWeights, sendCounts);
      receivedWeights =
          rowsOrZeros(b, loc, weightsExchange.getReceived(), received);
    }
    ValueRange decoded =
        mapRows(b, loc, ValueRange{receivedIds}, TypeRange{i32, i32}, received,
                [&](OpBuilder &nb, Location nloc, ValueRange in, Value) {
                  return SmallVector<Value>{
                      arith::DivUIOp::create(nb, nloc, in[0], kValue),
                      arith::RemUIOp::create(nb, nloc, in[0], kValue)};
                });
    owner = runOwnerWithCapacity(b, loc, experts, capacity, receivedRows,
                                 decoded[0], decoded[1], receivedWeights,
                                 received, k, localExperts);
  }

  // 4. The outputs go back; the layer's combine reads them by plan row.
  auto returnExchange = AllToAllOp::create(
      b, loc, TypeRange{rowsType, countsType}, owner.outputs, receivedCounts);
  Value outputs = rowsOrZeros(b, loc, returnExchange.getReceived(), kept);
  experts.getOutput().replaceAllUsesWith(outputs);
  // The builder inserts before `experts`: erase it when everything is built.
  if (!hasCapacity) {
    experts.erase();
    return;
  }

  // The owners' verdicts: dropped assignments leave the plan, and count.
  auto verdictExchange = AllToAllOp::create(
      b, loc, TypeRange{idsType, countsType}, owner.kept, receivedCounts);
  Value verdicts = rowsOrZeros(b, loc, verdictExchange.getReceived(), kept);
  Value minusOne = arith::ConstantIntOp::create(b, loc, i32, -1);
  Value zero32 = arith::ConstantIntOp::create(b, loc, i32, 0);
  Value planRows = plan.getRows();
  Value tokens = tensor::DimOp::create(b, loc, planRows, zero);
  Value keptRowsInit = tensor::EmptyOp::create(
      b, loc, planRowsType.getShape(), i32,
      planRowsType.isDynamicDim(0) ? ValueRange{tokens} : ValueRange{});
  MLIRContext *context = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, context);
  Value keptRows =
      linalg::GenericOp::create(
          b, loc, TypeRange{planRowsType}, ValueRange{planRows},
          ValueRange{keptRowsInit}, ArrayRef<AffineMap>{identity, identity},
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                        utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location nloc, ValueRange arguments) {
            Value row = arguments[0];
            Value planned = arith::CmpIOp::create(
                nb, nloc, arith::CmpIPredicate::sge, row, zero32);
            // Read the verdict only for a planned row: an unplanned one may
            // have no verdict to read.
            auto verdict = scf::IfOp::create(nb, nloc, TypeRange{i32}, planned,
                                             /*withElseRegion=*/true);
            OpBuilder then = verdict.getThenBodyBuilder();
            Value at = arith::IndexCastOp::create(then, nloc,
                                                  then.getIndexType(), row);
            Value isKept =
                tensor::ExtractOp::create(then, nloc, verdicts, ValueRange{at});
            Value keptRow = arith::SelectOp::create(
                then, nloc,
                arith::CmpIOp::create(then, nloc, arith::CmpIPredicate::ne,
                                      isKept, zero32),
                row, minusOne);
            scf::YieldOp::create(then, nloc, keptRow);
            OpBuilder otherwise = verdict.getElseBodyBuilder();
            scf::YieldOp::create(otherwise, nloc, row);
            linalg::YieldOp::create(nb, nloc, verdict.getResult(0));
          })
          .getResult(0);
  for (Operation *user : outputs.getUsers())
    if (auto combine = dyn_cast<CombineOp>(user);
        combine && combine.getRows() == planRows)
      combine.getRowsMutable().assign(keptRows);

  // Dropped: the plan's own (expert ids out of range) and the owners'.
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto keptCount = scf::ForOp::create(
      b, loc, zero, kept, one,
      ValueRange{arith::ConstantIntOp::create(b, loc, i64, 0)},
      [&](OpBuilder &nb, Location nloc, Value i, ValueRange total) {
        Value isKept =
            tensor::ExtractOp::create(nb, nloc, verdicts, ValueRange{i});
        Value wide = arith::ExtUIOp::create(nb, nloc, i64, isKept);
        scf::YieldOp::create(
            nb, nloc,
            arith::AddIOp::create(nb, nloc, total[0], wide).getResult());
      });
  Value keptTotal = arith::IndexCastOp::create(b, loc, i64, kept);
  Value ownersDropped =
      arith::SubIOp::create(b, loc, keptTotal, keptCount.getResult(0));
  Value planDropped =
      tensor::ExtractOp::create(b, loc, plan.getDropped(), ValueRange{});
  Value dropped = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, i64),
      ValueRange{arith::AddIOp::create(b, loc, planDropped, ownersDropped)});
  dispatch.getDropped().replaceAllUsesWith(dropped);
  dispatch.erase();
  experts.erase();
}

/// Gives the function's sharded arguments their E/R experts.
void shardArguments(func::FuncOp func, ArrayRef<unsigned> arguments,
                    int64_t ranks) {
  Block &entry = func.getBody().front();
  for (unsigned index : arguments) {
    BlockArgument argument = entry.getArgument(index);
    auto type = cast<RankedTensorType>(argument.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[0] /= ranks;
    argument.setType(type.clone(shape));
  }
  func.setFunctionType(FunctionType::get(
      func.getContext(), entry.getArgumentTypes(), func.getResultTypes()));
}

struct MoEExpertParallelPass
    : public moe::impl::MoEExpertParallelPassBase<MoEExpertParallelPass> {
  using MoEExpertParallelPassBase::MoEExpertParallelPassBase;

  void runOnOperation() override {
    if (ranks < 1) {
      getOperation().emitError()
          << "moe-expert-parallel: ranks must be at least 1, got "
          << int64_t(ranks);
      return signalPassFailure();
    }
    if (ranks == 1)
      return;

    // Everything is checked before anything changes.
    SmallVector<std::pair<ExpertsOp, DispatchOp>> routed;
    bool failedCheck = false;
    getOperation().walk(
        [&](Operation *op) {
          if (auto layer = dyn_cast<LayerOp>(op)) {
            layer.emitOpError()
                << "must be expanded before moe-expert-parallel "
                   "shards it: run moe-expand-layer first";
            failedCheck = true;
          } else if (isa<RouterStatisticsOp>(op)) {
            op->emitOpError()
                << "cannot run under expert parallelism: its counts and losses "
                   "are over every rank's tokens (drop the statistics results)";
            failedCheck = true;
          } else if (auto experts = dyn_cast<ExpertsOp>(op)) {
            auto dispatch = experts.getInput().getDefiningOp<DispatchOp>();
            // Shared experts (not fed by a dispatch) stay where the tokens are.
            if (!dispatch || experts.getOffsets() != dispatch.getOffsets())
              return;
            auto func = experts->getParentOfType<func::FuncOp>();
            if (failed(checkShardable(experts, dispatch, func, ranks)) ||
                failed(checkNotCalled(func, getOperation())))
              failedCheck = true;
            else
              routed.emplace_back(experts, dispatch);
          }
        });
    if (failedCheck)
      return signalPassFailure();

    DenseMap<func::FuncOp, SmallVector<unsigned>> shardedArguments;
    for (auto [experts, dispatch] : routed) {
      auto func = experts->getParentOfType<func::FuncOp>();
      for (OpOperand *operand : expertWeightOperands(experts))
        shardedArguments[func].push_back(
            cast<BlockArgument>(operand->get()).getArgNumber());
      shardExperts(experts, dispatch, func, ranks);
    }
    for (auto &[func, arguments] : shardedArguments) {
      shardArguments(func, arguments, ranks);
      func->setAttr(kExpertParallelAttr,
                    DictionaryAttr::get(
                        &getContext(),
                        {NamedAttribute(
                            StringAttr::get(&getContext(), "ranks"),
                            IntegerAttr::get(
                                IntegerType::get(&getContext(), 64), ranks))}));
    }
  }
};
} // namespace
