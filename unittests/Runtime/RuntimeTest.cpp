//===- RuntimeTest.cpp - The runtime's C ABI ------------------------------===//
//
// Every call returns a status and explains a failure through
// moe_rt_last_error(); nothing aborts the process on bad input.
//
//===----------------------------------------------------------------------===//

#include "moe-runtime/MoERuntime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

namespace {

TEST(Capacity, MatchesTheCompilersRounding) {
  int64_t capacity = -1;
  // 1.25 * 8 * 1 / 8 is 1.25 exactly: ceil gives 2.
  ASSERT_EQ(moe_rt_capacity_for_factor(1.25, 8, 1, 8, &capacity), MOE_RT_OK);
  EXPECT_EQ(capacity, 2);
  // 1.1 * 100 * 1 / 110 is 1.0000000000000002 in double: the tolerance keeps
  // it at 1 instead of 2.
  ASSERT_EQ(moe_rt_capacity_for_factor(1.1, 100, 1, 110, &capacity),
            MOE_RT_OK);
  EXPECT_EQ(capacity, 1);
  ASSERT_EQ(moe_rt_capacity_for_factor(1.0, 300, 2, 8, &capacity), MOE_RT_OK);
  EXPECT_EQ(capacity, 75);
  ASSERT_EQ(moe_rt_capacity_for_factor(2.0, 0, 2, 8, &capacity), MOE_RT_OK);
  EXPECT_EQ(capacity, 0);
}

TEST(Capacity, RejectsBadArgumentsWithAMessage) {
  int64_t capacity = 42;
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(moe_rt_capacity_for_factor(0.0, 8, 1, 8, &capacity),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(moe_rt_last_error()).find("factor must be positive"),
            std::string::npos);
  EXPECT_EQ(moe_rt_capacity_for_factor(nan, 8, 1, 8, &capacity),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_capacity_for_factor(1.0, -1, 1, 8, &capacity),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_capacity_for_factor(1.0, 8, 0, 8, &capacity),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_capacity_for_factor(1.0, 8, 1, 0, &capacity),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(moe_rt_last_error()).find("experts > 0"),
            std::string::npos);
  EXPECT_EQ(moe_rt_capacity_for_factor(1.0, 8, 1, 8, nullptr),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(capacity, 42) << "a failed call must not write its result";
}

TEST(Fill, IsDeterministicUniformAndInRange) {
  std::vector<float> a(10000), b(10000), c(10000);
  ASSERT_EQ(moe_rt_fill_uniform_f32(a.data(), 10000, 7, -2.0f, 3.0f),
            MOE_RT_OK);
  ASSERT_EQ(moe_rt_fill_uniform_f32(b.data(), 10000, 7, -2.0f, 3.0f),
            MOE_RT_OK);
  ASSERT_EQ(moe_rt_fill_uniform_f32(c.data(), 10000, 8, -2.0f, 3.0f),
            MOE_RT_OK);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double sum = 0;
  int zeros = 0;
  for (float v : a) {
    EXPECT_GE(v, -2.0f);
    EXPECT_LT(v, 3.0f);
    sum += v;
    zeros += v == 0.0f;
  }
  EXPECT_NEAR(sum / a.size(), 0.5, 0.05); // the mean of U(-2, 3)
  EXPECT_LT(zeros, 5) << "test data must not be zeros";
}

TEST(Fill, RejectsBadArgumentsWithAMessage) {
  float one = 0.0f;
  EXPECT_EQ(moe_rt_fill_uniform_f32(nullptr, 4, 1, 0.0f, 1.0f),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_fill_uniform_f32(&one, -1, 1, 0.0f, 1.0f),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_fill_uniform_f32(&one, 1, 1, 1.0f, 1.0f),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(moe_rt_last_error()).find("lo < hi"),
            std::string::npos);
  EXPECT_EQ(moe_rt_fill_uniform_f32(nullptr, 0, 1, 0.0f, 1.0f), MOE_RT_OK)
      << "an empty fill needs no buffer";
}

TEST(Seed, ComesFromTheEnvironmentWhenSet) {
  ASSERT_EQ(setenv("MOE_TEST_SEED", "12345", 1), 0);
  EXPECT_EQ(moe_rt_fresh_seed(), 12345u);
  ASSERT_EQ(unsetenv("MOE_TEST_SEED"), 0);
  // Two fresh seeds are independent draws.
  EXPECT_NE(moe_rt_fresh_seed(), moe_rt_fresh_seed());
}

} // namespace
