//===- blas-moe-baseline.cpp - An MoE layer on OpenBLAS, for comparison ---===//
//
// The baseline of bench/cpu-layer.sh: the same layer shape as a moe-run
// input, computed the way a hand-written CPU implementation would: route
// with the reference, gather each expert's tokens, one cblas_sgemm per
// projection per expert (weights used transposed, as stored), activation,
// weighted combine. Prints the median time of --runs runs.
//
//   blas-moe-baseline D F E k T [runs] [gated=1]
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Reference/MoEReference.h"
#include "moe-runtime/MoERuntime.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ref = moe::ref;

static std::vector<float> uniform(size_t n, uint64_t seed, float bound) {
  std::vector<float> v(n);
  moe_rt_fill_uniform_f32(v.data(), int64_t(n), seed, -bound, bound);
  return v;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s D F E k T [runs] [gated]\n", argv[0]);
    return 2;
  }
  int64_t D = std::atoll(argv[1]), F = std::atoll(argv[2]),
          E = std::atoll(argv[3]), k = std::atoll(argv[4]),
          T = std::atoll(argv[5]);
  int runs = argc > 6 ? std::atoi(argv[6]) : 7;
  bool gated = argc > 7 ? std::atoi(argv[7]) != 0 : true;
  if (D <= 0 || F <= 0 || E <= 0 || k <= 0 || k > E || T <= 0 || runs <= 0) {
    std::fprintf(stderr, "blas-moe-baseline: bad sizes\n");
    return 2;
  }

  std::vector<float> x = uniform(T * D, 1, 1.0f);
  std::vector<float> wr = uniform(E * D, 2, 4.0f / std::sqrt(float(D)));
  std::vector<float> wg = uniform(E * F * D, 3, 1.0f / std::sqrt(float(D)));
  std::vector<float> wu = uniform(E * F * D, 4, 1.0f / std::sqrt(float(D)));
  std::vector<float> wd = uniform(E * D * F, 5, 1.0f / std::sqrt(float(F)));
  ref::RouterConfig router;
  router.k = k;
  router.order = ref::ScoreOrder::TopKSoftmax;
  router.renormalize = true;

  std::vector<float> logits(T * E), y(T * D), rows, hg, hu, out;
  std::vector<double> seconds;
  for (int run = 0; run < runs + 1; ++run) {
    auto start = std::chrono::steady_clock::now();
    // Router logits with sgemm, routing with the reference's top-k.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, E, D, 1.0f,
                x.data(), D, wr.data(), D, 0.0f, logits.data(), E);
    ref::RouteResult routed = ref::route(router, logits.data(), nullptr, T, E);
    std::fill(y.begin(), y.end(), 0.0f);
    for (int64_t e = 0; e < E; ++e) {
      std::vector<std::pair<int64_t, float>> mine; // (token, weight)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < k; ++j)
          if (routed.ids[t * k + j] == e)
            mine.push_back({t, routed.weights[t * k + j]});
      int64_t n = int64_t(mine.size());
      if (n == 0)
        continue;
      rows.resize(n * D);
      hg.resize(n * F);
      hu.resize(n * F);
      out.resize(n * D);
      for (int64_t r = 0; r < n; ++r)
        std::copy_n(&x[mine[r].first * D], D, &rows[r * D]);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, F, D, 1.0f,
                  rows.data(), D, &wu[e * F * D], D, 0.0f, hu.data(), F);
      if (gated) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, F, D, 1.0f,
                    rows.data(), D, &wg[e * F * D], D, 0.0f, hg.data(), F);
        for (int64_t i = 0; i < n * F; ++i)
          hu[i] *= hg[i] / (1.0f + std::exp(-hg[i]));
      } else {
        for (int64_t i = 0; i < n * F; ++i)
          hu[i] = std::max(hu[i], 0.0f);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, D, F, 1.0f,
                  hu.data(), F, &wd[e * D * F], F, 0.0f, out.data(), D);
      for (int64_t r = 0; r < n; ++r)
        for (int64_t d = 0; d < D; ++d)
          y[mine[r].first * D + d] += mine[r].second * out[r * D + d];
    }
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (run > 0) // the first run warms caches and OpenBLAS's buffers
      seconds.push_back(s);
  }
  std::sort(seconds.begin(), seconds.end());
  double median = seconds[seconds.size() / 2];
  double flops = 2.0 * T * D * E + 2.0 * T * k * D * F * (gated ? 3 : 2);
  std::printf("blas-moe-baseline: T=%lld D=%lld F=%lld E=%lld k=%lld: "
              "median %.3f ms, %.2f GFLOP/s\n",
              (long long)T, (long long)D, (long long)F, (long long)E,
              (long long)k, median * 1e3, flops / median * 1e-9);
  return 0;
}
