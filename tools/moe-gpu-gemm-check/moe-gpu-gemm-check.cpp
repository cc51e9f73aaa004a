//===- moe-gpu-gemm-check.cpp - Check and time a grouped GEMM kernel ------===//
//
// Runs a grouped GEMM kernel from moe-opt --moe-gpu-grouped-matmul-kernel
// (a cubin or PTX, compiled ahead of time) through the runtime's mgpu*
// calls, on seeded random bf16 inputs with the given per-expert row counts,
// compares it with a CPU reference in double precision and times it with
// device events. No MLIR: it links only libmoe_runtime.
//
//   moe-gpu-gemm-check --module=K.cubin [--fallback=K.ptx] --n=N --k=K
//     --experts=E --tile=BM,BN,BK --threads=T [--smem=BYTES]
//     [--variant=NAME] (--counts=c0,c1,... | --rows=R) [--seed=S]
//     [--runs=R] [--check-rows=M]
//     [--fallback-tile=BM,BN,BK --fallback-threads=T --fallback-smem=BYTES
//      --fallback-variant=NAME]
//
// --smem is the kernel's dynamic shared memory (its moe.dynamic_smem);
// --variant names the kernel in the report (its moe.variant). When the
// module does not load (e.g. an sm_90a cubin on another chip), the
// fallback module is loaded instead: the same kernel as PTX, or, with the
// --fallback-* launch parameters, another variant (the mma.sync kernel).
//
// --rows=R spreads R rows unevenly over the experts (seeded). The check
// compares --check-rows rows (all when 0 or when there are fewer; default
// 0 below 2^27 multiply-adds a row set, else 48: the first and last row of
// experts and random ones) over every column, and every element of the
// output for NaN (the output is poisoned with NaN first). Relative error
// ||out - ref|| / ||ref|| must be below --rtol (1e-2). Exit 0 pass, 1 fail,
// 77 when there is no GPU (with the reason), 2 on bad arguments.
//
//===----------------------------------------------------------------------===//

#include "moe-runtime/MGPU.h"
#include "moe-runtime/MoERuntime.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string module, fallback, kernel = "grouped_matmul";
  std::string variant = "kernel", fallbackVariant;
  int64_t n = 0, k = 0, experts = 0, threads = 0, rows = -1, smem = 0;
  int64_t fallbackThreads = 0, fallbackSmem = -1;
  int64_t tile[3] = {0, 0, 0}, fallbackTile[3] = {0, 0, 0};
  std::vector<int64_t> counts;
  uint64_t seed = 1;
  int runs = 20, warmup = 3;
  int64_t checkRows = -1;
  double rtol = 1e-2;
};

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr, "moe-gpu-gemm-check: %s\n", why.c_str());
  std::exit(2);
}

int64_t toInt(const std::string &text) {
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    usage("not an integer: " + text);
  return v;
}

std::vector<int64_t> parseList(const std::string &text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(toInt(item));
  return out;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos)
      usage("expected --name=value, got " + arg);
    std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    {
      if (name == "module")
        o.module = value;
      else if (name == "fallback")
        o.fallback = value;
      else if (name == "kernel")
        o.kernel = value;
      else if (name == "n")
        o.n = toInt(value);
      else if (name == "k")
        o.k = toInt(value);
      else if (name == "experts")
        o.experts = toInt(value);
      else if (name == "threads")
        o.threads = toInt(value);
      else if (name == "rows")
        o.rows = toInt(value);
      else if (name == "counts")
        o.counts = parseList(value);
      else if (name == "seed")
        o.seed = uint64_t(toInt(value));
      else if (name == "runs")
        o.runs = int(toInt(value));
      else if (name == "warmup")
        o.warmup = int(toInt(value));
      else if (name == "check-rows")
        o.checkRows = toInt(value);
      else if (name == "rtol")
        o.rtol = std::strtod(value.c_str(), nullptr);
      else if (name == "smem")
        o.smem = toInt(value);
      else if (name == "variant")
        o.variant = value;
      else if (name == "fallback-variant")
        o.fallbackVariant = value;
      else if (name == "fallback-threads")
        o.fallbackThreads = toInt(value);
      else if (name == "fallback-smem")
        o.fallbackSmem = toInt(value);
      else if (name == "tile" || name == "fallback-tile") {
        std::vector<int64_t> t = parseList(value);
        if (t.size() != 3)
          usage("--" + name + " takes BM,BN,BK");
        std::copy(t.begin(), t.end(), name == "tile" ? o.tile : o.fallbackTile);
      } else
        usage("unknown option --" + name);
    }
  }
  if (o.module.empty() || o.n <= 0 || o.k <= 0 || o.experts <= 0 ||
      o.threads <= 0 || o.tile[0] <= 0 || o.tile[1] <= 0)
    usage("needs --module, --n, --k, --experts, --tile and --threads");
  if (o.n % o.tile[1] != 0)
    usage("--n is not a multiple of the tile's " + std::to_string(o.tile[1]));
  if (o.smem < 0)
    usage("--smem must not be negative");
  if (o.fallbackTile[0] > 0 || o.fallbackThreads > 0) {
    if (o.fallback.empty() || o.fallbackTile[0] <= 0 ||
        o.fallbackTile[1] <= 0 || o.fallbackThreads <= 0)
      usage("--fallback-tile and --fallback-threads go together, with "
            "--fallback");
    if (o.n % o.fallbackTile[1] != 0)
      usage("--n is not a multiple of the fallback tile's " +
            std::to_string(o.fallbackTile[1]));
  }
  if (!o.counts.empty() && int64_t(o.counts.size()) != o.experts)
    usage("--counts has " + std::to_string(o.counts.size()) + " entries for " +
          std::to_string(o.experts) + " experts");
  if (o.counts.empty() && o.rows < 0)
    usage("needs --counts or --rows");
  if (o.runs < 1)
    usage("--runs must be at least 1");
  return o;
}

/// R rows over E experts, unevenly: weights (u + 0.1)^2 for uniform u, so
/// the largest expert gets several times the smallest's share.
std::vector<int64_t> spread(int64_t rows, int64_t experts, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 17);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> w(experts);
  double sum = 0;
  for (double &x : w)
    sum += x = (u(rng) + 0.1) * (u(rng) + 0.1);
  std::vector<int64_t> counts(experts);
  int64_t given = 0;
  for (int64_t e = 0; e < experts; ++e)
    given += counts[e] = int64_t(rows * w[e] / sum);
  for (int64_t e = 0; given < rows; e = (e + 1) % experts, ++given)
    ++counts[e];
  return counts;
}

uint16_t toBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest even
  return uint16_t(bits >> 16);
}
float fromBF16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Uniform bf16 in [-1, 1), in parallel chunks, each from its own seed.
void fillRandom(std::vector<uint16_t> &v, uint64_t seed) {
  const size_t chunk = size_t(1) << 22;
  size_t chunks = (v.size() + chunk - 1) / chunk;
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (size_t c = w; c < chunks; c += workers) {
        std::mt19937_64 rng(seed * 1000003 + c);
        size_t end = std::min(v.size(), (c + 1) * chunk);
        for (size_t i = c * chunk; i < end; ++i)
          v[i] = toBF16(float(int64_t(rng() >> 40) - (int64_t(1) << 23)) /
                        float(int64_t(1) << 23));
      }
    });
  for (std::thread &t : pool)
    t.join();
}

std::vector<char> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return {};
  std::vector<char> data((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  data.push_back('\0'); // PTX is loaded as a NUL-terminated string
  return data;
}

bool isPTX(const std::vector<char> &image) {
  return std::strstr(image.data(), ".version") != nullptr &&
         std::strstr(image.data(), ".target") != nullptr;
}

/// The runtime's pending mgpu* failure, printed; true when there was one.
bool failedAt(const char *what) {
  moe_rt_status status = moe_rt_gpu_take_error();
  if (status == MOE_RT_OK)
    return false;
  std::fprintf(stderr, "moe-gpu-gemm-check: %s: %s\n", what,
               moe_rt_last_error());
  return true;
}

/// A ranked memref descriptor as the kernel's parameters take it:
/// allocated and aligned pointers, offset, sizes, strides (row-major).
struct Descriptor {
  void *allocated, *aligned;
  int64_t offset;
  std::vector<int64_t> sizes, strides;
};
Descriptor describe(void *ptr, std::vector<int64_t> sizes) {
  Descriptor d{ptr, ptr, 0, sizes, std::vector<int64_t>(sizes.size(), 1)};
  for (int i = int(sizes.size()) - 2; i >= 0; --i)
    d.strides[i] = d.strides[i + 1] * sizes[i + 1];
  return d;
}
void pushParams(Descriptor &d, std::vector<void *> &params) {
  params.push_back(&d.allocated);
  params.push_back(&d.aligned);
  params.push_back(&d.offset);
  for (int64_t &s : d.sizes)
    params.push_back(&s);
  for (int64_t &s : d.strides)
    params.push_back(&s);
}

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  const int64_t E = o.experts, N = o.n, K = o.k;
  std::vector<int64_t> counts =
      o.counts.empty() ? spread(o.rows, E, o.seed) : o.counts;
  std::vector<int32_t> offsets(E + 1, 0);
  for (int64_t e = 0; e < E; ++e) {
    if (counts[e] < 0)
      usage("negative row count");
    offsets[e + 1] = int32_t(offsets[e] + counts[e]);
  }
  const int64_t R = offsets[E];
  int64_t zero = std::count(counts.begin(), counts.end(), 0);
  int64_t largest = *std::max_element(counts.begin(), counts.end());
  std::printf("grouped GEMM R=%lld N=%lld K=%lld E=%lld (rows per expert: "
              "largest %lld, %lld empty), tile %lldx%lldx%lld, %lld threads, "
              "seed %llu\n",
              (long long)R, (long long)N, (long long)K, (long long)E,
              (long long)largest, (long long)zero, (long long)o.tile[0],
              (long long)o.tile[1], (long long)o.tile[2], (long long)o.threads,
              (unsigned long long)o.seed);

  std::vector<char> image = readFile(o.module);
  if (image.size() <= 1) {
    std::fprintf(stderr, "moe-gpu-gemm-check: cannot read %s\n",
                 o.module.c_str());
    return 1;
  }

  // The device first: no GPU is an outcome (77), not a failure.
  moe_rt_gpu *gpu = nullptr;
  if (moe_rt_status s = moe_rt_gpu_open(0, &gpu)) {
    std::printf("moe-gpu-gemm-check: no GPU: %s\n", moe_rt_last_error());
    return s == MOE_RT_UNAVAILABLE ? 77 : 1;
  }
  const char *name = nullptr;
  int major = 0, minor = 0;
  moe_rt_gpu_describe(gpu, &name, &major, &minor);
  std::printf("device: %s (sm_%d%d)\n", name ? name : "?", major, minor);

  // Inputs on the host, seeded.
  std::vector<uint16_t> a(size_t(R) * K), b(size_t(E) * N * K);
  fillRandom(a, o.seed * 2 + 1);
  fillRandom(b, o.seed * 2 + 2);

  void *module = isPTX(image) ? mgpuModuleLoadJIT(image.data(), 4, image.size())
                              : mgpuModuleLoad(image.data(), image.size() - 1);
  if (failedAt("module load") && !o.fallback.empty()) {
    std::printf("loading %s instead\n", o.fallback.c_str());
    image = readFile(o.fallback);
    module = isPTX(image) ? mgpuModuleLoadJIT(image.data(), 4, image.size())
                          : mgpuModuleLoad(image.data(), image.size() - 1);
    if (o.fallbackThreads > 0) {
      // Another variant: its own launch parameters.
      std::copy(o.fallbackTile, o.fallbackTile + 3, o.tile);
      o.threads = o.fallbackThreads;
      o.smem = std::max<int64_t>(o.fallbackSmem, 0);
      o.variant = o.fallbackVariant.empty() ? "fallback" : o.fallbackVariant;
      std::printf("fallback variant %s: tile %lldx%lldx%lld, %lld threads, "
                  "%lld bytes of dynamic shared memory\n",
                  o.variant.c_str(), (long long)o.tile[0], (long long)o.tile[1],
                  (long long)o.tile[2], (long long)o.threads,
                  (long long)o.smem);
    }
  }
  if (failedAt("module load"))
    return 1;
  std::printf("variant: %s (%lld bytes of dynamic shared memory)\n",
              o.variant.c_str(), (long long)o.smem);
  void *function = mgpuModuleGetFunction(module, o.kernel.c_str());
  void *stream = mgpuStreamCreate();
  if (failedAt("kernel and stream"))
    return 1;

  size_t aBytes = a.size() * 2, bBytes = b.size() * 2,
         cBytes = size_t(R) * N * 2, offBytes = offsets.size() * 4;
  // Zero rows still need valid pointers.
  void *dA = mgpuMemAlloc(std::max<size_t>(aBytes, 16), stream, false);
  void *dB = mgpuMemAlloc(bBytes, stream, false);
  void *dOff = mgpuMemAlloc(offBytes, stream, false);
  void *dC = mgpuMemAlloc(std::max<size_t>(cBytes, 16), stream, false);
  if (failedAt("allocation"))
    return 1;
  if (aBytes)
    mgpuMemcpy(dA, a.data(), aBytes, stream);
  mgpuMemcpy(dB, b.data(), bBytes, stream);
  mgpuMemcpy(dOff, offsets.data(), offBytes, stream);
  // Poison: every bf16 of C is NaN until the kernel writes it.
  if (cBytes)
    mgpuMemset16(dC, 0xFFFF, cBytes / 2, stream);
  mgpuStreamSynchronize(stream);
  if (failedAt("copies to the device"))
    return 1;

  Descriptor dA_ = describe(dA, {R, K}), dB_ = describe(dB, {E, N, K}),
             dOff_ = describe(dOff, {E + 1}), dC_ = describe(dC, {R, N});
  std::vector<void *> params;
  pushParams(dA_, params);
  pushParams(dB_, params);
  pushParams(dOff_, params);
  pushParams(dC_, params);
  const int64_t gridX = N / o.tile[1],
                gridY = (R + o.tile[0] - 1) / o.tile[0] + E;
  auto launch = [&] {
    mgpuLaunchKernel(function, gridX, gridY, 1, o.threads, 1, 1,
                     int32_t(o.smem), stream, params.data(), nullptr,
                     params.size());
  };

  // One checked run on the poisoned output.
  launch();
  mgpuStreamSynchronize(stream);
  if (failedAt("kernel"))
    return 1;
  std::vector<uint16_t> c(size_t(R) * N);
  if (cBytes)
    mgpuMemcpy(c.data(), dC, cBytes, stream);
  mgpuStreamSynchronize(stream);
  if (failedAt("copy to the host"))
    return 1;

  int64_t unwritten = 0;
  for (uint16_t v : c)
    unwritten += std::isnan(fromBF16(v));

  // Rows to compare with the reference: all of them for small problems;
  // else the first and last row of each of up to 16 experts plus random
  // rows.
  std::vector<int64_t> rows;
  int64_t budgetRows = o.checkRows >= 0                  ? o.checkRows
                       : R * N * K <= (int64_t(1) << 27) ? 0
                                                         : 48;
  if (budgetRows == 0 || budgetRows >= R) {
    for (int64_t r = 0; r < R; ++r)
      rows.push_back(r);
  } else {
    std::mt19937_64 rng(o.seed + 99);
    for (int64_t e = 0, taken = 0; e < E && taken < 16; ++e)
      if (counts[e]) {
        rows.push_back(offsets[e]);
        rows.push_back(offsets[e + 1] - 1);
        ++taken;
      }
    while (int64_t(rows.size()) < budgetRows)
      rows.push_back(int64_t(rng() % uint64_t(R)));
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  }
  std::vector<int64_t> expertOf(R);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r)
      expertOf[r] = e;
  std::vector<double> errSq(rows.size()), refSq(rows.size());
  {
    unsigned workers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        std::vector<double> arow(K);
        for (size_t i = w; i < rows.size(); i += workers) {
          int64_t r = rows[i], e = expertOf[r];
          for (int64_t kk = 0; kk < K; ++kk)
            arow[kk] = fromBF16(a[size_t(r) * K + kk]);
          double es = 0, rs = 0;
          for (int64_t nn = 0; nn < N; ++nn) {
            const uint16_t *brow = &b[(size_t(e) * N + nn) * K];
            double ref = 0;
            for (int64_t kk = 0; kk < K; ++kk)
              ref += arow[kk] * fromBF16(brow[kk]);
            double got = fromBF16(c[size_t(r) * N + nn]);
            es += (got - ref) * (got - ref);
            rs += ref * ref;
          }
          errSq[i] = es;
          refSq[i] = rs;
        }
      });
    for (std::thread &t : pool)
      t.join();
  }
  double es = 0, rs = 0;
  for (size_t i = 0; i < rows.size(); ++i)
    es += errSq[i], rs += refSq[i];
  double rel = rs > 0 ? std::sqrt(es / rs) : (es > 0 ? INFINITY : 0);
  bool pass = unwritten == 0 && !std::isnan(rel) && rel < o.rtol;
  std::printf("check: %lld of %lld rows against the reference, relative "
              "error %.3e (rtol %.0e); %lld output elements unwritten "
              "(NaN)\n",
              (long long)rows.size(), (long long)R, rel, o.rtol,
              (long long)unwritten);

  // Timing: warm-up, then each run between two events; the median.
  void *start = moe_rt_mgpu_event_create_timed();
  void *stop = moe_rt_mgpu_event_create_timed();
  for (int i = 0; i < o.warmup; ++i)
    launch();
  std::vector<float> ms;
  for (int i = 0; i < o.runs; ++i) {
    mgpuEventRecord(start, stream);
    launch();
    mgpuEventRecord(stop, stream);
    mgpuEventSynchronize(stop);
    ms.push_back(moe_rt_mgpu_event_elapsed_ms(start, stop));
  }
  if (failedAt("timed runs"))
    return 1;
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2], best = ms.front();
  double flops = 2.0 * double(R) * double(N) * double(K);
  double bytes =
      2.0 * (double(R) * K + double(E - zero) * N * K + double(R) * N);
  std::printf("time: median %.4f ms, best %.4f ms over %d runs; %.1f TFLOP/s "
              "(median), %.1f GB/s of the least traffic\n",
              median, best, o.runs, flops / (median * 1e-3) / 1e12,
              bytes / (median * 1e-3) / 1e9);
  std::printf("%s R=%lld N=%lld K=%lld E=%lld rel=%.3e median_ms=%.4f "
              "TFLOPs=%.1f variant=%s\n",
              pass ? "PASS" : "FAIL", (long long)R, (long long)N, (long long)K,
              (long long)E, rel, median, flops / (median * 1e-3) / 1e12,
              o.variant.c_str());

  mgpuEventDestroy(start);
  mgpuEventDestroy(stop);
  mgpuMemFree(dA, stream);
  mgpuMemFree(dB, stream);
  mgpuMemFree(dOff, stream);
  mgpuMemFree(dC, stream);
  mgpuStreamDestroy(stream);
  mgpuModuleUnload(module);
  moe_rt_gpu_take_error();
  moe_rt_gpu_close(gpu);
  return pass ? 0 : 1;
}
