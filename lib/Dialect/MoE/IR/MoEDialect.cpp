//===- MoEDialect.cpp - The moe dialect and its attributes ----------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEDialect.h"
#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

#include "moe-mlir/Dialect/MoE/IR/MoEDialect.cpp.inc"
#include "moe-mlir/Dialect/MoE/IR/MoEEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.cpp.inc"

void MoEDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "moe-mlir/Dialect/MoE/IR/MoEOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// RouterAttr
//===----------------------------------------------------------------------===//

LogicalResult RouterAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t k, Scoring scoring, ScoreOrder order,
                                 bool renormalize, APFloat scaleValue,
                                 int64_t groups, int64_t topkGroups,
                                 GroupScore groupScore) {
  double scale = scaleValue.convertToDouble();
  if (k <= 0)
    return emitError() << "router k must be positive, got " << k;
  if (!std::isfinite(scale) || scale <= 0.0)
    return emitError() << "router scale must be a finite positive number, got "
                       << scale;
  if (groups <= 0)
    return emitError() << "router groups must be positive, got " << groups;
  if (topkGroups <= 0 || topkGroups > groups)
    return emitError() << "router topk_groups must be in [1, groups = "
                       << groups << "], got " << topkGroups;
  if (scoring == Scoring::sigmoid && order == ScoreOrder::topk_softmax)
    return emitError()
           << "router order topk_softmax needs softmax scoring, not sigmoid";
  return success();
}

LogicalResult
RouterAttr::verifyForExperts(function_ref<InFlightDiagnostic()> emitError,
                             int64_t numExperts) const {
  int64_t k = getK(), groups = getGroups(), topkGroups = getTopkGroups();
  if (k > numExperts)
    return emitError() << "router k = " << k
                       << " exceeds the number of experts E = " << numExperts;
  if (numExperts % groups != 0)
    return emitError() << "router groups = " << groups
                       << " does not divide the number of experts E = "
                       << numExperts;
  int64_t perGroup = numExperts / groups;
  if (topkGroups * perGroup < k)
    return emitError() << "router keeps topk_groups = " << topkGroups
                       << " groups of " << perGroup
                       << " experts, fewer than k = " << k;
  if (groups > 1 && getGroupScore() == GroupScore::sum_top2 && perGroup < 2)
    return emitError() << "router group_score sum_top2 needs groups of at "
                          "least 2 experts, got "
                       << perGroup;
  return success();
}

//===----------------------------------------------------------------------===//
// CapacityAttr
//===----------------------------------------------------------------------===//

LogicalResult CapacityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   CapacityKind kind, int64_t capacity,
                                   APFloat factorValue, DropPolicy drop) {
  double factor = factorValue.convertToDouble();
  switch (kind) {
  case CapacityKind::dropless:
    if (capacity != 0 || factor != 0.0)
      return emitError() << "a dropless capacity takes no value";
    return success();
  case CapacityKind::fixed:
    if (capacity <= 0)
      return emitError() << "capacity must be positive, got " << capacity;
    return success();
  case CapacityKind::factor:
    if (!std::isfinite(factor) || factor <= 0.0)
      return emitError()
             << "capacity factor must be a finite positive number, got "
             << factor;
    return success();
  }
  return emitError() << "unknown capacity kind";
}

std::optional<int64_t> CapacityAttr::capacityFor(int64_t numTokens, int64_t k,
                                                 int64_t numExperts) const {
  switch (getKind()) {
  case CapacityKind::dropless:
    return std::nullopt;
  case CapacityKind::fixed:
    return getCapacity();
  case CapacityKind::factor:
    // Matches the lowering's f32-free integer-exact rounding: ceil of the
    // product, with a tolerance so that 1.25 * 8 / 8 gives 2, not 3.
    return static_cast<int64_t>(std::ceil(getFactorValue() * double(numTokens) *
                                              double(k) / double(numExperts) -
                                          1e-9));
  }
  return std::nullopt;
}

// #moe.capacity<dropless> | <fixed = C> | <factor = f> [, drop = policy]
Attribute CapacityAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  llvm::SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<CapacityKind> kind = symbolizeCapacityKind(keyword);
  if (!kind) {
    parser.emitError(loc, "expected 'dropless', 'fixed' or 'factor', got '")
        << keyword << "'";
    return {};
  }
  int64_t capacity = 0;
  double factor = 0.0;
  // Say why `dropless = C` is wrong rather than "expected '>'".
  if (*kind == CapacityKind::dropless) {
    llvm::SMLoc valueLoc = parser.getCurrentLocation();
    if (succeeded(parser.parseOptionalEqual())) {
      parser.emitError(valueLoc, "a dropless capacity takes no value");
      return {};
    }
  }
  if (*kind == CapacityKind::fixed &&
      (parser.parseEqual() || parser.parseInteger(capacity)))
    return {};
  if (*kind == CapacityKind::factor &&
      (parser.parseEqual() || parser.parseFloat(factor)))
    return {};
  DropPolicy drop = DropPolicy::position;
  if (succeeded(parser.parseOptionalComma())) {
    StringRef policy;
    llvm::SMLoc policyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword("drop") || parser.parseEqual() ||
        parser.parseKeyword(&policy))
      return {};
    std::optional<DropPolicy> parsed = symbolizeDropPolicy(policy);
    if (!parsed) {
      parser.emitError(policyLoc, "unknown drop policy '") << policy << "'";
      return {};
    }
    drop = *parsed;
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, ctx, *kind, capacity,
                    APFloat(factor), drop);
}

void CapacityAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifyCapacityKind(getKind());
  if (getKind() == CapacityKind::fixed)
    printer << " = " << getCapacity();
  if (getKind() == CapacityKind::factor) {
    printer << " = ";
    printer.printFloat(getFactor());
  }
  if (getDrop() != DropPolicy::position)
    printer << ", drop = " << stringifyDropPolicy(getDrop());
  printer << '>';
}
