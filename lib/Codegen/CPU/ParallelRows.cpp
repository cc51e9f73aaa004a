//===- ParallelRows.cpp - Elementwise rows shared among threads -----------===//
//
// The code between the matmul kernels (the rows' gather, the accumulators'
// fill, the activation, the combine) is elementwise over rows. On one
// thread, while the kernels use them all, it leaves the other threads
// waiting: a tenth of a Mixtral-shaped layer at T = 4096 on 2 threads. So
// does the gate's loop over token tiles. A loop marked moe.parallel_rows
// (by convert-moe-to-linalg or moe-cpu-vectorize-elementwise; its value: the
// rows an iteration covers) becomes
//
//   if ((ub - lb) * rows per iteration >= min-rows)
//     scf.parallel over the rows (convert-scf-to-openmp: omp.wsloop)
//   else
//     the loop as it was
//
// so that a few rows (decode) pay no fork and join. Each row is the same
// operations in either form: the results are bitwise the same.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"
#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"

#include "RuntimeChoice.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOECPUPARALLELROWSPASS
#include "moe-mlir/Codegen/CPU/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

/// Whether `loop` already runs inside a parallel region or loop: there its
/// rows stay on the thread that runs it.
bool insideParallelCode(scf::ForOp loop) {
  for (Operation *parent = loop->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ParallelOp, scf::ForallOp, omp::ParallelOp, omp::WsloopOp>(
            parent))
      return true;
  return false;
}

/// scf.parallel over `loop`'s iterations, its body moved from `loop`.
void buildParallelLoop(OpBuilder &b, scf::ForOp loop) {
  auto parallel = scf::ParallelOp::create(
      b, loop.getLoc(), ValueRange{loop.getLowerBound()},
      ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
  Block *body = parallel.getBody();
  // The new loop's body holds only its terminator: the loop's operations
  // go before it, and its induction variable is the new one.
  Operation *reduce = body->getTerminator();
  Block *source = loop.getBody();
  source->getTerminator()->erase();
  body->getOperations().splice(reduce->getIterator(), source->getOperations());
  loop.getInductionVar().replaceAllUsesWith(parallel.getInductionVars()[0]);
}

struct MoECPUParallelRowsPass
    : public moe::impl::MoECPUParallelRowsPassBase<MoECPUParallelRowsPass> {
  using MoECPUParallelRowsPassBase::MoECPUParallelRowsPassBase;

  void runOnOperation() override {
    if (minRows < 1) {
      getOperation()->emitError()
          << "moe-cpu-parallel-rows: min-rows must be at least 1, got "
          << static_cast<int64_t>(minRows);
      return signalPassFailure();
    }
    // Each marked loop with the rows one iteration covers, outer loops
    // first: an outer loop's parallel copy then holds its inner loops
    // unmarked (serial), and the inner loops get their choice in the
    // outer's serial form.
    SmallVector<std::pair<scf::ForOp, int64_t>> loops;
    getOperation()->walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
      auto rowsPerIteration =
          loop->getAttrOfType<IntegerAttr>(moe::kParallelRowsAttrName);
      if (!rowsPerIteration)
        return;
      // The mark has done its work whether or not the loop changes.
      loop->removeAttr(moe::kParallelRowsAttrName);
      if (!loop.getNumResults() && rowsPerIteration.getInt() >= 1 &&
          getConstantIntValue(loop.getStep()) == std::optional<int64_t>(1) &&
          !insideParallelCode(loop))
        loops.emplace_back(loop, rowsPerIteration.getInt());
    });

    OpBuilder b(&getContext());
    for (auto [loop, rowsPerIteration] : loops) {
      Location loc = loop.getLoc();
      b.setInsertionPoint(loop);
      Value iterations = arith::SubIOp::create(b, loc, loop.getUpperBound(),
                                               loop.getLowerBound());
      // ceil(min-rows / rows per iteration) iterations cover min-rows.
      int64_t minIterations =
          (minRows + rowsPerIteration - 1) / rowsPerIteration;
      Value enoughRows = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sge, iterations,
          arith::ConstantIndexOp::create(b, loc, minIterations));
      moe::chooseParallelAtRunTime(b, loop, enoughRows, buildParallelLoop);
    }
  }
};
} // namespace
