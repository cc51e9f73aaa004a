//===- Cost.cpp - Static cost model of moe.layer and the moe-cost pass ----===//
//
// LayerCost computes a layer's parameters, FLOPs, memory, All-to-All traffic
// and weight-read floor from its static shapes; MoECostPass prints them for
// every moe.layer of a module. docs/CostModel.md explains each figure.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/Analysis/Cost.h"

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mlir::moe {
#define GEN_PASS_DEF_MOECOSTPASS
#include "moe-mlir/Dialect/MoE/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

//===----------------------------------------------------------------------===//
// LayerCost
//===----------------------------------------------------------------------===//

namespace {
/// int64 arithmetic that remembers whether any step overflowed, so that a
/// huge layer fails cleanly instead of printing wrapped numbers.
struct CheckedMath {
  bool overflow = false;

  int64_t mul(int64_t a, int64_t b) {
    int64_t result;
    if (llvm::MulOverflow(a, b, result))
      overflow = true;
    return result;
  }
  int64_t mul(int64_t a, int64_t b, int64_t c) { return mul(mul(a, b), c); }
  int64_t add(int64_t a, int64_t b) {
    int64_t result;
    if (llvm::AddOverflow(a, b, result))
      overflow = true;
    return result;
  }
  int64_t add(int64_t a, int64_t b, int64_t c) { return add(add(a, b), c); }
};

/// Bias parameters are f32 whatever the layer's element type.
constexpr int64_t kBiasBytes = 4;
/// Router logits and gate weights are f32, expert ids and rows i32.
constexpr int64_t kRoutingElementBytes = 4;
} // namespace

/// C(a, k) / C(n, k): the chance that k distinct experts drawn uniformly
/// from n all fall among a given a of them.
static double allAmong(int64_t a, int64_t n, int64_t k) {
  double p = 1.0;
  for (int64_t i = 0; i < k; ++i)
    p *= a - i <= 0 ? 0.0 : double(a - i) / double(n - i);
  return p;
}

/// The inter-node part of the All-to-All. A token picks M of the N nodes
/// (uniformly, M = N without a node limit) and its k experts uniformly
/// among the E * M / N experts there; a chosen node is unused when all k
/// fall elsewhere. The token crosses to each used node other than its own
/// once (then NVLink forwards it to the node's ranks, as DeepEP does), and
/// each node's outputs come back summed, once.
static void estimateInterNode(LayerCost &c, const CostAssumptions &a, int64_t E,
                              int64_t k, int64_t rowBytes) {
  int64_t N = a.epRanks / a.ranksPerNode;
  int64_t M = a.nodeLimit > 0 ? std::min(a.nodeLimit, N) : N;
  c.nodes = N;
  int64_t perNode = E / N, candidates = perNode * M;
  double unused = allAmong(candidates - perNode, candidates, k);
  c.nodesPerToken = double(M) * (1.0 - unused);
  // Each chosen node is the token's own with probability 1 / N.
  c.remoteNodesPerToken = c.nodesPerToken * double(N - 1) / double(N);
  c.interNodeDispatchBytes = c.remoteNodesPerToken * double(rowBytes);
  c.interNodeBytes = 2.0 * c.interNodeDispatchBytes;
  c.interNodeBatchBytes = double(a.tokens) * c.interNodeBytes;
}

LogicalResult CostAssumptions::verify(
    llvm::function_ref<InFlightDiagnostic()> emitError) const {
  if (epRanks < 1)
    return emitError() << "moe-cost: ep-ranks must be at least 1, got "
                       << epRanks;
  if (tokens < 1)
    return emitError() << "moe-cost: tokens must be at least 1, got " << tokens;
  if (ranksPerNode < 0 || (ranksPerNode > 0 && epRanks % ranksPerNode != 0))
    return emitError() << "moe-cost: ranks-per-node must divide ep-ranks ("
                       << epRanks << "), got " << ranksPerNode;
  if (nodeLimit < 0 || (nodeLimit > 0 && ranksPerNode == 0))
    return emitError() << "moe-cost: node-limit (" << nodeLimit
                       << ") needs ranks-per-node, and must be at least 0";
  if (!(bandwidthGBs > 0.0) || !std::isfinite(bandwidthGBs))
    return emitError()
           << "moe-cost: bandwidth-gbs must be a positive number, got "
           << bandwidthGBs;
  return success();
}

FailureOr<LayerCost> LayerCost::get(LayerOp op,
                                    const CostAssumptions &assumptions) {
  if (failed(assumptions.verify([&] { return op.emitError(); })))
    return failure();

  LayerCost c;
  CheckedMath m;
  c.assumptions = assumptions;

  // Shape. The verifier guarantees static D, F and E.
  c.modelSize = op.getModelSize();
  c.hiddenSize = op.getHiddenSize();
  c.numExperts = op.getNumExperts();
  c.k = op.getRouter().getK();
  c.activation = op.getActivation();
  c.numProjections = isGated(c.activation) ? 3 : 2;
  c.elementType = op.getUpWeight().getType().getElementType();
  c.elementBytes = c.elementType.getIntOrFloatBitWidth() / 8;
  const int64_t D = c.modelSize, F = c.hiddenSize, E = c.numExperts, k = c.k;
  const int64_t P = c.numProjections, b = c.elementBytes;

  // Parameters.
  c.routerWeightParams = m.mul(E, D);
  c.routerBiasParams = op.getRouterBias() ? E : 0;
  c.selectionBiasParams = op.getSelectionBias() ? E : 0;
  int64_t biasParams = c.routerBiasParams + c.selectionBiasParams;
  c.routerParams = m.add(c.routerWeightParams, biasParams);
  c.projectionParams = m.mul(D, F);
  c.expertBiasParams = (op.getGateBias() ? F : 0) + (op.getUpBias() ? F : 0) +
                       (op.getDownBias() ? D : 0);
  c.expertParams = m.add(m.mul(P, c.projectionParams), c.expertBiasParams);
  c.totalExpertParams = m.mul(E, c.expertParams);
  c.activeExpertParams = m.mul(k, c.expertParams);
  if (Value sharedUp = op.getSharedUp()) {
    c.sharedHiddenSize =
        cast<RankedTensorType>(sharedUp.getType()).getDimSize(0);
    c.sharedParams = m.add(m.mul(P, D, c.sharedHiddenSize),
                           op.getSharedSigmoidGate() ? D : 0);
  }
  c.totalParams = m.add(c.routerParams, c.totalExpertParams, c.sharedParams);
  c.activeParams = m.add(c.routerParams, c.activeExpertParams, c.sharedParams);

  // FLOPs per token: 2 per multiply-add.
  c.routerFlops = m.mul(2, c.routerWeightParams);
  c.denseFfnFlops = m.mul(2, c.expertParams);
  c.expertFlops = m.mul(k, c.denseFfnFlops);
  c.sharedFlops = m.mul(2, c.sharedParams);
  c.totalFlops = m.add(c.routerFlops, c.expertFlops, c.sharedFlops);
  c.denseActiveFlops = m.mul(2, c.activeParams);
  c.denseActiveWidth =
      static_cast<double>(c.activeParams) / static_cast<double>(P * D);

  // Weight memory: weights at `bytes` per element, biases at f32.
  int64_t biasBytes = m.mul(kBiasBytes, biasParams);
  auto weightBytes = [&](int64_t bytes) {
    WeightBytes w;
    w.total = m.add(m.mul(bytes, m.add(c.routerWeightParams,
                                       c.totalExpertParams, c.sharedParams)),
                    biasBytes);
    w.active = m.add(m.mul(bytes, m.add(c.routerWeightParams,
                                        c.activeExpertParams, c.sharedParams)),
                     biasBytes);
    return w;
  };
  c.weightsF32 = weightBytes(4);
  c.weightsBF16 = weightBytes(2);
  c.weightsF16 = weightBytes(2);
  c.weightsElement = weightBytes(b);

  // Activation memory per token.
  c.tokenInBytes = m.mul(D, b);
  c.dispatchedBytes = m.mul(k, D, b);
  c.hiddenBytes = m.mul(k, F, b);
  c.expertOutBytes = m.mul(k, D, b);
  c.tokenOutBytes = m.mul(D, b);
  c.routingBytes = m.mul(kRoutingElementBytes, m.add(E, m.mul(3, k)));
  c.activationBytes = 0;
  for (int64_t part : {c.tokenInBytes, c.dispatchedBytes, c.hiddenBytes,
                       c.expertOutBytes, c.tokenOutBytes, c.routingBytes})
    c.activationBytes = m.add(c.activationBytes, part);

  // All-to-All: each of the k rows goes to the owner of its expert and comes
  // back; under uniform routing it is remote with probability (R - 1) / R.
  const int64_t R = assumptions.epRanks, T = assumptions.tokens;
  int64_t rowBytes = m.mul(k, D, b);
  double remote = static_cast<double>(R - 1) / static_cast<double>(R);
  c.a2aDispatchBytes = static_cast<double>(rowBytes) * remote;
  c.a2aCombineBytes = c.a2aDispatchBytes;
  c.a2aBytes = c.a2aDispatchBytes + c.a2aCombineBytes;
  c.a2aAllRemoteBytes = m.mul(2, rowBytes);
  c.a2aBatchBytes = static_cast<double>(T) * c.a2aBytes;
  if (assumptions.ranksPerNode > 0)
    estimateInterNode(c, assumptions, E, k, m.mul(D, b));

  // Weight-read floor for T tokens: at most min(E, T * k) distinct experts.
  // The shared experts are read once, like the router.
  int64_t routerBytes =
      m.add(m.mul(b, m.add(c.routerWeightParams, c.sharedParams)), biasBytes);
  int64_t expertBytes = m.mul(b, c.expertParams);
  int64_t assignments = m.mul(T, k);
  c.touchedExperts = std::min(E, assignments);
  c.floorBytes = m.add(routerBytes, m.mul(c.touchedExperts, expertBytes));
  // bytes / (B * 10^9 bytes/s) in microseconds = bytes / (B * 10^3).
  double bytesPerMicro = assumptions.bandwidthGBs * 1.0e3;
  c.floorMicros = static_cast<double>(c.floorBytes) / bytesPerMicro;
  // A token picks k distinct experts: a given expert is missed by one token
  // with probability 1 - k/E, by all T (independent) tokens with its T-th
  // power.
  double miss = 1.0 - static_cast<double>(k) / static_cast<double>(E);
  c.expectedTouchedExperts =
      static_cast<double>(E) * (1.0 - std::pow(miss, static_cast<double>(T)));
  c.expectedFloorBytes =
      static_cast<double>(routerBytes) +
      c.expectedTouchedExperts * static_cast<double>(expertBytes);
  c.expectedFloorMicros = c.expectedFloorBytes / bytesPerMicro;

  if (m.overflow)
    return op.emitError()
           << "moe-cost: a cost figure of this layer does not fit in 64 bits";
  return c;
}

namespace {
/// A fixed-precision decimal: never scientific notation.
std::string fixed(double value, unsigned decimals) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%.*f", static_cast<int>(decimals), value);
  return text;
}

/// "1409286144 (1.409 G)": a count with a readable decimal scale.
std::string count(int64_t value) {
  std::string text = std::to_string(value);
  static constexpr std::pair<double, const char *> scales[] = {
      {1.0e12, "T"}, {1.0e9, "G"}, {1.0e6, "M"}, {1.0e3, "K"}};
  for (auto [scale, suffix] : scales)
    if (static_cast<double>(value) >= scale)
      return text + " (" + fixed(static_cast<double>(value) / scale, 3) + " " +
             suffix + ")";
  return text;
}

/// "2818572288 B (2.625 GiB)": bytes with a readable binary scale.
std::string bytes(int64_t value) {
  std::string text = std::to_string(value) + " B";
  static constexpr std::pair<double, const char *> scales[] = {
      {1099511627776.0, "TiB"},
      {1073741824.0, "GiB"},
      {1048576.0, "MiB"},
      {1024.0, "KiB"}};
  for (auto [scale, suffix] : scales)
    if (static_cast<double>(value) >= scale)
      return text + " (" + fixed(static_cast<double>(value) / scale, 3) + " " +
             suffix + ")";
  return text;
}

std::string typeName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}
} // namespace

void LayerCost::printText(llvm::raw_ostream &os) const {
  const CostAssumptions &a = assumptions;
  os << "  shape: D=" << modelSize << " F=" << hiddenSize << " E=" << numExperts
     << " k=" << k << " activation=" << stringifyActivation(activation)
     << " projections=" << numProjections
     << " element=" << typeName(elementType) << " (" << elementBytes
     << " bytes)\n";

  os << "  params:\n"
     << "    router: " << count(routerParams) << " = weight "
     << routerWeightParams << " + bias " << routerBiasParams
     << " + selection bias " << selectionBiasParams << "\n"
     << "    expert: " << count(expertParams) << " = " << numProjections
     << " x " << projectionParams << " + biases " << expertBiasParams << "\n"
     << "    experts total: " << count(totalExpertParams) << "\n"
     << "    experts active: " << count(activeExpertParams) << "\n"
     << "    shared experts (width " << sharedHiddenSize
     << "): " << count(sharedParams) << "\n"
     << "    total: " << count(totalParams) << "\n"
     << "    active: " << count(activeParams) << "\n";

  os << "  flops per token:\n"
     << "    router: " << count(routerFlops) << "\n"
     << "    experts: " << count(expertFlops) << "\n"
     << "    shared experts: " << count(sharedFlops) << "\n"
     << "    total: " << count(totalFlops) << "\n"
     << "    dense ffn of width F: " << count(denseFfnFlops) << "\n"
     << "    dense ffn with the active params: " << count(denseActiveFlops)
     << ", width " << fixed(denseActiveWidth, 3) << "\n";

  os << "  weight memory (total / active, biases f32):\n";
  auto weights = [&](StringRef name, const WeightBytes &w) {
    os << "    " << name << ": " << bytes(w.total) << " / " << bytes(w.active)
       << "\n";
  };
  weights("f32", weightsF32);
  weights("bf16", weightsBF16);
  weights("f16", weightsF16);
  weights("element " + typeName(elementType), weightsElement);

  os << "  activation memory per token:\n"
     << "    token in: " << bytes(tokenInBytes) << "\n"
     << "    dispatched rows: " << bytes(dispatchedBytes) << "\n"
     << "    hidden: " << bytes(hiddenBytes) << "\n"
     << "    expert out rows: " << bytes(expertOutBytes) << "\n"
     << "    token out: " << bytes(tokenOutBytes) << "\n"
     << "    routing: " << bytes(routingBytes) << "\n"
     << "    total: " << bytes(activationBytes) << "\n";

  os << "  all-to-all (ep-ranks=" << a.epRanks << ", uniform routing):\n"
     << "    dispatch bytes per token: " << fixed(a2aDispatchBytes, 3) << "\n"
     << "    combine bytes per token: " << fixed(a2aCombineBytes, 3) << "\n"
     << "    bytes per token: " << fixed(a2aBytes, 3) << "\n"
     << "    bytes per token, all remote: " << a2aAllRemoteBytes << "\n"
     << "    bytes for tokens=" << a.tokens << ": " << fixed(a2aBatchBytes, 3)
     << "\n";
  if (a.ranksPerNode > 0)
    os << "  between nodes (" << nodes << " nodes of " << a.ranksPerNode
       << " ranks"
       << (a.nodeLimit > 0 ? ", each token on at most " +
                                 std::to_string(a.nodeLimit) + " nodes"
                           : std::string())
       << ", one copy per remote node):\n"
       << "    nodes per token: " << fixed(nodesPerToken, 3) << " ("
       << fixed(remoteNodesPerToken, 3) << " remote)\n"
       << "    dispatch bytes per token: " << fixed(interNodeDispatchBytes, 3)
       << "\n"
       << "    bytes per token: " << fixed(interNodeBytes, 3) << "\n"
       << "    bytes for tokens=" << a.tokens << ": "
       << fixed(interNodeBatchBytes, 3) << "\n";

  os << "  weight-read floor (tokens=" << a.tokens
     << ", bandwidth=" << fixed(a.bandwidthGBs, 3) << " GB/s):\n"
     << "    experts touched, worst case: " << touchedExperts << "\n"
     << "    bytes: " << bytes(floorBytes) << "\n"
     << "    time: " << fixed(floorMicros, 6) << " us\n"
     << "    experts touched, expected: " << fixed(expectedTouchedExperts, 3)
     << "\n"
     << "    expected bytes: " << fixed(expectedFloorBytes, 3) << " B\n"
     << "    expected time: " << fixed(expectedFloorMicros, 6) << " us\n";
}

void LayerCost::printJSONAttributes(llvm::json::OStream &json) const {
  const CostAssumptions &a = assumptions;
  auto raw = [&](StringRef key, const std::string &number) {
    json.attributeBegin(key);
    json.rawValue(number);
    json.attributeEnd();
  };

  json.attributeObject("shape", [&] {
    json.attribute("D", modelSize);
    json.attribute("F", hiddenSize);
    json.attribute("E", numExperts);
    json.attribute("k", k);
    json.attribute("activation", stringifyActivation(activation));
    json.attribute("projections", numProjections);
    json.attribute("element_type", typeName(elementType));
    json.attribute("element_bytes", elementBytes);
  });
  json.attributeObject("params", [&] {
    json.attribute("router_weight", routerWeightParams);
    json.attribute("router_bias", routerBiasParams);
    json.attribute("selection_bias", selectionBiasParams);
    json.attribute("router", routerParams);
    json.attribute("projection", projectionParams);
    json.attribute("expert_biases", expertBiasParams);
    json.attribute("expert", expertParams);
    json.attribute("experts_total", totalExpertParams);
    json.attribute("experts_active", activeExpertParams);
    json.attribute("shared_width", sharedHiddenSize);
    json.attribute("shared", sharedParams);
    json.attribute("total", totalParams);
    json.attribute("active", activeParams);
  });
  json.attributeObject("flops_per_token", [&] {
    json.attribute("router", routerFlops);
    json.attribute("experts", expertFlops);
    json.attribute("shared", sharedFlops);
    json.attribute("total", totalFlops);
    json.attribute("dense_ffn", denseFfnFlops);
    json.attribute("dense_active", denseActiveFlops);
    raw("dense_active_width", fixed(denseActiveWidth, 3));
  });
  json.attributeObject("weight_bytes", [&] {
    auto weights = [&](StringRef key, const WeightBytes &w) {
      json.attributeObject(key, [&] {
        json.attribute("total", w.total);
        json.attribute("active", w.active);
      });
    };
    weights("f32", weightsF32);
    weights("bf16", weightsBF16);
    weights("f16", weightsF16);
    weights("element", weightsElement);
  });
  json.attributeObject("activation_bytes_per_token", [&] {
    json.attribute("token_in", tokenInBytes);
    json.attribute("dispatched", dispatchedBytes);
    json.attribute("hidden", hiddenBytes);
    json.attribute("expert_out", expertOutBytes);
    json.attribute("token_out", tokenOutBytes);
    json.attribute("routing", routingBytes);
    json.attribute("total", activationBytes);
  });
  json.attributeObject("all_to_all", [&] {
    json.attribute("ep_ranks", a.epRanks);
    raw("dispatch_bytes_per_token", fixed(a2aDispatchBytes, 3));
    raw("combine_bytes_per_token", fixed(a2aCombineBytes, 3));
    raw("bytes_per_token", fixed(a2aBytes, 3));
    json.attribute("bytes_per_token_all_remote", a2aAllRemoteBytes);
    json.attribute("tokens", a.tokens);
    raw("bytes_for_tokens", fixed(a2aBatchBytes, 3));
    if (a.ranksPerNode > 0)
      json.attributeObject("between_nodes", [&] {
        json.attribute("ranks_per_node", a.ranksPerNode);
        json.attribute("nodes", nodes);
        json.attribute("node_limit", a.nodeLimit);
        raw("nodes_per_token", fixed(nodesPerToken, 3));
        raw("remote_nodes_per_token", fixed(remoteNodesPerToken, 3));
        raw("dispatch_bytes_per_token", fixed(interNodeDispatchBytes, 3));
        raw("bytes_per_token", fixed(interNodeBytes, 3));
        raw("bytes_for_tokens", fixed(interNodeBatchBytes, 3));
      });
  });
  json.attributeObject("weight_read_floor", [&] {
    json.attribute("tokens", a.tokens);
    raw("bandwidth_gbs", fixed(a.bandwidthGBs, 3));
    json.attribute("experts_touched", touchedExperts);
    json.attribute("bytes", floorBytes);
    raw("time_us", fixed(floorMicros, 6));
    raw("expected_experts_touched", fixed(expectedTouchedExperts, 3));
    raw("expected_bytes", fixed(expectedFloorBytes, 3));
    raw("expected_time_us", fixed(expectedFloorMicros, 6));
  });
}

//===----------------------------------------------------------------------===//
// MoECostPass
//===----------------------------------------------------------------------===//

namespace {
/// "file:line:col" for a file location, else the location as MLIR prints it.
std::string locationText(Location loc) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto fileLoc = dyn_cast<FileLineColLoc>(loc))
    os << fileLoc.getFilename().getValue() << ':' << fileLoc.getLine() << ':'
       << fileLoc.getColumn();
  else
    loc.print(os);
  return text;
}

/// The name of the function around `op`, or "" when there is none.
StringRef functionName(Operation *op) {
  if (auto func = op->getParentOfType<FunctionOpInterface>())
    return func.getName();
  return "";
}

struct MoECostPass : public moe::impl::MoECostPassBase<MoECostPass> {
  using MoECostPassBase::MoECostPassBase;

  void runOnOperation() override {
    // An analysis: nothing changes, whatever happens below.
    markAllAnalysesPreserved();
    ModuleOp module = getOperation();

    CostAssumptions assumptions;
    assumptions.epRanks = epRanks;
    assumptions.bandwidthGBs = bandwidthGBs;
    assumptions.tokens = tokens;
    assumptions.ranksPerNode = ranksPerNode;
    assumptions.nodeLimit = nodeLimit;
    if (failed(assumptions.verify([&] { return module.emitError(); })))
      return signalPassFailure();

    // Figures first, in module order, so that a failure prints nothing.
    std::vector<std::pair<LayerOp, LayerCost>> layers;
    bool failed = false;
    module.walk<WalkOrder::PreOrder>([&](LayerOp op) {
      FailureOr<LayerCost> cost = LayerCost::get(op, assumptions);
      if (mlir::failed(cost)) {
        failed = true;
        return WalkResult::interrupt();
      }
      layers.emplace_back(op, *cost);
      return WalkResult::advance();
    });
    if (failed)
      return signalPassFailure();

    std::unique_ptr<llvm::ToolOutputFile> file;
    llvm::raw_ostream *os = &llvm::outs();
    if (output != "-") {
      std::string error;
      file = openOutputFile(output, &error);
      if (!file) {
        module.emitError() << "moe-cost: cannot open '" << output
                           << "': " << error;
        return signalPassFailure();
      }
      os = &file->os();
    }

    if (format == moe::CostFormat::json) {
      llvm::json::OStream json(*os, /*IndentSize=*/2);
      json.object([&] {
        json.attributeArray("layers", [&] {
          for (auto [index, layer] : llvm::enumerate(layers)) {
            auto &[op, cost] = layer;
            json.object([&] {
              json.attribute("index", static_cast<int64_t>(index));
              json.attribute("function", functionName(op));
              json.attribute("location", locationText(op.getLoc()));
              cost.printJSONAttributes(json);
            });
          }
        });
      });
      *os << "\n";
    } else {
      for (auto [index, layer] : llvm::enumerate(layers)) {
        auto &[op, cost] = layer;
        *os << "moe-cost: layer " << index << " in @" << functionName(op)
            << " at " << locationText(op.getLoc()) << "\n";
        cost.printText(*os);
      }
    }
    os->flush();
    if (file)
      file->keep();
  }
};
} // namespace
