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
  t.warpsM = std::min<int64_t>(t.blockM / 16,
                               std::max<int64_t>(1, warps / t.warpsN));
  // As many stages as 48 KiB of static shared memory holds, 2 to 4.
  t.stages = 2;
  int64_t stageBytes = t.sharedBytes() / t.stages;
  while (t.stages < 4 && (t.stages + 1) * stageBytes <= 48 * 1024)
    ++t.stages;
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

gpu::GPUModuleOp mlir::moe::buildGroupedMatmulKernel(
    OpBuilder &builder, Location loc, const GroupedMatmulProblem &p,
    const GroupedMatmulTiling &t, StringRef moduleName, StringRef kernelName) {
  ImplicitLocOpBuilder b(loc, builder);
  KernelBuilder kb{b};
  MLIRContext *ctx = b.getContext();
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type(), i32 = b.getI32Type();

  const int64_t BM = t.blockM, BN = t.blockN, BK = t.blockK, S = t.stages;
  const int64_t threads = t.threads();
  const int64_t TM = BM / t.warpsM, TN = BN / t.warpsN; // a warp's tile
  const int64_t MT = TM / 16, NT = TN / 8;               // its mma tiles
  const int64_t KT = p.k / BK;                           // k steps
  const int64_t ld = BK + t.pad; // shared rows: 16-byte multiple, no conflicts

  auto gpuModule = gpu::GPUModuleOp::create(b, moduleName);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(gpuModule.getBody());

  // Shared memory: S stages of the A and B tiles, as static globals.
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto smemAType =
      MemRefType::get({S, BM, ld}, bf16, MemRefLayoutAttrInterface(), workgroup);
  auto smemBType =
      MemRefType::get({S, BN, ld}, bf16, MemRefLayoutAttrInterface(), workgroup);
  for (auto [name, type] : {std::pair{"smem_a", smemAType},
                            std::pair{"smem_b", smemBType}})
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
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  func->setAttr("moe.tile", b.getDenseI64ArrayAttr({BM, BN, BK}));
  Block &entry = func.getBody().front();
  Value A = entry.getArgument(0), B = entry.getArgument(1),
        offsets = entry.getArgument(2), C = entry.getArgument(3);
  b.setInsertionPointToStart(&entry);

  Value c0 = kb.idx(0), c1 = kb.idx(1), cE = kb.idx(p.experts);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value blockN = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value blockM = gpu::BlockIdOp::create(b, gpu::Dimension::y);

  // 1. The expert of this row tile: the e with
  //    prefix(e) <= blockM < prefix(e) + ceil(rows(e) / BM).
  auto search = scf::ForOp::create(
      b, c0, cE, c1, ValueRange{c0, cE, c0},
      [&](OpBuilder &nb, Location l, Value e, ValueRange it) {
        ImplicitLocOpBuilder ib(l, nb);
        KernelBuilder k{ib};
        Value start = k.loadIndex(offsets, e);
        Value end = k.loadIndex(offsets, k.add(e, 1));
        Value rows = arith::MaxSIOp::create(
            ib, arith::SubIOp::create(ib, end, start), k.idx(0));
        Value tiles = k.div(k.add(rows, BM - 1), BM);
        Value next = k.add(it[0], tiles);
        Value here = arith::AndIOp::create(
            ib, arith::CmpIOp::create(ib, arith::CmpIPredicate::uge, blockM,
                                      it[0]),
            k.ult(blockM, next));
        scf::YieldOp::create(ib, ValueRange{next, k.select(here, e, it[1]),
                                            k.select(here, it[0], it[2])});
      });
  Value expert = search.getResult(1), firstTile = search.getResult(2);
  auto ifFound = scf::IfOp::create(b, kb.ult(expert, cE),
                                   /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifFound.thenBlock());

  Value rowStart = kb.add(kb.loadIndex(offsets, expert),
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
      Value valid =
          arith::AndIOp::create(b, kValid, kb.ult(grow, rowEnd));
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
            Value pair = vector::ExtractOp::create(ib, frag, ArrayRef<int64_t>{j});
            Value word = vector::BitCastOp::create(
                ib, VectorType::get({1}, i32), pair);
            out.push_back(
                vector::ExtractOp::create(ib, word, ArrayRef<int64_t>{0}));
          }
          return out;
        };
        auto structType = LLVM::LLVMStructType::getLiteral(
            ctx, SmallVector<Type>(4, f32));
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
                c[j] = LLVM::ExtractValueOp::create(ib, d, ArrayRef<int64_t>{j});
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
  Value cCol = kb.add(kb.add(n0, kb.mul(warpN, TN)), kb.mul(kb.rem(lane, 4), 2));
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

namespace {
struct MoEGPUGroupedMatmulKernelPass
    : public moe::impl::MoEGPUGroupedMatmulKernelPassBase<
          MoEGPUGroupedMatmulKernelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    GroupedMatmulProblem problem{n, k, experts};
    std::string why;
    FailureOr<GroupedMatmulTiling> tiling =
        chooseGroupedMatmulTiling(problem, why);
    if (failed(tiling)) {
      module.emitError() << "moe-gpu-grouped-matmul-kernel: n=" << problem.n
                         << " k=" << problem.k
                         << " experts=" << problem.experts << ": " << why;
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
