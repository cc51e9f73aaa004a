//===- Checkpoint.cpp - A layer's weights from a safetensors checkpoint ---===//
//
// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}), then the tensors' bytes, offsets relative to the
// end of the header.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Runner/Checkpoint.h"

#include "moe-mlir/Reference/MoEReference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>
#include <optional>

using namespace llvm;

namespace moe::run {
namespace {

Error failed(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

/// How a family stores its experts' projections.
enum class ExpertFormat {
  /// One [out, in] Linear per expert and projection ("experts.{e}.w1...").
  PerExpert,
  /// gate_up_proj [E, D, 2F] applied as x @ W, gate and up interleaved
  /// (even and odd columns), down_proj [E, F, D] (GPT-OSS).
  TransposedInterleaved,
  /// gate_up_proj [E, D, 2F] applied as x @ W, gate columns first,
  /// down_proj [E, F, D] (Llama-4).
  TransposedConcatenated,
};

/// One family's checkpoint naming, relative to the MoE block.
struct Layout {
  StringRef name;
  SmallVector<StringRef, 2> blocks; ///< the block's module path(s)
  StringRef router, routerBias, selectionBias;
  ExpertFormat format;
  StringRef expert;         ///< PerExpert: "experts.{e}."
  StringRef gate, up, down; ///< PerExpert projection names
  StringRef gateUp, gateUpBias, downFused, downBias; ///< fused formats
  StringRef shared;     ///< shared experts' module ("" if none)
  StringRef sharedGate; ///< Qwen2's sigmoid gate weight
};

const std::vector<Layout> &layouts() {
  static const std::vector<Layout> table = [] {
    std::vector<Layout> t;
    Layout mixtral{"mixtral",
                   {"block_sparse_moe.", "mlp."},
                   "gate.weight",
                   "",
                   "",
                   ExpertFormat::PerExpert,
                   "experts.{e}.",
                   "w1.weight",
                   "w3.weight",
                   "w2.weight"};
    t.push_back(mixtral);
    Layout qwen{"qwen2-moe",
                {"mlp."},
                "gate.weight",
                "",
                "",
                ExpertFormat::PerExpert,
                "experts.{e}.",
                "gate_proj.weight",
                "up_proj.weight",
                "down_proj.weight"};
    qwen.shared = "shared_expert.";
    qwen.sharedGate = "shared_expert_gate.weight";
    t.push_back(qwen);
    Layout qwen3 = qwen;
    qwen3.name = "qwen3-moe";
    t.push_back(qwen3);
    Layout olmoe = qwen;
    olmoe.name = "olmoe";
    t.push_back(olmoe);
    Layout deepseek = qwen;
    deepseek.name = "deepseek";
    deepseek.selectionBias = "gate.e_score_correction_bias";
    deepseek.shared = "shared_experts.";
    deepseek.sharedGate = "";
    t.push_back(deepseek);
    Layout gptOss{"gpt-oss",     {"mlp."}, "router.weight",
                  "router.bias", "",       ExpertFormat::TransposedInterleaved};
    gptOss.gateUp = "experts.gate_up_proj";
    gptOss.gateUpBias = "experts.gate_up_proj_bias";
    gptOss.downFused = "experts.down_proj";
    gptOss.downBias = "experts.down_proj_bias";
    t.push_back(gptOss);
    Layout llama4{"llama4",
                  {"feed_forward."},
                  "router.weight",
                  "",
                  "",
                  ExpertFormat::TransposedConcatenated};
    llama4.gateUp = "experts.gate_up_proj";
    llama4.downFused = "experts.down_proj";
    llama4.shared = "shared_expert.";
    t.push_back(llama4);
    Layout switchT{"switch",
                   {"mlp."},
                   "router.classifier.weight",
                   "router.classifier.bias",
                   "",
                   ExpertFormat::PerExpert,
                   "experts.expert_{e}.",
                   "",
                   "wi.weight",
                   "wo.weight"};
    t.push_back(switchT);
    return t;
  }();
  return table;
}

/// A tensor entry of the header.
struct Entry {
  std::string dtype;
  SmallVector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

class SafetensorsFile {
public:
  static Expected<SafetensorsFile> open(StringRef path) {
    auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
    if (!buffer)
      return failed("cannot read '" + path +
                    "': " + buffer.getError().message());
    SafetensorsFile file;
    file.path = path.str();
    file.buffer = std::move(*buffer);
    StringRef bytes = file.buffer->getBuffer();
    if (bytes.size() < 8)
      return failed("'" + path + "' is not a safetensors file (too short)");
    uint64_t headerSize = 0;
    for (int i = 0; i < 8; ++i)
      headerSize |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
    if (headerSize > bytes.size() - 8)
      return failed("'" + path +
                    "' is not a safetensors file (header past the end)");
    Expected<json::Value> header = json::parse(bytes.substr(8, headerSize));
    if (!header)
      return failed("'" + path + "' has an unreadable safetensors header: " +
                    toString(header.takeError()));
    const json::Object *object = header->getAsObject();
    if (!object)
      return failed("'" + path + "': the safetensors header is not an object");
    file.data = bytes.substr(8 + headerSize);
    for (const auto &[key, value] : *object) {
      if (key == "__metadata__")
        continue;
      const json::Object *info = value.getAsObject();
      const json::Array *shape = info ? info->getArray("shape") : nullptr;
      const json::Array *offsets =
          info ? info->getArray("data_offsets") : nullptr;
      std::optional<StringRef> dtype =
          info ? info->getString("dtype") : std::nullopt;
      if (!shape || !offsets || !dtype || offsets->size() != 2)
        return failed("'" + path + "': malformed entry '" + key.str() + "'");
      Entry entry;
      entry.dtype = dtype->str();
      for (const json::Value &dim : *shape) {
        std::optional<int64_t> d = dim.getAsInteger();
        if (!d || *d < 0)
          return failed("'" + path + "': bad shape of '" + key.str() + "'");
        entry.shape.push_back(*d);
      }
      std::optional<int64_t> begin = (*offsets)[0].getAsInteger(),
                             end = (*offsets)[1].getAsInteger();
      if (!begin || !end || *begin < 0 || *end < *begin ||
          uint64_t(*end) > file.data.size())
        return failed("'" + path + "': data of '" + key.str() +
                      "' out of the file");
      entry.begin = *begin;
      entry.end = *end;
      file.entries[key.str()] = std::move(entry);
    }
    return std::move(file);
  }

  bool has(StringRef name) const { return entries.count(name.str()); }

  std::vector<std::string> names() const {
    std::vector<std::string> result;
    for (const auto &entry : entries)
      result.push_back(entry.first);
    return result;
  }

  Expected<HostTensor> get(StringRef name) const {
    auto it = entries.find(name.str());
    if (it == entries.end())
      return failed("'" + path + "' has no tensor '" + name + "'");
    const Entry &entry = it->second;
    HostTensor tensor;
    tensor.shape.assign(entry.shape.begin(), entry.shape.end());
    int64_t count = 1;
    for (int64_t dim : entry.shape)
      count *= dim;
    size_t width = entry.dtype == "F32"                            ? 4
                   : entry.dtype == "BF16" || entry.dtype == "F16" ? 2
                   : entry.dtype == "F64"                          ? 8
                                                                   : 0;
    if (!width)
      return failed("tensor '" + name + "' is " + entry.dtype +
                    "; moe-run reads F32, BF16, F16 and F64 (dequantize "
                    "quantized checkpoints first)");
    if (entry.end - entry.begin != uint64_t(count) * width)
      return failed("tensor '" + name + "' has " +
                    Twine(entry.end - entry.begin) + " bytes for " +
                    Twine(count) + " " + entry.dtype + " values");
    const char *bytes = data.data() + entry.begin;
    tensor.data.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      if (entry.dtype == "F32") {
        std::memcpy(&tensor.data[i], bytes + 4 * i, 4);
      } else if (entry.dtype == "F64") {
        double v;
        std::memcpy(&v, bytes + 8 * i, 8);
        tensor.data[i] = float(v);
      } else {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        tensor.data[i] = ::moe::ref::fromBits(
            entry.dtype == "BF16" ? ::moe::ref::ElementType::BF16
                                  : ::moe::ref::ElementType::F16,
            h);
      }
    }
    return tensor;
  }

private:
  std::string path;
  std::unique_ptr<MemoryBuffer> buffer;
  StringRef data;
  std::map<std::string, Entry> entries;
};

Error expectRank(StringRef name, const HostTensor &t, size_t rank) {
  if (t.shape.size() != rank)
    return failed("tensor '" + name + "' is " + formatShape(t.shape) +
                  ", expected rank " + Twine(rank));
  return Error::success();
}

/// Stacks E per-expert matrices "<block><expert with {e}><projection>".
Expected<HostTensor> stackExperts(const SafetensorsFile &file, StringRef block,
                                  StringRef pattern, StringRef projection,
                                  int64_t numExperts) {
  HostTensor result;
  for (int64_t e = 0; e < numExperts; ++e) {
    std::string expert = pattern.str();
    size_t at = expert.find("{e}");
    expert.replace(at, 3, std::to_string(e));
    std::string name = (block + expert + projection).str();
    Expected<HostTensor> matrix = file.get(name);
    if (!matrix)
      return matrix.takeError();
    if (Error error = expectRank(name, *matrix, 2))
      return std::move(error);
    if (e == 0) {
      result.shape = {numExperts, matrix->shape[0], matrix->shape[1]};
      result.data.reserve(numExperts * matrix->data.size());
    } else if (ArrayRef<int64_t>(matrix->shape) !=
               ArrayRef<int64_t>(result.shape).drop_front()) {
      return failed("tensor '" + name + "' is " + formatShape(matrix->shape) +
                    ", expert 0's is " +
                    formatShape(ArrayRef<int64_t>(result.shape).drop_front()));
    }
    llvm::append_range(result.data, matrix->data);
  }
  return result;
}

/// From a fused [E, D, 2F] (x @ W) tensor, the [E, F, D] gate or up part:
/// interleaved (gate = even columns) or concatenated (gate = first F).
HostTensor splitTransposed(const HostTensor &fused, bool interleaved,
                           bool upPart) {
  int64_t E = fused.shape[0], D = fused.shape[1], F = fused.shape[2] / 2;
  HostTensor out;
  out.shape = {E, F, D};
  out.data.resize(E * F * D);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t f = 0; f < F; ++f) {
      int64_t column = interleaved ? 2 * f + upPart : f + (upPart ? F : 0);
      for (int64_t d = 0; d < D; ++d)
        out.data[(e * F + f) * D + d] =
            fused.data[(e * D + d) * 2 * F + column];
    }
  return out;
}

/// From a fused [E, 2F] bias, the gate or up part.
HostTensor splitBias(const HostTensor &fused, bool interleaved, bool upPart) {
  int64_t E = fused.shape[0], F = fused.shape[1] / 2;
  HostTensor out;
  out.shape = {E, F};
  out.data.resize(E * F);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t f = 0; f < F; ++f)
      out.data[e * F + f] =
          fused.data[e * 2 * F +
                     (interleaved ? 2 * f + upPart : f + (upPart ? F : 0))];
  return out;
}

/// [E, F, D] (x @ W) to [E, D, F] ([out, in]).
HostTensor transposeExperts(const HostTensor &t) {
  int64_t E = t.shape[0], A = t.shape[1], B = t.shape[2];
  HostTensor out;
  out.shape = {E, B, A};
  out.data.resize(E * A * B);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t a = 0; a < A; ++a)
      for (int64_t b = 0; b < B; ++b)
        out.data[(e * B + b) * A + a] = t.data[(e * A + a) * B + b];
  return out;
}

/// The key prefix of the layer: `prefix` + one of the layout's block paths,
/// or, with no prefix, the only one in the file that has a router.
Expected<std::string> findBlock(const SafetensorsFile &file,
                                const Layout &layout, StringRef prefix) {
  std::vector<std::string> found;
  for (StringRef block : layout.blocks) {
    std::string suffix = (block + layout.router).str();
    if (!prefix.empty()) {
      if (file.has((prefix + suffix).str()))
        return (prefix + block).str();
      continue;
    }
    for (const std::string &name : file.names())
      if (StringRef(name).ends_with(suffix))
        found.push_back(name.substr(0, name.size() - layout.router.size()));
  }
  if (!prefix.empty())
    return failed("no '" + prefix + layout.blocks.front() + layout.router +
                  "' in the checkpoint (is the layout '" + layout.name +
                  "' and the prefix right?)");
  if (found.empty())
    return failed("no key ending in '" + layout.blocks.front() + layout.router +
                  "' in the checkpoint (is the layout '" + layout.name +
                  "' right?)");
  if (found.size() > 1) {
    std::string list;
    for (size_t i = 0; i < found.size() && i < 4; ++i)
      list += (i ? ", " : "") + found[i];
    return failed("the checkpoint has " + Twine(found.size()) +
                  " MoE layers (" + list + (found.size() > 4 ? ", ..." : "") +
                  "); choose one with --weights-prefix");
  }
  return found.front();
}

} // namespace

ArrayRef<StringRef> checkpointLayouts() {
  static const SmallVector<StringRef> names = [] {
    SmallVector<StringRef> n;
    for (const Layout &layout : layouts())
      n.push_back(layout.name);
    return n;
  }();
  return names;
}

Expected<std::map<Role, HostTensor>>
loadCheckpoint(StringRef path, StringRef layoutName, StringRef prefix,
               ArrayRef<Role> roles, int64_t numExperts) {
  const Layout *layout = nullptr;
  for (const Layout &candidate : layouts())
    if (candidate.name == layoutName)
      layout = &candidate;
  if (!layout)
    return failed("unknown checkpoint layout '" + layoutName +
                  "' (known: " + join(checkpointLayouts(), ", ") + ")");
  Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  Expected<std::string> blockOrError = findBlock(*file, *layout, prefix);
  if (!blockOrError)
    return blockOrError.takeError();
  std::string block = *blockOrError;

  auto get = [&](StringRef name) { return file->get(block + name.str()); };
  auto unsupported = [&](Role role) {
    return failed(Twine("the layer has a ") + roleName(role) +
                  ", which layout '" + layout->name + "' does not have");
  };
  bool transposed = layout->format != ExpertFormat::PerExpert;
  bool interleaved = layout->format == ExpertFormat::TransposedInterleaved;
  // A tensor of the block, checked for its rank.
  auto getRanked = [&](StringRef name, size_t rank) -> Expected<HostTensor> {
    Expected<HostTensor> t = get(name);
    if (!t)
      return t.takeError();
    if (Error e = expectRank(name, *t, rank))
      return std::move(e);
    return t;
  };
  // The fused gate/up weight and bias, read once for both halves.
  std::optional<HostTensor> gateUp, gateUpBias;
  auto fused = [&](std::optional<HostTensor> &cache, StringRef name,
                   size_t rank) -> Expected<const HostTensor *> {
    if (!cache) {
      Expected<HostTensor> t = getRanked(name, rank);
      if (!t)
        return t.takeError();
      cache = std::move(*t);
    }
    return &*cache;
  };

  // One operand, converted to its layout.
  auto load = [&](Role role) -> Expected<HostTensor> {
    switch (role) {
    case Role::Tokens:
      break;
    case Role::Router:
      return get(layout->router);
    case Role::RouterBias:
      if (layout->routerBias.empty())
        return unsupported(role);
      return get(layout->routerBias);
    case Role::SelectionBias:
      if (layout->selectionBias.empty())
        return unsupported(role);
      return get(layout->selectionBias);
    case Role::Gate:
    case Role::Up: {
      bool up = role == Role::Up;
      if (!transposed) {
        StringRef name = up ? layout->up : layout->gate;
        if (name.empty())
          return unsupported(role);
        return stackExperts(*file, block, layout->expert, name, numExperts);
      }
      Expected<const HostTensor *> weight = fused(gateUp, layout->gateUp, 3);
      if (!weight)
        return weight.takeError();
      return splitTransposed(**weight, interleaved, up);
    }
    case Role::GateBias:
    case Role::UpBias: {
      if (layout->gateUpBias.empty())
        return unsupported(role);
      Expected<const HostTensor *> bias =
          fused(gateUpBias, layout->gateUpBias, 2);
      if (!bias)
        return bias.takeError();
      return splitBias(**bias, interleaved, role == Role::UpBias);
    }
    case Role::Down: {
      if (!transposed)
        return stackExperts(*file, block, layout->expert, layout->down,
                            numExperts);
      Expected<HostTensor> down = getRanked(layout->downFused, 3);
      if (!down)
        return down.takeError();
      return transposeExperts(*down);
    }
    case Role::DownBias:
      if (layout->downBias.empty())
        return unsupported(role);
      return get(layout->downBias);
    case Role::SharedGate:
    case Role::SharedUp:
    case Role::SharedDown: {
      if (layout->shared.empty())
        return unsupported(role);
      StringRef projection = role == Role::SharedGate ? "gate_proj.weight"
                             : role == Role::SharedUp ? "up_proj.weight"
                                                      : "down_proj.weight";
      return get((layout->shared + projection).str());
    }
    case Role::SharedSigmoidGate:
      if (layout->sharedGate.empty())
        return unsupported(role);
      return get(layout->sharedGate);
    }
    return failed("the tokens are not read from a checkpoint");
  };

  std::map<Role, HostTensor> result;
  for (Role role : roles) {
    if (role == Role::Tokens)
      continue;
    Expected<HostTensor> tensor = load(role);
    if (!tensor)
      return tensor.takeError();
    result[role] = std::move(*tensor);
  }
  return result;
}

} // namespace moe::run
