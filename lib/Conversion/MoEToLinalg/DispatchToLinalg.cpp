//===- DispatchToLinalg.cpp - moe.dispatch to scf loops and a gather ------===//
//
// The routing plan is built by three sequential loops over small integer
// tensors, then the token rows are gathered by one parallel linalg.generic:
//   1. keep: one loop over the T * k assignments in priority order (j major,
//      t minor) against the per-expert capacity; rows[t, j] is marked 0
//      (kept) or -1 (dropped);
//   2. offsets: exclusive scan of the kept counts;
//   3. place: one loop over the assignments in token order (t major, j
//      minor); kept ones get consecutive rows of their expert's segment;
//      rows[] and sources[] are filled in;
//   4. gather: dispatched[r, :] = tokens[sources[r], :], or zeros.
// The loops carry rows flat ([T * k], expanded to [T, k] at the end) and
// write sources[] through selects: no loop nest or scf.if carries a
// dynamically shaped tensor and no scalar is inserted into a rank-2 tensor,
// two host-level patterns IREE cannot handle (docs/IREE.md).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>
#include <tuple>

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::detail;
using arith::CmpIPredicate;

namespace {

/// The per-expert capacity as an index value. Dropless uses T * k, which no
/// expert can exceed. The factor form is computed in f64 exactly as the
/// reference does: ceil(f * T * k / E - 1e-9).
Value buildCapacity(ImplicitLocOpBuilder &b, CapacityAttr capacity,
                    Value numRows, int64_t numExperts) {
  Arith a{b};
  switch (capacity.getKind()) {
  case CapacityKind::dropless:
    return numRows;
  case CapacityKind::fixed:
    return a.index(capacity.getCapacity());
  case CapacityKind::factor: {
    Value rows = arith::UIToFPOp::create(
        b, b.getF64Type(),
        arith::IndexCastUIOp::create(b, b.getI64Type(), numRows));
    // One op per statement: argument evaluation order is unspecified in
    // C++, and the IR must not depend on the host compiler.
    Value factor = a.f64(capacity.getFactorValue());
    Value experts = a.f64(double(numExperts));
    Value scaled = a.div(a.mul(factor, rows), experts);
    Value epsilon = a.f64(1e-9);
    Value rounded = math::CeilOp::create(b, a.sub(scaled, epsilon));
    return arith::IndexCastOp::create(
        b, b.getIndexType(),
        arith::FPToSIOp::create(b, b.getI64Type(), rounded));
  }
  }
  llvm_unreachable("covered switch");
}

/// The keep decisions of the `probability` drop policy: each expert keeps
/// the `capacity` assignments with the largest priority weights (NaN counts
/// as -inf; equal weights in the position order i = j * T + t). The valid
/// assignments are first grouped by expert (in position order), then each
/// one's rank among its expert's is counted: the work is the sum over the
/// experts of their assignment counts squared. Returns the kept counts
/// [E], the flat marks [T * k] (0 kept, -1 dropped) and the dropped count.
std::tuple<Value, Value, Value>
keepByProbability(ImplicitLocOpBuilder &b, Value ids, Value priority,
                  Value numTokens, Value k, Value numRows, Value capacity,
                  int64_t numExperts, RankedTensorType flatRowsType,
                  RankedTensorType countsType) {
  Arith a{b};
  Value zero = a.i32(0), one = a.i32(1), minusOne = a.i32(-1);
  Value numExpertsI32 = a.i32(numExperts);
  // Assignment i in position order: (t, j) = (i % T, i / T).
  auto assignment = [&](Value i) -> std::pair<Value, Value> {
    Value j = arith::DivUIOp::create(b, i, numTokens);
    Value t = arith::RemUIOp::create(b, i, numTokens);
    return {t, j};
  };
  auto expertOf = [&](Value t, Value j) -> std::pair<Value, Value> {
    Value e = tensor::ExtractOp::create(b, ids, ValueRange{t, j});
    Value valid = a.andI(a.cmpi(CmpIPredicate::sge, e, zero),
                         a.cmpi(CmpIPredicate::slt, e, numExpertsI32));
    return {valid, a.toIndex(a.select(valid, e, zero))};
  };
  auto weightOf = [&](Value t, Value j) -> Value {
    Value w = tensor::ExtractOp::create(b, priority, ValueRange{t, j});
    Value isNaN = a.cmpf(arith::CmpFPredicate::UNO, w, w);
    Value negInf = a.f32(-std::numeric_limits<double>::infinity());
    return a.select(isNaN, negInf, w);
  };

  // a. Valid assignments per expert.
  Value totals = buildFor(
      b, numRows, ValueRange{filledTensor(b, countsType, {}, zero)},
      [&](Value i, ValueRange iter) -> SmallVector<Value> {
        auto [t, j] = assignment(i);
        auto [valid, slot] = expertOf(t, j);
        Value count = tensor::ExtractOp::create(b, iter[0], ValueRange{slot});
        Value next = a.select(valid, a.add(count, one), count);
        return {tensor::InsertOp::create(b, next, iter[0], ValueRange{slot})
                    .getResult()};
      })[0];
  // b. Each expert's first member slot (exclusive scan), as cursors.
  SmallVector<Value> scan = buildFor(
      b, numExperts,
      ValueRange{tensor::EmptyOp::create(b, countsType, ValueRange{}), zero},
      [&](Value e, ValueRange iter) -> SmallVector<Value> {
        Value count = tensor::ExtractOp::create(b, totals, ValueRange{e});
        Value starts =
            tensor::InsertOp::create(b, iter[1], iter[0], ValueRange{e});
        return {starts, a.add(iter[1], count)};
      });
  Value starts = scan[0];
  // c. members[slot] = assignment index, grouped by expert, position order.
  Value members = tensor::EmptyOp::create(
      b, flatRowsType, dynamicSizesOf(flatRowsType, {numRows}));
  members = buildFor(
      b, numRows, ValueRange{starts, members},
      [&](Value i, ValueRange iter) -> SmallVector<Value> {
        auto [t, j] = assignment(i);
        auto [valid, slot] = expertOf(t, j);
        Value cursor = tensor::ExtractOp::create(b, iter[0], ValueRange{slot});
        Value nextCursor = a.select(valid, a.add(cursor, one), cursor);
        Value cursors =
            tensor::InsertOp::create(b, nextCursor, iter[0], ValueRange{slot});
        // An invalid assignment rewrites slot 0 with its old value.
        Value target = a.toIndex(a.select(valid, cursor, zero));
        Value old = tensor::ExtractOp::create(b, iter[1], ValueRange{target});
        Value member = a.select(valid, a.toI32(i), old);
        Value newMembers =
            tensor::InsertOp::create(b, member, iter[1], ValueRange{target});
        return {cursors, newMembers};
      })[1];
  Value numValid = a.toIndex(scan[1]);

  // d. Rank of each valid assignment among its expert's; kept below the
  //    capacity. Marks start at -1 (dropped), so invalid ids stay dropped.
  Value marks = filledTensor(b, flatRowsType,
                             dynamicSizesOf(flatRowsType, {numRows}), minusOne);
  SmallVector<Value> kept = buildFor(
      b, numValid,
      ValueRange{filledTensor(b, countsType, {}, zero), marks, a.i64(0)},
      [&](Value p, ValueRange iter) -> SmallVector<Value> {
        Value i32 = tensor::ExtractOp::create(b, members, ValueRange{p});
        Value i = a.toIndex(i32);
        auto [t, j] = assignment(i);
        auto [valid, slot] = expertOf(t, j);
        (void)valid;
        Value w = weightOf(t, j);
        Value first =
            a.toIndex(tensor::ExtractOp::create(b, starts, ValueRange{slot}));
        Value size =
            a.toIndex(tensor::ExtractOp::create(b, totals, ValueRange{slot}));
        Value end = a.add(first, size);
        Value rank = buildFor(
            b, a.sub(end, first), ValueRange{zero},
            [&](Value q, ValueRange count) -> SmallVector<Value> {
              Value other32 = tensor::ExtractOp::create(
                  b, members, ValueRange{a.add(first, q)});
              auto [ot, oj] = assignment(a.toIndex(other32));
              Value ow = weightOf(ot, oj);
              Value heavier = a.cmpf(arith::CmpFPredicate::OGT, ow, w);
              Value same = a.cmpf(arith::CmpFPredicate::OEQ, ow, w);
              Value earlier = a.cmpi(CmpIPredicate::slt, other32, i32);
              Value better = a.orI(heavier, a.andI(same, earlier));
              return {a.select(better, a.add(count[0], one), count[0])};
            })[0];
        Value keep = a.cmpi(CmpIPredicate::slt, rank, capacity);
        Value count = tensor::ExtractOp::create(b, iter[0], ValueRange{slot});
        Value counts = tensor::InsertOp::create(
            b, a.select(keep, a.add(count, one), count), iter[0],
            ValueRange{slot});
        Value flat = a.add(a.mul(t, k), j);
        Value newMarks = tensor::InsertOp::create(
            b, a.select(keep, zero, minusOne), iter[1], ValueRange{flat});
        Value keptSoFar =
            a.add(iter[2], arith::ExtUIOp::create(b, b.getI64Type(), keep));
        return {counts, newMarks, keptSoFar};
      });
  Value assignments = arith::IndexCastUIOp::create(b, b.getI64Type(), numRows);
  Value dropped = a.sub(assignments, kept[2]);
  return {kept[0], kept[1], dropped};
}

struct DispatchOpLowering : public OpConversionPattern<DispatchOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DispatchOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Arith a{b};
    Value tokens = adaptor.getTokens();
    Value ids = adaptor.getExpertIds();
    int64_t numExperts = op.getNumExperts();
    auto rowsType = cast<RankedTensorType>(op.getRows().getType());
    auto sourcesType = cast<RankedTensorType>(op.getSources().getType());
    auto dispatchedType = cast<RankedTensorType>(op.getDispatched().getType());
    auto countsType = RankedTensorType::get({numExperts}, b.getI32Type());
    auto offsetsType = cast<RankedTensorType>(op.getOffsets().getType());

    Value numTokens = dimSize(b, ids, 0);
    Value k = dimSize(b, ids, 1);
    Value numRows = a.mul(numTokens, k);
    // No expert can take more than T * k rows: clamping first keeps a huge
    // fixed capacity from wrapping when it is narrowed to i32.
    Value capacity = buildCapacity(b, op.getCapacity(), numRows, numExperts);
    if (!op.getCapacity().isDropless())
      capacity = arith::MinSIOp::create(b, capacity, numRows);
    capacity = a.toI32(capacity);
    Value zero = a.i32(0), one = a.i32(1), minusOne = a.i32(-1);
    Value numExpertsI32 = a.i32(numExperts);

    // The expert of assignment (t, j), whether it is a valid id, and an
    // index that is safe to read with even when it is not.
    auto expertOf = [&](Value t, Value j) -> std::tuple<Value, Value, Value> {
      Value e = tensor::ExtractOp::create(b, ids, ValueRange{t, j});
      Value nonNegative = a.cmpi(CmpIPredicate::sge, e, zero);
      Value belowE = a.cmpi(CmpIPredicate::slt, e, numExpertsI32);
      Value valid = a.andI(nonNegative, belowE);
      return {e, valid, a.toIndex(a.select(valid, e, zero))};
    };

    // rows[t, j] is built flat, at t * k + j of a [T * k] tensor, and
    // expanded to [T, k] at the end: host-level scalar stores stay rank-1
    // (IREE miscompiles scalar tensor.insert into rank-2 tensors). Each pass
    // over the assignments is one loop over T * k, so no loop nest carries
    // a dynamically shaped tensor.
    int64_t flatSize = rowsType.hasStaticShape() ? rowsType.getNumElements()
                                                 : ShapedType::kDynamic;
    auto flatRowsType =
        RankedTensorType::get({flatSize}, rowsType.getElementType());

    // 1. Keep decisions: rows[t * k + j] is 0 (kept) or -1 (dropped),
    //    counts[e] the kept assignments of expert e.
    Value counts, rows, dropped;
    if (Value priority = adaptor.getPriority()) {
      std::tie(counts, rows, dropped) =
          keepByProbability(b, ids, priority, numTokens, k, numRows, capacity,
                            numExperts, flatRowsType, countsType);
    } else {
      // 1. Keep decisions in priority order: all first choices, then all
      //    second choices, each in token order (i = j * T + t).
      Value zeroCounts = filledTensor(b, countsType, {}, zero);
      Value emptyRows = tensor::EmptyOp::create(
          b, flatRowsType, dynamicSizesOf(flatRowsType, {numRows}));
      Value noneDropped = a.i64(0);
      SmallVector<Value> kept = buildFor(
          b, numRows, ValueRange{zeroCounts, emptyRows, noneDropped},
          [&](Value i, ValueRange iter) -> SmallVector<Value> {
            Value j = arith::DivUIOp::create(b, i, numTokens);
            Value t = arith::RemUIOp::create(b, i, numTokens);
            auto [e, valid, slot] = expertOf(t, j);
            (void)e;
            Value count =
                tensor::ExtractOp::create(b, iter[0], ValueRange{slot});
            Value room = a.cmpi(CmpIPredicate::slt, count, capacity);
            Value keep = a.andI(valid, room);
            Value newCount = a.select(keep, a.add(count, one), count);
            Value newCounts = tensor::InsertOp::create(b, newCount, iter[0],
                                                       ValueRange{slot});
            Value mark = a.select(keep, zero, minusOne);
            Value flat = a.add(a.mul(t, k), j);
            Value newRows =
                tensor::InsertOp::create(b, mark, iter[1], ValueRange{flat});
            Value notKept = arith::XOrIOp::create(b, keep, a.i1(true));
            Value droppedSoFar = a.add(
                iter[2], arith::ExtUIOp::create(b, b.getI64Type(), notKept));
            return {newCounts, newRows, droppedSoFar};
          });
      counts = kept[0];
      rows = kept[1];
      dropped = kept[2];
    }

    // 2. offsets[0] = 0, offsets[e + 1] = offsets[e] + counts[e].
    Value offsets = tensor::EmptyOp::create(b, offsetsType, ValueRange{});
    Value first = a.index(0);
    offsets = tensor::InsertOp::create(b, zero, offsets, ValueRange{first});
    offsets = buildFor(
        b, numExperts, ValueRange{offsets, zero},
        [&](Value e, ValueRange iter) -> SmallVector<Value> {
          Value count = tensor::ExtractOp::create(b, counts, ValueRange{e});
          Value end = a.add(iter[1], count);
          Value next = a.add(e, a.index(1));
          return {tensor::InsertOp::create(b, end, iter[0], ValueRange{next})
                      .getResult(),
                  end};
        })[0];

    // 3. Placement in token order (i = t * k + j, the flat index of
    //    rows[t, j]); the counts tensor becomes each expert's next free row.
    Value cursors = buildFor(
        b, numExperts, ValueRange{counts},
        [&](Value e, ValueRange iter) -> SmallVector<Value> {
          Value start = tensor::ExtractOp::create(b, offsets, ValueRange{e});
          return {tensor::InsertOp::create(b, start, iter[0], ValueRange{e})
                      .getResult()};
        })[0];
    Value sources = filledTensor(
        b, sourcesType, dynamicSizesOf(sourcesType, {numRows}), minusOne);
    // With a scale, each row's factor (the weight of the assignment that
    // owns it), written like sources[].
    Value scale = adaptor.getScale();
    auto rowScalesType =
        RankedTensorType::get(sourcesType.getShape(), b.getF32Type());
    SmallVector<Value> placedInit = {cursors, rows, sources};
    if (scale)
      placedInit.push_back(
          filledTensor(b, rowScalesType,
                       dynamicSizesOf(rowScalesType, {numRows}), a.f32(0.0)));
    SmallVector<Value> placed = buildFor(
        b, numRows, placedInit,
        [&](Value i, ValueRange iter) -> SmallVector<Value> {
          Value t = arith::DivUIOp::create(b, i, k);
          Value j = arith::RemUIOp::create(b, i, k);
          auto [e, valid, slot] = expertOf(t, j);
          (void)e;
          (void)valid;
          Value mark = tensor::ExtractOp::create(b, iter[1], ValueRange{i});
          Value isKept = a.cmpi(CmpIPredicate::eq, mark, zero);
          Value row = tensor::ExtractOp::create(b, iter[0], ValueRange{slot});
          Value nextRow = a.select(isKept, a.add(row, one), row);
          Value newCursors =
              tensor::InsertOp::create(b, nextRow, iter[0], ValueRange{slot});
          Value rowOrNone = a.select(isKept, row, minusOne);
          Value newRows =
              tensor::InsertOp::create(b, rowOrNone, iter[1], ValueRange{i});
          // Only a kept assignment owns a row: a dropped one rewrites row
          // 0's source with its own value (a select, not an scf.if).
          Value target = a.toIndex(a.select(isKept, row, zero));
          Value old = tensor::ExtractOp::create(b, iter[2], ValueRange{target});
          Value source = a.select(isKept, a.toI32(t), old);
          Value newSources =
              tensor::InsertOp::create(b, source, iter[2], ValueRange{target});
          if (!scale)
            return {newCursors, newRows, newSources};
          Value oldScale =
              tensor::ExtractOp::create(b, iter[3], ValueRange{target});
          Value weight = tensor::ExtractOp::create(b, scale, ValueRange{t, j});
          Value rowScale = a.select(isKept, weight, oldScale);
          Value newScales = tensor::InsertOp::create(b, rowScale, iter[3],
                                                     ValueRange{target});
          return {newCursors, newRows, newSources, newScales};
        });
    sources = placed[2];
    Value rowScales = scale ? placed[3] : Value();
    // The [T, k] shape, static where the rows type is (the verifier lets
    // the operand and result types differ in which dimensions are static).
    SmallVector<Value> rowsSizes = {numTokens, k};
    SmallVector<OpFoldResult> rowsShape;
    for (auto [i, size] : llvm::enumerate(rowsSizes))
      rowsShape.push_back(
          rowsType.isDynamicDim(i)
              ? OpFoldResult(size)
              : OpFoldResult(b.getIndexAttr(rowsType.getDimSize(i))));
    rows = tensor::ExpandShapeOp::create(b, rowsType, placed[1],
                                         ArrayRef<ReassociationIndices>{{0, 1}},
                                         rowsShape);

    // 4. Gather: dispatched[r, d] = sources[r] >= 0 ? tokens[src, d] : 0,
    //    times the row's scale when there is one.
    Value dispatchedInit = tensor::EmptyOp::create(
        b, dispatchedType, dynamicSizesOf(dispatchedType, {numRows, Value()}));
    MLIRContext *ctx = b.getContext();
    AffineMap rowMap = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
    AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
    Type elementType = dispatchedType.getElementType();
    SmallVector<Value> gatherInputs = {sources};
    SmallVector<AffineMap> gatherMaps = {rowMap};
    if (rowScales) {
      gatherInputs.push_back(rowScales);
      gatherMaps.push_back(rowMap);
    }
    gatherMaps.push_back(identity);
    auto gather = linalg::GenericOp::create(
        b, TypeRange{dispatchedType}, gatherInputs, ValueRange{dispatchedInit},
        gatherMaps,
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nested, Location loc, ValueRange args) {
          ImplicitLocOpBuilder nb(loc, nested);
          Arith na{nb};
          Value source = args[0];
          Value present = na.cmpi(CmpIPredicate::sge, source, na.i32(0));
          Value safe = na.toIndex(na.select(present, source, na.i32(0)));
          Value d = linalg::IndexOp::create(nb, 1);
          Value value =
              tensor::ExtractOp::create(nb, tokens, ValueRange{safe, d});
          if (rowScales) {
            Value scaled = na.mul(na.toF32(value), args[1]);
            value = na.fromF32(scaled, elementType);
          }
          Value zeroValue =
              arith::ConstantOp::create(nb, nb.getFloatAttr(elementType, 0.0));
          linalg::YieldOp::create(nb, na.select(present, value, zeroValue));
        });

    rewriter.replaceOp(
        op, ValueRange{gather.getResult(0), offsets, rows, sources,
                       tensor::FromElementsOp::create(
                           b, RankedTensorType::get({}, b.getI64Type()),
                           ValueRange{dropped})
                           .getResult()});
    return success();
  }
};
} // namespace

void mlir::moe::detail::populateDispatchPatterns(RewritePatternSet &patterns) {
  patterns.add<DispatchOpLowering>(patterns.getContext());
}
