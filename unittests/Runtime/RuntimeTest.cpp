//===- RuntimeTest.cpp - The runtime's C ABI ------------------------------===//
//
// Every call returns a status and explains a failure through
// moe_rt_last_error(); nothing aborts the process on bad input.
//
//===----------------------------------------------------------------------===//

#include "moe-runtime/MGPU.h"
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
  ASSERT_EQ(moe_rt_capacity_for_factor(1.1, 100, 1, 110, &capacity), MOE_RT_OK);
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
  ASSERT_EQ(
      moe_rt_fill_uniform_f32(send.data(), 6, moe_rt_fresh_seed(), -1.0f, 1.0f),
      MOE_RT_OK);
  ASSERT_EQ(moe_rt_all_to_all_rows(comm, send.data(), 3, &sendCount,
                                   recv.data(), 4, &recvCount, 8),
            MOE_RT_OK);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(recv[i], send[i]);
  EXPECT_EQ(recv[6], -7.0f) << "rows past the counts are left alone";
  // Zero rows need no buffers.
  int64_t none = 0;
  EXPECT_EQ(
      moe_rt_all_to_all_rows(comm, nullptr, 0, &none, nullptr, 0, &none, 8),
      MOE_RT_OK);
  EXPECT_EQ(moe_rt_comm_destroy(comm), MOE_RT_OK);
}

TEST(LayerComm, OutsideALauncherIsOneLocalRank) {
  moe_rt_comm *comm = nullptr;
  ASSERT_EQ(moe_rt_layer_comm(&comm), MOE_RT_OK) << moe_rt_last_error();
  int size = -1;
  ASSERT_EQ(moe_rt_comm_size(comm, &size), MOE_RT_OK);
  EXPECT_EQ(size, 1);
  EXPECT_EQ(moe_rt_layer_comm(nullptr), MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_layer_comm_release(), MOE_RT_OK);
}

TEST(LayerComm, AFailureIsStickyUntilTakenAndNothingMovesMeanwhile) {
  ASSERT_EQ(moe_rt_layer_take_error(), MOE_RT_OK);
  // A layer compiled for 2 ranks on the one local rank.
  int64_t send[2] = {1, 1}, recv[2] = {-1, -1};
  moe_rt_layer_exchange_counts(2, send, recv);
  EXPECT_EQ(recv[0], 0) << "a failed count exchange receives nothing";
  EXPECT_EQ(recv[1], 0);
  // A later exchange, even a valid one, does nothing and zeroes what it
  // would have received.
  float rows[2] = {1.0f, 2.0f}, received[2] = {-1.0f, -1.0f};
  int64_t one = 2, got = 2;
  moe_rt_layer_all_to_all(1, rows, 2, &one, received, 2, &got, 4);
  EXPECT_EQ(received[0], 0.0f);
  EXPECT_EQ(received[1], 0.0f);
  ASSERT_EQ(moe_rt_layer_take_error(), MOE_RT_MISMATCH);
  EXPECT_NE(std::string(moe_rt_last_error())
                .find("compiled for 2 ranks but runs on a communicator of 1"),
            std::string::npos)
      << moe_rt_last_error();
  EXPECT_EQ(moe_rt_layer_take_error(), MOE_RT_OK) << "taking clears it";

  // Afterwards the exchanges work again, and count.
  moe_rt_layer_stats_reset();
  moe_rt_layer_exchange_counts(1, &one, &got);
  EXPECT_EQ(got, 2);
  moe_rt_layer_all_to_all(1, rows, 2, &one, received, 2, &got, 4);
  EXPECT_EQ(received[0], 1.0f);
  EXPECT_EQ(received[1], 2.0f);
  moe_rt_layer_stats stats;
  moe_rt_layer_stats_get(&stats);
  EXPECT_EQ(stats.exchanges, 1);
  EXPECT_EQ(stats.bytes_sent, 0) << "one rank's rows stay with it";
  EXPECT_GE(stats.seconds, 0.0);
  // Bad arguments are a sticky error too, not a crash; the receive buffer
  // (3 rows, as the call says) reads as zeros.
  int64_t tooMany = 3;
  float roomy[3] = {-1.0f, -1.0f, -1.0f};
  moe_rt_layer_all_to_all(1, rows, 2, &tooMany, roomy, 3, &tooMany, 4);
  EXPECT_EQ(roomy[2], 0.0f);
  EXPECT_EQ(moe_rt_layer_take_error(), MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(moe_rt_layer_comm_release(), MOE_RT_OK);
}

TEST(LayerComm, UsesTheCallersCommunicator) {
  moe_rt_comm *mine = nullptr, *used = nullptr;
  ASSERT_EQ(moe_rt_comm_create(MOE_RT_COMM_LOCAL, &mine), MOE_RT_OK);
  ASSERT_EQ(moe_rt_layer_set_comm(mine), MOE_RT_OK);
  ASSERT_EQ(moe_rt_layer_comm(&used), MOE_RT_OK);
  EXPECT_EQ(used, mine);
  // GPU layers' exchanges too.
  used = nullptr;
  ASSERT_EQ(moe_rt_layer_gpu_comm(&used), MOE_RT_OK);
  EXPECT_EQ(used, mine);
  ASSERT_EQ(moe_rt_layer_set_comm(nullptr), MOE_RT_OK);
  ASSERT_EQ(moe_rt_layer_comm(&used), MOE_RT_OK);
  EXPECT_NE(used, mine);
  EXPECT_EQ(moe_rt_layer_comm_release(), MOE_RT_OK);
  EXPECT_EQ(moe_rt_comm_destroy(mine), MOE_RT_OK);
}

TEST(LayerComm, GPULayersChooseTheirCommunicatorByTheEnvironment) {
  // MOE_RT_LAYER_GPU_COMM=host: the GPU calls run on the host layer
  // communicator (one local rank here), which reads host-shared rows as
  // any host memory.
  ASSERT_EQ(setenv("MOE_RT_LAYER_GPU_COMM", "host", 1), 0);
  moe_rt_comm *host = nullptr, *gpu = nullptr;
  ASSERT_EQ(moe_rt_layer_comm(&host), MOE_RT_OK) << moe_rt_last_error();
  ASSERT_EQ(moe_rt_layer_gpu_comm(&gpu), MOE_RT_OK) << moe_rt_last_error();
  EXPECT_EQ(gpu, host);
  int64_t two = 2, got = -1;
  moe_rt_layer_gpu_exchange_counts(1, &two, &got);
  EXPECT_EQ(got, 2);
  float rows[2] = {3.0f, 4.0f}, received[2] = {-1.0f, -1.0f};
  moe_rt_layer_gpu_all_to_all(1, rows, 2, &two, received, 2, &got, 4);
  EXPECT_EQ(moe_rt_layer_take_error(), MOE_RT_OK) << moe_rt_last_error();
  EXPECT_EQ(received[0], 3.0f);
  EXPECT_EQ(received[1], 4.0f);
  // A failure is the same sticky error, and the GPU call leaves the
  // receive buffer alone (it may be device memory).
  int64_t sendTwo[2] = {1, 1}, recvTwo[2] = {-1, -1};
  moe_rt_layer_gpu_exchange_counts(2, sendTwo, recvTwo);
  EXPECT_EQ(recvTwo[0], 0) << "a failed count exchange receives nothing";
  EXPECT_EQ(recvTwo[1], 0);
  received[0] = received[1] = -1.0f;
  moe_rt_layer_gpu_all_to_all(1, rows, 2, &two, received, 2, &got, 4);
  EXPECT_EQ(received[0], -1.0f);
  EXPECT_EQ(received[1], -1.0f);
  ASSERT_EQ(moe_rt_layer_take_error(), MOE_RT_MISMATCH);
  EXPECT_NE(lastError().find("moe_rt_layer_gpu_exchange_counts: the layer "
                             "was compiled for 2 ranks"),
            std::string::npos)
      << lastError();

  ASSERT_EQ(setenv("MOE_RT_LAYER_GPU_COMM", "gloo", 1), 0);
  EXPECT_EQ(moe_rt_layer_gpu_comm(&gpu), MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(lastError().find("MOE_RT_LAYER_GPU_COMM=gloo is neither"),
            std::string::npos)
      << lastError();
  EXPECT_EQ(moe_rt_layer_gpu_comm(nullptr), MOE_RT_INVALID_ARGUMENT);
  ASSERT_EQ(unsetenv("MOE_RT_LAYER_GPU_COMM"), 0);
  EXPECT_EQ(moe_rt_layer_comm_release(), MOE_RT_OK);
}

TEST(GPU, OutsideALauncherEveryProcessUsesGPU0) {
  for (const char *name :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (std::getenv(name))
      GTEST_SKIP() << name << " is set: this runs under a launcher";
  int ordinal = -1;
  EXPECT_EQ(moe_rt_gpu_of_rank(&ordinal), MOE_RT_OK) << moe_rt_last_error();
  EXPECT_EQ(ordinal, 0);
  EXPECT_EQ(moe_rt_gpu_of_rank(nullptr), MOE_RT_INVALID_ARGUMENT);
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
  EXPECT_EQ(
      moe_rt_all_to_all_rows(comm, row, huge, &huge, dest, huge, &huge, 8),
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

TEST(Comm, NCCLIsThereOrSaysWhy) {
  moe_rt_comm *comm = nullptr;
  moe_rt_status status = moe_rt_comm_create(MOE_RT_COMM_NCCL, &comm);
  if (status != MOE_RT_OK) {
    // No NCCL library, driver or GPU (or a build without nccl.h): a status
    // and the reason, never a crash.
    EXPECT_EQ(status, MOE_RT_UNAVAILABLE) << lastError();
    EXPECT_NE(lastError().find("moe_rt_comm_create(NCCL): "), std::string::npos)
        << lastError();
    EXPECT_EQ(comm, nullptr);
    GTEST_SKIP() << lastError();
  }
  // One process: one rank. The count exchange stages host values through
  // the device and back.
  int size = 0;
  ASSERT_EQ(moe_rt_comm_size(comm, &size), MOE_RT_OK);
  EXPECT_EQ(size, 1);
  int64_t count = 5, got = 0;
  EXPECT_EQ(moe_rt_exchange_counts(comm, &count, &got), MOE_RT_OK)
      << lastError();
  EXPECT_EQ(got, 5);
  EXPECT_EQ(moe_rt_comm_destroy(comm), MOE_RT_OK);
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

//===----------------------------------------------------------------------===//
// MLIR's mgpu* ABI: no status to return, so a sticky error instead.
//===----------------------------------------------------------------------===//

bool haveGPU() {
  moe_rt_gpu *gpu = nullptr;
  if (moe_rt_gpu_open(0, &gpu) != MOE_RT_OK)
    return false;
  moe_rt_gpu_close(gpu);
  return true;
}

TEST(MGPU, WithoutAGPUEveryCallIsANoOpAndTheErrorSaysWhy) {
  if (haveGPU())
    GTEST_SKIP() << "a GPU is there";
  ASSERT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK);
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  // Everything after the first failure does nothing, whatever its handles.
  char image[16] = {0};
  EXPECT_EQ(mgpuModuleLoad(image, sizeof(image)), nullptr);
  EXPECT_EQ(mgpuModuleGetFunction(nullptr, "kernel"), nullptr);
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, true), nullptr);
  mgpuMemcpy(nullptr, nullptr, 64, nullptr);
  mgpuMemset32(nullptr, 0, 16, nullptr);
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  mgpuStreamSynchronize(nullptr);
  mgpuMemFree(nullptr, nullptr);
  mgpuStreamDestroy(nullptr);
  // The first failure is the one reported, with the call that made it.
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_UNAVAILABLE);
  EXPECT_EQ(lastError().rfind("mgpuStreamCreate: ", 0), 0u) << lastError();
  // Taking it cleared it; the next call fails again, with its own name.
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK);
  EXPECT_EQ(mgpuEventCreate(), nullptr);
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_UNAVAILABLE);
  EXPECT_EQ(lastError().rfind("mgpuEventCreate: ", 0), 0u) << lastError();
}

TEST(MGPU, NonDenseMemRefsAreNotRegistered) {
  ASSERT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK);
  float data[8] = {0};
  // memref<2x2xf32, strided<[4, 2]>>: every other element.
  struct {
    float *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  } strided = {data, data, 0, {2, 2}, {4, 2}};
  mgpuMemHostRegisterMemRef(2, &strided, sizeof(float));
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_INVALID_ARGUMENT);
  EXPECT_NE(lastError().find("not dense"), std::string::npos) << lastError();
}

/// out[i] = value for i < n, one thread per element (PTX 7.0, compiled by
/// the driver for the GPU at hand).
const char *fillPTX = R"(
.version 7.0
.target sm_80
.address_size 64
.visible .entry moe_rt_test_fill(
  .param .u64 out_param, .param .f32 value_param, .param .u32 n_param)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<2>;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [out_param];
  ld.param.f32 %f1, [value_param];
  ld.param.u32 %r1, [n_param];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.global.f32 [%rd4], %f1;
DONE:
  ret;
}
)";

TEST(MGPU, RunsAKernelOnHostSharedMemory) {
  if (!haveGPU())
    GTEST_SKIP() << "no GPU: " << lastError();
  ASSERT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK) << lastError();
  const uint32_t n = 1000;
  moe_rt_gpu_set_alloc_poison(1);
  auto *out = static_cast<float *>(mgpuMemAlloc(n * 4, nullptr, true));
  moe_rt_gpu_set_alloc_poison(0);
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK) << lastError();
  // Poisoned: NaN everywhere before the kernel writes.
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[n - 1]));
  void *module = mgpuModuleLoadJIT(const_cast<char *>(fillPTX), 2, 0);
  void *function = mgpuModuleGetFunction(module, "moe_rt_test_fill");
  void *stream = mgpuStreamCreate();
  void *event = mgpuEventCreate();
  float value = 42.5f;
  uint32_t count = n - 1; // the last element stays NaN
  void *params[] = {&out, &value, &count};
  mgpuLaunchKernel(function, (n + 127) / 128, 1, 1, 128, 1, 1, 0, stream,
                   params, nullptr, 3);
  mgpuEventRecord(event, stream);
  mgpuEventSynchronize(event);
  mgpuStreamSynchronize(stream);
  ASSERT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK) << lastError();
  EXPECT_EQ(out[0], 42.5f);
  EXPECT_EQ(out[n - 2], 42.5f);
  EXPECT_TRUE(std::isnan(out[n - 1]));
  // Device memory, filled and copied back to host-shared memory.
  void *device = mgpuMemAlloc(n * 4, stream, false);
  mgpuMemset32(device, 0x3f800000u, n, stream); // 1.0f
  mgpuMemcpy(out, device, n * 4, stream);
  mgpuStreamSynchronize(stream);
  ASSERT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK) << lastError();
  EXPECT_EQ(out[n - 1], 1.0f);
  // A missing kernel: the error names it, later calls wait for the take.
  EXPECT_EQ(mgpuModuleGetFunction(module, "no_such_kernel"), nullptr);
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_BACKEND_ERROR);
  EXPECT_NE(lastError().find("no_such_kernel"), std::string::npos)
      << lastError();
  EXPECT_NE(lastError().find("CUDA_ERROR_NOT_FOUND"), std::string::npos)
      << lastError();
  // A null kernel is an argument error, not a crash.
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, stream, params, nullptr, 3);
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_INVALID_ARGUMENT);
  EXPECT_EQ(mgpuMemAlloc(uint64_t(1) << 50, nullptr, false), nullptr);
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_OUT_OF_MEMORY);
  mgpuMemFree(device, nullptr);
  mgpuMemFree(out, nullptr);
  mgpuEventDestroy(event);
  mgpuStreamDestroy(stream);
  mgpuModuleUnload(module);
  EXPECT_EQ(moe_rt_gpu_take_error(), MOE_RT_OK) << lastError();
}

} // namespace
