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
#include <cstring>
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

std::string lastError() { return moe_rt_last_error(); }

TEST(Alloc, ReturnsAlignedMemoryOrOutOfMemory) {
  void *data = nullptr;
  ASSERT_EQ(moe_rt_alloc(1000, &data), MOE_RT_OK);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u);
  std::memset(data, 1, 1000);
  moe_rt_free(data);
  ASSERT_EQ(moe_rt_alloc(0, &data), MOE_RT_OK);
  EXPECT_EQ(data, nullptr);
  // 2^62 bytes is more than any machine has: a status, not an abort.
  data = &data;
  EXPECT_EQ(moe_rt_alloc(int64_t(1) << 62, &data), MOE_RT_OUT_OF_MEMORY);
  EXPECT_EQ(data, nullptr);
  EXPECT_NE(lastError().find("4611686018427387904 bytes"), std::string::npos)
      << lastError();
  EXPECT_EQ(moe_rt_alloc(INT64_MAX, &data), MOE_RT_OUT_OF_MEMORY);
  EXPECT_EQ(moe_rt_alloc(-1, &data), MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_alloc(8, nullptr), MOE_RT_INVALID_ARGUMENT);
}

TEST(Status, EveryStatusHasAName) {
  EXPECT_STREQ(moe_rt_status_name(MOE_RT_OK), "MOE_RT_OK");
  EXPECT_STREQ(moe_rt_status_name(MOE_RT_MISMATCH), "MOE_RT_MISMATCH");
  EXPECT_STREQ(moe_rt_status_name(moe_rt_status(99)), "unknown moe_rt_status");
}

TEST(Comm, LocalHasOneRankAndCopiesRows) {
  moe_rt_comm *comm = nullptr;
  ASSERT_EQ(moe_rt_comm_create(MOE_RT_COMM_LOCAL, &comm), MOE_RT_OK);
  int rank = -1, size = -1;
  ASSERT_EQ(moe_rt_comm_rank(comm, &rank), MOE_RT_OK);
  ASSERT_EQ(moe_rt_comm_size(comm, &size), MOE_RT_OK);
  EXPECT_EQ(rank, 0);
  EXPECT_EQ(size, 1);
  int64_t sendCount = 3, recvCount = -1;
  ASSERT_EQ(moe_rt_exchange_counts(comm, &sendCount, &recvCount), MOE_RT_OK);
  EXPECT_EQ(recvCount, 3);
  std::vector<float> send(6), recv(8, -7.0f);
  ASSERT_EQ(moe_rt_fill_uniform_f32(send.data(), 6, moe_rt_fresh_seed(), -1.0f,
                                    1.0f),
            MOE_RT_OK);
  ASSERT_EQ(moe_rt_all_to_all_rows(comm, send.data(), 3, &sendCount,
                                   recv.data(), 4, &recvCount, 8),
            MOE_RT_OK);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(recv[i], send[i]);
  EXPECT_EQ(recv[6], -7.0f) << "rows past the counts are left alone";
  // Zero rows need no buffers.
  int64_t none = 0;
  EXPECT_EQ(moe_rt_all_to_all_rows(comm, nullptr, 0, &none, nullptr, 0, &none,
                                   8),
            MOE_RT_OK);
  EXPECT_EQ(moe_rt_comm_destroy(comm), MOE_RT_OK);
}

TEST(Comm, RejectsBadCallsWithAMessage) {
  moe_rt_comm *comm = nullptr;
  EXPECT_EQ(moe_rt_comm_create(moe_rt_comm_kind(42), &comm),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(comm, nullptr);
  EXPECT_EQ(moe_rt_comm_create(MOE_RT_COMM_LOCAL, nullptr),
            MOE_RT_INVALID_ARGUMENT);
  int64_t one = 1, out = 0;
  EXPECT_EQ(moe_rt_exchange_counts(nullptr, &one, &out),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(lastError().find("communicator is null"), std::string::npos);
  ASSERT_EQ(moe_rt_comm_create(MOE_RT_COMM_LOCAL, &comm), MOE_RT_OK);
  float row[2] = {1.0f, 2.0f}, dest[2];
  EXPECT_EQ(moe_rt_all_to_all_rows(comm, row, 1, &one, dest, 1, &one, 0),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(lastError().find("row_bytes"), std::string::npos) << lastError();
  int64_t huge = int64_t(1) << 40;
  EXPECT_EQ(moe_rt_all_to_all_rows(comm, row, huge, &huge, dest, huge, &huge,
                                   8),
            MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(lastError().find("2^31 - 1 rows"), std::string::npos)
      << lastError();
  EXPECT_EQ(moe_rt_exchange_counts(comm, nullptr, &out),
            MOE_RT_INVALID_ARGUMENT);
  moe_rt_comm_destroy(comm);
}

TEST(Comm, MPIIsThereOrSaysWhy) {
  moe_rt_comm *comm = nullptr;
  moe_rt_status status = moe_rt_comm_create(MOE_RT_COMM_MPI, &comm);
  if (!moe_rt_comm_available(MOE_RT_COMM_MPI)) {
    EXPECT_EQ(status, MOE_RT_UNAVAILABLE);
    EXPECT_NE(lastError().find("built without MPI"), std::string::npos);
    GTEST_SKIP() << lastError();
  }
  // A process started without mpirun is an MPI job of one rank.
  ASSERT_EQ(status, MOE_RT_OK) << lastError();
  int size = 0;
  ASSERT_EQ(moe_rt_comm_size(comm, &size), MOE_RT_OK);
  EXPECT_EQ(size, 1);
  int64_t count = 2, got = 0;
  EXPECT_EQ(moe_rt_exchange_counts(comm, &count, &got), MOE_RT_OK);
  EXPECT_EQ(got, 2);
  moe_rt_comm_destroy(comm);
  // The runtime initialised MPI, so destroying its last communicator
  // finalised it: MPI cannot start twice in one process.
  EXPECT_EQ(moe_rt_comm_create(MOE_RT_COMM_MPI, &comm), MOE_RT_UNAVAILABLE);
  EXPECT_NE(lastError().find("already finalised"), std::string::npos);
}

TEST(GPU, OpensOrSaysWhy) {
  moe_rt_gpu *gpu = nullptr;
  moe_rt_status status = moe_rt_gpu_open(0, &gpu);
  if (status != MOE_RT_OK) {
    EXPECT_EQ(status, MOE_RT_UNAVAILABLE) << lastError();
    EXPECT_EQ(gpu, nullptr);
    EXPECT_FALSE(lastError().empty());
    // Every later call says the same, without a crash.
    EXPECT_EQ(moe_rt_gpu_open(0, &gpu), MOE_RT_UNAVAILABLE);
    GTEST_SKIP() << "no GPU: " << lastError();
  }
  const char *name = nullptr;
  int major = 0;
  EXPECT_EQ(moe_rt_gpu_describe(gpu, &name, &major, nullptr), MOE_RT_OK);
  EXPECT_GE(major, 5) << name;
  EXPECT_EQ(moe_rt_gpu_open(1 << 20, &gpu), MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_gpu_close(gpu), MOE_RT_OK);
}

TEST(GPU, NullHandlesAreRejected) {
  uint64_t ptr = 0;
  EXPECT_NE(moe_rt_gpu_alloc(nullptr, 8, &ptr), MOE_RT_OK);
  EXPECT_NE(moe_rt_gpu_module_load(nullptr, "", nullptr), MOE_RT_OK);
  int64_t dims[3] = {1, 1, 1};
  EXPECT_NE(moe_rt_gpu_launch(nullptr, dims, dims, 0, nullptr), MOE_RT_OK);
  EXPECT_EQ(moe_rt_gpu_close(nullptr), MOE_RT_OK);
}

} // namespace
