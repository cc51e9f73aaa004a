//===- moe-run.cpp - Compile, run and check an MoE layer ------------------===//
//
// moe-run FILE.mlir --target=cpu --tokens=N --seed=S
//
// Finds the function that computes a moe.layer, compiles it with
// moe-cpu-pipeline, JIT-executes it on seeded random tokens and weights,
// compares the result with the independent reference (lib/Reference) and
// prints the errors and the median time of several runs.
//
// --inputs=DIR reads the inputs from DIR/argN.npy instead of generating them,
// and --expect=FILE.npy compares both the compiled output and the reference
// with an external oracle's output (test/Conformance: Hugging Face blocks).
//
// --dump=DIR also writes the inputs (DIR/argN.npy, one per function argument
// in argument order, f32, C order, NumPy .npy v1.0) and the reference output
// (DIR/reference.npy, plus DIR/reference_dropped.txt for a layer that returns
// its dropped count), so that other compilers can be checked against the same
// data (scripts/iree-check.py).
//
// Exit status: 0 when the result matches, 1 on a mismatch, 2 when the input
// or the flags are wrong or compilation fails.
//
//===----------------------------------------------------------------------===//

#include "Checkpoint.h"

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/InitAll.h"
#include "moe-mlir/Pipelines/Pipelines.h"
#include "moe-mlir/Reference/MoEReference.h"
#include "moe-runtime/MoERuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <initializer_list>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

// LLVM's OpenMP runtime (libomp), which the compiled kernels call.
extern "C" void omp_set_num_threads(int);
extern "C" int omp_get_max_threads(void);

using namespace mlir;
namespace ref = ::moe::ref;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<input .mlir file>"),
                                      cl::Required);
static cl::opt<std::string> target("target",
                                   cl::desc("Where to run: cpu (default)"),
                                   cl::init("cpu"));
static cl::opt<int64_t>
    tokensOpt("tokens",
              cl::desc("Token count T for a layer with a dynamic T "
                       "(default 64; must match a static T; 0 runs an "
                       "empty batch)"),
              cl::init(-1));
static cl::opt<std::string>
    seedOpt("seed",
            cl::desc("Seed of the random inputs (default: MOE_TEST_SEED, "
                     "else a fresh random seed, printed)"),
            cl::init(""));
static cl::opt<std::string>
    entryOpt("entry", cl::desc("Function to run (default: the one function "
                               "that computes a moe.layer)"),
             cl::init(""));
static cl::opt<mlir::moe::BF16Dot> bf16DotOpt(
    "bf16-dot",
    cl::desc("bf16 matmuls with AVX512-BF16 dot products (the pipeline's "
             "bf16-dot option)"),
    cl::init(mlir::moe::BF16Dot::Auto),
    cl::values(clEnumValN(mlir::moe::BF16Dot::Auto, "auto",
                          "when the host has avx512bf16 and no AMX "
                          "(default)"),
               clEnumValN(mlir::moe::BF16Dot::On, "on", "always"),
               clEnumValN(mlir::moe::BF16Dot::Off, "off",
                          "never: widen to f32 and FMA")));
static cl::opt<int> runs("runs", cl::desc("Timed runs (median reported)"),
                         cl::init(10));
static cl::opt<double> rtol("rtol",
                            cl::desc("Largest accepted error relative to "
                                     "the reference's largest magnitude "
                                     "(default 1e-5 for f32 layers, 1e-2 "
                                     "for bf16, 2e-3 for f16)"),
                            cl::init(1e-5));
static cl::opt<double>
    tokenScale("token-scale",
               cl::desc("Multiply the generated tokens (uniform in [-1, 1)) "
                        "by this factor: large tokens overflow a bf16 or "
                        "f16 hidden state"),
               cl::init(1.0));
static cl::opt<int>
    hotExpert("hot-expert",
              cl::desc("Add --hot-bias (default 100: every token picks it "
                       "first) to this expert's router bias (needs a router "
                       "bias)"),
              cl::init(-1));
static cl::opt<float>
    hotBias("hot-bias",
            cl::desc("What --hot-expert adds to the expert's router bias; "
                     "large values test softmax stability"),
            cl::init(100.0f));
static cl::opt<std::string>
    dumpDir("dump",
            cl::desc("Also write the inputs (argN.npy, in argument order) and "
                     "the reference output (reference.npy, and "
                     "reference_dropped.txt when the layer returns a dropped "
                     "count) into this directory, as NumPy .npy v1.0 f32 "
                     "arrays; the directory is created if needed"),
            cl::value_desc("DIR"), cl::init(""));

static cl::opt<std::string> pipelineOpt(
    "pipeline",
    cl::desc("Options of moe-cpu-pipeline, as moe-opt takes them in "
             "--moe-cpu-pipeline='OPTS' (e.g. \"grouped-matmul=true "
             "fuse-scale=false\")"),
    cl::value_desc("OPTS"), cl::init(""));

static cl::opt<std::string> inputsDir(
    "inputs",
    cl::desc("Read the inputs from DIR/argN.npy (f32, C order; one per "
             "function argument in argument order, the files --dump writes) "
             "instead of generating them; T is the tokens' row count"),
    cl::value_desc("DIR"), cl::init(""));
static cl::opt<std::string> expectFile(
    "expect",
    cl::desc("Also compare the compiled output and the reference with this "
             "[T, D] f32 .npy, the output of an external oracle (a Hugging "
             "Face block); both must be within --rtol of it"),
    cl::value_desc("FILE"), cl::init(""));

static cl::opt<std::string> weightsFile(
    "weights",
    cl::desc("Read the layer's weights from this .safetensors checkpoint, "
             "in the naming and layout --weights-layout gives (tokens: "
             "--inputs, else generated)"),
    cl::value_desc("FILE"), cl::init(""));
static cl::opt<std::string> weightsLayout(
    "weights-layout",
    cl::desc("The family naming of --weights: mixtral, qwen2-moe, "
             "qwen3-moe, olmoe, deepseek, gpt-oss, llama4, switch"),
    cl::init(""));
static cl::opt<std::string> weightsPrefix(
    "weights-prefix",
    cl::desc("Key prefix of the layer in --weights, e.g. model.layers.3. "
             "(default: the checkpoint's only MoE layer)"),
    cl::init(""));

namespace {

constexpr const char *kThreadsDescription =
    "Threads of the compiled layer's parallel kernels (default: OpenMP's, "
    "all cores unless OMP_NUM_THREADS says otherwise)";

/// --threads. libLLVM.so already registers an int option of that name (with
/// no description, for its own use): moe-run reads that one when it exists.
cl::opt<int> &threadsOption() {
  if (cl::Option *existing = cl::getRegisteredOptions().lookup("threads")) {
    existing->setDescription(kThreadsDescription);
    return *static_cast<cl::opt<int> *>(existing);
  }
  static cl::opt<int> own("threads", cl::desc(kThreadsDescription),
                          cl::init(0));
  return own;
}

/// Exit codes.
constexpr int kMatch = 0, kMismatch = 1, kUsageError = 2;

using ::moe::run::formatShape;
using ::moe::run::Role;

/// The reference's name for a tensor's element type (f32, bf16 or f16, which
/// findEntryPoint has checked).
ref::ElementType elementTypeOf(Value value) {
  Type type = cast<RankedTensorType>(value.getType()).getElementType();
  if (type.isBF16())
    return ref::ElementType::BF16;
  if (type.isF16())
    return ref::ElementType::F16;
  return ref::ElementType::F32;
}

const char *elementTypeName(ref::ElementType type) {
  switch (type) {
  case ref::ElementType::F32:
    return "f32";
  case ref::ElementType::BF16:
    return "bf16";
  case ref::ElementType::F16:
    return "f16";
  }
  return "f32";
}

struct EntryPoint {
  func::FuncOp func;
  mlir::moe::LayerOp layer;
  SmallVector<Role> roles; // one per function argument
};

int usageError(const Twine &message) {
  llvm::errs() << "moe-run: error: " << message << "\n";
  return kUsageError;
}

/// Finds the entry function and maps its arguments to layer operands.
FailureOr<EntryPoint> findEntryPoint(ModuleOp module) {
  SmallVector<mlir::moe::LayerOp> layers;
  module.walk([&](mlir::moe::LayerOp layer) { layers.push_back(layer); });
  if (!entryOpt.empty())
    llvm::erase_if(layers, [](mlir::moe::LayerOp layer) {
      auto func = layer->getParentOfType<func::FuncOp>();
      return !func || func.getSymName() != entryOpt;
    });
  if (layers.empty()) {
    usageError(entryOpt.empty()
                   ? Twine("no moe.layer in '") + inputFile + "'"
                   : Twine("no function '") + entryOpt +
                         "' computing a moe.layer");
    return failure();
  }
  if (layers.size() > 1) {
    usageError("several moe.layer ops: choose one function with --entry=NAME "
               "whose body is a single layer");
    return failure();
  }
  EntryPoint entry;
  entry.layer = layers.front();
  entry.func = entry.layer->getParentOfType<func::FuncOp>();
  if (!entry.func) {
    entry.layer.emitError("moe-run needs the layer inside a func.func");
    return failure();
  }

  DenseMap<Value, Role> operandRoles;
  mlir::moe::LayerOp layer = entry.layer;
  operandRoles[layer.getTokens()] = Role::Tokens;
  operandRoles[layer.getRouterWeight()] = Role::Router;
  if (layer.getRouterBias())
    operandRoles[layer.getRouterBias()] = Role::RouterBias;
  if (layer.getSelectionBias())
    operandRoles[layer.getSelectionBias()] = Role::SelectionBias;
  operandRoles[layer.getUpWeight()] = Role::Up;
  operandRoles[layer.getDownWeight()] = Role::Down;
  for (auto [value, role] :
       {std::pair<Value, Role>{layer.getGateWeight(), Role::Gate},
        {layer.getGateBias(), Role::GateBias},
        {layer.getUpBias(), Role::UpBias},
        {layer.getDownBias(), Role::DownBias},
        {layer.getSharedGate(), Role::SharedGate},
        {layer.getSharedUp(), Role::SharedUp},
        {layer.getSharedDown(), Role::SharedDown},
        {layer.getSharedSigmoidGate(), Role::SharedSigmoidGate}})
    if (value)
      operandRoles[value] = role;
  if (operandRoles.size() != layer->getNumOperands()) {
    layer.emitError("moe-run needs distinct values for the layer's operands");
    return failure();
  }
  for (BlockArgument arg : entry.func.getArguments()) {
    auto it = operandRoles.find(arg);
    if (it == operandRoles.end()) {
      entry.func.emitError("moe-run needs every argument of @")
          << entry.func.getSymName() << " to be an operand of its moe.layer";
      return failure();
    }
    entry.roles.push_back(it->second);
  }
  if (entry.roles.size() != layer->getNumOperands()) {
    layer.emitError("moe-run needs every operand of the layer to be an "
                    "argument of @")
        << entry.func.getSymName();
    return failure();
  }
  auto returnOp = cast<func::ReturnOp>(entry.func.getBody().back().back());
  if (returnOp.getNumOperands() != layer->getNumResults() ||
      !llvm::equal(returnOp.getOperands(), layer->getResults())) {
    entry.func.emitError("moe-run needs @")
        << entry.func.getSymName() << " to return the layer's results";
    return failure();
  }
  for (Value operand : layer->getOperands())
    if (!isa<Float32Type, BFloat16Type, Float16Type>(
            cast<RankedTensorType>(operand.getType()).getElementType())) {
      layer.emitError("moe-run checks f32, bf16 and f16 layers; this one has ")
          << operand.getType();
      return failure();
    }
  return entry;
}

ref::LayerConfig referenceConfig(mlir::moe::LayerOp layer) {
  ref::LayerConfig config;
  config.D = layer.getModelSize();
  config.element = elementTypeOf(layer.getTokens());
  config.F = layer.getHiddenSize();
  config.E = layer.getNumExperts();
  mlir::moe::RouterAttr router = layer.getRouter();
  config.router.k = router.getK();
  config.router.scoring = router.getScoring() == mlir::moe::Scoring::sigmoid
                              ? ref::Scoring::Sigmoid
                              : ref::Scoring::Softmax;
  config.router.order = router.getOrder() == mlir::moe::ScoreOrder::topk_softmax
                            ? ref::ScoreOrder::TopKSoftmax
                            : ref::ScoreOrder::SoftmaxTopK;
  config.router.renormalize = router.getRenormalize();
  config.router.scale = router.getScaleValue();
  config.router.groups = router.getGroups();
  config.router.topkGroups = router.getTopkGroups();
  config.router.groupScore = router.getGroupScore() == mlir::moe::GroupScore::sum_top2
                                 ? ref::GroupScore::SumTop2
                                 : ref::GroupScore::Max;
  config.router.weightsOnInput =
      router.getWeightsOn() == mlir::moe::WeightsOn::input;
  config.router.expertChoice = router.getChoice() == mlir::moe::Choice::expert;
  if (Value sharedUp = layer.getSharedUp())
    config.sharedF = cast<RankedTensorType>(sharedUp.getType()).getDimSize(0);
  mlir::moe::CapacityAttr capacity = layer.getCapacity();
  switch (capacity.getKind()) {
  case mlir::moe::CapacityKind::dropless:
    config.capacity.kind = ref::CapacityKind::Dropless;
    break;
  case mlir::moe::CapacityKind::fixed:
    config.capacity.kind = ref::CapacityKind::Fixed;
    config.capacity.capacity = capacity.getCapacity();
    break;
  case mlir::moe::CapacityKind::factor:
    config.capacity.kind = ref::CapacityKind::Factor;
    config.capacity.factor = capacity.getFactorValue();
    break;
  }
  config.capacity.droppedIdentity =
      capacity.getDropped() == mlir::moe::DroppedOutput::identity;
  config.capacity.dropByProbability =
      capacity.getDrop() == mlir::moe::DropPolicy::probability;
  switch (layer.getActivation()) {
  case mlir::moe::Activation::swiglu:
    config.activation = ref::Activation::SwiGLU;
    break;
  case mlir::moe::Activation::geglu:
    config.activation = ref::Activation::GeGLU;
    break;
  case mlir::moe::Activation::gelu:
    config.activation = ref::Activation::Gelu;
    break;
  case mlir::moe::Activation::gelu_tanh:
    config.activation = ref::Activation::GeluTanh;
    break;
  case mlir::moe::Activation::relu:
    config.activation = ref::Activation::Relu;
    break;
  case mlir::moe::Activation::silu:
    config.activation = ref::Activation::Silu;
    break;
  case mlir::moe::Activation::clamped_swiglu:
    config.activation = ref::Activation::ClampedSwiGLU;
    break;
  }
  mlir::moe::ActivationAttr activation = layer.getActivationAttr();
  config.alpha = activation.getAlphaValue();
  config.limit = activation.getLimitValue();
  return config;
}

/// A strided memref descriptor as the LLVM lowering lays it out:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct Descriptor {
  explicit Descriptor(void *data, ArrayRef<int64_t> shape) {
    words.push_back(reinterpret_cast<int64_t>(data));
    words.push_back(reinterpret_cast<int64_t>(data));
    words.push_back(0);
    words.append(shape.begin(), shape.end());
    int64_t stride = 1;
    SmallVector<int64_t> strides(shape.size());
    for (int64_t i = shape.size() - 1; i >= 0; --i) {
      strides[i] = stride;
      stride *= shape[i];
    }
    words.append(strides.begin(), strides.end());
  }
  SmallVector<int64_t> words;
};

/// One input tensor: its data and shape.
struct Input {
  std::vector<float> data;
  SmallVector<int64_t> shape;
  /// For a bf16 or f16 argument: `data` rounded to it, as 16-bit words (the
  /// compiled layer's buffer); `data` then holds the rounded values.
  ref::ElementType element = ref::ElementType::F32;
  std::vector<uint16_t> narrow;

  /// Rounds `data` to `type` and fills `narrow` with its bits.
  void narrowTo(ref::ElementType type) {
    element = type;
    if (type == ref::ElementType::F32)
      return;
    narrow.resize(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = float(ref::roundTo(type, data[i]));
      narrow[i] = type == ref::ElementType::BF16 ? bf16BitsOf(data[i])
                                                 : f16BitsOf(data[i]);
    }
  }
  void *buffer() {
    return element == ref::ElementType::F32 ? static_cast<void *>(data.data())
                                            : narrow.data();
  }
  /// The bits of a float that is exactly a bf16 / f16 value.
  static uint16_t bf16BitsOf(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    return uint16_t(bits >> 16);
  }
  static uint16_t f16BitsOf(float value) {
    _Float16 half = static_cast<_Float16>(value);
    uint16_t bits;
    std::memcpy(&bits, &half, 2);
    return bits;
  }
};

/// Uniform values scaled like a trained layer's: weights ~ 1/sqrt(fan-in), so
/// activations stay O(1) and routing is neither flat nor saturated.
Input randomInput(ArrayRef<int64_t> shape, uint64_t seed, float bound) {
  Input input;
  input.shape.assign(shape.begin(), shape.end());
  int64_t size = 1;
  for (int64_t dim : shape)
    size *= dim;
  input.data.resize(size);
  if (moe_rt_fill_uniform_f32(input.data.data(), size, seed, -bound, bound) !=
      MOE_RT_OK) {
    llvm::errs() << "moe-run: " << moe_rt_last_error() << "\n";
    std::exit(kUsageError);
  }
  return input;
}

/// Writes a C-order f32 array as a NumPy .npy file, format version 1.0: the
/// magic string, the version, a little-endian u16 header length, then an
/// ASCII dict padded with spaces and ended by a newline so that the data
/// starts at a multiple of 64 bytes, then the raw little-endian data.
/// Returns an error message, or an empty string on success.
std::string writeNpy(StringRef path, const float *data,
                     ArrayRef<int64_t> shape) {
  static_assert(sizeof(float) == 4, "f32 is 4 bytes");
  std::string shapeText = "(";
  for (auto [i, dim] : llvm::enumerate(shape))
    shapeText += (i ? ", " : "") + std::to_string(dim);
  if (shape.size() == 1)
    shapeText += ",";
  shapeText += ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
  constexpr size_t kPrefix = 10; // magic (6) + version (2) + length (2)
  size_t total = kPrefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xffff)
    return "the .npy header is too long";

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return "cannot write '" + path.str() + "': " + ec.message();
  os << "\x93NUMPY";
  os << char(1) << char(0);
  os << char(header.size() & 0xff) << char((header.size() >> 8) & 0xff);
  os << header;
  int64_t size = 1;
  for (int64_t dim : shape)
    size *= dim;
  for (int64_t i = 0; i < size; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &data[i], sizeof(bits));
    char bytes[4] = {char(bits & 0xff), char((bits >> 8) & 0xff),
                     char((bits >> 16) & 0xff), char((bits >> 24) & 0xff)};
    os.write(bytes, sizeof(bytes));
  }
  os.close();
  if (os.has_error())
    return "cannot write '" + path.str() + "': " + os.error().message();
  return "";
}

/// Reads a C-order little-endian f32 NumPy .npy file (format 1.0 or 2.0).
/// Returns an error message, or an empty string on success.
std::string readNpy(StringRef path, Input &input) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "cannot read '" + path.str() + "': " + buffer.getError().message();
  StringRef bytes = (*buffer)->getBuffer();
  auto bad = [&](const Twine &why) {
    return "'" + path.str() + "' is not a usable .npy file: " + why.str();
  };
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return bad("no .npy magic string");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   static_cast<unsigned char>(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return bad("truncated header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |= size_t(static_cast<unsigned char>(bytes[8 + i]))
                      << (8 * i);
    headerStart = 12;
  } else {
    return bad("format version " + Twine(major));
  }
  if (bytes.size() < headerStart + headerLength)
    return bad("truncated header");
  StringRef header = bytes.substr(headerStart, headerLength);
  if (!header.contains("'descr': '<f4'"))
    return bad("only little-endian f32 ('<f4') arrays are read; convert with "
               "numpy.asarray(a, dtype='<f4')");
  if (!header.contains("'fortran_order': False"))
    return bad("only C-order arrays are read");
  size_t open = header.find("'shape': (");
  size_t close = open == StringRef::npos ? open : header.find(')', open);
  if (close == StringRef::npos)
    return bad("no shape");
  StringRef dims = header.slice(open + 10, close);
  input.shape.clear();
  int64_t count = 1;
  SmallVector<StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0)
      return bad("bad shape '(" + dims + ")'");
    input.shape.push_back(dim);
    count *= dim;
  }
  StringRef data = bytes.substr(headerStart + headerLength);
  if (data.size() != size_t(count) * 4)
    return bad(Twine(data.size()) + " data bytes for " + Twine(count) +
               " f32 values");
  input.data.resize(count);
  // An empty array (T = 0) has no data pointer to copy from.
  if (count > 0)
    std::memcpy(input.data.data(), data.data(), data.size());
  return "";
}

/// Writes the inputs and the reference result into `dir` (see --dump).
std::string dumpData(StringRef dir, ArrayRef<Input> inputs,
                     const ref::LayerResult &expected, int64_t T, int64_t D,
                     bool hasDropped) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return "cannot create '" + dir.str() + "': " + ec.message();
  auto pathOf = [&](const Twine &name) {
    SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  };
  for (auto [i, input] : llvm::enumerate(inputs)) {
    std::string error = writeNpy(pathOf("arg" + Twine(i) + ".npy"),
                                 input.data.data(), input.shape);
    if (!error.empty())
      return error;
  }
  std::string error =
      writeNpy(pathOf("reference.npy"), expected.output.data(), {T, D});
  if (!error.empty())
    return error;
  std::string droppedPath = pathOf("reference_dropped.txt");
  if (hasDropped) {
    std::error_code ec;
    llvm::raw_fd_ostream os(droppedPath, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return "cannot write '" + droppedPath + "': " + ec.message();
    os << expected.dropped << "\n";
  } else {
    // A stale count from an earlier dump would describe another layer.
    llvm::sys::fs::remove(droppedPath);
  }
  return "";
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::opt<int> &threadsOpt = threadsOption();
  // --help lists moe-run's own options; libLLVM's back-end flags stay
  // usable but hidden (--help-hidden).
  static cl::OptionCategory runCategory("moe-run options");
  for (cl::Option *option : std::initializer_list<cl::Option *>{
           &inputFile, &target, &tokensOpt, &seedOpt, &entryOpt, &bf16DotOpt,
           &runs, &rtol, &tokenScale, &hotExpert, &hotBias, &dumpDir,
           &pipelineOpt, &inputsDir, &expectFile, &weightsFile,
           &weightsLayout, &weightsPrefix, &threadsOpt})
    option->addCategory(runCategory);
  cl::HideUnrelatedOptions(runCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "compile an MoE layer, run it on random data and check it against the "
      "reference\n\n"
      "  moe-run FILE.mlir [--tokens=N] [--seed=S] [--runs=R] [options]\n\n"
      "Exit status: 0 match, 1 mismatch, 2 bad input.\n"
      "Examples:\n"
      "  moe-run examples/mixtral.mlir --tokens=64\n"
      "  moe-preset deepseek-v3 --scale-down=64 > dsv3.mlir && moe-run "
      "dsv3.mlir --tokens=21 --threads=1\n"
      "  moe-run layer.mlir --pipeline=\"fuse-gating=false\" --dump=out\n");
  if (target != "cpu")
    return usageError("--target=" + target +
                      " is not supported (supported: cpu)");
  if (runs < 1)
    return usageError("--runs must be at least 1");
  if (threadsOpt.getNumOccurrences()) {
    if (threadsOpt < 1)
      return usageError("--threads must be at least 1");
    omp_set_num_threads(threadsOpt);
  }
  // -1 stands for "not given"; a given negative count is an error.
  if (tokensOpt.getNumOccurrences() && tokensOpt < 0)
    return usageError("--tokens must be at least 0");

  uint64_t seed = 0;
  if (seedOpt.empty()) {
    seed = moe_rt_fresh_seed();
  } else {
    char *end = nullptr;
    seed = std::strtoull(seedOpt.c_str(), &end, 0);
    if (!end || *end != '\0')
      return usageError("--seed must be an unsigned integer, got '" +
                        seedOpt + "'");
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  mlir::moe::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);

  std::string errorMessage;
  auto file = openInputFile(inputFile, &errorMessage);
  if (!file)
    return usageError(errorMessage);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return usageError("could not parse '" + inputFile + "'");

  FailureOr<EntryPoint> entry = findEntryPoint(*module);
  if (failed(entry))
    return kUsageError;
  mlir::moe::LayerOp layer = entry->layer;
  std::string entryName = entry->func.getSymName().str();
  ref::LayerConfig config = referenceConfig(layer);
  int64_t D = config.D, F = config.F, E = config.E, k = config.router.k;
  int64_t S = config.sharedF;

  // Arguments given rather than generated: with --inputs, DIR/argN.npy
  // (only the tokens when --weights gives the weights), with --weights the
  // weights from a checkpoint. T is then the tokens' row count. Shapes are
  // checked below, once T is known.
  size_t numArgs = entry->roles.size();
  SmallVector<Input> inputs(numArgs);
  SmallVector<bool> given(numArgs, false);
  if ((!inputsDir.empty() || !weightsFile.empty()) && hotExpert >= 0)
    return usageError("--hot-expert changes generated inputs; it does not "
                      "combine with --inputs or --weights");
  if (!inputsDir.empty()) {
    for (auto [i, role] : llvm::enumerate(entry->roles)) {
      if (!weightsFile.empty() && role != Role::Tokens)
        continue;
      SmallString<256> path(inputsDir);
      llvm::sys::path::append(path, "arg" + Twine(i) + ".npy");
      std::string error = readNpy(path, inputs[i]);
      if (!error.empty())
        return usageError("--inputs: " + error);
      given[i] = true;
      if (role == Role::Tokens) {
        if (inputs[i].shape.size() != 2)
          return usageError("--inputs: the tokens " + std::string(path) +
                            " must be [T, D], got " +
                            formatShape(inputs[i].shape));
        if (tokensOpt >= 0 && tokensOpt != inputs[i].shape[0])
          return usageError("--tokens=" + Twine(tokensOpt) + " but " + path +
                            " has " + Twine(inputs[i].shape[0]) + " tokens");
        tokensOpt = inputs[i].shape[0];
      }
    }
  }
  if (!weightsFile.empty()) {
    if (weightsLayout.empty())
      return usageError("--weights needs --weights-layout (one of " +
                        llvm::join(::moe::run::checkpointLayouts(), ", ") + ")");
    auto loaded = ::moe::run::loadCheckpoint(weightsFile, weightsLayout,
                                           weightsPrefix, entry->roles, E);
    if (!loaded)
      return usageError("--weights: " + llvm::toString(loaded.takeError()));
    for (auto [i, role] : llvm::enumerate(entry->roles)) {
      if (role == Role::Tokens)
        continue;
      ::moe::run::HostTensor &tensor = (*loaded)[role];
      inputs[i].data = std::move(tensor.data);
      inputs[i].shape = tensor.shape;
      given[i] = true;
    }
  }

  int64_t staticTokens = layer.getTokens().getType().getDimSize(0);
  int64_t T = tokensOpt;
  if (ShapedType::isDynamic(staticTokens)) {
    if (T < 0)
      T = 64;
  } else if (T >= 0 && T != staticTokens) {
    return usageError("--tokens=" + Twine(T) + " but the layer's T is " +
                      Twine(staticTokens));
  } else {
    T = staticTokens;
  }
  if (hotExpert >= 0 && (hotExpert >= E || !layer.getRouterBias()))
    return usageError("--hot-expert needs a layer with a router bias and an "
                      "expert id below E = " +
                      Twine(E));

  // The others, each from its own stream of the seed.
  ref::LayerWeights weights;
  Input *tokens = nullptr;
  bool generated = false;
  for (auto [i, role] : llvm::enumerate(entry->roles)) {
    uint64_t stream = seed * 1000003ull + i;
    auto d = static_cast<float>(D), f = static_cast<float>(F);
    SmallVector<int64_t> shape;
    float bound = 0.5f;
    switch (role) {
    case Role::Tokens:
      shape = {T, D};
      bound = 1.0f;
      break;
    case Role::Router:
      shape = {E, D};
      bound = 4.0f / std::sqrt(d);
      break;
    case Role::RouterBias:
    case Role::SelectionBias:
      shape = {E};
      break;
    case Role::Gate:
    case Role::Up:
      shape = {E, F, D};
      bound = 1.0f / std::sqrt(d);
      break;
    case Role::Down:
      shape = {E, D, F};
      bound = 1.0f / std::sqrt(f);
      break;
    case Role::GateBias:
    case Role::UpBias:
      shape = {E, F};
      break;
    case Role::DownBias:
      shape = {E, D};
      break;
    case Role::SharedGate:
    case Role::SharedUp:
      shape = {S, D};
      bound = 1.0f / std::sqrt(d);
      break;
    case Role::SharedDown:
      shape = {D, S};
      bound = 1.0f / std::sqrt(float(S));
      break;
    case Role::SharedSigmoidGate:
      shape = {1, D};
      bound = 2.0f / std::sqrt(d);
      break;
    }
    if (!given[i]) {
      inputs[i] = randomInput(shape, stream, bound);
      if (role == Role::Tokens && tokenScale != 1.0)
        for (float &value : inputs[i].data)
          value = float(value * tokenScale);
      generated = true;
    } else if (inputs[i].shape != shape) {
      return usageError(
          (role != Role::Tokens && !weightsFile.empty()
               ? "--weights: " + std::string(::moe::run::roleName(role)) + " is "
               : "--inputs: arg" + std::to_string(i) + ".npy is ") +
          formatShape(inputs[i].shape) + ", the layer expects " +
          formatShape(shape));
    }
  }
  for (auto [role, input] : llvm::zip(entry->roles, inputs)) {
    const float *data = input.data.data();
    switch (role) {
    case Role::Tokens:
      tokens = &input;
      break;
    case Role::Router:
      weights.router = data;
      break;
    case Role::RouterBias:
      if (hotExpert >= 0)
        input.data[hotExpert] += hotBias;
      weights.routerBias = data;
      break;
    case Role::SelectionBias:
      weights.selectionBias = data;
      break;
    case Role::Gate:
      weights.gate = data;
      break;
    case Role::Up:
      weights.up = data;
      break;
    case Role::Down:
      weights.down = data;
      break;
    case Role::GateBias:
      weights.gateBias = data;
      break;
    case Role::UpBias:
      weights.upBias = data;
      break;
    case Role::DownBias:
      weights.downBias = data;
      break;
    case Role::SharedGate:
      weights.sharedGate = data;
      break;
    case Role::SharedUp:
      weights.sharedUp = data;
      break;
    case Role::SharedDown:
      weights.sharedDown = data;
      break;
    case Role::SharedSigmoidGate:
      weights.sharedSigmoidGate = data;
      break;
    }
  }

  // A bf16 or f16 argument gets its values rounded to that type: the
  // reference then sees exactly what the compiled layer does.
  for (auto [i, input] : llvm::enumerate(inputs))
    input.narrowTo(elementTypeOf(entry->func.getArgument(i)));
  if (!rtol.getNumOccurrences())
    rtol = config.element == ref::ElementType::BF16  ? 1e-2
           : config.element == ref::ElementType::F16 ? 2e-3
                                                     : 1e-5;

  llvm::outs() << "moe-run: " << inputFile << " @" << entryName << ": T=" << T
               << " D=" << D << " F=" << F << " E=" << E << " k=" << k
               << " " << elementTypeName(config.element) << ", ";
  if (generated)
    llvm::outs() << "seed=" << seed;
  if (!inputsDir.empty())
    llvm::outs() << (generated ? ", " : "") << "inputs from " << inputsDir;
  if (!weightsFile.empty())
    llvm::outs() << (generated || !inputsDir.empty() ? ", " : "")
                 << "weights from " << weightsFile << " (" << weightsLayout
                 << ")";
  llvm::outs() << "\n";

  // The external oracle's output, read before anything runs.
  Input external;
  if (!expectFile.empty()) {
    std::string error = readNpy(expectFile, external);
    if (!error.empty())
      return usageError("--expect: " + error);
    if (external.shape != SmallVector<int64_t>{T, D})
      return usageError("--expect: " + expectFile + " is " +
                        formatShape(external.shape) + ", the output is " +
                        formatShape({T, D}));
  }

  std::string invalid = ref::validate(config);
  if (!invalid.empty())
    return usageError("the reference rejects this layer: " + invalid);

  // The pipeline replaces the layer: read what is needed of it first.
  bool hasDropped = static_cast<bool>(layer.getDropped());
  bool hasStatistics = layer.hasStatistics();
  // Each result comes back as a memref descriptor of 3 + 2 * rank words.
  SmallVector<size_t> resultOffsets;
  size_t resultWordCount = 0;
  for (Type type : layer->getResultTypes()) {
    resultOffsets.push_back(resultWordCount);
    resultWordCount += 3 + 2 * cast<RankedTensorType>(type).getRank();
  }
  size_t droppedIndex = 1, statisticsIndex = hasDropped ? 2 : 1;
  layer = nullptr;

  // With --dump, the reference runs first so that its output can be written
  // with the inputs; it is computed once either way.
  std::optional<ref::LayerResult> earlyReference;
  if (!dumpDir.empty()) {
    earlyReference = ref::layer(config, weights, tokens->data.data(), T);
    std::string error =
        dumpData(dumpDir, inputs, *earlyReference, T, D, hasDropped);
    if (!error.empty())
      return usageError("--dump: " + error);
    llvm::outs() << "  dump: " << inputs.size() << " inputs and the reference"
                 << (hasDropped ? " (with its dropped count)" : "") << " in "
                 << dumpDir << "\n";
  }

  // Compile.
  auto compileStart = std::chrono::steady_clock::now();
  PassManager pm(&context);
  mlir::moe::CPUPipelineOptions pipelineOptions;
  std::string pipelineError;
  llvm::raw_string_ostream pipelineErrorStream(pipelineError);
  if (failed(pipelineOptions.parseFromString(pipelineOpt, pipelineErrorStream)))
    return usageError("--pipeline: " + pipelineError);
  // --bf16-dot, when given, wins over a bf16-dot in --pipeline.
  if (bf16DotOpt.getNumOccurrences())
    pipelineOptions.bf16Dot = bf16DotOpt;
  mlir::moe::buildCPUPipeline(pm, pipelineOptions);
  if (failed(pm.run(*module)))
    return usageError("moe-cpu-pipeline failed on '" + inputFile + "'");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // LLVM's optimizations for the host CPU (its vector width and features),
  // as the JIT's code generation does.
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder) {
    llvm::errs() << "moe-run: error: "
                 << llvm::toString(machineBuilder.takeError()) << "\n";
    return kUsageError;
  }
  auto targetMachine = machineBuilder->createTargetMachine();
  if (!targetMachine) {
    llvm::errs() << "moe-run: error: "
                 << llvm::toString(targetMachine.takeError()) << "\n";
    return kUsageError;
  }
  auto transformer = makeOptimizingTransformer(/*optLevel=*/3,
                                               /*sizeLevel=*/0,
                                               targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engineOrError = ExecutionEngine::create(*module, engineOptions);
  if (!engineOrError) {
    llvm::errs() << "moe-run: error: JIT compilation failed: "
                 << llvm::toString(engineOrError.takeError()) << "\n";
    return kUsageError;
  }
  std::unique_ptr<ExecutionEngine> engine = std::move(*engineOrError);
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - compileStart)
                              .count();

  // Calling convention of _mlir_ciface_<entry>(results*, args*...): results
  // are a struct of descriptors ({ptr, ptr, i64, sizes, strides} each).
  SmallVector<Descriptor> argDescriptors;
  for (Input &input : inputs)
    argDescriptors.emplace_back(input.buffer(), input.shape);
  std::vector<int64_t> resultWords(resultWordCount, 0);
  // The aligned pointer of result i (its offset is the next word).
  auto resultData = [&](size_t i) -> const char * {
    return reinterpret_cast<const char *>(resultWords[resultOffsets[i] + 1]);
  };

  auto invoke = [&]() -> bool {
    void *resultPtr = resultWords.data();
    SmallVector<void *> descriptorPtrs;
    for (Descriptor &desc : argDescriptors)
      descriptorPtrs.push_back(desc.words.data());
    SmallVector<void *> packed = {&resultPtr};
    for (void *&ptr : descriptorPtrs)
      packed.push_back(&ptr);
    if (llvm::Error error =
            engine->invokePacked("_mlir_ciface_" + entryName, packed)) {
      llvm::errs() << "moe-run: error: " << llvm::toString(std::move(error))
                   << "\n";
      return false;
    }
    return true;
  };
  auto freeResults = [&] {
    for (size_t offset : resultOffsets)
      std::free(reinterpret_cast<void *>(resultWords[offset]));
  };

  // One checked run, then the timed ones.
  if (!invoke())
    return kUsageError;
  std::vector<float> result(size_t(T * D));
  if (config.element == ref::ElementType::F32) {
    const float *output =
        reinterpret_cast<const float *>(resultWords[1]) + resultWords[2];
    std::copy(output, output + T * D, result.begin());
  } else {
    const uint16_t *output =
        reinterpret_cast<const uint16_t *>(resultWords[1]) + resultWords[2];
    for (int64_t i = 0; i < T * D; ++i)
      result[i] = config.element == ref::ElementType::BF16
                      ? ::moe::run::bf16ToFloat(output[i])
                      : ::moe::run::halfToFloat(output[i]);
  }
  int64_t dropped = -1;
  if (hasDropped)
    dropped = *(reinterpret_cast<const int64_t *>(resultData(droppedIndex)) +
                resultWords[resultOffsets[droppedIndex] + 2]);
  // Statistics: counts [E] (offset, size, stride after the pointers), then
  // the two losses.
  std::vector<int64_t> expertCounts;
  double auxLoss = 0.0, zLoss = 0.0;
  if (hasStatistics) {
    size_t at = resultOffsets[statisticsIndex];
    const int64_t *counts =
        reinterpret_cast<const int64_t *>(resultData(statisticsIndex)) +
        resultWords[at + 2];
    int64_t stride = resultWords[at + 4];
    for (int64_t e = 0; e < E; ++e)
      expertCounts.push_back(counts[e * stride]);
    auto scalar = [&](size_t i) {
      return double(*(reinterpret_cast<const float *>(resultData(i)) +
                      resultWords[resultOffsets[i] + 2]));
    };
    auxLoss = scalar(statisticsIndex + 1);
    zLoss = scalar(statisticsIndex + 2);
  }
  freeResults();

  std::vector<double> seconds;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (!invoke())
      return kUsageError;
    seconds.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    freeResults();
  }

  ref::LayerResult expected =
      earlyReference ? std::move(*earlyReference)
                     : ref::layer(config, weights, tokens->data.data(), T);
  ref::OutputError error =
      ref::compareOutput(result.data(), expected.output.data(), T * D);
  double maxAbsError = error.maxAbs, relError = error.relative;
  // Non-finite outputs pass only where the reference has them too (an
  // overflow of a bf16 or f16 hidden state, which it models).
  bool finite = error.finiteMismatches == 0;
  bool droppedMatches = !hasDropped || dropped == expected.dropped;
  bool pass = finite && relError <= rtol && droppedMatches;
  auto relativeTo = [](double actual, double reference) {
    double scale = std::max(std::fabs(reference), 1e-30);
    return std::fabs(actual - reference) / scale;
  };
  bool statisticsMatch = true;
  if (hasStatistics) {
    const ref::RouterStatistics &r = expected.statistics;
    statisticsMatch = expertCounts == r.expertCounts &&
                      relativeTo(auxLoss, r.auxLoss) <= rtol &&
                      relativeTo(zLoss, r.zLoss) <= rtol;
    pass &= statisticsMatch;
  }
  std::optional<std::pair<ref::OutputError, ref::OutputError>> externalError;
  if (!expectFile.empty()) {
    externalError = {
        ref::compareOutput(result.data(), external.data.data(), T * D),
        ref::compareOutput(expected.output.data(), external.data.data(),
                           T * D)};
    pass &= externalError->first.relative <= rtol &&
            externalError->second.relative <= rtol;
  }

  // 2*D*F per projection, per kept assignment, plus the router matmul.
  int64_t kept = T * k - expected.dropped;
  int64_t projections = config.activation == ref::Activation::SwiGLU ||
                                config.activation == ref::Activation::GeGLU ||
                                config.activation ==
                                    ref::Activation::ClampedSwiGLU
                            ? 3
                            : 2;
  double flops = 2.0 * T * D * E + 2.0 * kept * D * F * projections +
                 2.0 * T * D * S * projections;
  double medianSeconds = median(seconds);

  llvm::outs() << llvm::format(
      "  compile: %.2f s (moe-cpu-pipeline + JIT); threads: %d\n",
      compileSeconds, omp_get_max_threads());
  llvm::outs() << llvm::format(
      "  check: max abs err %.3e, rel err %.3e (tolerance %.1e)", maxAbsError,
      relError, rtol.getValue());
  if (hasDropped)
    llvm::outs() << ", dropped " << dropped << " (reference "
                 << expected.dropped << ")";
  else if (expected.dropped != 0)
    llvm::outs() << ", reference dropped " << expected.dropped;
  if (error.nonFinite || error.finiteMismatches) {
    int64_t tokensHit = 0;
    for (int64_t t = 0; t < T; ++t)
      tokensHit += std::any_of(&result[t * D], &result[(t + 1) * D],
                               [](float v) { return !std::isfinite(v); });
    llvm::outs() << ", non-finite outputs in " << tokensHit << " of " << T
                 << " tokens ("
                 << (finite ? "where the reference has them"
                            : Twine(error.finiteMismatches).str() +
                                  " elements unlike the reference")
                 << ")";
  }
  if (externalError)
    llvm::outs() << llvm::format("; against %s: compiled rel err %.3e, "
                                 "reference rel err %.3e",
                                 expectFile.c_str(),
                                 externalError->first.relative,
                                 externalError->second.relative);
  llvm::outs() << ": " << (pass ? "PASS" : "FAIL") << "\n";
  if (hasStatistics) {
    const ref::RouterStatistics &r = expected.statistics;
    llvm::outs() << "  statistics: expert counts ";
    if (E <= 32) {
      llvm::outs() << "[";
      for (auto [e, count] : llvm::enumerate(expertCounts))
        llvm::outs() << (e ? ", " : "") << count;
      llvm::outs() << "]";
    } else {
      int64_t used = llvm::count_if(expertCounts,
                                    [](int64_t count) { return count > 0; });
      llvm::outs() << "(" << used << " of " << E << " experts used, at most "
                   << *std::max_element(expertCounts.begin(),
                                        expertCounts.end())
                   << ")";
    }
    llvm::outs() << (expertCounts == r.expertCounts ? " as the reference"
                                                    : ", reference differs")
                 << llvm::format(", aux loss %.8e (reference %.8e), z-loss "
                                 "%.8e (reference %.8e): %s\n",
                                 auxLoss, r.auxLoss, zLoss, r.zLoss,
                                 statisticsMatch ? "PASS" : "FAIL");
  }
  llvm::outs() << "  kept assignments per expert (reference): [";
  for (int64_t e = 0; e < E; ++e)
    llvm::outs() << (e ? ", " : "")
                 << expected.offsets[e + 1] - expected.offsets[e];
  llvm::outs() << "]\n";
  llvm::outs() << llvm::format(
      "  time: median %.3f ms over %d runs (min %.3f ms), %.2f GFLOP/s\n",
      medianSeconds * 1e3, runs.getValue(),
      *std::min_element(seconds.begin(), seconds.end()) * 1e3,
      flops / medianSeconds * 1e-9);
  return pass ? kMatch : kMismatch;
}
