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
                                 GroupScore groupScore, WeightsOn weightsOn,
                                 Choice choice) {
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
  // Scaling an expert's input by w and summing the k outputs unweighted is
  // only the Llama-4 block's meaning with one expert per token.
  if (weightsOn == WeightsOn::input && k != 1)
    return emitError() << "router weights_on = input needs k = 1, got k = "
                       << k;
  if (choice == Choice::expert &&
      (scoring != Scoring::softmax || order != ScoreOrder::softmax_topk ||
       renormalize || groups != 1 || weightsOn != WeightsOn::output))
    return emitError() << "router choice = expert needs softmax scoring, "
                          "order softmax_topk, no renormalize, no groups and "
                          "weights on the output";
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
                                   APFloat factorValue, DropPolicy drop,
                                   DroppedOutput dropped) {
  double factor = factorValue.convertToDouble();
  switch (kind) {
  case CapacityKind::dropless:
    if (capacity != 0 || factor != 0.0)
      return emitError() << "a dropless capacity takes no value";
    if (dropped != DroppedOutput::zero)
      return emitError() << "a dropless capacity drops nothing: 'dropped = "
                         << stringifyDroppedOutput(dropped)
                         << "' does not apply";
    if (drop != DropPolicy::position)
      return emitError() << "a dropless capacity drops nothing: 'drop = "
                         << stringifyDropPolicy(drop) << "' does not apply";
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
  DroppedOutput dropped = DroppedOutput::zero;
  // Then `, drop = policy` and `, dropped = output`, each at most once.
  bool seenDrop = false, seenDropped = false;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key, value;
    llvm::SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return {};
    if (key != "drop" && key != "dropped") {
      parser.emitError(keyLoc, "expected 'drop' or 'dropped', got '")
          << key << "'";
      return {};
    }
    bool &seen = key == "drop" ? seenDrop : seenDropped;
    if (seen) {
      parser.emitError(keyLoc, "'") << key << "' given twice";
      return {};
    }
    seen = true;
    llvm::SMLoc valueLoc;
    if (parser.parseEqual() ||
        (valueLoc = parser.getCurrentLocation(), parser.parseKeyword(&value)))
      return {};
    if (key == "drop") {
      std::optional<DropPolicy> parsed = symbolizeDropPolicy(value);
      if (!parsed) {
        parser.emitError(valueLoc, "unknown drop policy '") << value << "'";
        return {};
      }
      drop = *parsed;
    } else {
      std::optional<DroppedOutput> parsed = symbolizeDroppedOutput(value);
      if (!parsed) {
        parser.emitError(valueLoc, "expected 'zero' or 'identity', got '")
            << value << "'";
        return {};
      }
      dropped = *parsed;
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, ctx, *kind, capacity,
                    APFloat(factor), drop, dropped);
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
  if (getDropped() != DroppedOutput::zero)
    printer << ", dropped = " << stringifyDroppedOutput(getDropped());
  printer << '>';
}

//===----------------------------------------------------------------------===//
// ActivationAttr
//===----------------------------------------------------------------------===//

LogicalResult
ActivationAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       Activation kind, APFloat alphaValue,
                       APFloat limitValue) {
  double alpha = alphaValue.convertToDouble();
  double limit = limitValue.convertToDouble();
  // Other kinds keep the defaults, so that every attribute prints in a form
  // that parses back to itself.
  if (kind != Activation::clamped_swiglu && (alpha != 1.702 || limit != 7.0))
    return emitError() << "only activation clamped_swiglu takes alpha and "
                          "limit";
  if (!std::isfinite(alpha) || alpha <= 0.0)
    return emitError()
           << "activation alpha must be a finite positive number, got "
           << alpha;
  if (!std::isfinite(limit) || limit <= 0.0)
    return emitError()
           << "activation limit must be a finite positive number, got "
           << limit;
  return success();
}

// #moe.activation<kind> | <clamped_swiglu [, alpha = a] [, limit = l]>
Attribute ActivationAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  llvm::SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<Activation> kind = symbolizeActivation(keyword);
  if (!kind) {
    parser.emitError(loc, "unknown activation '") << keyword << "'";
    return {};
  }
  double alpha = 1.702, limit = 7.0;
  bool seenAlpha = false, seenLimit = false;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    llvm::SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return {};
    if (*kind != Activation::clamped_swiglu) {
      parser.emitError(keyLoc, "activation '")
          << keyword << "' takes no parameters";
      return {};
    }
    if (key != "alpha" && key != "limit") {
      parser.emitError(keyLoc, "expected 'alpha' or 'limit', got '")
          << key << "'";
      return {};
    }
    bool &seen = key == "alpha" ? seenAlpha : seenLimit;
    if (seen) {
      parser.emitError(keyLoc, "'") << key << "' given twice";
      return {};
    }
    seen = true;
    if (parser.parseEqual() ||
        parser.parseFloat(key == "alpha" ? alpha : limit))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, ctx, *kind,
                    APFloat(alpha), APFloat(limit));
}

void ActivationAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifyActivation(getKind());
  if (getKind() == Activation::clamped_swiglu) {
    printer << ", alpha = ";
    printer.printFloat(getAlpha());
    printer << ", limit = ";
    printer.printFloat(getLimit());
  }
  printer << '>';
}
