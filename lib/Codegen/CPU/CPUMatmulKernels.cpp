//===- CPUMatmulKernels.cpp - Packed vector kernels for [out, in] matmuls -===//
//
// C[m, n] += A[m, k] * B[n, k], B a static weight in [out, in] layout, M
// dynamic. The generated code, for nr = tile-vectors * vector-width:
//
//   if m > 0:                        (an expert without rows reads nothing)
//   parallel for each block of n-block columns:          (threads)
//     buf = alloc [panels][k-block][nr]
//     for each block of k-block values of k:
//       pack B[block columns, k block] into buf           (16x16 transposes)
//       for each tile of mr rows (then the mr-1 or fewer rows left):
//         for each panel of nr columns:
//           acc[mr][tile-vectors] = C tile
//           for k in block: acc[r][v] = fma(bcast(A[m + r, k]), buf[p, k, v])
//           C tile = acc
//
// Each C element is one chain of FMAs over k in increasing order wherever it
// is computed: results do not depend on M, on the row's position or on the
// thread count. bf16 with AVX512-BF16 uses vdpbf16ps on interleaved k pairs
// instead (one chain of pair dot products).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOECPUMATMULKERNELSPASS
#include "moe-mlir/Codegen/CPU/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

/// A rank-2 memref whose innermost dimension is contiguous.
bool isRowContiguous(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  if (!type || type.getRank() != 2)
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return strides[1] == 1;
}

/// AMX tiles: 16 rows by 64 bytes, so 32 bf16 values of k (16 pairs) per
/// A tile and 16 f32 columns per C tile; a register block is 2 x 2 tiles.
constexpr int64_t kAMXTileRows = 16, kAMXTileK = 32, kAMXBlockRows = 32;

/// The shape of the code generated for one matmul.
struct Kernel {
  Type element;        // A and B: f32, bf16 or f16
  int64_t n, k;        // B is [n, k]
  int64_t width;       // f32 lanes per vector
  int64_t vectors;     // vectors per register-tile row
  int64_t nr;          // panel width: vectors * width
  int64_t mr;          // rows per register tile
  int64_t kc;          // k per cache block
  int64_t panels;      // n / nr
  int64_t blockPanels; // panels per parallel work item
  int64_t transpose;   // t of the t x t packing transposes
  bool dot;            // AVX512-BF16 pair dot products
  bool amx;            // AMX tiles (bf16; B packed in pairs as for dot)
  bool parallel;
};

/// Plans the kernel of a matmul, or fails when the pass leaves it alone.
FailureOr<Kernel> plan(linalg::MatmulOp op, const Kernel &options) {
  if (!op.hasPureBufferSemantics() ||
      !linalg::MatmulTransposeBOp::classof(op.getOperation()))
    return failure();
  Value a = op.getDpsInputOperand(0)->get();
  Value b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  if (!isRowContiguous(a) || !isRowContiguous(b) || !isRowContiguous(c))
    return failure();
  auto aType = cast<MemRefType>(a.getType());
  auto bType = cast<MemRefType>(b.getType());
  auto cType = cast<MemRefType>(c.getType());
  Type element = bType.getElementType();
  if (!cType.getElementType().isF32() || aType.getElementType() != element ||
      !(element.isF32() || element.isBF16() || element.isF16()))
    return failure();
  if (!bType.hasStaticShape() || bType.getDimSize(1) == 0 ||
      bType.getDimSize(0) == 0)
    return failure();

  Kernel kernel = options;
  kernel.element = element;
  kernel.n = bType.getDimSize(0);
  kernel.k = bType.getDimSize(1);
  // Narrower vectors for an n that 16 lanes do not divide (a router of 8
  // experts); then the widest panel that divides n.
  if (kernel.n % kernel.width != 0) {
    if (kernel.width > 8 && kernel.n % 8 == 0)
      kernel.width = 8;
    else
      return failure();
  }
  kernel.dot = options.dot && element.isBF16() && kernel.width == 16 &&
               kernel.k % 2 == 0;
  // AMX: tiles of 16 columns by 32 k values; B packed in pairs as for the
  // dot products (the tiles' VNNI layout), k blocks that divide k.
  kernel.amx = options.amx && element.isBF16() && kernel.width == 16 &&
               kernel.k % kAMXTileK == 0 && kernel.n % 32 == 0;
  if (kernel.amx) {
    kernel.dot = true;
    kernel.vectors = kernel.n % 64 == 0 ? 4 : 2;
    kernel.nr = kernel.vectors * kernel.width;
    kernel.transpose = 16;
    kernel.panels = kernel.n / kernel.nr;
    kernel.blockPanels =
        std::clamp<int64_t>(options.blockPanels / kernel.nr, 1, kernel.panels);
    kernel.kc = std::clamp<int64_t>(options.kc / kAMXTileK * kAMXTileK,
                                    kAMXTileK, kernel.k);
    while (kernel.k % kernel.kc != 0)
      kernel.kc -= kAMXTileK;
    return kernel;
  }
  kernel.vectors = std::max<int64_t>(1, options.vectors);
  while (kernel.n % (kernel.vectors * kernel.width) != 0)
    --kernel.vectors;
  kernel.nr = kernel.vectors * kernel.width;
  kernel.transpose = kernel.nr % 16 == 0 ? 16 : 8;
  kernel.panels = kernel.n / kernel.nr;
  kernel.blockPanels =
      std::clamp<int64_t>(options.blockPanels / kernel.nr, 1, kernel.panels);
  // The k block: a multiple of the unit the packing transposes take (32 k
  // values as 16 pairs with dot products), at most k.
  int64_t unit = kernel.dot ? 2 * kernel.transpose : kernel.transpose;
  kernel.kc = std::max<int64_t>(unit, options.kc / unit * unit);
  if (kernel.kc >= kernel.k)
    kernel.kc = kernel.k;
  return kernel;
}

/// Emission helpers over an ImplicitLocOpBuilder.
struct Emitter {
  ImplicitLocOpBuilder &b;
  const Kernel &kernel;

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, value);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, index(y)); }
  Value mul(Value x, int64_t y) {
    return y == 1 ? x : Value(arith::MulIOp::create(b, x, index(y)));
  }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value floorTo(Value x, int64_t multiple) {
    return sub(x, arith::RemUIOp::create(b, x, index(multiple)));
  }
  Value toF32(Value value) {
    Type f32 = b.getF32Type();
    if (auto vec = dyn_cast<VectorType>(value.getType()))
      f32 = VectorType::get(vec.getShape(), f32);
    if (getElementTypeOrSelf(value.getType()).isF32())
      return value;
    return arith::ExtFOp::create(b, f32, value);
  }

  /// for (iv = lb; iv < ub; iv += step) body(iv): an scf.for without
  /// results.
  void loop(Value lb, Value ub, int64_t step,
            function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
    scf::ForOp::create(
        b, lb, ub, index(step), ValueRange{},
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange) {
          ImplicitLocOpBuilder nb(loc, nested);
          body(nb, iv);
          scf::YieldOp::create(nb);
        });
  }
};

/// Transposes the t x t matrix whose rows are `rows` (t vectors of t lanes,
/// t a power of two) with t * log2(t) two-source shuffles: at each step the
/// off-diagonal blocks of size s swap (s = t/2, ..., 1), the way AVX-512
/// code transposes 16 x 16 tiles (vpermt2ps). Plain vector.shuffle ops, which
/// the canonicalizer leaves alone.
SmallVector<Value> transposeRows(ImplicitLocOpBuilder &b,
                                 SmallVector<Value> rows) {
  int64_t t = rows.size();
  for (int64_t s = t / 2; s >= 1; s /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t j = 0; j < t; ++j) {
      bool first = (j & s) == 0;
      low.push_back(first ? j : t + j - s);
      high.push_back(first ? j + s : t + j);
    }
    SmallVector<Value> next(rows);
    for (int64_t i = 0; i < t; ++i) {
      if (i & s)
        continue;
      next[i] = vector::ShuffleOp::create(b, rows[i], rows[i + s], low);
      next[i + s] = vector::ShuffleOp::create(b, rows[i], rows[i + s], high);
    }
    rows = std::move(next);
  }
  return rows;
}

/// Packs B[col0 + p * nr + c, kb + kk] for the block's panels into `buf`:
/// buf[p][kk][c] (f32, widened), or with dot products
/// buf[p][kk / 2][2 * c + kk % 2] (bf16 pairs).
void emitPack(ImplicitLocOpBuilder &b, const Kernel &kernel, Value bMat,
              Value buf, Value firstPanel, Value numPanels, Value kb,
              Value kCount) {
  Emitter e{b, kernel};
  int64_t t = kernel.transpose;
  e.loop(e.index(0), numPanels, 1, [&](ImplicitLocOpBuilder &pb, Value p) {
    Emitter pe{pb, kernel};
    Value row0 = pe.mul(pe.add(firstPanel, p), kernel.nr);
    if (!kernel.dot) {
      // t x t transposes of t columns by t values of k, then the k tail.
      auto rowType = VectorType::get({t}, kernel.element);
      Value kFull = pe.floorTo(kCount, t);
      pe.loop(pe.index(0), kFull, t, [&](ImplicitLocOpBuilder &kb2, Value kk) {
        Emitter ke{kb2, kernel};
        Value kAt = ke.add(kb, kk);
        // One t-column slice of the panel per iteration (a loop, not
        // unrolled: the JIT compiles every matmul's copy).
        ke.loop(ke.index(0), ke.index(kernel.nr), t,
                [&](ImplicitLocOpBuilder &sb, Value c0) {
                  Emitter se{sb, kernel};
                  Value first = se.add(row0, c0);
                  SmallVector<Value> rows;
                  for (int64_t i = 0; i < t; ++i)
                    rows.push_back(se.toF32(vector::LoadOp::create(
                        sb, rowType, bMat, ValueRange{se.add(first, i), kAt})));
                  SmallVector<Value> columns = transposeRows(sb, rows);
                  for (int64_t j = 0; j < t; ++j)
                    vector::StoreOp::create(sb, columns[j], buf,
                                            ValueRange{p, se.add(kk, j), c0});
                });
      });
      pe.loop(kFull, kCount, 1, [&](ImplicitLocOpBuilder &kb2, Value kk) {
        Emitter ke{kb2, kernel};
        Value kAt = ke.add(kb, kk);
        ke.loop(ke.index(0), ke.index(kernel.nr), 1,
                [&](ImplicitLocOpBuilder &cb2, Value c) {
                  Emitter ce{cb2, kernel};
                  Value v = memref::LoadOp::create(
                      cb2, bMat, ValueRange{ce.add(row0, c), kAt});
                  memref::StoreOp::create(cb2, ce.toF32(v), buf,
                                          ValueRange{p, kk, c});
                });
      });
      return;
    }
    // Dot products: a pair of bf16 is one 32-bit lane; 16 x 16 transposes
    // of 16 columns by 16 pairs, then the pair tail.
    auto pairsType = VectorType::get({32}, pb.getBF16Type());
    auto lanesType = VectorType::get({16}, pb.getI32Type());
    Value pairCount = arith::DivUIOp::create(pb, kCount, pe.index(2));
    Value pairsFull = pe.floorTo(pairCount, 16);
    pe.loop(
        pe.index(0), pairsFull, 16, [&](ImplicitLocOpBuilder &kb2, Value kp) {
          Emitter ke{kb2, kernel};
          Value kAt = ke.add(kb, ke.mul(kp, 2));
          ke.loop(ke.index(0), ke.index(kernel.nr), 16,
                  [&](ImplicitLocOpBuilder &sb, Value c0) {
                    Emitter se{sb, kernel};
                    Value first = se.add(row0, c0);
                    SmallVector<Value> rows;
                    for (int64_t i = 0; i < 16; ++i)
                      rows.push_back(vector::BitCastOp::create(
                          sb, lanesType,
                          vector::LoadOp::create(
                              sb, pairsType, bMat,
                              ValueRange{se.add(first, i), kAt})));
                    SmallVector<Value> columns = transposeRows(sb, rows);
                    for (int64_t j = 0; j < 16; ++j)
                      vector::StoreOp::create(
                          sb,
                          vector::BitCastOp::create(sb, pairsType, columns[j]),
                          buf, ValueRange{p, se.add(kp, j), se.mul(c0, 2)});
                  });
        });
    pe.loop(pairsFull, pairCount, 1, [&](ImplicitLocOpBuilder &kb2, Value kp) {
      Emitter ke{kb2, kernel};
      Value kAt = ke.add(kb, ke.mul(kp, 2));
      ke.loop(ke.index(0), ke.index(kernel.nr), 1,
              [&](ImplicitLocOpBuilder &cb2, Value c) {
                Emitter ce{cb2, kernel};
                Value row = ce.add(row0, c);
                for (int64_t half = 0; half < 2; ++half) {
                  Value v = memref::LoadOp::create(
                      cb2, bMat, ValueRange{row, ce.add(kAt, half)});
                  memref::StoreOp::create(
                      cb2, v, buf,
                      ValueRange{p, kp, ce.add(ce.mul(c, 2), half)});
                }
              });
    });
  });
}

/// The register tile: `rows` rows of A from `row`, panel `p` of the block
/// (columns col0 ...), over the k block [kb, kb + kCount).
void emitMicroKernel(ImplicitLocOpBuilder &b, const Kernel &kernel, Value aMat,
                     Value cMat, Value buf, Value row, int64_t rows, Value p,
                     Value col0, Value kb, Value kCount) {
  Emitter e{b, kernel};
  int64_t w = kernel.width, vectors = kernel.vectors;
  auto accType = VectorType::get({w}, b.getF32Type());
  SmallVector<Value> rowIdx, colIdx;
  for (int64_t r = 0; r < rows; ++r)
    rowIdx.push_back(e.add(row, r));
  for (int64_t v = 0; v < vectors; ++v)
    colIdx.push_back(e.add(col0, v * w));
  SmallVector<Value> init;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < vectors; ++v)
      init.push_back(vector::LoadOp::create(b, accType, cMat,
                                            ValueRange{rowIdx[r], colIdx[v]}));

  Value steps = kernel.dot
                    ? Value(arith::DivUIOp::create(b, kCount, e.index(2)))
                    : kCount;
  auto kLoop = scf::ForOp::create(
      b, e.index(0), steps, e.index(1), init,
      [&](OpBuilder &nested, Location loc, Value kk, ValueRange acc) {
        ImplicitLocOpBuilder kb2(loc, nested);
        Emitter ke{kb2, kernel};
        SmallVector<Value> next(acc.begin(), acc.end());
        if (!kernel.dot) {
          SmallVector<Value> bVecs;
          for (int64_t v = 0; v < vectors; ++v)
            bVecs.push_back(vector::LoadOp::create(
                kb2, accType, buf, ValueRange{p, kk, ke.index(v * w)}));
          Value kAt = ke.add(kb, kk);
          for (int64_t r = 0; r < rows; ++r) {
            Value a = ke.toF32(
                memref::LoadOp::create(kb2, aMat, ValueRange{rowIdx[r], kAt}));
            Value splat = vector::BroadcastOp::create(kb2, accType, a);
            for (int64_t v = 0; v < vectors; ++v)
              next[r * vectors + v] = vector::FMAOp::create(
                  kb2, splat, bVecs[v], acc[r * vectors + v]);
          }
        } else {
          auto pairsType = VectorType::get({2 * w}, kb2.getBF16Type());
          auto pairType = VectorType::get({2}, kb2.getBF16Type());
          auto oneLane = VectorType::get({1}, kb2.getI32Type());
          auto lanesType = VectorType::get({w}, kb2.getI32Type());
          SmallVector<Value> bVecs;
          for (int64_t v = 0; v < vectors; ++v)
            bVecs.push_back(vector::LoadOp::create(
                kb2, pairsType, buf, ValueRange{p, kk, ke.index(v * 2 * w)}));
          Value kAt = ke.add(kb, ke.mul(kk, 2));
          for (int64_t r = 0; r < rows; ++r) {
            Value pair = vector::LoadOp::create(kb2, pairType, aMat,
                                                ValueRange{rowIdx[r], kAt});
            Value lane = vector::ExtractOp::create(
                kb2, vector::BitCastOp::create(kb2, oneLane, pair),
                ArrayRef<int64_t>{0});
            Value splat = vector::BitCastOp::create(
                kb2, pairsType,
                vector::BroadcastOp::create(kb2, lanesType, lane));
            for (int64_t v = 0; v < vectors; ++v)
              next[r * vectors + v] = x86vector::DotBF16Op::create(
                  kb2, accType, acc[r * vectors + v], splat, bVecs[v]);
          }
        }
        scf::YieldOp::create(kb2, next);
      });
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < vectors; ++v)
      vector::StoreOp::create(b, kLoop.getResult(r * vectors + v), cMat,
                              ValueRange{rowIdx[r], colIdx[v]});
}

/// AMX: the 32 rows of A from (`aRow`, k `aK`) times panel `p` of the packed
/// block, into C from (`cRow`, `cCol`), over one k block. Per 32 columns, 2 x
/// 2 C tiles are loaded, take one tile product per 32 values of k (unrolled:
/// tiles live in registers only within straight-line code) and are stored.
/// Each C element is one chain of pair dot products over k in increasing
/// order, whichever rows surround it.
void emitAMXBlock(ImplicitLocOpBuilder &b, const Kernel &kernel, Value aMat,
                  Value aRow, Value aK, Value cMat, Value cRow, Value cCol,
                  Value buf, Value p) {
  Emitter e{b, kernel};
  auto inTile = amx::TileType::get({kAMXTileRows, kAMXTileK}, b.getBF16Type());
  auto accTile = amx::TileType::get({kAMXTileRows, 16}, b.getF32Type());
  constexpr int64_t kTiles = kAMXBlockRows / kAMXTileRows; // 2 x 2
  for (int64_t g = 0; g < kernel.nr / 32; ++g) {
    Value acc[kTiles][kTiles];
    for (int64_t i = 0; i < kTiles; ++i)
      for (int64_t j = 0; j < kTiles; ++j)
        acc[i][j] =
            amx::TileLoadOp::create(b, accTile, cMat,
                                    ValueRange{e.add(cRow, i * kAMXTileRows),
                                               e.add(cCol, 32 * g + 16 * j)});
    for (int64_t step = 0; step < kernel.kc / kAMXTileK; ++step) {
      Value a[kTiles], bTile[kTiles];
      for (int64_t i = 0; i < kTiles; ++i)
        a[i] = amx::TileLoadOp::create(b, inTile, aMat,
                                       ValueRange{e.add(aRow, i * kAMXTileRows),
                                                  e.add(aK, step * kAMXTileK)});
      for (int64_t j = 0; j < kTiles; ++j)
        bTile[j] =
            amx::TileLoadOp::create(b, inTile, buf,
                                    ValueRange{p, e.index(step * kAMXTileK / 2),
                                               e.index(2 * (32 * g + 16 * j))});
      for (int64_t i = 0; i < kTiles; ++i)
        for (int64_t j = 0; j < kTiles; ++j)
          acc[i][j] =
              amx::TileMulFOp::create(b, accTile, a[i], bTile[j], acc[i][j]);
    }
    for (int64_t i = 0; i < kTiles; ++i)
      for (int64_t j = 0; j < kTiles; ++j)
        amx::TileStoreOp::create(b, cMat,
                                 ValueRange{e.add(cRow, i * kAMXTileRows),
                                            e.add(cCol, 32 * g + 16 * j)},
                                 acc[i][j]);
  }
}

/// AMX rows of one k block: blocks of 32 rows in place; the rows left (fewer
/// than 32) through zero-padded copies of their A and C rows, so that they
/// take the same tile products as every other row.
void emitAMXRows(ImplicitLocOpBuilder &b, const Kernel &kernel, Value aMat,
                 Value cMat, Value buf, Value aPad, Value cPad, Value m,
                 Value firstPanel, Value numPanels, Value k0) {
  Emitter e{b, kernel};
  Value full = e.floorTo(m, kAMXBlockRows);
  e.loop(e.index(0), full, kAMXBlockRows,
         [&](ImplicitLocOpBuilder &rb, Value row) {
           Emitter re{rb, kernel};
           re.loop(re.index(0), numPanels, 1,
                   [&](ImplicitLocOpBuilder &pb, Value p) {
                     Emitter pe{pb, kernel};
                     Value col0 = pe.mul(pe.add(firstPanel, p), kernel.nr);
                     emitAMXBlock(pb, kernel, aMat, row, k0, cMat, row, col0,
                                  buf, p);
                   });
         });
  Value left = e.sub(m, full);
  Value hasLeft =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ne, left, e.index(0));
  scf::IfOp::create(b, hasLeft, [&](OpBuilder &nested, Location loc) {
    ImplicitLocOpBuilder ib(loc, nested);
    Emitter ie{ib, kernel};
    auto aVec = VectorType::get({kAMXTileK}, ib.getBF16Type());
    auto cVec = VectorType::get({16}, ib.getF32Type());
    // The rows' k block of A, once for every panel.
    ie.loop(ie.index(0), left, 1, [&](ImplicitLocOpBuilder &lb, Value r) {
      Emitter le{lb, kernel};
      le.loop(le.index(0), le.index(kernel.kc), kAMXTileK,
              [&](ImplicitLocOpBuilder &kb, Value kk) {
                Emitter ke{kb, kernel};
                Value v = vector::LoadOp::create(
                    kb, aVec, aMat,
                    ValueRange{ke.add(full, r), ke.add(k0, kk)});
                vector::StoreOp::create(kb, v, aPad, ValueRange{r, kk});
              });
    });
    ie.loop(ie.index(0), numPanels, 1, [&](ImplicitLocOpBuilder &pb, Value p) {
      Emitter pe{pb, kernel};
      Value col0 = pe.mul(pe.add(firstPanel, p), kernel.nr);
      // C rows into the padded copy (in) or back (out).
      auto copyC = [&](bool in) {
        pe.loop(pe.index(0), left, 1, [&](ImplicitLocOpBuilder &lb, Value r) {
          Emitter le{lb, kernel};
          le.loop(le.index(0), le.index(kernel.nr), 16,
                  [&](ImplicitLocOpBuilder &cb, Value c) {
                    Emitter ce{cb, kernel};
                    SmallVector<Value> at = {ce.add(full, r), ce.add(col0, c)};
                    SmallVector<Value> padAt = {r, c};
                    Value v = vector::LoadOp::create(cb, cVec, in ? cMat : cPad,
                                                     in ? at : padAt);
                    vector::StoreOp::create(cb, v, in ? cPad : cMat,
                                            in ? padAt : at);
                  });
        });
      };
      copyC(/*in=*/true);
      emitAMXBlock(pb, kernel, aPad, pe.index(0), pe.index(0), cPad,
                   pe.index(0), pe.index(0), buf, p);
      copyC(/*in=*/false);
    });
    scf::YieldOp::create(ib);
  });
}

/// The packed panels of an [n, k] matrix: [panels][k][nr] (f32), or
/// [panels][k / 2][2 * nr] (bf16 pairs).
MemRefType packedPanelsType(const Kernel &kernel) {
  MLIRContext *context = kernel.element.getContext();
  if (kernel.dot)
    return MemRefType::get({kernel.panels, kernel.k / 2, 2 * kernel.nr},
                           BFloat16Type::get(context));
  return MemRefType::get({kernel.panels, kernel.k, kernel.nr},
                         Float32Type::get(context));
}

/// Rewrites `op` into the kernel. With `packedB` (B already in the layout of
/// packedPanelsType, possibly strided) the kernel reads its panels in place
/// instead of packing B's blocks on every call.
void rewriteMatmul(linalg::MatmulOp op, const Kernel &kernel,
                   Value packedB = {}) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Emitter e{b, kernel};
  Value aMat = op.getDpsInputOperand(0)->get();
  Value bMat = op.getDpsInputOperand(1)->get();
  Value cMat = op.getDpsInitOperand(0)->get();
  Value m = memref::DimOp::create(b, aMat, 0);
  int64_t numBlocks =
      (kernel.panels + kernel.blockPanels - 1) / kernel.blockPanels;

  MemRefType bufType =
      kernel.dot
          ? MemRefType::get({kernel.blockPanels, kernel.kc / 2, 2 * kernel.nr},
                            b.getBF16Type())
          : MemRefType::get({kernel.blockPanels, kernel.kc, kernel.nr},
                            b.getF32Type());

  auto blockBody = [&](ImplicitLocOpBuilder &bb, Value block) {
    Emitter be{bb, kernel};
    Value firstPanel = be.mul(block, kernel.blockPanels);
    Value numPanels = be.min(be.index(kernel.blockPanels),
                             be.sub(be.index(kernel.panels), firstPanel));
    Value blockBuffer = packedB ? Value()
                                : Value(memref::AllocOp::create(
                                      bb, bufType, bb.getI64IntegerAttr(64)));
    // AMX: zeroed copies of the rows past the last block of 32.
    Value aPad, cPad;
    if (kernel.amx) {
      aPad = memref::AllocOp::create(
          bb, MemRefType::get({kAMXBlockRows, kernel.kc}, bb.getBF16Type()),
          bb.getI64IntegerAttr(64));
      cPad = memref::AllocOp::create(
          bb, MemRefType::get({kAMXBlockRows, kernel.nr}, bb.getF32Type()),
          bb.getI64IntegerAttr(64));
      Value zero16 = arith::ConstantOp::create(
          bb, bb.getBF16Type(), bb.getFloatAttr(bb.getBF16Type(), 0.0));
      Value zero32 = arith::ConstantOp::create(bb, bb.getF32FloatAttr(0.0f));
      linalg::FillOp::create(bb, zero16, aPad);
      linalg::FillOp::create(bb, zero32, cPad);
    }
    be.loop(
        be.index(0), be.index(kernel.k), kernel.kc,
        [&](ImplicitLocOpBuilder &kb, Value k0) {
          Emitter ke{kb, kernel};
          Value kCount =
              ke.min(ke.index(kernel.kc), ke.sub(ke.index(kernel.k), k0));
          Value buf = blockBuffer;
          if (packedB) {
            // This block's panels and k block, in place.
            int64_t pairs = kernel.dot ? 2 : 1;
            Value kAt =
                kernel.dot
                    ? Value(arith::DivUIOp::create(kb, k0, ke.index(pairs)))
                    : k0;
            Value kSize =
                kernel.dot
                    ? Value(arith::DivUIOp::create(kb, kCount, ke.index(pairs)))
                    : kCount;
            int64_t width = kernel.nr * pairs;
            buf = memref::SubViewOp::create(
                kb, packedB,
                ArrayRef<OpFoldResult>{firstPanel, kAt, kb.getIndexAttr(0)},
                ArrayRef<OpFoldResult>{numPanels, kSize,
                                       kb.getIndexAttr(width)},
                ArrayRef<OpFoldResult>{kb.getIndexAttr(1), kb.getIndexAttr(1),
                                       kb.getIndexAttr(1)});
          } else {
            emitPack(kb, kernel, bMat, buf, firstPanel, numPanels, k0, kCount);
          }
          if (kernel.amx) {
            emitAMXRows(kb, kernel, aMat, cMat, buf, aPad, cPad, m, firstPanel,
                        numPanels, k0);
            return;
          }
          auto panelsOf = [&](ImplicitLocOpBuilder &rb, Value row,
                              int64_t rows) {
            Emitter re{rb, kernel};
            re.loop(re.index(0), numPanels, 1,
                    [&](ImplicitLocOpBuilder &pb, Value p) {
                      Emitter pe{pb, kernel};
                      Value col0 = pe.mul(pe.add(firstPanel, p), kernel.nr);
                      emitMicroKernel(pb, kernel, aMat, cMat, buf, row, rows, p,
                                      col0, k0, kCount);
                    });
          };
          Value full = ke.floorTo(m, kernel.mr);
          ke.loop(ke.index(0), full, kernel.mr,
                  [&](ImplicitLocOpBuilder &rb, Value row) {
                    panelsOf(rb, row, kernel.mr);
                  });
          // The rows left (fewer than mr): kernels of 4, 2 and 1 rows,
          // each where that bit of the count is set.
          Value left = ke.sub(m, full);
          Value at = full;
          for (int64_t rows = llvm::PowerOf2Ceil(kernel.mr) / 2; rows >= 1;
               rows /= 2) {
            if (rows >= kernel.mr)
              continue;
            Value bit = arith::AndIOp::create(kb, left, ke.index(rows));
            Value set = arith::CmpIOp::create(kb, arith::CmpIPredicate::ne, bit,
                                              ke.index(0));
            Value here = at;
            scf::IfOp::create(kb, set, [&](OpBuilder &nested, Location loc) {
              ImplicitLocOpBuilder ib(loc, nested);
              panelsOf(ib, here, rows);
              scf::YieldOp::create(ib);
            });
            at = ke.add(at, bit);
          }
        });
    if (blockBuffer)
      memref::DeallocOp::create(bb, blockBuffer);
    if (kernel.amx) {
      memref::DeallocOp::create(bb, aPad);
      memref::DeallocOp::create(bb, cPad);
    }
  };

  // An expert without rows (most of them at small T) neither packs nor
  // reads its weights: at T = 1 the layer reads only the k experts' weights.
  Value hasRows =
      arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, m, e.index(0));
  scf::IfOp::create(b, hasRows, [&](OpBuilder &nested, Location loc) {
    ImplicitLocOpBuilder ib(loc, nested);
    Emitter ie{ib, kernel};
    if (kernel.parallel) {
      scf::ParallelOp::create(
          ib, ValueRange{ie.index(0)}, ValueRange{ie.index(numBlocks)},
          ValueRange{ie.index(1)},
          [&](OpBuilder &inner, Location innerLoc, ValueRange ivs) {
            ImplicitLocOpBuilder nb(innerLoc, inner);
            blockBody(nb, ivs[0]);
          });
    } else {
      ie.loop(
          ie.index(0), ie.index(numBlocks), 1,
          [&](ImplicitLocOpBuilder &nb, Value block) { blockBody(nb, block); });
    }
    scf::YieldOp::create(ib);
  });
  op.erase();
}

/// `kernel` for the matmul `op`: inside a loop whose iterations threads
/// already share (moe-cpu-parallel-experts, moe-cpu-parallel-rows), the
/// kernel's own loop is serial.
Kernel atSite(Kernel kernel, Operation *op) {
  if (op->getParentOfType<omp::LoopNestOp>() ||
      op->getParentOfType<scf::ParallelOp>())
    kernel.parallel = false;
  return kernel;
}

/// A stacked weight argument [E, n, k] whose every use is one expert's
/// matrix (a subview) read as the B of matmuls that get kernels: what
/// pack-weights passes in panel layout instead.
struct PackableWeight {
  BlockArgument argument;
  Kernel kernel;
  SmallVector<memref::SubViewOp> views;
};

/// The subview `view` is expert e's whole [n, k] matrix of an [E, n, k]
/// memref.
bool isExpertMatrix(memref::SubViewOp view) {
  ArrayRef<int64_t> sourceShape = view.getSourceType().getShape();
  auto isIndex = [](OpFoldResult value, int64_t expected) {
    std::optional<int64_t> constant = getConstantIntValue(value);
    return constant && *constant == expected;
  };
  SmallVector<OpFoldResult> offsets = view.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = view.getMixedSizes();
  SmallVector<OpFoldResult> strides = view.getMixedStrides();
  return view.getType().getRank() == 2 && isIndex(offsets[1], 0) &&
         isIndex(offsets[2], 0) && isIndex(sizes[0], 1) &&
         isIndex(sizes[1], sourceShape[1]) &&
         isIndex(sizes[2], sourceShape[2]) &&
         llvm::all_of(strides, [&](OpFoldResult s) { return isIndex(s, 1); });
}

std::optional<PackableWeight> findPackableWeight(BlockArgument argument,
                                                 const Kernel &options) {
  auto type = dyn_cast<MemRefType>(argument.getType());
  if (!type || type.getRank() != 3 || !type.hasStaticShape() ||
      !type.getLayout().isIdentity() || argument.use_empty())
    return std::nullopt;
  PackableWeight weight{argument, Kernel{}, {}};
  std::optional<Kernel> common;
  for (Operation *user : argument.getUsers()) {
    auto view = dyn_cast<memref::SubViewOp>(user);
    if (!view || !isExpertMatrix(view))
      return std::nullopt;
    for (OpOperand &use : view->getUses()) {
      auto matmul = dyn_cast<linalg::MatmulOp>(use.getOwner());
      if (!matmul || &use != matmul.getDpsInputOperand(1))
        return std::nullopt;
      FailureOr<Kernel> kernel = plan(matmul, options);
      if (failed(kernel))
        return std::nullopt;
      // The layout depends on B's shape and type only, but say so.
      if (common && (common->nr != kernel->nr || common->dot != kernel->dot))
        return std::nullopt;
      common = *kernel;
    }
    weight.views.push_back(view);
  }
  if (!common)
    return std::nullopt;
  weight.kernel = *common;
  return weight;
}

/// func @<name>(%weights: [E, n, k], %packed: [E, panels, ...]): packs every
/// expert's matrix into the kernel's panels, the same 16x16 transposes as a
/// kernel's per-call packing, over (expert x column block) work items.
func::FuncOp buildPackFunction(OpBuilder &builder, Location loc, StringRef name,
                               MemRefType weightType, MemRefType packedType,
                               const Kernel &kernel) {
  auto function = func::FuncOp::create(
      builder, loc, name,
      builder.getFunctionType({weightType, packedType}, {}));
  Block *entry = function.addEntryBlock();
  ImplicitLocOpBuilder b(loc, OpBuilder::atBlockBegin(entry));
  Emitter e{b, kernel};
  Value weights = entry->getArgument(0), packed = entry->getArgument(1);
  int64_t experts = weightType.getDimSize(0);
  int64_t numBlocks =
      (kernel.panels + kernel.blockPanels - 1) / kernel.blockPanels;
  auto workItem = [&](ImplicitLocOpBuilder &wb, Value item) {
    Emitter we{wb, kernel};
    Value expert = arith::DivUIOp::create(wb, item, we.index(numBlocks));
    Value block = arith::RemUIOp::create(wb, item, we.index(numBlocks));
    Value firstPanel = we.mul(block, kernel.blockPanels);
    Value numPanels = we.min(we.index(kernel.blockPanels),
                             we.sub(we.index(kernel.panels), firstPanel));
    OpFoldResult zero = wb.getIndexAttr(0), one = wb.getIndexAttr(1);
    auto matrixType =
        cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
            {kernel.n, kernel.k}, weightType, {ShapedType::kDynamic, 0, 0},
            {1, kernel.n, kernel.k}, {1, 1, 1}));
    Value matrix = memref::SubViewOp::create(
        wb, matrixType, weights, ArrayRef<OpFoldResult>{expert, zero, zero},
        ArrayRef<OpFoldResult>{one, wb.getIndexAttr(kernel.n),
                               wb.getIndexAttr(kernel.k)},
        ArrayRef<OpFoldResult>{one, one, one});
    ArrayRef<int64_t> panelShape = packedType.getShape().drop_front();
    auto blockType =
        cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
            {ShapedType::kDynamic, panelShape[1], panelShape[2]}, packedType,
            {ShapedType::kDynamic, ShapedType::kDynamic, 0, 0},
            {1, ShapedType::kDynamic, panelShape[1], panelShape[2]},
            {1, 1, 1, 1}));
    Value blockPanels = memref::SubViewOp::create(
        wb, blockType, packed,
        ArrayRef<OpFoldResult>{expert, firstPanel, zero, zero},
        ArrayRef<OpFoldResult>{one, numPanels, wb.getIndexAttr(panelShape[1]),
                               wb.getIndexAttr(panelShape[2])},
        ArrayRef<OpFoldResult>{one, one, one, one});
    emitPack(wb, kernel, matrix, blockPanels, firstPanel, numPanels,
             we.index(0), we.index(kernel.k));
  };
  Value items = e.index(experts * numBlocks);
  if (kernel.parallel) {
    scf::ParallelOp::create(
        b, ValueRange{e.index(0)}, ValueRange{items}, ValueRange{e.index(1)},
        [&](OpBuilder &inner, Location innerLoc, ValueRange ivs) {
          ImplicitLocOpBuilder nb(innerLoc, inner);
          workItem(nb, ivs[0]);
        });
  } else {
    e.loop(e.index(0), items, 1, workItem);
  }
  func::ReturnOp::create(b);
  return function;
}

/// Passes every packable weight argument of the module's functions in panel
/// layout: the argument's type becomes [E, panels, ...] (f32, or bf16
/// pairs), its matmuls read the panels in place, a function
/// @<function>_pack_arg<i> packs a weight into it, and the function's
/// `moe.packed_weights` attribute lists what was packed (argument, packing
/// function, packed shape and element type) for whoever calls it.
LogicalResult packWeightArguments(ModuleOp module, const Kernel &options) {
  SymbolTable symbols(module);
  MLIRContext *context = module.getContext();
  for (auto function :
       llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
    // A function called in the module keeps its signature: its callers
    // pass plain weights.
    if (function.isExternal() ||
        !SymbolTable::symbolKnownUseEmpty(function, module))
      continue;
    SmallVector<Attribute> records;
    for (BlockArgument argument : function.getArguments()) {
      std::optional<PackableWeight> weight =
          findPackableWeight(argument, options);
      if (!weight)
        continue;
      const Kernel &kernel = weight->kernel;
      auto weightType = cast<MemRefType>(argument.getType());
      MemRefType panels = packedPanelsType(kernel);
      SmallVector<int64_t> packedShape = {weightType.getDimSize(0)};
      llvm::append_range(packedShape, panels.getShape());
      auto packedType = MemRefType::get(packedShape, panels.getElementType());
      std::string name =
          (function.getName() + "_pack_arg" + Twine(argument.getArgNumber()))
              .str();
      if (symbols.lookup(name))
        return function.emitError()
               << "moe-cpu-matmul-kernels: pack-weights would define @" << name
               << ", which the module already has";

      argument.setType(packedType);
      for (memref::SubViewOp view : weight->views) {
        OpBuilder b(view);
        OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
        SmallVector<OpFoldResult> offsets = {view.getMixedOffsets()[0], zero,
                                             zero, zero};
        SmallVector<OpFoldResult> sizes = {one};
        SmallVector<OpFoldResult> strides = {one, one, one, one};
        for (int64_t size : panels.getShape())
          sizes.push_back(b.getIndexAttr(size));
        auto viewType =
            cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
                panels.getShape(), packedType, offsets, sizes, strides));
        Value packedView = memref::SubViewOp::create(
            b, view.getLoc(), viewType, argument, offsets, sizes, strides);
        for (Operation *user : llvm::make_early_inc_range(view->getUsers()))
          rewriteMatmul(cast<linalg::MatmulOp>(user), atSite(kernel, user),
                        packedView);
        view.erase();
      }

      OpBuilder builder(context);
      builder.setInsertionPointAfter(function);
      func::FuncOp pack = buildPackFunction(builder, function.getLoc(), name,
                                            weightType, packedType, kernel);
      symbols.insert(pack);
      records.push_back(DictionaryAttr::get(
          context,
          {NamedAttribute(StringAttr::get(context, "argument"),
                          builder.getI64IntegerAttr(argument.getArgNumber())),
           NamedAttribute(StringAttr::get(context, "pack"),
                          FlatSymbolRefAttr::get(context, name)),
           NamedAttribute(StringAttr::get(context, "shape"),
                          builder.getDenseI64ArrayAttr(packedShape)),
           NamedAttribute(StringAttr::get(context, "element"),
                          TypeAttr::get(packedType.getElementType()))}));
    }
    if (records.empty())
      continue;
    function.setFunctionType(
        FunctionType::get(context, function.getBody().getArgumentTypes(),
                          function.getResultTypes()));
    function->setAttr(moe::kPackedWeightsAttrName,
                      ArrayAttr::get(context, records));
  }
  return success();
}

struct MoECPUMatmulKernelsPass
    : public moe::impl::MoECPUMatmulKernelsPassBase<MoECPUMatmulKernelsPass> {
  using MoECPUMatmulKernelsPassBase::MoECPUMatmulKernelsPassBase;

  void runOnOperation() override {
    auto positive = [&](int64_t value, StringRef name) {
      if (value > 0)
        return true;
      getOperation()->emitError() << "moe-cpu-matmul-kernels: " << name
                                  << " must be positive, got " << value;
      return false;
    };
    if (!positive(vectorWidth, "vector-width") ||
        !positive(tileRows, "tile-rows") ||
        !positive(tileVectors, "tile-vectors") ||
        !positive(kBlock, "k-block") || !positive(nBlock, "n-block"))
      return signalPassFailure();
    if (vectorWidth != 8 && vectorWidth != 16) {
      getOperation()->emitError()
          << "moe-cpu-matmul-kernels: vector-width must be 8 or 16, got "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    Kernel options{};
    options.width = vectorWidth;
    options.vectors = tileVectors;
    options.mr = tileRows;
    options.kc = kBlock;
    options.blockPanels = nBlock; // columns here; plan() divides by nr
    options.dot = bf16Dot;
    options.amx = amx;
    options.parallel = parallel;

    if (packWeights) {
      auto module = dyn_cast<ModuleOp>(getOperation());
      if (!module) {
        getOperation()->emitError()
            << "moe-cpu-matmul-kernels: pack-weights runs on a module (it "
               "adds a packing function per weight)";
        return signalPassFailure();
      }
      if (failed(packWeightArguments(module, options)))
        return signalPassFailure();
    }

    SmallVector<std::pair<linalg::MatmulOp, Kernel>> matmuls;
    getOperation()->walk([&](linalg::MatmulOp op) {
      FailureOr<Kernel> kernel = plan(op, options);
      if (failed(kernel))
        return;
      matmuls.emplace_back(op, atSite(*kernel, op));
    });
    for (auto &[op, kernel] : matmuls)
      rewriteMatmul(op, kernel);
  }
};
} // namespace
