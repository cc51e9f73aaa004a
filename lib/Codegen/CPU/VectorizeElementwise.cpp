//===- VectorizeElementwise.cpp - Vector code for elementwise linalg ops --===//
//
// The linalg ops around the matmuls (fills, copies, the dispatch's row
// gather, activations, scales) are elementwise over a static innermost
// dimension (D, F, E). Lowered to loops they stay scalar: LLVM's loop
// vectorizer does not take the loops convert-linalg-to-loops emits. This
// pass tiles each such op by one along the outer dimensions and by the
// vector width along the innermost one, and vectorizes the tiles with
// linalg's vectorizer (tensor.extract becomes contiguous loads or gathers).
// Elementwise arithmetic is the same operation per element in vector form:
// results are bitwise those of the scalar loops.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"
#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <optional>

namespace mlir::moe {
#define GEN_PASS_DEF_MOECPUVECTORIZEELEMENTWISEPASS
#include "moe-mlir/Codegen/CPU/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

/// The loop a linalg op's vectors run along: its last parallel loop, when
/// its static size is a multiple of `width`; fills and contractions are
/// left alone (fills: `vectorizeFill`; contractions: the matmul kernels).
/// Other loops are tiled by one, reductions included, so that every
/// reduction keeps its order.
std::optional<unsigned> vectorLoop(linalg::LinalgOp op, int64_t width) {
  if (isa<linalg::FillOp>(op) || op.getNumLoops() == 0 ||
      linalg::isaContractionOpInterface(op))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (unsigned loop = op.getNumLoops(); loop-- > 0;) {
    if (iterators[loop] != utils::IteratorType::parallel)
      continue;
    if (ShapedType::isDynamic(ranges[loop]) || ranges[loop] % width != 0)
      return std::nullopt;
    return loop;
  }
  return std::nullopt;
}

/// On tensors, only the gathers (a tensor.extract in the body: the
/// vectorizer turns it into contiguous loads or gathers; on buffers it is a
/// memref.load the vectorizer does not take). The rest waits for buffers:
/// tiled on tensors, an op that reads a product's result could make
/// bufferization copy the products' shared accumulator.
bool isTensorCandidate(linalg::LinalgOp op, int64_t width) {
  if (!op.hasPureTensorSemantics() || !vectorLoop(op, width))
    return false;
  bool gathers = false;
  op->walk([&](tensor::ExtractOp) { gathers = true; });
  return gathers;
}

bool isBufferCandidate(linalg::LinalgOp op, int64_t width) {
  if (!op.hasPureBufferSemantics() || !vectorLoop(op, width))
    return false;
  bool loads = false;
  op->walk([&](memref::LoadOp) { loads = true; });
  return !loads;
}

/// Marks `loop` as a loop over independent rows, one an iteration
/// (moe-cpu-parallel-rows reads the mark).
void markRowLoop(Operation *loop) {
  loop->setAttr(moe::kParallelRowsAttrName,
                Builder(loop->getContext()).getI64IntegerAttr(1));
}

/// Marks `loop`, the loop of a tiled op over its outermost dimension, when
/// that dimension is parallel and not the vectors' own.
void markTiledRowLoop(Operation *loop, linalg::LinalgOp op, int64_t width) {
  if (loop && op.getNumLoops() >= 2 && *vectorLoop(op, width) != 0 &&
      op.getIteratorTypesArray()[0] == utils::IteratorType::parallel)
    markRowLoop(loop);
}

/// A fill of a buffer whose innermost dimension is static, contiguous and a
/// multiple of `width`: loops over the outer dimensions storing splats (the
/// outermost marked as a loop over rows).
bool vectorizeFill(linalg::FillOp fill, int64_t width) {
  if (!fill.hasPureBufferSemantics())
    return false;
  Value buffer = fill.getDpsInitOperand(0)->get();
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (type.getRank() == 0 ||
      failed(type.getStridesAndOffset(strides, offset)) ||
      strides.back() != 1 || ShapedType::isDynamic(type.getShape().back()) ||
      type.getShape().back() % width != 0)
    return false;
  ImplicitLocOpBuilder b(fill.getLoc(), fill);
  auto vectorType = VectorType::get({width}, type.getElementType());
  Value splat = vector::BroadcastOp::create(b, vectorType,
                                            fill.getDpsInputOperand(0)->get());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lbs.push_back(arith::ConstantIndexOp::create(b, 0));
    ubs.push_back(memref::DimOp::create(b, buffer, d));
    steps.push_back(
        arith::ConstantIndexOp::create(b, d + 1 == type.getRank() ? width : 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, b.getLoc(), lbs, ubs, steps,
      [&](OpBuilder &nested, Location loc, ValueRange ivs) {
        vector::StoreOp::create(nested, loc, splat, buffer, ivs);
      });
  if (type.getRank() >= 2)
    markRowLoop(nest.loops.front());
  fill.erase();
  return true;
}

/// In a tile, an input read at one element (all its tile extents are 1: a
/// row index of a gather, a row's scale) is the same for every lane. Read
/// before the op, it is a value the vectorizer sees as uniform: a
/// `tensor.extract` indexed by it becomes one contiguous vector load
/// instead of a gather of `width` lanes.
void hoistUniformInputs(RewriterBase &rewriter, linalg::GenericOp tile) {
  for (OpOperand *input : tile.getDpsInputOperands()) {
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    BlockArgument arg = tile.getMatchingBlockArgument(input);
    if (!type || !type.hasStaticShape() || type.getNumElements() != 1 ||
        arg.use_empty())
      continue;
    rewriter.setInsertionPoint(tile);
    Value zero = arith::ConstantIndexOp::create(rewriter, tile.getLoc(), 0);
    SmallVector<Value> indices(type.getRank(), zero);
    Value element = tensor::ExtractOp::create(rewriter, tile.getLoc(),
                                              input->get(), indices);
    rewriter.replaceAllUsesWith(arg, element);
  }
}

struct MoECPUVectorizeElementwisePass
    : public moe::impl::MoECPUVectorizeElementwisePassBase<
          MoECPUVectorizeElementwisePass> {
  using MoECPUVectorizeElementwisePassBase::MoECPUVectorizeElementwisePassBase;

  void runOnOperation() override {
    if (vectorWidth <= 0) {
      getOperation()->emitError()
          << "moe-cpu-vectorize-elementwise: vector-width must be positive, "
             "got "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    SmallVector<linalg::FillOp> fills;
    getOperation()->walk([&](linalg::FillOp fill) { fills.push_back(fill); });
    for (linalg::FillOp fill : fills)
      vectorizeFill(fill, vectorWidth);

    SmallVector<linalg::LinalgOp> onTensors, onBuffers;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (isTensorCandidate(op, vectorWidth))
        onTensors.push_back(op);
      else if (isBufferCandidate(op, vectorWidth))
        onBuffers.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    auto tileSizesOf = [&](linalg::LinalgOp op) {
      SmallVector<int64_t> sizes(op.getNumLoops(), 1);
      sizes[*vectorLoop(op, vectorWidth)] = vectorWidth;
      return sizes;
    };
    // A tile the vectorizer does not take stays a (smaller) linalg op.
    auto vectorizeTile = [&](Operation *tile) {
      if (auto generic = dyn_cast<linalg::GenericOp>(tile))
        if (generic.hasPureTensorSemantics())
          hoistUniformInputs(rewriter, generic);
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> vectorized =
          linalg::vectorize(rewriter, tile, /*inputVectorSizes=*/{},
                            /*inputScalableVecDims=*/{},
                            /*vectorizeNDExtract=*/true);
      if (failed(vectorized))
        return;
      if (tile->getNumResults())
        rewriter.replaceOp(tile, vectorized->replacements);
      else
        rewriter.eraseOp(tile);
    };
    // The vector loop innermost: a tile's vectors are then [1, ..., 1, w],
    // with w along the contiguous dimension, which the vectorizer reads as
    // contiguous loads. A reduction loop after it (the combine's slots)
    // moves outward: each output element still takes its terms in the same
    // order.
    auto vectorLoopInnermost = [&](linalg::LinalgOp op) -> linalg::LinalgOp {
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      unsigned loop = *vectorLoop(op, vectorWidth);
      if (!generic || loop + 1 == op.getNumLoops())
        return op;
      SmallVector<unsigned> order;
      for (unsigned l = 0; l < op.getNumLoops(); ++l)
        if (l != loop)
          order.push_back(l);
      order.push_back(loop);
      rewriter.setInsertionPoint(generic);
      FailureOr<linalg::GenericOp> interchanged =
          linalg::interchangeGenericOp(rewriter, generic, order);
      return succeeded(interchanged) ? *interchanged : op;
    };
    for (linalg::LinalgOp &op : onTensors)
      op = vectorLoopInnermost(op);
    for (linalg::LinalgOp &op : onBuffers)
      op = vectorLoopInnermost(op);

    for (linalg::LinalgOp op : onTensors) {
      scf::SCFTilingOptions options;
      options.setTileSizes(
          getAsIndexOpFoldResult(&getContext(), tileSizesOf(op)));
      rewriter.setInsertionPoint(op);
      // Without linalg's TilingInterface models (a context that registered
      // the dialects alone) the op stays as it is.
      auto tileable = dyn_cast<TilingInterface>(op.getOperation());
      if (!tileable)
        continue;
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, tileable, options);
      if (failed(tiled))
        continue;
      if (!tiled->loops.empty())
        markTiledRowLoop(tiled->loops.front(), op, vectorWidth);
      rewriter.replaceOp(op, tiled->replacements);
      for (Operation *tile : tiled->tiledOps)
        vectorizeTile(tile);
    }
    for (linalg::LinalgOp op : onBuffers) {
      linalg::LinalgTilingOptions options;
      options.setTileSizes(tileSizesOf(op));
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::TiledLinalgOp> tiled =
          linalg::tileLinalgOp(rewriter, op, options);
      if (failed(tiled))
        continue;
      if (!tiled->loops.empty())
        markTiledRowLoop(tiled->loops.front(), op, vectorWidth);
      rewriter.eraseOp(op);
      vectorizeTile(tiled->op);
    }

    // The tiles' vectors are [1, ..., 1, w]: to 1-D vectors, which the
    // LLVM lowering takes as they are.
    RewritePatternSet patterns(&getContext());
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::populateDropUnitDimWithShapeCastPatterns(patterns);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
