//===- Npy.h - NumPy .npy files of f32 arrays -------------------*- C++ -*-===//
//
// Reads and writes little-endian, C-order f32 arrays as NumPy .npy files:
// the format moe-run's --dump, --inputs, --expect and --output use. Plain
// C++, shared by the runners with and without MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_NPY_H
#define MOE_MLIR_RUNNER_NPY_H

#include "moe-mlir/Runner/Operands.h"

#include <string>
#include <vector>

namespace moe::run {

/// Writes `data` of `shape` to `path`; returns an empty string or why not.
std::string writeNpy(const std::string &path, const float *data,
                     const std::vector<int64_t> &shape);

/// Reads `path` into `tensor`; returns an empty string or why not.
std::string readNpy(const std::string &path, HostTensor &tensor);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_NPY_H
