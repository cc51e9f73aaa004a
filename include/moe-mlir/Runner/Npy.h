//===- Npy.h - NumPy .npy files of f32 arrays -------------------*- C++ -*-===//
//
// The file format moe-run exchanges arrays in (--dump, --inputs, --expect,
// --output): NumPy's .npy, little-endian f32, C order.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_NPY_H
#define MOE_MLIR_RUNNER_NPY_H

#include "moe-mlir/Runner/Operands.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace moe::run {

/// Writes `data` (C order, `shape`) as a format 1.0 .npy file.
llvm::Error writeNpy(llvm::StringRef path, const float *data,
                     llvm::ArrayRef<int64_t> shape);

/// Reads a little-endian f32 C-order .npy file (format 1.0, 2.0 or 3.0).
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_NPY_H
