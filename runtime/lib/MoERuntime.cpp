//===- MoERuntime.cpp - The moe-mlir runtime's C ABI ----------------------===//

#include "Status.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

namespace {
thread_local std::string lastError;

moe_rt_status fail(std::string message) {
  return moe_rt::failArgument(std::move(message));
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
} // namespace

moe_rt_status moe_rt::fail(moe_rt_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

extern "C" const char *moe_rt_last_error(void) { return lastError.c_str(); }

extern "C" const char *moe_rt_status_name(moe_rt_status status) {
  switch (status) {
  case MOE_RT_OK:
    return "MOE_RT_OK";
  case MOE_RT_INVALID_ARGUMENT:
    return "MOE_RT_INVALID_ARGUMENT";
  case MOE_RT_OUT_OF_MEMORY:
    return "MOE_RT_OUT_OF_MEMORY";
  case MOE_RT_UNAVAILABLE:
    return "MOE_RT_UNAVAILABLE";
  case MOE_RT_MISMATCH:
    return "MOE_RT_MISMATCH";
  case MOE_RT_BACKEND_ERROR:
    return "MOE_RT_BACKEND_ERROR";
  case MOE_RT_STATUS_FORCE_INT32:
    break;
  }
  return "unknown moe_rt_status";
}

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

extern "C" moe_rt_status moe_rt_alloc(int64_t bytes, void **out) {
  if (!out)
    return fail("moe_rt_alloc: out is null");
  *out = nullptr;
  if (bytes < 0)
    return fail("moe_rt_alloc: negative size " + std::to_string(bytes));
  if (bytes == 0)
    return MOE_RT_OK;
  // aligned_alloc wants a multiple of the alignment.
  constexpr int64_t alignment = 64;
  if (bytes > INT64_MAX - alignment)
    return moe_rt::fail(MOE_RT_OUT_OF_MEMORY, "moe_rt_alloc: cannot allocate " +
                                                  std::to_string(bytes) +
                                                  " bytes");
  int64_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void *data = std::aligned_alloc(alignment, static_cast<size_t>(rounded));
  if (!data)
    return moe_rt::fail(MOE_RT_OUT_OF_MEMORY,
                        "moe_rt_alloc: out of memory allocating " +
                            std::to_string(bytes) + " bytes");
  *out = data;
  return MOE_RT_OK;
}

extern "C" void moe_rt_free(void *data) { std::free(data); }
