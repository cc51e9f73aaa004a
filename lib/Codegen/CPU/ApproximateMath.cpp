//===- ApproximateMath.cpp - Polynomial exp, tanh, erf where afn allows ---===//
//
// LLVM has no vector exp, tanh or erf of its own on x86: a vector
// math.exp becomes one libm call per lane. Where the op's fast-math flags
// allow an approximation (afn), MLIR's polynomial approximations give
// vector arith instead. Only the marked ops are rewritten: a module keeps
// the exact functions wherever its producer did not opt out of them.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOECPUAPPROXIMATEMATHPASS
#include "moe-mlir/Codegen/CPU/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

bool allowsApproximation(Operation *op) {
  if (!isa<math::ExpOp, math::TanhOp, math::ErfOp>(op))
    return false;
  if (!getElementTypeOrSelf(op->getResult(0).getType()).isF32())
    return false;
  auto fastMath = cast<arith::ArithFastMathInterface>(op);
  return arith::bitEnumContainsAll(fastMath.getFastMathFlagsAttr().getValue(),
                                   arith::FastMathFlags::afn);
}

struct ApproximateMathPass
    : moe::impl::MoECPUApproximateMathPassBase<ApproximateMathPass> {
  void runOnOperation() override {
    SmallVector<Operation *> marked;
    getOperation().walk([&](Operation *op) {
      if (allowsApproximation(op))
        marked.push_back(op);
    });
    if (marked.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == math::ExpOp::getOperationName() ||
             name == math::TanhOp::getOperationName() ||
             name == math::ErfOp::getOperationName();
    });
    // Only the marked ops: the approximations' own ops are not math
    // functions, and unmarked ones keep the exact call.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(applyOpPatternsGreedily(marked, std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
