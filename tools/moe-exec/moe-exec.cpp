//===- moe-exec.cpp - Run and check an ahead-of-time compiled layer -------===//
//
// moe-exec LIB.so [--tokens=N] [--seed=S] [--runs=R] [--threads=N]
//     [--rtol=X] [--inputs=DIR] [--output=FILE.npy]
//     [--batch-invariance=T,...] [--describe]
//
// Loads a layer library that moe-compile built, reads what the layer is from
// the library itself (moe_layer_description), draws the same seeded inputs
// as moe-run (or reads DIR/argN.npy), calls the layer through its C ABI,
// checks every output against the independent reference and prints the
// same report as moe-run. No MLIR or LLVM: the process needs the library's
// folder and, for a GPU layer, a CUDA driver.
//
// A library compiled for R ranks (moe-compile --pipeline=ranks=R) runs as
// one of R processes: mpirun -np R moe-exec LIB.so, with an MPI-enabled
// libmoe_runtime.so first on the library path (the copy next to the library
// is the portable one, without MPI). Each rank takes its share of the
// tokens and its experts' weights; rank 0 gathers, checks and reports. A
// GPU library's ranks each take their node-local GPU and exchange rows
// through NCCL (MOE_RT_LAYER_GPU_COMM=host: over MPI, from the layer's
// host-shared buffers).
//
// Exit status: 0 when the result matches, 1 on a mismatch, 2 when the
// input or the flags are wrong, 77 when a GPU layer finds no GPU, or no
// NCCL for its exchanges (the runtime's reason is printed), so that a calling
// script can tell "not run" from "failed".
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Reference/MoEReference.h"
#include "moe-mlir/Runner/BatchInvariance.h"
#include "moe-mlir/Runner/Check.h"
#include "moe-mlir/Runner/ExpertParallel.h"
#include "moe-mlir/Runner/Inputs.h"
#include "moe-mlir/Runner/LayerCall.h"
#include "moe-mlir/Runner/LayerDescription.h"
#include "moe-mlir/Runner/Npy.h"
#include "moe-runtime/MGPU.h"
#include "moe-runtime/MoERuntime.h"

#include <dlfcn.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace run = moe::run;
namespace ref = moe::ref;

namespace {
constexpr int kMatch = 0, kMismatch = 1, kUsageError = 2, kUnavailable = 77;

constexpr const char *kUsage =
    "usage: moe-exec LIB.so [--tokens=N] [--seed=S] [--runs=R] "
    "[--threads=N] [--rtol=X] [--inputs=DIR] [--output=FILE.npy] "
    "[--batch-invariance=T,...] [--describe]\n"
    "Runs a layer library that moe-compile built on seeded random inputs "
    "(or DIR/argN.npy) and checks it against the reference; exit 0 match, "
    "1 mismatch, 2 bad input, 77 no GPU for a GPU layer.\n"
    "Example: moe-exec out/libmixtral.so --tokens=64 --seed=1\n";

struct Options {
  std::string library, inputsDir, outputFile;
  int64_t tokens = -1;
  uint64_t seed = 0;
  bool seedGiven = false, describe = false;
  int runs = 5, threads = 0;
  double rtol = -1;
  std::vector<int64_t> batchSizes;
};

int usageError(const std::string &message) {
  std::fprintf(stderr, "moe-exec: error: %s\n", message.c_str());
  return kUsageError;
}

bool parseInt(const std::string &text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno)
    return false;
  out = value;
  return true;
}

/// Returns an empty string or what is wrong with the arguments.
std::string parse(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      if (!o.library.empty())
        return "one library at a time, got '" + o.library + "' and '" + arg +
               "'";
      o.library = arg;
      continue;
    }
    if (arg == "--describe") {
      o.describe = true;
      continue;
    }
    size_t eq = arg.find('=');
    if (eq == std::string::npos)
      return "expected --name=value, got '" + arg + "'";
    std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    int64_t n = 0;
    auto atLeast = [&](int64_t min) -> std::string {
      if (!parseInt(value, n) || n < min)
        return "--" + name + " must be an integer of at least " +
               std::to_string(min) + ", got '" + value + "'";
      return "";
    };
    std::string error;
    if (name == "tokens") {
      if ((error = atLeast(0)).empty())
        o.tokens = n;
    } else if (name == "runs") {
      if ((error = atLeast(1)).empty())
        o.runs = int(std::min<int64_t>(n, 100000));
    } else if (name == "threads") {
      if ((error = atLeast(1)).empty())
        o.threads = int(std::min<int64_t>(n, 4096));
    } else if (name == "seed") {
      char *end = nullptr;
      o.seed = std::strtoull(value.c_str(), &end, 0);
      if (value.empty() || *end)
        error = "--seed must be an unsigned integer, got '" + value + "'";
      o.seedGiven = true;
    } else if (name == "rtol") {
      char *end = nullptr;
      o.rtol = std::strtod(value.c_str(), &end);
      if (value.empty() || *end || !(o.rtol > 0))
        error = "--rtol must be a positive number, got '" + value + "'";
    } else if (name == "inputs") {
      o.inputsDir = value;
    } else if (name == "output") {
      o.outputFile = value;
    } else if (name == "batch-invariance") {
      std::istringstream sizes(value);
      for (std::string size; std::getline(sizes, size, ',');) {
        if (!parseInt(size, n) || n < 1)
          return "--batch-invariance: batch sizes must be at least 1, got '" +
                 size + "'";
        o.batchSizes.push_back(n);
      }
    } else {
      return "unknown option '--" + name + "'";
    }
    if (!error.empty())
      return error;
  }
  if (o.library.empty())
    return "no library given";
  return "";
}

/// The library's C ABI (docs/AheadOfTime.md).
struct LayerLibrary {
  void *handle = nullptr;
  int (*call)(void **) = nullptr;
  const char *(*description)() = nullptr;
  void (*setThreads)(int) = nullptr;
  int (*maxThreads)() = nullptr;

  std::string open(const std::string &path) {
    // A name without a slash would be searched for on the library path.
    std::string where =
        path.find('/') == std::string::npos ? "./" + path : path;
    handle = dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *why = dlerror();
      return "cannot load " + path + ": " + (why ? why : "unknown error");
    }
    auto symbol = [&](const char *name, auto &slot) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(
          dlsym(handle, name));
      return slot != nullptr;
    };
    for (bool found : {symbol("moe_layer_call", call),
                       symbol("moe_layer_description", description),
                       symbol("moe_layer_set_threads", setThreads),
                       symbol("moe_layer_max_threads", maxThreads)})
      if (!found)
        return path + " is not a layer library (moe_layer_call, "
                      "moe_layer_description, moe_layer_set_threads and "
                      "moe_layer_max_threads: build it with moe-compile)";
    // Libraries before moe_layer_abi_version are version 1.
    int (*abiVersion)() = nullptr;
    int version =
        symbol("moe_layer_abi_version", abiVersion) ? abiVersion() : 1;
    if (version != run::kLayerLibraryABIVersion)
      return path + " was built by another version of moe-compile (layer ABI " +
             std::to_string(version) + "; this moe-exec runs version " +
             std::to_string(run::kLayerLibraryABIVersion) + "): rebuild it";
    return "";
  }
};
} // namespace

int main(int argc, char **argv) {
  if (argc == 2 &&
      (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Options o;
  if (std::string error = parse(argc, argv, o); !error.empty()) {
    usageError(error);
    std::fputs(kUsage, stderr);
    return kUsageError;
  }
  if (!o.seedGiven)
    o.seed = moe_rt_fresh_seed();

  // Loading a GPU library runs its constructors, which load the kernels:
  // without a GPU that fails there, and the runtime keeps the error. One of
  // several ranks loads them on its own GPU (none to ask for outside a
  // launcher; a CPU library's ranks need none).
  int gpuOrdinal = 0;
  if (moe_rt_gpu_of_rank(&gpuOrdinal) == MOE_RT_OK)
    mgpuSetDefaultDevice(gpuOrdinal);
  LayerLibrary library;
  if (std::string error = library.open(o.library); !error.empty())
    return usageError(error);
  run::LayerDescription description;
  if (std::string error =
          run::parseDescription(library.description(), description);
      !error.empty())
    return usageError(o.library + ": its description: " + error);
  if (o.describe) {
    std::fputs(run::printDescription(description).c_str(), stdout);
    return kMatch;
  }
  const ref::LayerConfig &config = description.config;
  if (std::string invalid = ref::validate(config); !invalid.empty())
    return usageError("the reference rejects this layer: " + invalid);
  if (!o.batchSizes.empty())
    if (std::string why = run::batchInvarianceUnsupported(config); !why.empty())
      return usageError("--batch-invariance: " + why);
  run::RankGroup ranks;
  if (description.ranks > 1) {
    if (!o.batchSizes.empty())
      return usageError("--batch-invariance runs one process; this library "
                        "spreads its experts over " +
                        std::to_string(description.ranks) + " ranks");
    if (std::string error =
            ranks.join(int(description.ranks), "moe-exec " + o.library);
        !error.empty())
      return usageError(error);
    if (std::string error = ranks.shareSeed(o.seed); !error.empty())
      return usageError(error);
  }

  bool onGPU = description.target == "gpu";
  moe_rt_gpu *gpu = nullptr;
  std::string hardware = "cpu";
  run::LayerMemory memory;
  if (onGPU) {
    if (moe_rt_status s = moe_rt_gpu_open(gpuOrdinal, &gpu)) {
      std::printf("moe-exec: %s: UNAVAILABLE: %s: %s\n", o.library.c_str(),
                  moe_rt_status_name(s), moe_rt_last_error());
      return s == MOE_RT_UNAVAILABLE ? kUnavailable : kMismatch;
    }
    const char *name = "";
    int major = 0, minor = 0;
    moe_rt_gpu_describe(gpu, &name, &major, &minor);
    hardware = std::string(name) + " (sm_" + std::to_string(major) +
               std::to_string(minor) + ")";
    if (moe_rt_status s = moe_rt_gpu_take_error()) {
      std::printf("moe-exec: %s: FAIL loading the kernels on %s: %s: %s\n",
                  o.library.c_str(), hardware.c_str(), moe_rt_status_name(s),
                  moe_rt_last_error());
      return kMismatch;
    }
    // The exchanges of a GPU layer over several ranks go through the GPU
    // layer communicator (NCCL unless MOE_RT_LAYER_GPU_COMM=host): made
    // now, every rank with the same outcome, so that a missing NCCL is
    // reported as such rather than as a failed exchange.
    if (ranks.joined()) {
      moe_rt_comm *exchanges = nullptr;
      if (moe_rt_status s = moe_rt_layer_gpu_comm(&exchanges)) {
        std::printf("moe-exec: %s: UNAVAILABLE: %s: %s\n", o.library.c_str(),
                    moe_rt_status_name(s), moe_rt_last_error());
        return s == MOE_RT_UNAVAILABLE ? kUnavailable : kUsageError;
      }
    }
    // Every buffer the layer allocates starts as NaN (or -1): an output
    // element it never writes cannot pass.
    moe_rt_gpu_set_alloc_poison(1);
    // The GPU pipeline's layers read and return host-shared memory.
    memory.allocate = [](size_t bytes) {
      return mgpuMemAlloc(bytes, nullptr, true);
    };
    memory.release = [](void *buffer) { mgpuMemFree(buffer, nullptr); };
  }
  if (o.threads > 0)
    library.setThreads(o.threads);

  run::InputOptions inputOptions;
  inputOptions.seed = o.seed;
  inputOptions.tokens = o.tokens;
  inputOptions.staticTokens = description.staticTokens;
  inputOptions.inputsDir = o.inputsDir;
  run::LayerInputs inputs;
  if (std::string error =
          run::makeInputs(config, description.roles, description.elements,
                          description.hasRouterBias(), inputOptions, inputs);
      !error.empty())
    return usageError(error);
  int64_t T = inputs.tokens, D = config.D;
  if (o.rtol < 0)
    o.rtol = config.element == ref::ElementType::BF16  ? 1e-2
             : config.element == ref::ElementType::F16 ? 2e-3
                                                       : 1e-5;
  if (ranks.reports())
    std::printf(
        "moe-exec: %s @%s: T=%lld D=%lld F=%lld E=%lld k=%lld %s, %s%s\n",
        o.library.c_str(), description.function.c_str(), (long long)T,
        (long long)D, (long long)config.F, (long long)config.E,
        (long long)config.router.k, run::elementTypeName(config.element),
        inputs.generated ? ("seed=" + std::to_string(o.seed)).c_str()
                         : ("inputs from " + o.inputsDir).c_str(),
        ranks.joined()
            ? (", experts over " + std::to_string(description.ranks) + " ranks")
                  .c_str()
            : "");

  run::LayerCall layer(
      description.results(),
      [&](void **args) -> std::string {
        // The status of the runtime calls the layer made: its exchanges'
        // and its GPU calls'.
        if (int s = library.call(args))
          return ranks.fromThisRank(
              std::string("the layer failed") + (onGPU ? " on the GPU" : "") +
              ": " + moe_rt_status_name(static_cast<moe_rt_status>(s)) + ": " +
              moe_rt_last_error());
        return "";
      },
      memory);
  // Weights the layer takes packed: its packing functions pack them when
  // they are bound.
  std::vector<run::WeightPacking> packings;
  for (const run::PackedWeight &weight : description.packedWeights) {
    std::string name = "moe_layer_pack_arg" + std::to_string(weight.argument);
    auto pack = reinterpret_cast<void (*)(void **)>(
        dlsym(library.handle, name.c_str()));
    if (!pack)
      return usageError(o.library + " packs argument " +
                        std::to_string(weight.argument) + " but has no " +
                        name);
    packings.push_back(run::WeightPacking::byEntry(
        weight.argument, weight.shape, weight.element, pack));
  }
  layer.setWeightPacking(std::move(packings));
  run::LayerOutputs outputs;
  std::vector<run::Input> shard;
  if (std::string error = ranks.callChecked(
          layer, inputs.args, description.roles, config.E, D, shard, outputs);
      !error.empty())
    return usageError(error);
  double packSeconds = layer.packSeconds();
  if (!o.outputFile.empty() && ranks.reports())
    if (std::string error =
            run::writeNpy(o.outputFile, outputs.output.data(), {T, D});
        !error.empty())
      return usageError("--output: " + error);
  run::TimedCalls timed;
  if (std::string error = ranks.timeCalls(layer, o.runs, timed); !error.empty())
    return usageError(error);
  if (!ranks.reports()) {
    // Rank 0 checks and reports; every rank exits with its verdict.
    int64_t verdict = kMatch;
    if (std::string error = ranks.shareVerdict(verdict); !error.empty())
      return usageError(error);
    return int(verdict);
  }

  const float *tokens = inputs.tokenArg(description.roles).data.data();
  ref::LayerWeights weights =
      run::referenceWeights(description.roles, inputs.args);
  ref::LayerResult expected = ref::layer(config, weights, tokens, T);
  run::CheckResult check =
      run::checkOutputs(outputs, expected, o.rtol, nullptr);
  std::printf("  library: %s (%s); %s; threads: %d\n",
              description.target.c_str(), description.pipeline.c_str(),
              hardware.c_str(), library.maxThreads());
  std::fputs(run::formatWeightPacking(layer, packSeconds).c_str(), stdout);
  std::fputs(run::formatCheck(check, outputs, expected, D, o.rtol, "").c_str(),
             stdout);
  std::fputs(run::formatExpertLoads(expected, config.E).c_str(), stdout);
  bool pass = check.pass;
  if (!o.batchSizes.empty()) {
    run::InvarianceOptions options;
    options.batchSizes = o.batchSizes;
    options.seed = o.seed;
    int threads = library.maxThreads();
    options.threadCounts = {1};
    if (threads > 1)
      options.threadCounts.push_back(threads);
    run::InvarianceResult result;
    std::string error =
        run::checkBatchInvariance(layer, inputs, description.roles, config,
                                  options, library.setThreads, result);
    library.setThreads(threads);
    if (!error.empty())
      return usageError("--batch-invariance: " + error);
    std::fputs(run::formatBatchInvariance(options, result).c_str(), stdout);
    pass &= result.mismatches.empty();
  }
  if (!o.outputFile.empty())
    std::printf("  output: %s\n", o.outputFile.c_str());
  int64_t assignments = T * config.router.k - expected.dropped;
  std::fputs(
      run::formatTiming(timed.timing, description.flops.of(T, assignments))
          .c_str(),
      stdout);
  if (ranks.joined())
    std::fputs(run::formatExchanges(timed).c_str(), stdout);
  if (gpu)
    moe_rt_gpu_close(gpu);
  int64_t verdict = pass ? kMatch : kMismatch;
  if (std::string error = ranks.shareVerdict(verdict); !error.empty())
    return usageError(error);
  return int(verdict);
}
