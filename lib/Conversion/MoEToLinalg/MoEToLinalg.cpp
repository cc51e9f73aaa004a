//===- MoEToLinalg.cpp - The convert-moe-to-linalg pass -------------------===//

#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "LoweringUtils.h"

#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
#define GEN_PASS_DEF_CONVERTMOETOLINALGPASS
#include "moe-mlir/Conversion/Passes.h.inc"
} // namespace mlir

using namespace mlir;
using namespace mlir::moe;

void mlir::moe::populateMoEToLinalgConversionPatterns(
    RewritePatternSet &patterns) {
  detail::populateRoutePatterns(patterns);
  detail::populateGatePatterns(patterns);
  detail::populateDispatchPatterns(patterns);
  detail::populateExpertsAndCombinePatterns(patterns);
  detail::populateGroupedMatmulPatterns(patterns);
}

namespace {
struct ConvertMoEToLinalgPass
    : public impl::ConvertMoEToLinalgPassBase<ConvertMoEToLinalgPass> {
  void runOnOperation() override {
    // A whole layer must be split first; say so at the op rather than let
    // the conversion report a generic legalization failure.
    WalkResult unexpanded =
        getOperation()->walk([](LayerOp layer) {
          layer.emitOpError()
              << "must be expanded before lowering: run moe-expand-layer first";
          return WalkResult::interrupt();
        });
    if (unexpanded.wasInterrupted())
      return signalPassFailure();

    ConversionTarget target(getContext());
    target.addIllegalDialect<MoEDialect>();
    // Exchanges between ranks are runtime calls: convert-moe-to-runtime's.
    target.addLegalOp<AllToAllOp>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(&getContext());
    populateMoEToLinalgConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
