//===- RuntimeChoice.h - Parallel forms chosen at run time ------*- C++ -*-===//

#ifndef MOE_MLIR_LIB_CODEGEN_CPU_RUNTIMECHOICE_H
#define MOE_MLIR_LIB_CODEGEN_CPU_RUNTIMECHOICE_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::moe {
/// Replaces `loop` with
///
///   scf.if (condition) { parallel form } else { the loop as it was }
///
/// where `buildParallel` builds the parallel form at the builder's insertion
/// point from a copy of the loop whose body it takes (the copy is erased
/// after it). `condition` must be defined before `loop`.
void chooseParallelAtRunTime(
    OpBuilder &b, scf::ForOp loop, Value condition,
    llvm::function_ref<void(OpBuilder &, scf::ForOp)> buildParallel);
} // namespace mlir::moe

#endif // MOE_MLIR_LIB_CODEGEN_CPU_RUNTIMECHOICE_H
