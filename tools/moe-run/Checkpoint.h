//===- Checkpoint.h - A layer's weights from a safetensors checkpoint -----===//
//
// Reads the weights of one MoE layer from a .safetensors file in the naming
// and layout of a model family's Hugging Face checkpoints and converts them
// to moe.layer's operand layouts ([out, in] per expert, stacked over E).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TOOLS_MOE_RUN_CHECKPOINT_H
#define MOE_TOOLS_MOE_RUN_CHECKPOINT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moe::run {

/// What an argument of the entry function is to the layer.
enum class Role {
  Tokens,
  Router,
  RouterBias,
  SelectionBias,
  Gate,
  GateBias,
  Up,
  UpBias,
  Down,
  DownBias,
  SharedGate,
  SharedUp,
  SharedDown,
  SharedSigmoidGate
};

/// How diagnostics name a role: "router bias", "up weight"...
llvm::StringRef roleName(Role role);

/// An f32 host array and its shape.
struct HostTensor {
  std::vector<float> data;
  llvm::SmallVector<int64_t> shape;
};

/// A bf16 / IEEE half value from its 16 bits (checkpoints store them so, and
/// bf16/f16 layers return them so).
float bf16ToFloat(uint16_t bits);
float halfToFloat(uint16_t bits);

/// "[2, 3, 4]": how diagnostics print a shape.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

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

#endif // MOE_TOOLS_MOE_RUN_CHECKPOINT_H
