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
// data (scripts/iree-check.py). --output=FILE.npy writes the compiled layer's
// output, and --batch-invariance=T,... checks that each token's output is
// bitwise the same alone and inside batches of other tokens.
//
// The parts live in lib/Runner: the operands and inputs, the entry function
// and its reference configuration, the JIT-compiled call, the checks.
// Exit status: 0 when the result matches, 1 on a mismatch, 2 when the input
// or the flags are wrong or compilation fails.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Dialect/MoE/IR/MoEOps.h"
#include "moe-mlir/InitAll.h"
#include "moe-mlir/Pipelines/Pipelines.h"
#include "moe-mlir/Reference/MoEReference.h"
#include "moe-mlir/Runner/BatchInvariance.h"
#include "moe-mlir/Runner/Check.h"
#include "moe-mlir/Runner/Checkpoint.h"
#include "moe-mlir/Runner/ExpertParallel.h"
#include "moe-mlir/Runner/Inputs.h"
#include "moe-mlir/Runner/JitLayer.h"
#include "moe-mlir/Runner/LayerEntry.h"
#include "moe-mlir/Runner/Npy.h"
#include "moe-runtime/MoERuntime.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>

// LLVM's OpenMP runtime (libomp), which the compiled kernels call.
extern "C" void omp_set_num_threads(int);
extern "C" int omp_get_max_threads(void);

using namespace mlir;
namespace ref = ::moe::ref;
namespace run = ::moe::run;
namespace cl = llvm::cl;

static cl::opt<std::string>
    inputFile(cl::Positional, cl::desc("<input .mlir file>"), cl::Required);
static cl::opt<std::string>
    target("target", cl::desc("Where to run: cpu (default)"), cl::init("cpu"));
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
    entryOpt("entry",
             cl::desc("Function to run (default: the one function "
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

static cl::opt<std::string> outputFile(
    "output",
    cl::desc("Also write the compiled layer's output [T, D] to this file, as "
             "a NumPy .npy f32 array (bf16 and f16 outputs widened exactly), "
             "so that runs can be compared bit for bit"),
    cl::value_desc("FILE"), cl::init(""));
static cl::list<int64_t> batchInvariance(
    "batch-invariance",
    cl::desc("Also check that 3 probe tokens' outputs are bitwise the same "
             "alone and at the start, middle and end of batches of these "
             "sizes of other random tokens, with 1 thread and with --threads "
             "(dropless token-choice layers)"),
    cl::value_desc("T,..."), cl::CommaSeparated);

static cl::opt<int> ranksOpt(
    "ranks",
    cl::desc("Spread the routed experts over this many ranks "
             "(moe-expert-parallel) and run as one of them: start it as "
             "`mpirun -np R moe-run ... --ranks=R`. Each rank takes its share "
             "of the seeded tokens and its experts' weights; rank 0 gathers "
             "the output, checks it against the single-rank reference and "
             "reports"),
    cl::init(1));

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

int usageError(const Twine &message) {
  llvm::errs() << "moe-run: error: " << message << "\n";
  return kUsageError;
}

/// Parses the command line; returns false after a usage error was printed.
bool parseCommandLine(int argc, char **argv, uint64_t &seed) {
  cl::opt<int> &threadsOpt = threadsOption();
  // --help lists moe-run's own options; libLLVM's back-end flags stay
  // usable but hidden (--help-hidden).
  static cl::OptionCategory runCategory("moe-run options");
  for (cl::Option *option : std::initializer_list<cl::Option *>{
           &inputFile,   &target,        &tokensOpt,     &seedOpt,
           &entryOpt,    &bf16DotOpt,    &runs,          &rtol,
           &tokenScale,  &hotExpert,     &hotBias,       &dumpDir,
           &pipelineOpt, &inputsDir,     &expectFile,    &outputFile,
           &weightsFile, &weightsLayout, &weightsPrefix, &threadsOpt,
           &ranksOpt})
    option->addCategory(runCategory);
  batchInvariance.addCategory(runCategory);
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
      "  moe-run layer.mlir --pipeline=\"fuse-gating=false\" --dump=out\n"
      "  moe-run layer.mlir --inputs=out --output=y.npy "
      "--batch-invariance=1,7,64\n"
      "  mpirun -np 4 moe-run layer.mlir --ranks=4 --tokens=256\n");
  if (target != "cpu")
    return usageError("--target=" + target +
                      " is not supported (supported: cpu)"),
           false;
  if (runs < 1)
    return usageError("--runs must be at least 1"), false;
  if (ranksOpt < 1)
    return usageError("--ranks must be at least 1"), false;
  if (ranksOpt > 1 && !batchInvariance.empty())
    return usageError("--batch-invariance runs one process; it cannot be "
                      "combined with --ranks"),
           false;
  if (threadsOpt.getNumOccurrences()) {
    if (threadsOpt < 1)
      return usageError("--threads must be at least 1"), false;
    omp_set_num_threads(threadsOpt);
  }
  // -1 stands for "not given"; a given negative count is an error.
  if (tokensOpt.getNumOccurrences() && tokensOpt < 0)
    return usageError("--tokens must be at least 0"), false;
  for (int64_t T : batchInvariance)
    if (T < 1)
      return usageError("--batch-invariance: batch sizes must be at least 1"),
             false;
  if (seedOpt.empty()) {
    seed = moe_rt_fresh_seed();
    return true;
  }
  char *end = nullptr;
  seed = std::strtoull(seedOpt.c_str(), &end, 0);
  if (!end || *end != '\0')
    return usageError("--seed must be an unsigned integer, got '" + seedOpt +
                      "'"),
           false;
  return true;
}

/// "moe-run: FILE @f: T=.. D=.. F=.. E=.. k=.. f32, seed=.., inputs from ..".
void printHeader(const run::EntryPoint &entry, const ref::LayerConfig &config,
                 const run::LayerInputs &inputs, uint64_t seed) {
  llvm::raw_ostream &os = llvm::outs();
  mlir::func::FuncOp func = entry.func;
  os << "moe-run: " << inputFile << " @" << func.getSymName()
     << ": T=" << inputs.tokens << " D=" << config.D << " F=" << config.F
     << " E=" << config.E << " k=" << config.router.k << " "
     << run::elementTypeName(config.element) << ", ";
  llvm::ListSeparator separator;
  if (inputs.generated)
    os << separator << "seed=" << seed;
  if (!inputsDir.empty())
    os << separator << "inputs from " << inputsDir;
  if (!weightsFile.empty())
    os << separator << "weights from " << weightsFile << " (" << weightsLayout
       << ")";
  if (ranksOpt > 1)
    os << separator << "experts over " << ranksOpt << " ranks";
  os << "\n";
}

/// --dump: the inputs and the reference result in `dumpDir`.
llvm::Error dumpData(ArrayRef<run::Input> inputs,
                     const ref::LayerResult &expected, int64_t T, int64_t D,
                     bool hasDropped) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dumpDir))
    return llvm::createStringError("cannot create '" + dumpDir +
                                   "': " + ec.message());
  auto pathOf = [&](const Twine &name) {
    SmallString<256> path(dumpDir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  };
  for (auto [i, input] : llvm::enumerate(inputs))
    if (std::string error = run::writeNpy(pathOf("arg" + Twine(i) + ".npy"),
                                          input.data.data(), input.shape);
        !error.empty())
      return llvm::createStringError(error);
  if (std::string error = run::writeNpy(pathOf("reference.npy"),
                                        expected.output.data(), {T, D});
      !error.empty())
    return llvm::createStringError(error);
  std::string droppedPath = pathOf("reference_dropped.txt");
  if (!hasDropped) {
    // A stale count from an earlier dump would describe another layer.
    llvm::sys::fs::remove(droppedPath);
    return llvm::Error::success();
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(droppedPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError("cannot write '" + droppedPath +
                                   "': " + ec.message());
  os << expected.dropped << "\n";
  return llvm::Error::success();
}

/// --batch-invariance: prints its line; returns whether it passed.
FailureOr<bool> reportBatchInvariance(run::LayerCall &layer,
                                      const run::LayerInputs &inputs,
                                      const run::EntryPoint &entry,
                                      const ref::LayerConfig &config,
                                      uint64_t seed) {
  run::InvarianceOptions options;
  options.batchSizes.assign(batchInvariance.begin(), batchInvariance.end());
  options.seed = seed;
  int threads = omp_get_max_threads();
  options.threadCounts = {1};
  if (threads > 1)
    options.threadCounts.push_back(threads);
  run::InvarianceResult result;
  std::string error = run::checkBatchInvariance(
      layer, inputs, entry.roles, config, options, omp_set_num_threads, result);
  omp_set_num_threads(threads);
  if (!error.empty()) {
    usageError("--batch-invariance: " + error);
    return failure();
  }
  llvm::outs() << run::formatBatchInvariance(options, result);
  return result.mismatches.empty();
}

/// Seconds from `start` to now.
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// The layer's arguments as the flags ask for them.
std::string makeInputs(const run::LayerDescription &description, uint64_t seed,
                       run::LayerInputs &inputs) {
  run::InputOptions options;
  options.seed = seed;
  options.tokens = tokensOpt;
  options.staticTokens = description.staticTokens;
  options.inputsDir = inputsDir;
  options.weightsFile = weightsFile;
  options.weightsLayout = weightsLayout;
  options.weightsPrefix = weightsPrefix;
  options.tokenScale = tokenScale;
  options.hotExpert = hotExpert;
  options.hotBias = hotBias;
  options.loadWeights =
      [&](std::map<run::Role, run::HostTensor> &weights) -> std::string {
    if (weightsLayout.empty())
      return "--weights needs --weights-layout (one of " +
             llvm::join(run::checkpointLayouts(), ", ") + ")";
    auto loaded = run::loadCheckpoint(weightsFile, weightsLayout, weightsPrefix,
                                      description.roles, description.config.E);
    if (!loaded)
      return "--weights: " + llvm::toString(loaded.takeError());
    weights = std::move(*loaded);
    return "";
  };
  return run::makeInputs(description.config, description.roles,
                         description.elements, description.hasRouterBias(),
                         options, inputs);
}

/// --expect: the external oracle's [T, D] output.
LogicalResult readExpected(int64_t T, int64_t D,
                           std::optional<run::HostTensor> &external) {
  run::HostTensor read;
  if (std::string error = run::readNpy(expectFile, read); !error.empty())
    return usageError("--expect: " + error), failure();
  if (read.shape != std::vector<int64_t>{T, D})
    return usageError("--expect: " + expectFile + " is " +
                      run::formatShape(read.shape) + ", the output is " +
                      run::formatShape({T, D})),
           failure();
  external = std::move(read);
  return success();
}

/// moe-cpu-pipeline with --pipeline's options (and --bf16-dot), then the JIT.
std::unique_ptr<run::JitLayer> compile(ModuleOp module,
                                       const run::EntryPoint &entry) {
  mlir::moe::CPUPipelineOptions options;
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  if (failed(options.parseFromString(pipelineOpt, errorStream))) {
    usageError("--pipeline: " + error);
    return nullptr;
  }
  // --bf16-dot, when given, wins over a bf16-dot in --pipeline.
  if (bf16DotOpt.getNumOccurrences())
    options.bf16Dot = bf16DotOpt;
  if (options.ranks != 1 && options.ranks != ranksOpt) {
    usageError("--pipeline: give the rank count as --ranks, which also "
               "shares out the tokens and the weights");
    return nullptr;
  }
  options.ranks = ranksOpt;
  auto compiled = run::JitLayer::compile(module, entry, options);
  if (!compiled) {
    usageError(llvm::toString(compiled.takeError()) + " on '" + inputFile +
               "'");
    return nullptr;
  }
  return std::move(*compiled);
}

/// Loads the module; returns null after printing why.
OwningOpRef<ModuleOp> loadModule(MLIRContext &context) {
  std::string errorMessage;
  auto file = openInputFile(inputFile, &errorMessage);
  if (!file) {
    usageError(errorMessage);
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    usageError("could not parse '" + inputFile + "'");
  return module;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  uint64_t seed = 0;
  if (!parseCommandLine(argc, argv, seed))
    return kUsageError;
  run::RankGroup ranks;
  if (std::string error = ranks.join(ranksOpt, "moe-run ... --ranks=" +
                                                   std::to_string(ranksOpt));
      !error.empty())
    return usageError("--ranks=" + Twine(ranksOpt) + ": " + error);
  if (std::string error = ranks.shareSeed(seed); !error.empty())
    return usageError(error);

  DialectRegistry registry;
  registerAllDialects(registry);
  mlir::moe::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = loadModule(context);
  if (!module)
    return kUsageError;

  // The layer, as the reference and the inputs see it.
  FailureOr<run::EntryPoint> entry = run::findEntryPoint(*module, entryOpt);
  if (failed(entry))
    return kUsageError;
  FailureOr<run::LayerDescription> description = run::describeLayer(*entry);
  if (failed(description))
    return kUsageError;
  const ref::LayerConfig &config = description->config;
  bool hasDropped = description->hasDropped;
  if (!batchInvariance.empty()) {
    std::string why = run::batchInvarianceUnsupported(config);
    if (!why.empty())
      return usageError("--batch-invariance: " + why);
  }

  run::LayerInputs inputs;
  if (std::string error = makeInputs(*description, seed, inputs);
      !error.empty())
    return usageError(error);
  int64_t T = inputs.tokens, D = config.D;
  if (!rtol.getNumOccurrences())
    rtol = config.element == ref::ElementType::BF16  ? 1e-2
           : config.element == ref::ElementType::F16 ? 2e-3
                                                     : 1e-5;
  if (ranks.reports())
    printHeader(*entry, config, inputs, seed);

  // The external oracle's output, read before anything runs.
  std::optional<run::HostTensor> external;
  if (!expectFile.empty() && failed(readExpected(T, D, external)))
    return kUsageError;
  std::string invalid = ref::validate(config);
  if (!invalid.empty())
    return usageError("the reference rejects this layer: " + invalid);
  const float *tokens = inputs.tokenArg(entry->roles).data.data();
  ref::LayerWeights weights = run::referenceWeights(entry->roles, inputs.args);

  // With --dump the reference runs first, so that its output is written with
  // the inputs; it is computed once either way.
  std::optional<ref::LayerResult> expected;
  if (!dumpDir.empty() && ranks.reports()) {
    expected = ref::layer(config, weights, tokens, T);
    if (llvm::Error error = dumpData(inputs.args, *expected, T, D, hasDropped))
      return usageError("--dump: " + llvm::toString(std::move(error)));
    llvm::outs() << "  dump: " << inputs.args.size()
                 << " inputs and the reference"
                 << (hasDropped ? " (with its dropped count)" : "") << " in "
                 << dumpDir << "\n";
  }

  // Compile; the pipeline replaces the layer.
  auto compileStart = std::chrono::steady_clock::now();
  std::unique_ptr<run::JitLayer> compiled = compile(*module, *entry);
  if (!compiled)
    return kUsageError;
  run::LayerCall &jit = compiled->calls();
  double compileSeconds = secondsSince(compileStart);

  // One checked call, then the timed ones. Under --ranks each rank runs its
  // share; rank 0 has everyone's output.
  run::LayerOutputs outputs;
  std::vector<run::Input> shard;
  if (std::string error = ranks.callChecked(jit, inputs.args, entry->roles,
                                            config.E, D, shard, outputs);
      !error.empty())
    return usageError(ranks.joined() ? "--ranks: " + error : error);
  double packSeconds = jit.packSeconds();
  if (!outputFile.empty() && ranks.reports())
    if (std::string error =
            run::writeNpy(outputFile, outputs.output.data(), {T, D});
        !error.empty())
      return usageError("--output: " + error);
  run::TimedCalls timed;
  if (std::string error = ranks.timeCalls(jit, runs, timed); !error.empty())
    return usageError(error);
  if (!ranks.reports()) {
    // Rank 0 checks and reports; every rank exits with its verdict.
    int64_t verdict = kMatch;
    if (std::string error = ranks.shareVerdict(verdict); !error.empty())
      return usageError(error);
    return int(verdict);
  }

  if (!expected)
    expected = ref::layer(config, weights, tokens, T);
  run::CheckResult check = run::checkOutputs(outputs, *expected, rtol,
                                             external ? &*external : nullptr);
  llvm::outs() << llvm::format(
      "  compile: %.2f s (moe-cpu-pipeline + JIT); threads: %d\n",
      compileSeconds, omp_get_max_threads());
  llvm::outs() << run::formatWeightPacking(jit, packSeconds);
  llvm::outs() << run::formatCheck(check, outputs, *expected, D, rtol,
                                   expectFile)
               << run::formatExpertLoads(*expected, config.E);
  bool pass = check.pass;
  if (!batchInvariance.empty()) {
    FailureOr<bool> invariant =
        reportBatchInvariance(jit, inputs, *entry, config, seed);
    if (failed(invariant))
      return kUsageError;
    pass &= *invariant;
  }
  if (!outputFile.empty())
    llvm::outs() << "  output: " << outputFile << "\n";
  int64_t assignments = T * config.router.k - expected->dropped;
  llvm::outs() << run::formatTiming(timed.timing,
                                    description->flops.of(T, assignments));
  if (ranks.joined())
    llvm::outs() << run::formatExchanges(timed);
  llvm::outs().flush();
  int64_t verdict = pass ? kMatch : kMismatch;
  if (std::string error = ranks.shareVerdict(verdict); !error.empty())
    return usageError(error);
  return int(verdict);
}
