//===- GroupedMatmulKernel.cpp - Tensor-core grouped GEMM kernels ---------===//
//
// One gpu.module with one kernel for C[r, :] = A[r, :] * B[e(r)]^T, the rows
// grouped by expert. Per block:
//
//   1. find the expert: block y is a row tile in the concatenation of every
//      expert's ceil(rows / blockM) tiles, a prefix sum over the offsets
//      computed by every thread (the block is uniform; blocks past the last
//      tile return);
//   2. stream k through `stages` shared-memory buffers of the A and B tiles
//      with cp.async (nvgpu.device_async_copy, 16 bytes a thread, rows past
//      the expert's end zero-filled): one barrier per k step, the copies of
//      step kt + stages - 1 in flight while step kt computes;
//   3. each warp loads its 16x16 A and 16x8 B fragments with ldmatrix and
//      accumulates in f32 with mma.sync m16n8k16 (bf16);
//   4. rounds the accumulators to bf16 once and stores the rows that belong
//      to the expert.
//
// nvgpu.mma.sync would be the natural op for step 3, but MLIR 22's
// NVGPU-to-NVVM conversion cannot type bf16 operands ("failed to deduce
// operand PTX types"); the kernel emits nvvm.mma.sync directly, on the i32
// registers that hold two bf16 each, which is what ldmatrix produces.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/GPU/GroupedMatmulKernel.h"
#include "moe-mlir/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <tuple>

namespace mlir {
namespace moe {
#define GEN_PASS_DEF_MOEGPUGROUPEDMATMULKERNELPASS
#include "moe-mlir/Codegen/GPU/Passes.h.inc"
} // namespace moe
} // namespace mlir

using namespace mlir;
using namespace mlir::moe;

FailureOr<GroupedMatmulTiling>
mlir::moe::chooseGroupedMatmulTiling(const GroupedMatmulProblem &problem,
                                     std::string &why) {
  if (problem.n <= 0 || problem.k <= 0 || problem.experts <= 0) {
    why = "n, k and experts must be positive";
    return failure();
  }
  if (problem.n % 16 != 0 || problem.k % 16 != 0) {
    why = "n (" + std::to_string(problem.n) + ") and k (" +
          std::to_string(problem.k) + ") must be multiples of 16";
    return failure();
  }
  GroupedMatmulTiling t;
  // L2 reuse: a group of row tiles sweeps the n tiles together. Its rows of
  // A (groupM * blockM * k bf16) should stay in L2 (50 MB on an H100/H200)
  // beside the streaming weight tiles: about 16 MiB of them.
  auto chooseGroupM = [&](const GroupedMatmulTiling &tiling) {
    int64_t rowTileBytes = tiling.blockM * problem.k * 2, g = 1;
    while (g < 16 && 2 * g * rowTileBytes <= (int64_t(16) << 20))
      g *= 2;
    return g;
  };
  if (problem.chip == "sm_90a" && problem.n % 128 == 0 && problem.k % 64 == 0) {
    // wgmma: two warpgroups of m64 x blockN, k steps of 64 (a 128-byte
    // swizzle atom a row). n = 256 tiles read the least shared memory per
    // multiply (A 64x16 and B 256x16 per m64n256k16), and 128 f32
    // accumulators a thread still fit 255 registers.
    t.wgmma = true;
    t.blockM = 128;
    t.blockN = problem.n % 256 == 0 ? 256 : 128;
    if (problem.blockN) {
      if ((problem.blockN != 128 && problem.blockN != 256) ||
          problem.n % problem.blockN != 0) {
        why = "block-n=" + std::to_string(problem.blockN) +
              " must be 128 or 256 and divide n";
        return failure();
      }
      t.blockN = problem.blockN;
    }
    t.blockK = 64;
    t.warpsM = 8;
    t.warpsN = 1;
    t.pad = 0;
    // As many stages as about 200 KiB of shared memory hold (Hopper lets a
    // block have 227 KiB), 3 to 6: the copies run two k steps behind the
    // multiplies' reads (stages - 2 steps ahead).
    int64_t stageBytes = (t.blockM + t.blockN) * t.blockK * 2;
    t.stages = std::clamp<int64_t>((200 * 1024) / stageBytes, 3, 6);
    if (problem.stages) {
      t.stages = problem.stages;
      if (t.stages < 3 || t.stages > 6 || t.sharedBytes() > 227 * 1024) {
        why = "stages=" + std::to_string(problem.stages) +
              " must be 3 to 6 and fit 227 KiB of shared memory";
        return failure();
      }
    }
    // Two blocks a multiprocessor where two fit (one's epilogue and the
    // next tile's first copies then overlap the other's multiplies).
    if (2 * t.sharedBytes() <= 227 * 1024)
      t.blocksPerSM = 2;
    t.groupM = chooseGroupM(t);
    return t;
  }
  // Two mma k-steps per barrier where k allows.
  t.blockK = problem.k % 32 == 0 ? 32 : 16;
  // The widest n tile that divides n: a blockM x blockN tile reads
  // (blockM + blockN) * blockK elements for blockM * blockN * blockK
  // multiply-adds, so wide tiles need the least bandwidth.
  for (int64_t bn : {128, 64, 32, 16}) {
    if (problem.n % bn == 0) {
      t.blockN = bn;
      break;
    }
  }
  t.blockM = t.blockN >= 64 ? 128 : 64;
  // 8 warps for a 128x128 tile (64x32 each: 4x4 mma tiles, 64 f32
  // accumulators a thread), 4 otherwise; warps side by side along n, 32
  // columns each.
  int64_t warps = t.blockM * t.blockN >= 128 * 128 ? 8 : 4;
  t.warpsN = std::max<int64_t>(1, t.blockN / 32);
  t.warpsM =
      std::min<int64_t>(t.blockM / 16, std::max<int64_t>(1, warps / t.warpsN));
  // As many stages as 48 KiB of static shared memory holds, 2 to 4.
  t.stages = 2;
  int64_t stageBytes = t.sharedBytes() / t.stages;
  while (t.stages < 4 && (t.stages + 1) * stageBytes <= 48 * 1024)
    ++t.stages;
  t.groupM = chooseGroupM(t);
  return t;
}

namespace {
/// The kernel body's builder: index arithmetic helpers around an
/// ImplicitLocOpBuilder.
struct KernelBuilder {
  ImplicitLocOpBuilder &b;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, idx(y)) : x; }
  Value mul(Value x, int64_t y) { return arith::MulIOp::create(b, x, idx(y)); }
  Value div(Value x, int64_t y) { return arith::DivUIOp::create(b, x, idx(y)); }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b, x, idx(y)); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }
  Value loadIndex(Value memref, Value i) {
    Value v = memref::LoadOp::create(b, memref, ValueRange{i});
    return arith::IndexCastOp::create(b, b.getIndexType(), v);
  }
};
} // namespace

namespace {
/// The block's (n tile, row tile), in the grouped order: the gridX x gridY
/// blocks, numbered row by row, walk groups of `groupM` row tiles, and
/// within a group every n tile of one row tile before the next n tile
/// (consecutive blocks share their weight tile).
std::pair<Value, Value> blockTile(KernelBuilder &kb, int64_t groupM) {
  ImplicitLocOpBuilder &b = kb.b;
  Value bx = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  if (groupM <= 1)
    return {bx, by};
  Value numN = gpu::GridDimOp::create(b, gpu::Dimension::x);
  Value numM = gpu::GridDimOp::create(b, gpu::Dimension::y);
  Value linear = kb.add(arith::MulIOp::create(b, by, numN), bx);
  Value perGroup = kb.mul(numN, groupM);
  Value group = arith::DivUIOp::create(b, linear, perGroup);
  Value first = kb.mul(group, groupM);
  Value size = arith::MinUIOp::create(b, kb.idx(groupM),
                                      arith::SubIOp::create(b, numM, first));
  Value local = arith::RemUIOp::create(b, linear, perGroup);
  Value tileM = kb.add(first, arith::RemUIOp::create(b, local, size));
  Value tileN = arith::DivUIOp::create(b, local, size);
  return {tileN, tileM};
}

/// The expert of row tile `tileM`: the e with
/// prefix(e) <= tileM < prefix(e) + ceil(rows(e) / blockM), and prefix(e);
/// experts when there is none.
std::pair<Value, Value> findExpert(KernelBuilder &kb, Value offsets,
                                   Value tileM, int64_t experts,
                                   int64_t blockM) {
  ImplicitLocOpBuilder &b = kb.b;
  Value c0 = kb.idx(0), cE = kb.idx(experts);
  auto search = scf::ForOp::create(
      b, c0, cE, kb.idx(1), ValueRange{c0, cE, c0},
      [&](OpBuilder &nb, Location l, Value e, ValueRange it) {
        ImplicitLocOpBuilder ib(l, nb);
        KernelBuilder k{ib};
        Value start = k.loadIndex(offsets, e);
        Value end = k.loadIndex(offsets, k.add(e, 1));
        Value rows = arith::MaxSIOp::create(
            ib, arith::SubIOp::create(ib, end, start), k.idx(0));
        Value tiles = k.div(k.add(rows, blockM - 1), blockM);
        Value next = k.add(it[0], tiles);
        Value here = arith::AndIOp::create(
            ib,
            arith::CmpIOp::create(ib, arith::CmpIPredicate::uge, tileM, it[0]),
            k.ult(tileM, next));
        scf::YieldOp::create(ib, ValueRange{next, k.select(here, e, it[1]),
                                            k.select(here, it[0], it[2])});
      });
  return {search.getResult(1), search.getResult(2)};
}

/// findExpert by each warp in parallel: lane l takes experts l, l + 32, ...
/// (one load pair a lane for 32 experts), the tile counts of a chunk of 32
/// are scanned with shuffles, and the lane whose expert holds the tile hands
/// it to the warp (a min and a sum over the warp). About 8 + 10 E / 32
/// shuffles instead of a loop of E dependent steps.
std::pair<Value, Value> findExpertByWarp(KernelBuilder &kb, Value offsets,
                                         Value tileM, int64_t experts,
                                         int64_t blockM) {
  ImplicitLocOpBuilder &b = kb.b;
  Type i32 = b.getI32Type();
  auto c = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, i32, v);
  };
  Value lane = kb.rem(gpu::ThreadIdOp::create(b, gpu::Dimension::x), 32);
  Value tile = arith::IndexCastOp::create(b, i32, tileM);
  Value cE = kb.idx(experts);
  Value carry = c(0), foundE = c(experts), foundFirst = c(0);
  for (int64_t base = 0; base < experts; base += 32) {
    Value e = kb.add(lane, base);
    Value lo = arith::MinUIOp::create(b, e, cE);
    Value hi = arith::MinUIOp::create(b, kb.add(e, 1), cE);
    Value start = memref::LoadOp::create(b, offsets, ValueRange{lo});
    Value end = memref::LoadOp::create(b, offsets, ValueRange{hi});
    Value rows =
        arith::MaxSIOp::create(b, arith::SubIOp::create(b, end, start), c(0));
    Value tiles = arith::DivUIOp::create(
        b, arith::AddIOp::create(b, rows, c(blockM - 1)), c(blockM));
    Value incl = tiles;
    for (int32_t d = 1; d < 32; d *= 2) {
      auto up = gpu::ShuffleOp::create(b, incl, d, 32, gpu::ShuffleMode::UP);
      incl = arith::SelectOp::create(
          b, up.getValid(),
          arith::AddIOp::create(b, incl, up.getShuffleResult()), incl);
    }
    Value before =
        arith::SubIOp::create(b, arith::AddIOp::create(b, carry, incl), tiles);
    Value here = arith::AndIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::uge, tile, before),
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, tile,
                              arith::AddIOp::create(b, before, tiles)));
    foundE = arith::SelectOp::create(
        b, here, arith::IndexCastOp::create(b, i32, e), foundE);
    foundFirst = arith::SelectOp::create(b, here, before, foundFirst);
    auto total = gpu::ShuffleOp::create(b, incl, 31, 32, gpu::ShuffleMode::IDX);
    carry = arith::AddIOp::create(b, carry, total.getShuffleResult());
  }
  // At most one lane found the tile: the others hold experts and 0.
  for (int32_t d = 16; d >= 1; d /= 2) {
    auto e = gpu::ShuffleOp::create(b, foundE, d, 32, gpu::ShuffleMode::XOR);
    foundE = arith::MinUIOp::create(b, foundE, e.getShuffleResult());
    auto f =
        gpu::ShuffleOp::create(b, foundFirst, d, 32, gpu::ShuffleMode::XOR);
    foundFirst = arith::AddIOp::create(b, foundFirst, f.getShuffleResult());
  }
  return {arith::IndexCastOp::create(b, b.getIndexType(), foundE),
          arith::IndexCastOp::create(b, b.getIndexType(), foundFirst)};
}
} // namespace

/// The mma.sync kernel (sm_80 and up).
static gpu::GPUModuleOp buildMmaSyncKernel(OpBuilder &builder, Location loc,
                                           const GroupedMatmulProblem &p,
                                           const GroupedMatmulTiling &t,
                                           StringRef moduleName,
                                           StringRef kernelName) {
  ImplicitLocOpBuilder b(loc, builder);
  KernelBuilder kb{b};
  MLIRContext *ctx = b.getContext();
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type(), i32 = b.getI32Type();

  const int64_t BM = t.blockM, BN = t.blockN, BK = t.blockK, S = t.stages;
  const int64_t threads = t.threads();
  const int64_t TM = BM / t.warpsM, TN = BN / t.warpsN; // a warp's tile
  const int64_t MT = TM / 16, NT = TN / 8;              // its mma tiles
  const int64_t KT = p.k / BK;                          // k steps
  const int64_t ld = BK + t.pad; // shared rows: 16-byte multiple, no conflicts

  auto gpuModule = gpu::GPUModuleOp::create(b, moduleName);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(gpuModule.getBody());

  // Shared memory: S stages of the A and B tiles, as static globals.
  auto workgroup = gpu::AddressSpaceAttr::get(
      ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto smemAType = MemRefType::get({S, BM, ld}, bf16,
                                   MemRefLayoutAttrInterface(), workgroup);
  auto smemBType = MemRefType::get({S, BN, ld}, bf16,
                                   MemRefLayoutAttrInterface(), workgroup);
  for (auto [name, type] :
       {std::pair{"smem_a", smemAType}, std::pair{"smem_b", smemBType}})
    memref::GlobalOp::create(b, b.getStringAttr(name),
                             b.getStringAttr("private"), TypeAttr::get(type),
                             Attribute(), UnitAttr(), b.getI64IntegerAttr(128));

  auto aType = MemRefType::get({ShapedType::kDynamic, p.k}, bf16);
  auto bType = MemRefType::get({p.experts, p.n, p.k}, bf16);
  auto offType = MemRefType::get({p.experts + 1}, i32);
  auto cType = MemRefType::get({ShapedType::kDynamic, p.n}, bf16);
  auto func = gpu::GPUFuncOp::create(
      b, kernelName, b.getFunctionType({aType, bType, offType, cType}, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  func->setAttr("moe.tile", b.getDenseI64ArrayAttr({BM, BN, BK}));
  func->setAttr("moe.variant", b.getStringAttr("mma.sync"));
  func->setAttr("moe.dynamic_smem", b.getI64IntegerAttr(0));
  Block &entry = func.getBody().front();
  Value A = entry.getArgument(0), B = entry.getArgument(1),
        offsets = entry.getArgument(2), C = entry.getArgument(3);
  b.setInsertionPointToStart(&entry);

  Value c0 = kb.idx(0), c1 = kb.idx(1), cE = kb.idx(p.experts);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value blockN, blockM, expert, firstTile;
  std::tie(blockN, blockM) = blockTile(kb, t.groupM);

  // 1. The expert of this row tile.
  std::tie(expert, firstTile) = findExpert(kb, offsets, blockM, p.experts, BM);
  auto ifFound = scf::IfOp::create(b, kb.ult(expert, cE),
                                   /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifFound.thenBlock());

  Value rowStart =
      kb.add(kb.loadIndex(offsets, expert),
             kb.mul(arith::SubIOp::create(b, blockM, firstTile), BM));
  Value rowEnd = kb.loadIndex(offsets, kb.add(expert, 1));
  Value n0 = kb.mul(blockN, BN);
  Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
  Value warpM = kb.div(warp, t.warpsN), warpN = kb.rem(warp, t.warpsN);
  Value smemA = memref::GetGlobalOp::create(b, smemAType, "smem_a");
  Value smemB = memref::GetGlobalOp::create(b, smemBType, "smem_b");
  Type tokenType = nvgpu::DeviceAsyncTokenType::get(ctx);

  // 2. The copies of k step `kt` into `stage`, as one commit group. Steps
  //    past the end (the pipeline's tail) copy nothing: zero bytes from an
  //    in-bounds address, which keeps the group count uniform.
  auto loadStep = [&](Value kt, Value stage) -> Value {
    Value kValid = kb.ult(kt, kb.idx(KT));
    Value k0 = kb.select(kValid, kb.mul(kt, BK), c0);
    Value eight = kb.idx(8);
    SmallVector<Value> tokens;
    const int64_t chunksPerRow = BK / 8; // 16-byte chunks
    auto copies = [&](int64_t rows, auto &&emit) {
      int64_t chunks = rows * chunksPerRow;
      for (int64_t i = 0; i < (chunks + threads - 1) / threads; ++i) {
        Value chunk = kb.add(tid, i * threads);
        if ((i + 1) * threads > chunks) {
          // The last round has fewer chunks than threads.
          auto guard = scf::IfOp::create(b, kb.ult(chunk, kb.idx(chunks)),
                                         /*withElseRegion=*/false);
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(guard.thenBlock());
          emit(kb.div(chunk, chunksPerRow),
               kb.mul(kb.rem(chunk, chunksPerRow), 8), /*collect=*/false);
        } else {
          emit(kb.div(chunk, chunksPerRow),
               kb.mul(kb.rem(chunk, chunksPerRow), 8), /*collect=*/true);
        }
      }
    };
    copies(BM, [&](Value row, Value col, bool collect) {
      Value grow = kb.add(rowStart, row);
      Value valid = arith::AndIOp::create(b, kValid, kb.ult(grow, rowEnd));
      Value src = kb.select(valid, grow, rowStart);
      Value token = nvgpu::DeviceAsyncCopyOp::create(
          b, tokenType, smemA, ValueRange{stage, row, col}, A,
          ValueRange{src, kb.add(k0, col)}, b.getIndexAttr(8),
          kb.select(valid, eight, c0), b.getUnitAttr());
      if (collect)
        tokens.push_back(token);
    });
    copies(BN, [&](Value row, Value col, bool collect) {
      Value token = nvgpu::DeviceAsyncCopyOp::create(
          b, tokenType, smemB, ValueRange{stage, row, col}, B,
          ValueRange{expert, kb.add(n0, row), kb.add(k0, col)},
          b.getIndexAttr(8), kb.select(kValid, eight, c0), b.getUnitAttr());
      if (collect)
        tokens.push_back(token);
    });
    return nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, tokens);
  };

  Value group;
  for (int64_t s = 0; s + 1 < S; ++s)
    group = loadStep(kb.idx(s), kb.idx(s));

  // The lane's rows and columns in its ldmatrix reads: A (x4) as rows
  // 0-15 at k 0 and 8; B (x4) as two n8 tiles, each at k 0 and 8.
  Value aRow = kb.add(kb.mul(warpM, TM), kb.rem(lane, 16));
  Value aCol = kb.mul(kb.div(lane, 16), 8);
  Value bRow = kb.add(kb.add(kb.mul(warpN, TN), kb.mul(kb.div(lane, 16), 8)),
                      kb.rem(lane, 8));
  Value bCol = kb.mul(kb.rem(kb.div(lane, 8), 2), 8);

  SmallVector<Value> inits(MT * NT * 4,
                           arith::ConstantOp::create(b, b.getF32FloatAttr(0)));
  inits.push_back(group);
  auto kLoop = scf::ForOp::create(
      b, c0, kb.idx(KT), c1, inits,
      [&](OpBuilder &nb, Location l, Value kt, ValueRange it) {
        ImplicitLocOpBuilder ib(l, nb);
        KernelBuilder k{ib};
        // Step kt has landed (at most S - 2 younger groups pending), and
        // every warp is done with step kt - 1, whose stage is refilled next.
        nvgpu::DeviceAsyncWaitOp::create(ib, it.back(),
                                         ib.getI32IntegerAttr(S - 2));
        gpu::BarrierOp::create(ib);
        Value nextStep = k.add(kt, S - 1);
        // loadStep uses `b`; point it here.
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(ib.getInsertionBlock(), ib.getInsertionPoint());
        Value nextGroup = loadStep(nextStep, kb.rem(nextStep, S));
        ib.setInsertionPoint(b.getInsertionBlock(), b.getInsertionPoint());

        Value stage = k.rem(kt, S);
        SmallVector<Value> acc(it.drop_back());
        auto regs = [&](Value frag, int64_t count) {
          SmallVector<Value> out;
          for (int64_t j = 0; j < count; ++j) {
            Value pair =
                vector::ExtractOp::create(ib, frag, ArrayRef<int64_t>{j});
            Value word =
                vector::BitCastOp::create(ib, VectorType::get({1}, i32), pair);
            out.push_back(
                vector::ExtractOp::create(ib, word, ArrayRef<int64_t>{0}));
          }
          return out;
        };
        auto structType =
            LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(4, f32));
        for (int64_t ks = 0; ks < BK / 16; ++ks) {
          SmallVector<SmallVector<Value>> aFrag, bFrag;
          for (int64_t mi = 0; mi < MT; ++mi) {
            Value frag = nvgpu::LdMatrixOp::create(
                ib, VectorType::get({4, 2}, bf16), smemA,
                ValueRange{stage, k.add(aRow, mi * 16), k.add(aCol, ks * 16)},
                /*transpose=*/false, /*numTiles=*/4);
            aFrag.push_back(regs(frag, 4));
          }
          for (int64_t ni = 0; ni < NT; ni += 2) {
            Value frag = nvgpu::LdMatrixOp::create(
                ib, VectorType::get({4, 2}, bf16), smemB,
                ValueRange{stage, k.add(bRow, ni * 8), k.add(bCol, ks * 16)},
                /*transpose=*/false, /*numTiles=*/4);
            SmallVector<Value> r = regs(frag, 4);
            bFrag.push_back({r[0], r[1]});
            bFrag.push_back({r[2], r[3]});
          }
          for (int64_t mi = 0; mi < MT; ++mi) {
            for (int64_t ni = 0; ni < NT; ++ni) {
              MutableArrayRef<Value> c(&acc[(mi * NT + ni) * 4], 4);
              Value d = NVVM::MmaOp::create(
                  ib, structType, aFrag[mi], bFrag[ni], c,
                  ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
                  std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                                NVVM::MMATypes::bf16},
                  std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                                 NVVM::MMALayout::col});
              for (int64_t j = 0; j < 4; ++j)
                c[j] =
                    LLVM::ExtractValueOp::create(ib, d, ArrayRef<int64_t>{j});
            }
          }
        }
        acc.push_back(nextGroup);
        scf::YieldOp::create(ib, acc);
      });
  // Nothing may be left writing shared memory when the block exits.
  nvgpu::DeviceAsyncWaitOp::create(b, kLoop.getResults().back(),
                                   b.getI32IntegerAttr(0));

  // 4. Accumulator j of an m16n8 tile: row lane / 4 (+ 8 for j >= 2),
  //    columns 2 * (lane % 4) + {0, 1}.
  Value cRow = kb.add(kb.add(rowStart, kb.mul(warpM, TM)), kb.div(lane, 4));
  Value cCol =
      kb.add(kb.add(n0, kb.mul(warpN, TN)), kb.mul(kb.rem(lane, 4), 2));
  auto pairType = VectorType::get({2}, f32);
  for (int64_t mi = 0; mi < MT; ++mi) {
    for (int64_t ni = 0; ni < NT; ++ni) {
      for (int64_t h = 0; h < 2; ++h) {
        int64_t j = (mi * NT + ni) * 4 + 2 * h;
        Value row = kb.add(cRow, mi * 16 + h * 8);
        Value pair = vector::FromElementsOp::create(
            b, pairType,
            ValueRange{kLoop.getResult(j), kLoop.getResult(j + 1)});
        Value rounded =
            arith::TruncFOp::create(b, VectorType::get({2}, bf16), pair);
        auto store = scf::IfOp::create(b, kb.ult(row, rowEnd),
                                       /*withElseRegion=*/false);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(store.thenBlock());
        vector::StoreOp::create(b, rounded, C,
                                ValueRange{row, kb.add(cCol, ni * 8)},
                                /*nontemporal=*/false, llvm::MaybeAlign(4));
      }
    }
  }
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
  return gpuModule;
}

/// The wgmma kernel (sm_90a). Per block, as the mma.sync kernel, but:
///   - the A and B tiles of a stage are stored by cp.async in the layout
///     wgmma's 128-byte swizzle expects (16-byte chunk c of row r at chunk
///     c ^ (r % 8); each row one k step of 64 bf16, atoms of 8 rows = 1 KiB,
///     1 KiB aligned), and made visible to the async proxy with
///     fence.proxy.async before the barrier;
///   - warpgroup g multiplies rows 64g..64g+63 of the tile by all blockN
///     columns: 4 wgmma.mma_async m64nNk16 per k step, matrix descriptors
///     addressing the stage (the start address advanced 32 bytes a k16
///     step, inside the swizzle atom);
///   - the multiplies are asynchronous: step kt's are issued, then the
///     copies of step kt + stages - 2 (into the stage step kt - 2 used,
///     which every warpgroup finished before this step's barrier), then the
///     wait for step kt - 1's, so one group of multiplies is always queued.
static gpu::GPUModuleOp buildWgmmaKernel(OpBuilder &builder, Location loc,
                                         const GroupedMatmulProblem &p,
                                         const GroupedMatmulTiling &t,
                                         StringRef moduleName,
                                         StringRef kernelName) {
  ImplicitLocOpBuilder b(loc, builder);
  KernelBuilder kb{b};
  MLIRContext *ctx = b.getContext();
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type(), i32 = b.getI32Type(),
       i64 = b.getI64Type();

  const int64_t BM = t.blockM, BN = t.blockN, BK = t.blockK, S = t.stages;
  const int64_t threads = t.threads();
  const int64_t KT = p.k / BK;
  const int64_t accs = BN / 2; // f32 accumulators a thread (64 x BN / 128)
  assert(BK == 64 && BM % 64 == 0 && threads == 32 * (BM / 16) && S >= 3 &&
         (BM * 8) % threads == 0 && (BN * 8) % threads == 0);

  auto gpuModule = gpu::GPUModuleOp::create(b, moduleName);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(gpuModule.getBody());

  auto workgroup = gpu::AddressSpaceAttr::get(
      ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto aType = MemRefType::get({ShapedType::kDynamic, p.k}, bf16);
  auto bType = MemRefType::get({p.experts, p.n, p.k}, bf16);
  auto offType = MemRefType::get({p.experts + 1}, i32);
  auto cType = MemRefType::get({ShapedType::kDynamic, p.n}, bf16);
  auto func = gpu::GPUFuncOp::create(
      b, kernelName, b.getFunctionType({aType, bType, offType, cType}, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  func->setAttr("moe.tile", b.getDenseI64ArrayAttr({BM, BN, BK}));
  func->setAttr("moe.variant", b.getStringAttr("wgmma"));
  func->setAttr("moe.dynamic_smem", b.getI64IntegerAttr(t.sharedBytes()));
  if (t.blocksPerSM > 1)
    func->setAttr("nvvm.minctasm", b.getI32IntegerAttr(t.blocksPerSM));
  Block &entry = func.getBody().front();
  Value A = entry.getArgument(0), B = entry.getArgument(1),
        offsets = entry.getArgument(2), C = entry.getArgument(3);
  b.setInsertionPointToStart(&entry);

  Value c0 = kb.idx(0), cE = kb.idx(p.experts);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value blockN, blockM, expert, firstTile;
  std::tie(blockN, blockM) = blockTile(kb, t.groupM);
  std::tie(expert, firstTile) =
      findExpertByWarp(kb, offsets, blockM, p.experts, BM);
  auto ifFound = scf::IfOp::create(b, kb.ult(expert, cE),
                                   /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifFound.thenBlock());

  Value rowStart =
      kb.add(kb.loadIndex(offsets, expert),
             kb.mul(arith::SubIOp::create(b, blockM, firstTile), BM));
  Value rowEnd = kb.loadIndex(offsets, kb.add(expert, 1));
  Value n0 = kb.mul(blockN, BN);

  // Shared memory: the dynamic block, its start rounded up to 1 KiB; the
  // stages of A, then those of B.
  auto dynType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                 MemRefLayoutAttrInterface(), workgroup);
  Value dyn = gpu::DynamicSharedMemoryOp::create(b, dynType);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, dyn);
  Value aligned = arith::AndIOp::create(b, kb.add(base, 1023), kb.idx(-1024));
  Value shift = arith::SubIOp::create(b, aligned, base);
  const int64_t stageBytesA = BM * BK * 2, stageBytesB = BN * BK * 2;
  auto smemAType = MemRefType::get({S, BM, BK}, bf16,
                                   MemRefLayoutAttrInterface(), workgroup);
  auto smemBType = MemRefType::get({S, BN, BK}, bf16,
                                   MemRefLayoutAttrInterface(), workgroup);
  Value smemA = memref::ViewOp::create(b, smemAType, dyn, shift, ValueRange{});
  Value smemB = memref::ViewOp::create(
      b, smemBType, dyn, kb.add(shift, S * stageBytesA), ValueRange{});
  Type tokenType = nvgpu::DeviceAsyncTokenType::get(ctx);

  // The thread's 16-byte chunk of a row: the same column for every row it
  // copies (rows tid / 8 + 32 i), so the swizzle is computed once.
  Value chunk = kb.rem(tid, 8), rowOfThread = kb.div(tid, 8);
  Value srcCol = kb.mul(chunk, 8);
  Value dstCol =
      kb.mul(arith::XOrIOp::create(b, chunk, kb.rem(rowOfThread, 8)), 8);
  const int64_t rowsPerRound = threads / 8;

  auto loadStep = [&](Value kt, Value stage) -> Value {
    Value kValid = kb.ult(kt, kb.idx(KT));
    Value k0 = kb.add(kb.select(kValid, kb.mul(kt, BK), c0), srcCol);
    Value eight = kb.idx(8);
    Value bytesB = kb.select(kValid, eight, c0);
    SmallVector<Value> tokens;
    for (int64_t i = 0; i < BM / rowsPerRound; ++i) {
      Value row = kb.add(rowOfThread, i * rowsPerRound);
      Value grow = kb.add(rowStart, row);
      Value valid = arith::AndIOp::create(b, kValid, kb.ult(grow, rowEnd));
      tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
          b, tokenType, smemA, ValueRange{stage, row, dstCol}, A,
          ValueRange{kb.select(valid, grow, rowStart), k0}, b.getIndexAttr(8),
          kb.select(valid, eight, c0), b.getUnitAttr()));
    }
    for (int64_t i = 0; i < BN / rowsPerRound; ++i) {
      Value row = kb.add(rowOfThread, i * rowsPerRound);
      tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
          b, tokenType, smemB, ValueRange{stage, row, dstCol}, B,
          ValueRange{expert, kb.add(n0, row), k0}, b.getIndexAttr(8), bytesB,
          b.getUnitAttr()));
    }
    return nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, tokens);
  };

  Value group;
  for (int64_t s = 0; s + 2 < S; ++s)
    group = loadStep(kb.idx(s), kb.idx(s));

  // Matrix descriptors (PTX ISA, "matrix descriptor format"): start address
  // >> 4 in bits 0-13, leading byte offset 16 (unused by K-major swizzled
  // tiles) in bits 16-29, stride byte offset 1024 (8 rows of 128 bytes) in
  // bits 32-45, 128-byte swizzle (1) in bits 62-63. Offsets inside shared
  // memory (under 256 KiB) are added to the address field directly.
  auto c64 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, i64, v);
  };
  const int64_t descHigh =
      (int64_t(1) << 16) | (int64_t(1024 >> 4) << 32) | (int64_t(1) << 62);
  Value aligned64 = arith::IndexCastOp::create(b, i64, aligned);
  auto descriptor = [&](Value address) -> Value {
    Value field = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, address, c64(4)), c64(0x3FFF));
    return arith::OrIOp::create(b, field, c64(descHigh));
  };
  Value warpgroup = arith::IndexCastOp::create(b, i64, kb.div(tid, 128));
  Value descA0 = arith::AddIOp::create(
      b, descriptor(aligned64),
      arith::MulIOp::create(b, warpgroup, c64(64 * BK * 2 / 16)));
  Value descB0 =
      descriptor(arith::AddIOp::create(b, aligned64, c64(S * stageBytesA)));

  auto accType =
      LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(accs, f32));
  Value zeroAcc = LLVM::ZeroOp::create(b, accType);
  auto kLoop = scf::ForOp::create(
      b, c0, kb.idx(KT), kb.idx(1), ValueRange{zeroAcc, group},
      [&](OpBuilder &nb, Location l, Value kt, ValueRange it) {
        ImplicitLocOpBuilder ib(l, nb);
        KernelBuilder k{ib};
        // Step kt has landed (S - 3 younger groups may be pending), is
        // visible to the tensor cores, and every thread is past it.
        nvgpu::DeviceAsyncWaitOp::create(ib, it[1],
                                         ib.getI32IntegerAttr(S - 3));
        NVVM::FenceProxyOp::create(
            ib, NVVM::ProxyKind::async_shared,
            NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
        gpu::BarrierOp::create(ib);

        Value stage64 = arith::IndexCastOp::create(ib, i64, k.rem(kt, S));
        Value dA = arith::AddIOp::create(
            ib, descA0,
            arith::MulIOp::create(ib, stage64, c64(stageBytesA / 16)));
        Value dB = arith::AddIOp::create(
            ib, descB0,
            arith::MulIOp::create(ib, stage64, c64(stageBytesB / 16)));
        NVVM::WgmmaFenceAlignedOp::create(ib);
        Value acc = it[0];
        auto shape = NVVM::MMAShapeAttr::get(ctx, 64, BN, 16);
        for (int64_t ks = 0; ks < BK / 16; ++ks) {
          Value step = c64(ks * 32 / 16);
          acc = NVVM::WgmmaMmaAsyncOp::create(
              ib, accType, acc, arith::AddIOp::create(ib, dA, step),
              arith::AddIOp::create(ib, dB, step), shape,
              NVVM::WGMMATypes::bf16, NVVM::WGMMATypes::bf16,
              NVVM::WGMMATypes::f32, NVVM::WGMMAScaleOut::one,
              NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one,
              NVVM::MMALayout::row, NVVM::MMALayout::col,
              NVVM::MMAIntOverflowAttr());
        }
        NVVM::WgmmaGroupSyncAlignedOp::create(ib);

        Value nextStep = k.add(kt, S - 2);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(ib.getInsertionBlock(), ib.getInsertionPoint());
        Value nextGroup = loadStep(nextStep, kb.rem(nextStep, S));
        ib.setInsertionPoint(b.getInsertionBlock(), b.getInsertionPoint());
        NVVM::WgmmaWaitGroupSyncOp::create(ib, 1);
        scf::YieldOp::create(ib, ValueRange{acc, nextGroup});
      });
  NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
  nvgpu::DeviceAsyncWaitOp::create(b, kLoop.getResult(1),
                                   b.getI32IntegerAttr(0));

  // The accumulator fragment of m64nNk16: in warp w of the warpgroup,
  // accumulator i is row 16 w + lane / 4 + 8 ((i / 2) % 2), columns
  // 8 (i / 4) + 2 (lane % 4) + {0, 1} (pairs i, i + 1).
  Value acc = kLoop.getResult(0);
  Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
  Value cRow = kb.add(kb.add(rowStart, kb.mul(warp, 16)), kb.div(lane, 4));
  Value cCol = kb.add(n0, kb.mul(kb.rem(lane, 4), 2));
  auto pairType = VectorType::get({2}, f32);
  for (int64_t h = 0; h < 2; ++h) {
    Value row = kb.add(cRow, h * 8);
    auto store = scf::IfOp::create(b, kb.ult(row, rowEnd),
                                   /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(store.thenBlock());
    for (int64_t j = 0; j < BN / 8; ++j) {
      int64_t i = j * 4 + h * 2;
      Value lo = LLVM::ExtractValueOp::create(b, acc, ArrayRef<int64_t>{i});
      Value hi = LLVM::ExtractValueOp::create(b, acc, ArrayRef<int64_t>{i + 1});
      Value pair =
          vector::FromElementsOp::create(b, pairType, ValueRange{lo, hi});
      Value rounded =
          arith::TruncFOp::create(b, VectorType::get({2}, bf16), pair);
      vector::StoreOp::create(b, rounded, C,
                              ValueRange{row, kb.add(cCol, j * 8)},
                              /*nontemporal=*/false, llvm::MaybeAlign(4));
    }
  }
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
  return gpuModule;
}

gpu::GPUModuleOp mlir::moe::buildGroupedMatmulKernel(
    OpBuilder &builder, Location loc, const GroupedMatmulProblem &p,
    const GroupedMatmulTiling &t, StringRef moduleName, StringRef kernelName) {
  return t.wgmma
             ? buildWgmmaKernel(builder, loc, p, t, moduleName, kernelName)
             : buildMmaSyncKernel(builder, loc, p, t, moduleName, kernelName);
}

namespace {
struct MoEGPUGroupedMatmulKernelPass
    : public moe::impl::MoEGPUGroupedMatmulKernelPassBase<
          MoEGPUGroupedMatmulKernelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    GroupedMatmulProblem problem{n, k, experts, chip, blockN, stages};
    std::string why;
    FailureOr<GroupedMatmulTiling> tiling =
        chooseGroupedMatmulTiling(problem, why);
    if (failed(tiling)) {
      module.emitError() << "moe-gpu-grouped-matmul-kernel: n=" << problem.n
                         << " k=" << problem.k << " experts=" << problem.experts
                         << ": " << why;
      return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    buildGroupedMatmulKernel(builder, module.getLoc(), problem, *tiling,
                             moduleName, kernelName);
  }
};
} // namespace
