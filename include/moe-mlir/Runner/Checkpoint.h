//===- Checkpoint.h - A layer's weights from a safetensors checkpoint -----===//
//
// Reads the weights of one MoE layer from a .safetensors file in the naming
// and layout of a model family's Hugging Face checkpoints and converts them
// to moe.layer's operand layouts ([out, in] per expert, stacked over E).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_CHECKPOINT_H
#define MOE_MLIR_RUNNER_CHECKPOINT_H

#include "moe-mlir/Runner/Operands.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moe::run {

/// The checkpoint layouts moe-run reads, one per family naming.
llvm::ArrayRef<llvm::StringRef> checkpointLayouts();

/// Reads the tensors of `roles` (every role but Tokens) of the layer whose
/// keys start with `prefix` (e.g. "model.layers.3."; empty: the file's only
/// MoE layer) from the safetensors file `path`, in the family `layout`, for
/// `numExperts` experts. F32, BF16, F16 and F64 tensors are converted to
/// f32. Shapes are those of the checkpoint converted to the operand layout;
/// the caller checks them against the layer.
llvm::Expected<std::map<Role, HostTensor>>
loadCheckpoint(llvm::StringRef path, llvm::StringRef layout,
               llvm::StringRef prefix, llvm::ArrayRef<Role> roles,
               int64_t numExperts);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_CHECKPOINT_H
