//===- Passes.h - Conversions out of the moe dialect ------------*- C++ -*-===//

#ifndef MOE_MLIR_CONVERSION_PASSES_H
#define MOE_MLIR_CONVERSION_PASSES_H

#include "moe-mlir/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe-mlir/Conversion/MoEToRuntime/MoEToRuntime.h"

namespace mlir {

#define GEN_PASS_REGISTRATION
#include "moe-mlir/Conversion/Passes.h.inc"

} // namespace mlir

#endif // MOE_MLIR_CONVERSION_PASSES_H
