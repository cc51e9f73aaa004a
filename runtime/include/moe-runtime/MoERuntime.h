/*===- MoERuntime.h - The moe-mlir runtime's C ABI -----------------*- C -*-===*
 *
 * A small C runtime with no MLIR dependency. Every call returns a status; on
 * failure moe_rt_last_error() says why. Nothing here aborts the process.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MOE_RUNTIME_MOERUNTIME_H
#define MOE_RUNTIME_MOERUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum moe_rt_status {
  MOE_RT_OK = 0,
  MOE_RT_INVALID_ARGUMENT = 1,
} moe_rt_status;

/* The message of the last failure on this thread ("" if none). */
const char *moe_rt_last_error(void);

/* Per-expert capacity for a capacity factor: ceil(factor * T * k / E), with
 * the same 1e-9 tolerance as the compiler, so that 1.25 * 8 * 1 / 8 is 2. */
moe_rt_status moe_rt_capacity_for_factor(double factor, int64_t tokens,
                                         int64_t k, int64_t experts,
                                         int64_t *capacity);

/* Fills n floats with values uniform in [lo, hi) from a counter-based
 * generator (splitmix64): the same seed gives the same data everywhere. */
moe_rt_status moe_rt_fill_uniform_f32(float *data, int64_t n, uint64_t seed,
                                      float lo, float hi);

/* A seed for test data: MOE_TEST_SEED from the environment when set, else a
 * fresh random one. Tests print it so that a failure can be replayed. */
uint64_t moe_rt_fresh_seed(void);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RUNTIME_MOERUNTIME_H */
