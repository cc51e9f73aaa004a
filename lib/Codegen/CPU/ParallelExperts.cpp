//===- ParallelExperts.cpp - Experts shared among threads -----------------===//
//
// A grouped product's expert loop (scf.for marked moe.expert_loop) becomes
//
//   if (E >= experts-per-thread * omp_get_max_threads() &&
//       offsets[E] - offsets[0] >= min-rows * E)   (min-rows > 0 only)
//     omp.parallel { omp.wsloop schedule(dynamic) { body(e) } }
//   else
//     the loop as it was
//
// so that a layer of many experts runs its experts on all
// threads, each expert's code (gather, fill, matmuls, epilogue) on one,
// instead of one parallel loop per expert and projection with the code
// between them on one thread. moe-cpu-matmul-kernels gives the matmuls inside
// an omp.loop_nest serial loops.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"
#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"

#include "RuntimeChoice.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOECPUPARALLELEXPERTSPASS
#include "moe-mlir/Codegen/CPU/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

constexpr StringLiteral kMaxThreads = "omp_get_max_threads";

/// The offsets [E + 1] the loop reads at [e]: a memref defined outside it,
/// loaded in its body at the induction variable.
Value findOffsets(scf::ForOp loop, int64_t experts) {
  Value found;
  loop.getBody()->walk([&](memref::LoadOp load) {
    if (found || load.getIndices().size() != 1 ||
        load.getIndices()[0] != loop.getInductionVar())
      return;
    auto type = dyn_cast<MemRefType>(load.getMemRef().getType());
    if (!type || type.getShape() != ArrayRef<int64_t>{experts + 1} ||
        !type.getElementType().isInteger(32) ||
        loop->isAncestor(load.getMemRef().getParentBlock()->getParentOp()))
      return;
    found = load.getMemRef();
  });
  return found;
}

/// omp.parallel { omp.wsloop schedule(dynamic) { omp.loop_nest (%e) = (lb)
/// to (ub) step (1) { body } } }, the body moved from `loop`.
void buildParallelLoop(OpBuilder &b, scf::ForOp loop) {
  Location loc = loop.getLoc();
  MLIRContext *context = b.getContext();
  auto parallel = omp::ParallelOp::create(b, loc, omp::ParallelOperands{});
  Block *parallelBlock = b.createBlock(&parallel.getRegion());
  auto wsloop = omp::WsloopOp::create(b, loc, omp::WsloopOperands{});
  wsloop.setScheduleKindAttr(omp::ClauseScheduleKindAttr::get(
      context, omp::ClauseScheduleKind::Dynamic));
  b.setInsertionPointToEnd(parallelBlock);
  omp::TerminatorOp::create(b, loc);
  b.createBlock(&wsloop.getRegion());
  auto nest = omp::LoopNestOp::create(
      b, loc, /*collapse_num_loops=*/1, ValueRange{loop.getLowerBound()},
      ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()},
      /*loop_inclusive=*/false, /*tile_sizes=*/nullptr);
  Region &body = nest.getRegion();
  body.takeBody(loop.getRegion());
  Block &entry = body.front();
  Operation *yield = entry.getTerminator();
  b.setInsertionPoint(yield);
  omp::YieldOp::create(b, yield->getLoc());
  yield->erase();
}

struct MoECPUParallelExpertsPass
    : public moe::impl::MoECPUParallelExpertsPassBase<
          MoECPUParallelExpertsPass> {
  using MoECPUParallelExpertsPassBase::MoECPUParallelExpertsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (minRows < 0 || expertsPerThread < 1) {
      module.emitError() << "moe-cpu-parallel-experts: min-rows must be at "
                            "least 0 and experts-per-thread at least 1";
      return signalPassFailure();
    }
    SmallVector<std::pair<scf::ForOp, Value>> loops;
    module.walk([&](scf::ForOp loop) {
      if (!loop->hasAttr(moe::kExpertLoopAttrName) || loop.getNumResults() ||
          getConstantIntValue(loop.getStep()) != 1 ||
          getConstantIntValue(loop.getLowerBound()) != 0)
        return;
      int64_t experts = getConstantIntValue(loop.getUpperBound()).value_or(0);
      if (experts < 2)
        return;
      if (Value offsets = findOffsets(loop, experts))
        loops.emplace_back(loop, offsets);
    });
    if (loops.empty())
      return;

    // int32_t omp_get_max_threads(void), from the OpenMP runtime that the
    // lowered parallel loops call anyway.
    OpBuilder b(module.getBodyRegion());
    auto maxThreads = module.lookupSymbol<func::FuncOp>(kMaxThreads);
    if (!maxThreads) {
      b.setInsertionPointToStart(module.getBody());
      maxThreads =
          func::FuncOp::create(b, module.getLoc(), kMaxThreads,
                               b.getFunctionType({}, {b.getI32Type()}));
      maxThreads.setPrivate();
    }

    for (auto [loop, offsets] : loops) {
      Location loc = loop.getLoc();
      int64_t experts = *getConstantIntValue(loop.getUpperBound());
      b.setInsertionPoint(loop);
      auto index = [&](int64_t v) {
        return arith::ConstantIndexOp::create(b, loc, v);
      };
      auto load = [&](int64_t at) {
        Value word =
            memref::LoadOp::create(b, loc, offsets, ValueRange{index(at)});
        return arith::IndexCastOp::create(b, loc, b.getIndexType(), word);
      };
      Value threads = arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          func::CallOp::create(b, loc, maxThreads, ValueRange{}).getResult(0));
      Value needed =
          arith::MulIOp::create(b, loc, threads, index(expertsPerThread));
      Value enoughExperts = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sle, needed, index(experts));
      Value shared = enoughExperts;
      if (minRows > 0) {
        // Separate statements: the order of the ops does not depend on the
        // order in which a compiler evaluates arguments.
        Value last = load(experts);
        Value first = load(0);
        Value rows = arith::SubIOp::create(b, loc, last, first);
        Value enoughRows = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::sge, rows, index(minRows * experts));
        shared = arith::AndIOp::create(b, loc, enoughRows, enoughExperts);
      }
      moe::chooseParallelAtRunTime(b, loop, shared, buildParallelLoop);
    }
  }
};
} // namespace
