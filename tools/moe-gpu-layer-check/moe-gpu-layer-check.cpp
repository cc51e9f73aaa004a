//===- moe-gpu-layer-check.cpp - Run an ahead-of-time GPU layer, check it -===//
//
// moe-gpu-layer-check --layer=LIB.so --func=NAME --D=.. --F=.. --E=.. --k=..
//     [--order=softmax-topk|topk-softmax] [--tokens=1,7,64] [--seed=S]
//     [--runs=N] [--rtol=X] [--signature=FILE]
//
// Loads a layer that scripts/aot-gpu-layer.sh compiled with moe-gpu-pipeline
// into a shared library (kernels embedded as cubins, host code calling the
// runtime's mgpu* functions), calls its C interface _mlir_ciface_NAME on
// seeded random inputs in host-shared memory, and checks every output
// element against the reference (moe::ref). No MLIR at run time: the
// process needs libmoe_runtime.so and a CUDA driver only.
//
// The layer family is the one these flags describe: swiglu experts, a
// softmax router (either order) with top-k, dropless, f32, the arguments
// tokens, router, gate, up, down. --signature names the file the script
// wrote with the function's argument types; the shapes the flags imply must
// match it.
//
// One line per token count: "PASS T=.. ..." or "FAIL T=.. <why>". Exit 0
// when all pass, 1 when one fails, 2 on a usage or load error, and 77 when
// there is no GPU (the runtime's reason is printed), so that a test harness
// can tell "not run" from "failed".
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Reference/MoEReference.h"
#include "moe-runtime/MGPU.h"
#include "moe-runtime/MoERuntime.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {
constexpr int kExitFail = 1, kExitUsage = 2, kExitUnavailable = 77;

template <int N> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};
using MemRef2 = MemRef<2>;
using MemRef3 = MemRef<3>;
using LayerFn = void (*)(MemRef2 *result, MemRef2 *tokens, MemRef2 *router,
                         MemRef3 *gate, MemRef3 *up, MemRef3 *down);

struct Options {
  std::string layer, func, order = "softmax-topk", signature;
  int64_t D = 0, F = 0, E = 0, k = 0;
  std::vector<int64_t> tokens = {1, 7, 64};
  uint64_t seed = 0;
  bool seedGiven = false;
  int runs = 3;
  double rtol = 1e-4;
};

constexpr const char *kUsage =
    "usage: moe-gpu-layer-check --layer=LIB.so --func=NAME --D=N --F=N --E=N "
    "--k=N [--order=softmax-topk|topk-softmax] [--tokens=T[,T...]] "
    "[--seed=S] [--runs=N] [--rtol=X] [--signature=FILE]\n"
    "Runs a layer that scripts/aot-gpu-layer.sh compiled for the GPU on "
    "seeded random inputs and checks it against the reference; exit 0 pass, "
    "1 fail, 2 bad arguments, 77 no GPU.\n"
    "Example: moe-gpu-layer-check --layer=./libmixtral_like.so "
    "--func=mixtral_like --D=64 --F=96 --E=8 --k=2 --tokens=1,64\n";

int usage(const std::string &message) {
  std::fprintf(stderr, "moe-gpu-layer-check: %s\n%s", message.c_str(), kUsage);
  return kExitUsage;
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
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos)
      return "expected --name=value, got '" + arg + "'";
    std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    int64_t n = 0;
    auto number = [&](int64_t &slot, int64_t min) -> std::string {
      if (!parseInt(value, n) || n < min)
        return "--" + name + " needs an integer >= " + std::to_string(min) +
               ", got '" + value + "'";
      slot = n;
      return "";
    };
    std::string error;
    if (name == "layer")
      o.layer = value;
    else if (name == "func")
      o.func = value;
    else if (name == "signature")
      o.signature = value;
    else if (name == "order")
      o.order = value;
    else if (name == "D")
      error = number(o.D, 1);
    else if (name == "F")
      error = number(o.F, 1);
    else if (name == "E")
      error = number(o.E, 1);
    else if (name == "k")
      error = number(o.k, 1);
    else if (name == "runs") {
      int64_t runs = 0;
      error = number(runs, 0);
      o.runs = int(std::min<int64_t>(runs, 1000));
    } else if (name == "rtol") {
      char *end = nullptr;
      o.rtol = std::strtod(value.c_str(), &end);
      if (value.empty() || *end || !(o.rtol > 0))
        error = "--rtol needs a positive number, got '" + value + "'";
    } else if (name == "seed") {
      char *end = nullptr;
      o.seed = std::strtoull(value.c_str(), &end, 0);
      if (value.empty() || *end)
        error = "--seed needs an unsigned integer, got '" + value + "'";
      o.seedGiven = true;
    } else if (name == "tokens") {
      o.tokens.clear();
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) {
        int64_t t = 0;
        if (!parseInt(item, t) || t < 0)
          return "--tokens needs counts >= 0, got '" + value + "'";
        o.tokens.push_back(t);
      }
      if (o.tokens.empty())
        return "--tokens needs at least one count";
    } else {
      return "unknown option --" + name;
    }
    if (!error.empty())
      return error;
  }
  if (o.layer.empty() || o.func.empty())
    return "--layer and --func are required";
  if (!o.D || !o.F || !o.E || !o.k)
    return "--D, --F, --E and --k are required";
  if (o.k > o.E)
    return "--k must be at most --E";
  if (o.order != "softmax-topk" && o.order != "topk-softmax")
    return "--order must be softmax-topk or topk-softmax, got '" + o.order +
           "'";
  return "";
}

/// The argument types the flags imply, as the script writes them from the
/// function's signature ('?' is the token count).
std::string expectedSignature(const Options &o) {
  auto dims = [](std::initializer_list<std::string> d) {
    std::string s;
    for (const std::string &x : d)
      s += x + "x";
    return s + "f32";
  };
  std::string D = std::to_string(o.D), F = std::to_string(o.F),
              E = std::to_string(o.E);
  return dims({"?", D}) + " " + dims({E, D}) + " " + dims({E, F, D}) + " " +
         dims({E, F, D}) + " " + dims({E, D, F}) + " -> " + dims({"?", D});
}

/// A host-shared (managed) buffer: the host fills it and the kernels read
/// it in place.
struct Shared {
  float *data = nullptr;
  int64_t n = 0;
  explicit Shared(int64_t count) : n(count) {
    if (n > 0)
      data = static_cast<float *>(
          mgpuMemAlloc(uint64_t(n) * sizeof(float), nullptr, true));
  }
  ~Shared() { mgpuMemFree(data, nullptr); }
  Shared(const Shared &) = delete;
  Shared &operator=(const Shared &) = delete;
};

template <int N>
MemRef<N> describe(float *data, std::initializer_list<int64_t> sizes) {
  MemRef<N> m;
  m.allocated = m.aligned = data;
  m.offset = 0;
  int i = 0;
  for (int64_t s : sizes)
    m.sizes[i++] = s;
  int64_t stride = 1;
  for (int j = N - 1; j >= 0; --j) {
    m.strides[j] = stride;
    stride *= m.sizes[j];
  }
  return m;
}

/// The layer's output buffer came from the layer's own allocation: host-
/// shared memory from mgpuMemAlloc (see docs/Runtime.md).
void release(MemRef2 &result) {
  mgpuMemFree(result.allocated, nullptr);
  result.allocated = result.aligned = nullptr;
}

double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}
} // namespace

int main(int argc, char **argv) {
  Options o;
  if (argc == 2 &&
      (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (std::string error = parse(argc, argv, o); !error.empty())
    return usage(error);
  if (!o.seedGiven)
    o.seed = moe_rt_fresh_seed();

  if (!o.signature.empty()) {
    std::ifstream file(o.signature);
    std::string actual;
    if (!file || !std::getline(file, actual))
      return usage("cannot read --signature=" + o.signature);
    if (actual != expectedSignature(o)) {
      std::fprintf(stderr,
                   "moe-gpu-layer-check: the flags describe %s but @%s "
                   "takes %s\n",
                   expectedSignature(o).c_str(), o.func.c_str(),
                   actual.c_str());
      return kExitUsage;
    }
  }

  // Loading the library runs its constructors, which load the kernels'
  // modules: without a GPU that is where the first mgpu* call fails.
  void *library = dlopen(o.layer.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    std::fprintf(stderr, "moe-gpu-layer-check: cannot load %s: %s\n",
                 o.layer.c_str(), why ? why : "unknown error");
    return kExitUsage;
  }
  std::string symbol = "_mlir_ciface_" + o.func;
  auto fn = reinterpret_cast<LayerFn>(dlsym(library, symbol.c_str()));
  if (!fn) {
    std::fprintf(stderr,
                 "moe-gpu-layer-check: %s has no %s (was the layer compiled "
                 "with a C interface?)\n",
                 o.layer.c_str(), symbol.c_str());
    return kExitUsage;
  }

  moe_rt_gpu *gpu = nullptr;
  if (moe_rt_status s = moe_rt_gpu_open(0, &gpu)) {
    std::printf("UNAVAILABLE: %s: %s\n", moe_rt_status_name(s),
                moe_rt_last_error());
    return s == MOE_RT_UNAVAILABLE ? kExitUnavailable : kExitFail;
  }
  const char *device = "";
  int major = 0, minor = 0;
  moe_rt_gpu_describe(gpu, &device, &major, &minor);
  std::printf("device: %s (sm_%d%d), layer %s, seed %llu\n", device, major,
              minor, o.func.c_str(), (unsigned long long)o.seed);
  std::fflush(stdout);
  if (moe_rt_status s = moe_rt_gpu_take_error()) {
    std::printf("FAIL loading the kernels: %s: %s\n", moe_rt_status_name(s),
                moe_rt_last_error());
    moe_rt_gpu_close(gpu);
    return kExitFail;
  }

  moe::ref::LayerConfig config;
  config.D = o.D;
  config.F = o.F;
  config.E = o.E;
  config.router.k = o.k;
  config.router.order = o.order == "topk-softmax"
                            ? moe::ref::ScoreOrder::TopKSoftmax
                            : moe::ref::ScoreOrder::SoftmaxTopK;
  config.activation = moe::ref::Activation::SwiGLU;
  if (std::string why = moe::ref::validate(config); !why.empty())
    return usage(why);

  // Weights once, from their own streams of the seed; bounds as moe-run's.
  const int64_t D = o.D, F = o.F, E = o.E;
  Shared router(E * D), gate(E * F * D), up(E * F * D), down(E * D * F);
  struct Fill {
    Shared &buffer;
    float bound;
  } fills[] = {{router, 4.0f / std::sqrt(float(D))},
               {gate, 1.0f / std::sqrt(float(D))},
               {up, 1.0f / std::sqrt(float(D))},
               {down, 1.0f / std::sqrt(float(F))}};
  for (int i = 0; i < 4; ++i) {
    if (!fills[i].buffer.data) {
      moe_rt_status s = moe_rt_gpu_take_error();
      std::printf("FAIL allocating the weights: %s: %s\n",
                  moe_rt_status_name(s), moe_rt_last_error());
      return kExitFail;
    }
    moe_rt_fill_uniform_f32(fills[i].buffer.data, fills[i].buffer.n,
                            o.seed * 1000003ull + i + 1, -fills[i].bound,
                            fills[i].bound);
  }
  moe::ref::LayerWeights weights;
  weights.router = router.data;
  weights.gate = gate.data;
  weights.up = up.data;
  weights.down = down.data;

  int failures = 0;
  for (int64_t T : o.tokens) {
    Shared tokens(std::max<int64_t>(T * D, 1));
    moe_rt_fill_uniform_f32(tokens.data, T * D, o.seed * 1000003ull, -1.0f,
                            1.0f);
    MemRef2 x = describe<2>(tokens.data, {T, D}),
            wr = describe<2>(router.data, {E, D});
    MemRef3 wg = describe<3>(gate.data, {E, F, D}),
            wu = describe<3>(up.data, {E, F, D}),
            wd = describe<3>(down.data, {E, D, F});
    moe::ref::LayerResult expected =
        moe::ref::layer(config, weights, tokens.data, T);

    // Every buffer the layer allocates starts as NaN: an output element it
    // never writes cannot pass.
    moe_rt_gpu_set_alloc_poison(1);
    std::vector<double> times;
    std::string failure;
    moe::ref::OutputError error;
    for (int run = 0; run <= o.runs && failure.empty(); ++run) {
      MemRef2 result;
      std::memset(&result, 0, sizeof(result));
      auto start = std::chrono::steady_clock::now();
      fn(&result, &x, &wr, &wg, &wu, &wd);
      double ms = millisecondsSince(start);
      if (moe_rt_status s = moe_rt_gpu_take_error()) {
        failure =
            std::string(moe_rt_status_name(s)) + ": " + moe_rt_last_error();
        release(result);
        break;
      }
      if (run > 0)
        times.push_back(ms);
      else if (result.sizes[0] != T || result.sizes[1] != D ||
               result.strides[0] != D || result.strides[1] != 1 ||
               (T * D > 0 && !result.aligned)) {
        failure = "the output is " + std::to_string(result.sizes[0]) + "x" +
                  std::to_string(result.sizes[1]) + " (strides " +
                  std::to_string(result.strides[0]) + ", " +
                  std::to_string(result.strides[1]) + "), expected " +
                  std::to_string(T) + "x" + std::to_string(D);
      } else {
        error = moe::ref::compareOutput(result.aligned + result.offset,
                                        expected.output.data(), T * D);
        if (error.nonFinite || error.finiteMismatches)
          failure = std::to_string(error.nonFinite) +
                    " output elements are not finite (NaN: never written)";
        else if (error.relative > o.rtol)
          failure = "relative error " + std::to_string(error.relative) +
                    " above " + std::to_string(o.rtol);
      }
      release(result);
    }
    moe_rt_gpu_set_alloc_poison(0);
    if (!failure.empty()) {
      ++failures;
      std::printf("FAIL T=%lld: %s\n", (long long)T, failure.c_str());
    } else {
      double median = 0;
      if (!times.empty()) {
        std::sort(times.begin(), times.end());
        median = times[times.size() / 2];
      }
      std::printf("PASS T=%lld max_abs=%.3g rel=%.3g median=%.3f ms over %zu "
                  "runs\n",
                  (long long)T, error.maxAbs, error.relative, median,
                  times.size());
    }
    std::fflush(stdout);
  }
  moe_rt_gpu_close(gpu);
  return failures ? kExitFail : 0;
}
