//===- RuntimeChoice.cpp - A loop's parallel form, chosen at run time -----===//

#include "RuntimeChoice.h"

using namespace mlir;

void mlir::moe::chooseParallelAtRunTime(
    OpBuilder &b, scf::ForOp loop, Value condition,
    llvm::function_ref<void(OpBuilder &, scf::ForOp)> buildParallel) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop);
  auto choice =
      scf::IfOp::create(b, loop.getLoc(), condition, /*withElseRegion=*/true);
  // Then: a copy of the loop, its body moved into the parallel form.
  b.setInsertionPointToStart(choice.thenBlock());
  auto copy = cast<scf::ForOp>(b.clone(*loop));
  b.setInsertionPoint(copy);
  buildParallel(b, copy);
  copy.erase();
  // Else: the loop as it was.
  loop->moveBefore(choice.elseBlock()->getTerminator());
}
