//===- Presets.h - The MoE layers of published models -----------*- C++ -*-===//
//
// A LayerSpec describes one model's MoE block: widths, routing, capacity,
// activation, shared experts. Specs come from the table of named presets
// (the published models' config.json values) or from a Hugging Face
// config.json itself, and build a module with one function that computes
// the layer (its arguments are the layer's operands).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_PRESETS_PRESETS_H
#define MOE_MLIR_PRESETS_PRESETS_H

#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace llvm::json {
class Value;
} // namespace llvm::json

namespace mlir::moe {

/// One model's MoE layer at its published size.
struct LayerSpec {
  std::string name;   ///< preset name, also the function's (with '_')
  std::string model;  ///< the model it comes from
  std::string source; ///< where the figures come from
  int64_t D = 0, F = 0, E = 0, k = 0;
  Scoring scoring = Scoring::softmax;
  ScoreOrder order = ScoreOrder::softmax_topk;
  bool renormalize = false;
  double scale = 1.0;
  int64_t groups = 1, topkGroups = 1;
  GroupScore groupScore = GroupScore::max;
  WeightsOn weightsOn = WeightsOn::output;
  bool routerBias = false, selectionBias = false;
  CapacityKind capacityKind = CapacityKind::dropless;
  int64_t capacity = 0;
  double factor = 0.0;
  DroppedOutput dropped = DroppedOutput::zero;
  Activation activation = Activation::swiglu;
  bool expertBiases = false;
  int64_t sharedF = 0; ///< S: the shared experts fused into one FFN
  bool sharedSigmoidGate = false;
};

/// The named presets, in the order `moe-preset --list` prints them.
const std::vector<LayerSpec> &namedPresets();
std::optional<LayerSpec> findPreset(llvm::StringRef name);

/// The layer that a Hugging Face config.json describes, for the families
/// this project supports (its `model_type`: mixtral, deepseek_v2,
/// deepseek_v3, kimi_k2, qwen2_moe, qwen3_moe, olmoe, gpt_oss, llama4 (its
/// text_config) or llama4_text, switch_transformers). The error names an
/// unsupported model_type, a missing key, or a value of the wrong kind.
/// `sourceName` goes into the spec's source (the file's name).
llvm::Expected<LayerSpec> specFromHFConfig(const llvm::json::Value &config,
                                           llvm::StringRef sourceName);
/// The model types specFromHFConfig reads, comma-separated.
llvm::StringRef supportedHFModelTypes();

/// "softmax of the top-2, renormalised; shared experts width 2048 ...".
std::string routingSummary(const LayerSpec &spec, int64_t sharedWidth);

/// How a spec becomes a function.
struct LayerBuildOptions {
  int64_t scaleDown = 1;   ///< divides D, F and S (which it must divide)
  int64_t tokens = -1;     ///< a static T, or -1 for a dynamic one
  Type elementType;        ///< tokens and weights (f32 when null)
  bool statistics = false; ///< also return the training-time statistics
};

/// A module with one function, named after the spec, computing its layer.
/// Errors (a scale that does not divide a width, a layer that does not
/// verify) come back as messages.
llvm::Expected<OwningOpRef<ModuleOp>>
buildLayerModule(MLIRContext &context, const LayerSpec &spec,
                 const LayerBuildOptions &options);

} // namespace mlir::moe

#endif // MOE_MLIR_PRESETS_PRESETS_H
