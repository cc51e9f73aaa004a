//===- Cost.h - Static cost model of moe.layer ------------------*- C++ -*-===//
//
// Parameters, FLOPs, weight and activation memory, All-to-All traffic and the
// memory-bound floor of one moe.layer, from its static shapes and attributes
// alone. The formulas are in docs/CostModel.md and in the description of the
// moe-cost pass, which prints these figures.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_DIALECT_MOE_ANALYSIS_COST_H
#define MOE_MLIR_DIALECT_MOE_ANALYSIS_COST_H

#include "moe-mlir/Dialect/MoE/IR/MoEAttrs.h"

#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <string>

namespace llvm {
class raw_ostream;
namespace json {
class OStream;
} // namespace json
} // namespace llvm

namespace mlir {
class InFlightDiagnostic;
namespace moe {
class LayerOp;

/// The deployment assumptions of the figures that are not properties of the
/// layer alone.
struct CostAssumptions {
  /// Expert-parallel degree R of the All-to-All estimate (>= 1).
  int64_t epRanks = 8;
  /// Memory bandwidth B of the weight-read floor, in GB/s (10^9 bytes/s).
  double bandwidthGBs = 16.0;
  /// Batch size T of the weight-read floor and the All-to-All per batch.
  int64_t tokens = 1;
  /// G: ranks per node of the inter-node estimate; 0: not estimated. R must
  /// be a multiple of G.
  int64_t ranksPerNode = 0;
  /// M: node-limited routing (DeepSeek-V3: each token's experts on at most
  /// M nodes); 0: no limit.
  int64_t nodeLimit = 0;

  /// Checks that the assumptions are in range; emits at `emitError` and
  /// fails otherwise.
  LogicalResult
  verify(llvm::function_ref<InFlightDiagnostic()> emitError) const;
};

/// Weight bytes of a layer stored at one element size (the biases are f32
/// whatever the element size).
struct WeightBytes {
  int64_t total = 0;
  int64_t active = 0;
};

/// The static cost figures of one moe.layer. Counts and byte sizes are exact;
/// the figures that need a division or a probability are doubles.
struct LayerCost {
  //===--- Shape ----------------------------------------------------------===//
  int64_t modelSize = 0;  ///< D
  int64_t hiddenSize = 0; ///< F
  int64_t numExperts = 0; ///< E
  int64_t k = 0;          ///< experts per token
  Activation activation = Activation::swiglu;
  int64_t numProjections = 0; ///< P: 3 when gated (gate, up, down), else 2
  Type elementType;
  int64_t elementBytes = 0; ///< b

  //===--- Parameters -----------------------------------------------------===//
  int64_t routerWeightParams = 0;  ///< E * D
  int64_t routerBiasParams = 0;    ///< E when there is a router bias
  int64_t selectionBiasParams = 0; ///< E when there is a selection bias
  int64_t routerParams = 0;        ///< the three above
  int64_t projectionParams = 0;    ///< D * F
  int64_t expertBiasParams = 0;    ///< one expert's linear biases (GPT-OSS)
  int64_t expertParams = 0;        ///< one expert: P * D * F + its biases
  int64_t totalExpertParams = 0;   ///< E experts
  int64_t activeExpertParams = 0;  ///< k experts
  int64_t sharedHiddenSize = 0;    ///< S, 0 without shared experts
  int64_t sharedParams = 0;        ///< P * D * S (+ D for a sigmoid gate)
  int64_t totalParams = 0;         ///< router + E experts + shared
  int64_t activeParams = 0;        ///< router + k experts + shared

  //===--- FLOPs per token ------------------------------------------------===//
  int64_t routerFlops = 0;       ///< 2 * E * D
  int64_t expertFlops = 0;       ///< k * P * 2 * D * F
  int64_t sharedFlops = 0;       ///< 2 * shared params
  int64_t totalFlops = 0;        ///< router + experts + shared
  int64_t denseFfnFlops = 0;     ///< one expert: P * 2 * D * F
  int64_t denseActiveFlops = 0;  ///< 2 * active params
  double denseActiveWidth = 0.0; ///< active / (P * D)

  //===--- Weight memory --------------------------------------------------===//
  WeightBytes weightsF32, weightsBF16, weightsF16, weightsElement;

  //===--- Activation memory per token, in bytes --------------------------===//
  int64_t tokenInBytes = 0;    ///< D * b
  int64_t dispatchedBytes = 0; ///< k * D * b
  int64_t hiddenBytes = 0;     ///< k * F * b
  int64_t expertOutBytes = 0;  ///< k * D * b
  int64_t tokenOutBytes = 0;   ///< D * b
  int64_t routingBytes = 0;    ///< 4 * (E + 3 * k)
  int64_t activationBytes = 0; ///< all of the above

  //===--- All-to-All -----------------------------------------------------===//
  CostAssumptions assumptions;
  double a2aDispatchBytes = 0.0; ///< k * D * b * (R - 1) / R
  double a2aCombineBytes = 0.0;  ///< the same, back
  double a2aBytes = 0.0;         ///< both
  int64_t a2aAllRemoteBytes = 0; ///< 2 * k * D * b
  double a2aBatchBytes = 0.0;    ///< T * a2aBytes
  /// With ranks per node G: N = R / G nodes, the expected nodes a token's
  /// experts are on, how many of them are remote, and the bytes that cross
  /// between nodes when a token travels once per remote node (and is
  /// forwarded within it), each way.
  int64_t nodes = 0;
  double nodesPerToken = 0.0;
  double remoteNodesPerToken = 0.0;
  double interNodeDispatchBytes = 0.0; ///< remote nodes * D * b
  double interNodeBytes = 0.0;         ///< dispatch and combine
  double interNodeBatchBytes = 0.0;    ///< T * interNodeBytes

  //===--- Memory-bound floor for T tokens --------------------------------===//
  int64_t touchedExperts = 0;          ///< min(E, T * k), the worst case
  int64_t floorBytes = 0;              ///< router + touched experts' weights
  double floorMicros = 0.0;            ///< floorBytes / B, in microseconds
  double expectedTouchedExperts = 0.0; ///< E * (1 - (1 - k/E)^T)
  double expectedFloorBytes = 0.0;
  double expectedFloorMicros = 0.0;

  /// Computes the figures of `op`. Fails, emitting at the op, when the
  /// assumptions are out of range or a figure does not fit in 64 bits.
  static FailureOr<LayerCost> get(LayerOp op,
                                  const CostAssumptions &assumptions);

  /// Writes the figures as indented text lines.
  void printText(llvm::raw_ostream &os) const;
  /// Writes the figures as the attributes of the current JSON object.
  void printJSONAttributes(llvm::json::OStream &json) const;
};

} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_DIALECT_MOE_ANALYSIS_COST_H
