//===- MoERuntime.cpp - The moe-mlir runtime's C ABI ----------------------===//

#include "moe-runtime/MoERuntime.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

namespace {
thread_local std::string lastError;

moe_rt_status fail(std::string message) {
  lastError = std::move(message);
  return MOE_RT_INVALID_ARGUMENT;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
} // namespace

extern "C" const char *moe_rt_last_error(void) { return lastError.c_str(); }

extern "C" moe_rt_status moe_rt_capacity_for_factor(double factor,
                                                    int64_t tokens, int64_t k,
                                                    int64_t experts,
                                                    int64_t *capacity) {
  if (!capacity)
    return fail("moe_rt_capacity_for_factor: capacity is null");
  if (!std::isfinite(factor) || factor <= 0.0)
    return fail("moe_rt_capacity_for_factor: factor must be positive");
  if (tokens < 0 || k <= 0 || experts <= 0)
    return fail("moe_rt_capacity_for_factor: need tokens >= 0, k > 0 and "
                "experts > 0");
  *capacity = static_cast<int64_t>(
      std::ceil(factor * double(tokens) * double(k) / double(experts) - 1e-9));
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_fill_uniform_f32(float *data, int64_t n,
                                                 uint64_t seed, float lo,
                                                 float hi) {
  if (n < 0 || (n > 0 && !data))
    return fail("moe_rt_fill_uniform_f32: need a buffer of n >= 0 floats");
  if (!(lo < hi))
    return fail("moe_rt_fill_uniform_f32: need lo < hi");
  uint64_t stream = splitmix64(seed);
  for (int64_t i = 0; i < n; ++i) {
    // 24 random bits give a float in [0, 1) exactly.
    uint64_t bits = splitmix64(stream + static_cast<uint64_t>(i)) >> 40;
    float unit = static_cast<float>(bits) * (1.0f / 16777216.0f);
    data[i] = lo + (hi - lo) * unit;
  }
  return MOE_RT_OK;
}

extern "C" uint64_t moe_rt_fresh_seed(void) {
  if (const char *fromEnv = std::getenv("MOE_TEST_SEED"))
    return std::strtoull(fromEnv, nullptr, 0);
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}
