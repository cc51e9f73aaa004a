//===- MoEToRuntime.cpp - The convert-moe-to-runtime pass -----------------===//
//
// moe.all_to_all on tensors to the runtime's layer-communicator calls. The
// received rows' count is known only after the count exchange, so the
// lowering is: exchange the counts into a fresh buffer, add them up,
// allocate the received rows, exchange the rows.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Conversion/MoEToRuntime/MoEToRuntime.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
#define GEN_PASS_DEF_CONVERTMOETORUNTIMEPASS
#include "moe-mlir/Conversion/Passes.h.inc"
} // namespace mlir

using namespace mlir;
using namespace mlir::moe;

namespace {
/// The runtime's entry points, for rows in host memory and in GPU memory.
struct RuntimeCalls {
  const char *exchangeCounts;
  const char *allToAll;
};
constexpr RuntimeCalls kHostCalls{"moe_rt_layer_exchange_counts",
                                  "moe_rt_layer_all_to_all"};
constexpr RuntimeCalls kGPUCalls{"moe_rt_layer_gpu_exchange_counts",
                                 "moe_rt_layer_gpu_all_to_all"};

/// The declaration of runtime function `name` taking `arguments` i64s (the
/// C ABI passes a pointer as it passes an int64_t on the 64-bit targets we
/// compile for); fails at `user` when the module has another `name`.
FailureOr<func::FuncOp> declareRuntimeFunction(ModuleOp module, Operation *user,
                                               StringRef name,
                                               unsigned arguments) {
  OpBuilder b(module.getContext());
  SmallVector<Type> types(arguments, b.getI64Type());
  FunctionType type = b.getFunctionType(types, {});
  if (auto existing = module.lookupSymbol<func::FuncOp>(name)) {
    if (existing.getFunctionType() != type)
      return user->emitOpError()
             << "cannot be lowered: the module already has a @" << name
             << " of type " << existing.getFunctionType()
             << ", the runtime's is " << type;
    return existing;
  }
  if (module.lookupSymbol(name))
    return user->emitOpError() << "cannot be lowered: the module already "
                                  "has a symbol @"
                               << name << " that is not a function";
  b.setInsertionPointToEnd(module.getBody());
  auto decl = func::FuncOp::create(b, module.getLoc(), name, type);
  decl.setPrivate();
  return decl;
}

/// The address of `buffer`'s first element as an i64.
Value addressOf(OpBuilder &b, Location loc, Value buffer,
                int64_t elementBytes) {
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.getLayout().isIdentity()) {
    auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
    Value bytes = arith::MulIOp::create(
        b, loc, metadata.getOffset(),
        arith::ConstantIndexOp::create(b, loc, elementBytes));
    base = arith::AddIOp::create(b, loc, base, bytes);
  }
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), base);
}

/// A buffer type for `tensor` whose rows are contiguous, at any offset
/// (what a slice of the leading dimension gives without a copy).
MemRefType contiguousRowsType(RankedTensorType tensor) {
  SmallVector<int64_t> strides(tensor.getRank(), 1);
  for (int64_t i = tensor.getRank() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * tensor.getDimSize(i + 1);
  auto layout = StridedLayoutAttr::get(tensor.getContext(),
                                       ShapedType::kDynamic, strides);
  return MemRefType::get(tensor.getShape(), tensor.getElementType(), layout);
}

LogicalResult lowerAllToAll(AllToAllOp op, func::FuncOp exchangeCounts,
                            func::FuncOp allToAll) {
  auto rowsType = cast<RankedTensorType>(op.getRows().getType());
  auto receivedType = cast<RankedTensorType>(op.getReceived().getType());
  Type element = rowsType.getElementType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0)
    return op.emitOpError()
           << "cannot be lowered: the runtime moves whole bytes, and "
           << element << " is not a type of whole bytes";
  int64_t elementBytes = element.getIntOrFloatBitWidth() / 8;
  int64_t rowElements = 1;
  for (int64_t size : rowsType.getShape().drop_front())
    rowElements *= size;

  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i64 = b.getI64Type();
  auto constI64 = [&](int64_t value) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, value);
  };
  int64_t ranks = op.getNumRanks();
  Value ranksValue = constI64(ranks);

  // Counts.
  auto countsType = MemRefType::get({ranks}, i64);
  Value sendCounts = bufferization::ToBufferOp::create(
      b, loc, countsType, op.getSendCounts(), /*read_only=*/true);
  Value receivedCounts = memref::AllocOp::create(b, loc, countsType);
  func::CallOp::create(b, loc, exchangeCounts,
                       ValueRange{ranksValue, addressOf(b, loc, sendCounts, 8),
                                  addressOf(b, loc, receivedCounts, 8)});

  // The received rows: as many as the counts add up to.
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto sum = scf::ForOp::create(
      b, loc, zero, arith::ConstantIndexOp::create(b, loc, ranks), one,
      ValueRange{constI64(0)},
      [&](OpBuilder &nb, Location nloc, Value j, ValueRange total) {
        Value count = memref::LoadOp::create(nb, nloc, receivedCounts, j);
        scf::YieldOp::create(
            nb, nloc,
            arith::AddIOp::create(nb, nloc, total[0], count).getResult());
      });
  Value receivedRows = sum.getResult(0);
  SmallVector<Value> dynamicSizes;
  if (receivedType.isDynamicDim(0)) {
    dynamicSizes.push_back(
        arith::IndexCastOp::create(b, loc, b.getIndexType(), receivedRows));
  } else {
    // A static result holds that many rows; the runtime checks that what
    // arrives fits.
    receivedRows = constI64(receivedType.getDimSize(0));
  }
  auto receivedBufferType =
      MemRefType::get(receivedType.getShape(), receivedType.getElementType());
  Value received =
      memref::AllocOp::create(b, loc, receivedBufferType, dynamicSizes);

  // Rows.
  Value send = bufferization::ToBufferOp::create(
      b, loc, contiguousRowsType(rowsType), op.getRows(), /*read_only=*/true);
  Value sendRows = arith::IndexCastOp::create(
      b, loc, i64, tensor::DimOp::create(b, loc, op.getRows(), 0));
  func::CallOp::create(
      b, loc, allToAll,
      ValueRange{ranksValue, addressOf(b, loc, send, elementBytes), sendRows,
                 addressOf(b, loc, sendCounts, 8),
                 addressOf(b, loc, received, elementBytes), receivedRows,
                 addressOf(b, loc, receivedCounts, 8),
                 constI64(rowElements * elementBytes)});

  Value receivedTensor = bufferization::ToTensorOp::create(
      b, loc, receivedType, received, /*restrict=*/true, /*writable=*/true);
  Value countsTensor = bufferization::ToTensorOp::create(
      b, loc, op.getReceivedCounts().getType(), receivedCounts,
      /*restrict=*/true, /*writable=*/true);
  op.getReceived().replaceAllUsesWith(receivedTensor);
  op.getReceivedCounts().replaceAllUsesWith(countsTensor);
  op.erase();
  return success();
}

struct ConvertMoEToRuntimePass
    : public impl::ConvertMoEToRuntimePassBase<ConvertMoEToRuntimePass> {
  using ConvertMoEToRuntimePassBase::ConvertMoEToRuntimePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<AllToAllOp> exchanges;
    module.walk([&](AllToAllOp op) { exchanges.push_back(op); });
    if (exchanges.empty())
      return;
    const RuntimeCalls &calls = gpuRows ? kGPUCalls : kHostCalls;
    FailureOr<func::FuncOp> exchangeCounts = declareRuntimeFunction(
        module, exchanges.front(), calls.exchangeCounts, 3);
    FailureOr<func::FuncOp> allToAll =
        declareRuntimeFunction(module, exchanges.front(), calls.allToAll, 8);
    if (failed(exchangeCounts) || failed(allToAll))
      return signalPassFailure();
    for (AllToAllOp op : exchanges)
      if (failed(lowerAllToAll(op, *exchangeCounts, *allToAll)))
        return signalPassFailure();
  }
};
} // namespace
