//===- CPUMatmulKernels.cpp - Vector kernels for [out, in] matmuls --------===//
//
// C[m, n] += A[m, k] * B[n, k] with A and B both contiguous along k: the
// dot-product form. Each tile of R rows (4, or 1 for the tail) by 4 columns
// keeps R*4 accumulators of W lanes along k:
//
//   for k in steps of W:  acc[r][c] = fma(A[i+r, k:k+W], B[j+c, k:k+W], acc)
//   C[i+r, j+c] += reduce_add(acc[r][c])
//
// The per-element operation sequence is the same for R = 4 and R = 1, so an
// output row does not depend on where in the batch its token sits.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOECPUMATMULKERNELSPASS
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

constexpr int64_t kTileRows = 4, kTileCols = 4;

/// A rank-2 f32 memref whose innermost dimension is contiguous.
bool isRowContiguousF32(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  if (!type || type.getRank() != 2 || !type.getElementType().isF32())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return strides[1] == 1;
}

/// The matmuls this pass handles: f32 memrefs, B transposed, k a multiple
/// of the vector width, n a multiple of 4, rows contiguous.
bool isSupported(linalg::MatmulOp op, int64_t width) {
  if (!op.hasPureBufferSemantics() ||
      !linalg::MatmulTransposeBOp::classof(op.getOperation()))
    return false;
  Value a = op.getDpsInputOperand(0)->get();
  Value b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  if (!isRowContiguousF32(a) || !isRowContiguousF32(b) ||
      !isRowContiguousF32(c))
    return false;
  auto bType = cast<MemRefType>(b.getType());
  int64_t n = bType.getDimSize(0), k = bType.getDimSize(1);
  return !ShapedType::isDynamic(n) && !ShapedType::isDynamic(k) &&
         n % kTileCols == 0 && k % width == 0 && k > 0;
}

/// Emits the loops over column tiles and k for the rows [row, row + rows).
void emitRowTile(ImplicitLocOpBuilder &b, Value aMat, Value bMat, Value cMat,
                 Value row, int64_t rows, int64_t n, int64_t k, int64_t width) {
  auto vecType = VectorType::get({width}, b.getF32Type());
  Value zeroVec = arith::ConstantOp::create(
      b, vecType, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0.0f)));
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  auto rowIndex = [&](ImplicitLocOpBuilder &nb, int64_t r) -> Value {
    return r == 0 ? row
                  : arith::AddIOp::create(
                        nb, row, arith::ConstantIndexOp::create(nb, r));
  };

  scf::ForOp::create(
      b, c0, arith::ConstantIndexOp::create(b, n),
      arith::ConstantIndexOp::create(b, kTileCols), ValueRange{},
      [&](OpBuilder &colBuilder, Location loc, Value col, ValueRange) {
        ImplicitLocOpBuilder cb(loc, colBuilder);
        SmallVector<Value> rowsIdx, colsIdx;
        for (int64_t r = 0; r < rows; ++r)
          rowsIdx.push_back(rowIndex(cb, r));
        for (int64_t c = 0; c < kTileCols; ++c)
          colsIdx.push_back(
              c == 0 ? col
                     : arith::AddIOp::create(
                           cb, col, arith::ConstantIndexOp::create(cb, c)));

        SmallVector<Value> init(rows * kTileCols, zeroVec);
        auto kLoop = scf::ForOp::create(
            cb, arith::ConstantIndexOp::create(cb, 0),
            arith::ConstantIndexOp::create(cb, k),
            arith::ConstantIndexOp::create(cb, width), init,
            [&](OpBuilder &kBuilder, Location kloc, Value kk, ValueRange acc) {
              ImplicitLocOpBuilder kb(kloc, kBuilder);
              SmallVector<Value> aRows, bRows, next;
              for (int64_t r = 0; r < rows; ++r)
                aRows.push_back(vector::LoadOp::create(
                    kb, vecType, aMat, ValueRange{rowsIdx[r], kk}));
              for (int64_t c = 0; c < kTileCols; ++c)
                bRows.push_back(vector::LoadOp::create(
                    kb, vecType, bMat, ValueRange{colsIdx[c], kk}));
              for (int64_t r = 0; r < rows; ++r)
                for (int64_t c = 0; c < kTileCols; ++c)
                  next.push_back(vector::FMAOp::create(kb, aRows[r], bRows[c],
                                                       acc[r * kTileCols + c]));
              scf::YieldOp::create(kb, next);
            });

        // A fixed reduction tree per accumulator: deterministic.
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < kTileCols; ++c) {
            Value sum =
                vector::ReductionOp::create(cb, vector::CombiningKind::ADD,
                                            kLoop.getResult(r * kTileCols + c),
                                            arith::FastMathFlags::reassoc);
            ValueRange at{rowsIdx[r], colsIdx[c]};
            Value old = memref::LoadOp::create(cb, cMat, at);
            memref::StoreOp::create(cb, arith::AddFOp::create(cb, old, sum),
                                    cMat, at);
          }
        scf::YieldOp::create(cb);
      });
}

void rewriteMatmul(linalg::MatmulOp op, int64_t width) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Value aMat = op.getDpsInputOperand(0)->get();
  Value bMat = op.getDpsInputOperand(1)->get();
  Value cMat = op.getDpsInitOperand(0)->get();
  auto bType = cast<MemRefType>(bMat.getType());
  int64_t n = bType.getDimSize(0), k = bType.getDimSize(1);

  Value m = memref::DimOp::create(b, aMat, 0);
  Value tile = arith::ConstantIndexOp::create(b, kTileRows);
  Value full = arith::SubIOp::create(b, m, arith::RemUIOp::create(b, m, tile));
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value c1 = arith::ConstantIndexOp::create(b, 1);
  scf::ForOp::create(
      b, c0, full, tile, ValueRange{},
      [&](OpBuilder &nested, Location loc, Value row, ValueRange) {
        ImplicitLocOpBuilder nb(loc, nested);
        emitRowTile(nb, aMat, bMat, cMat, row, kTileRows, n, k, width);
        scf::YieldOp::create(nb);
      });
  scf::ForOp::create(
      b, full, m, c1, ValueRange{},
      [&](OpBuilder &nested, Location loc, Value row, ValueRange) {
        ImplicitLocOpBuilder nb(loc, nested);
        emitRowTile(nb, aMat, bMat, cMat, row, 1, n, k, width);
        scf::YieldOp::create(nb);
      });
  op.erase();
}

struct MoECPUMatmulKernelsPass
    : public moe::impl::MoECPUMatmulKernelsPassBase<MoECPUMatmulKernelsPass> {
  using MoECPUMatmulKernelsPassBase::MoECPUMatmulKernelsPassBase;

  void runOnOperation() override {
    if (vectorWidth <= 0) {
      getOperation()->emitError()
          << "moe-cpu-matmul-kernels: vector-width must be positive, got "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation()->walk([&](linalg::MatmulOp op) {
      if (isSupported(op, vectorWidth))
        matmuls.push_back(op);
    });
    for (linalg::MatmulOp op : matmuls)
      rewriteMatmul(op, vectorWidth);
  }
};
} // namespace
