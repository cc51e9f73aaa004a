//===- moe-rt-check.cpp - Drives the runtime's communicators and GPU calls ===//
//
// A test driver for the runtime's C ABI in real processes (MPI ranks under
// mpirun, a process without a CUDA driver), where unit tests in one process
// cannot go:
//
//   moe-rt-check comm [--kind=local|mpi|nccl]
//     a checked all-to-all on fresh random rows, then faults injected on one
//     rank (negative or overrunning counts, a null buffer, a rank expecting
//     other counts, another row size): every rank must get the same status,
//     none may hang or abort; then the communicator must still work. NCCL's
//     rows are staged through GPU memory; without NCCL, a driver or a GPU it
//     prints the status and the reason.
//   moe-rt-check layer [--compiled-for=R] [--exit-early=RANK] [--gpu-rows]
//     the layer communicator of compiled code (moe_rt_layer_*): a count and
//     row exchange as a layer compiled for R ranks makes them (default: the
//     ranks there are). A layer compiled for another R fails on every rank
//     with the same sticky error; then the exchanges work again. With
//     --exit-early the given rank exits before the exchange without a word
//     (as a crashed process would): the launcher must end the others. With
//     --gpu-rows the same through the GPU layer communicator
//     (moe_rt_layer_gpu_*, NCCL by default), the rows in host-shared GPU
//     memory as moe-gpu-pipeline's layers have them; without NCCL, a driver
//     or a GPU it prints the status and the reason.
//   moe-rt-check gpu
//     opens GPU 0; without a driver or GPU prints the status and message.
//     With one: runs a kernel from PTX on random data against the host, an
//     allocation larger than the device, a PTX image with an error.
//
// Each rank prints "rank R: <check>: <outcome>" lines (sort them: ranks
// interleave); the exit status is 1 if any outcome differs from the expected
// one, so lit checks both the messages and the verdict.
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
#include <string>
#include <vector>

namespace {
std::string out;
bool failed = false;

void say(int rank, const std::string &line) {
  out += "rank " + std::to_string(rank) + ": " + line + "\n";
}

/// "<check>: <status>[: <message>]" for a call expected to give
/// `expected`, marked FAILED (and recorded) when it gave another status.
std::string outcome(const char *check, moe_rt_status got,
                    moe_rt_status expected) {
  std::string line = std::string(check) + ": " + moe_rt_status_name(got);
  if (got != MOE_RT_OK)
    line += std::string(": ") + moe_rt_last_error();
  if (got != expected) {
    line +=
        std::string(" [FAILED: expected ") + moe_rt_status_name(expected) + "]";
    failed = true;
  }
  return line;
}

void expect(int rank, const char *check, moe_rt_status got,
            moe_rt_status expected) {
  say(rank, outcome(check, got, expected));
}

/// The content of row `index` from rank `from` to rank `to`: both sides can
/// compute it, so the receiver checks every value it gets.
void fillRow(float *row, int64_t width, uint64_t seed, int from, int to,
             int64_t index) {
  uint64_t rowSeed =
      seed ^ (uint64_t(from) << 48) ^ (uint64_t(to) << 32) ^ uint64_t(index);
  moe_rt_fill_uniform_f32(row, width, rowSeed, -1.0f, 1.0f);
}

/// Where the rows of an exchange live: host memory, or, for an NCCL
/// communicator (rowsOnDevice), device memory staged from and back to it.
moe_rt_gpu *rowsOnDevice = nullptr;

struct Rows {
  std::vector<float> &hostSend, &hostRecv;
  uint64_t deviceSend = 0, deviceRecv = 0;
  Rows(std::vector<float> &send, std::vector<float> &recv)
      : hostSend(send), hostRecv(recv) {}
  ~Rows() {
    if (deviceSend)
      moe_rt_gpu_free(rowsOnDevice, deviceSend);
    if (deviceRecv)
      moe_rt_gpu_free(rowsOnDevice, deviceRecv);
  }
  int64_t bytes(const std::vector<float> &v) {
    return int64_t(v.size() * sizeof(float));
  }
  moe_rt_status stage() {
    if (!rowsOnDevice)
      return MOE_RT_OK;
    if (moe_rt_status s =
            moe_rt_gpu_alloc(rowsOnDevice, bytes(hostSend), &deviceSend))
      return s;
    if (moe_rt_status s =
            moe_rt_gpu_alloc(rowsOnDevice, bytes(hostRecv), &deviceRecv))
      return s;
    if (moe_rt_status s = moe_rt_gpu_copy_to_device(
            rowsOnDevice, deviceRecv, hostRecv.data(), bytes(hostRecv)))
      return s;
    return moe_rt_gpu_copy_to_device(rowsOnDevice, deviceSend, hostSend.data(),
                                     bytes(hostSend));
  }
  moe_rt_status unstage() {
    if (!rowsOnDevice)
      return MOE_RT_OK;
    return moe_rt_gpu_copy_to_host(rowsOnDevice, hostRecv.data(), deviceRecv,
                                   bytes(hostRecv));
  }
  const void *send() {
    return rowsOnDevice ? reinterpret_cast<const void *>(deviceSend)
                        : hostSend.data();
  }
  void *recv() {
    return rowsOnDevice ? reinterpret_cast<void *>(deviceRecv)
                        : hostRecv.data();
  }
};

/// One all-to-all of random counts (0 to 5 rows per pair, some pairs empty)
/// and `width` floats per row; every received value is checked.
void checkExchange(moe_rt_comm *comm, uint64_t seed, int64_t width,
                   const char *check) {
  int rank = 0, size = 1;
  moe_rt_comm_rank(comm, &rank);
  moe_rt_comm_size(comm, &size);
  const size_t ranks = static_cast<size_t>(size);
  std::vector<int64_t> sendCounts(ranks), recvCounts(ranks);
  std::vector<float> pick(ranks);
  moe_rt_fill_uniform_f32(pick.data(), size, seed + uint64_t(rank) + 1, 0.0f,
                          6.0f);
  int64_t sendRows = 0;
  for (int j = 0; j < size; ++j)
    sendRows += sendCounts[j] = int64_t(pick[j]);
  if (moe_rt_status s =
          moe_rt_exchange_counts(comm, sendCounts.data(), recvCounts.data()))
    return expect(rank, check, s, MOE_RT_OK);
  int64_t recvRows = 0;
  for (int64_t c : recvCounts)
    recvRows += c;

  std::vector<float> send(size_t(sendRows * width) + 1);
  std::vector<float> recv(size_t(recvRows * width) + 1, NAN);
  int64_t row = 0;
  for (int j = 0; j < size; ++j)
    for (int64_t i = 0; i < sendCounts[j]; ++i, ++row)
      fillRow(&send[size_t(row * width)], width, seed, rank, j, i);
  Rows rows(send, recv);
  moe_rt_status s = rows.stage();
  if (!s)
    s = moe_rt_all_to_all_rows(comm, rows.send(), sendRows, sendCounts.data(),
                               rows.recv(), recvRows, recvCounts.data(),
                               int64_t(width * sizeof(float)));
  if (!s)
    s = rows.unstage();
  if (s)
    return expect(rank, check, s, MOE_RT_OK);

  int64_t wrong = 0;
  std::vector<float> want(static_cast<size_t>(width));
  row = 0;
  for (int j = 0; j < size; ++j)
    for (int64_t i = 0; i < recvCounts[j]; ++i, ++row) {
      fillRow(want.data(), width, seed, j, rank, i);
      wrong += std::memcmp(want.data(), &recv[size_t(row * width)],
                           size_t(width) * sizeof(float)) != 0;
    }
  if (wrong) {
    failed = true;
    say(rank, std::string(check) + ": FAILED: " + std::to_string(wrong) +
                  " of " + std::to_string(recvRows) + " rows differ");
    return;
  }
  say(rank, std::string(check) + ": ok");
}

/// A fault on one rank: every rank sends 2 rows of 3 floats to every rank
/// unless `inject` changes this rank's arguments.
struct Args {
  std::vector<int64_t> sendCounts, recvCounts;
  std::vector<float> send, recv;
  int64_t sendRows, recvRows, rowBytes = 3 * sizeof(float);
  const void *sendPtr;
  void *recvPtr;
  Args(int size)
      : sendCounts(size_t(size), 2), recvCounts(size_t(size), 2),
        send(size_t(size) * 6, 1.0f), recv(size_t(size) * 6, 0.0f),
        sendRows(2 * size), recvRows(2 * size), sendPtr(send.data()),
        recvPtr(recv.data()) {}
  moe_rt_status run(moe_rt_comm *comm) {
    return moe_rt_all_to_all_rows(comm, sendPtr, sendRows, sendCounts.data(),
                                  recvPtr, recvRows, recvCounts.data(),
                                  rowBytes);
  }
};

int checkComm(moe_rt_comm_kind kind) {
  moe_rt_comm *comm = nullptr;
  if (moe_rt_status s = moe_rt_comm_create(kind, &comm)) {
    std::printf("create: %s: %s\n", moe_rt_status_name(s), moe_rt_last_error());
    // An NCCL that is not there is an outcome, not a failure: the message
    // says why (lit checks which).
    return kind == MOE_RT_COMM_NCCL && s == MOE_RT_UNAVAILABLE ? 0 : 1;
  }
  if (kind == MOE_RT_COMM_NCCL) {
    // The GPU the communicator put this rank on.
    int ordinal = 0;
    moe_rt_gpu_of_rank(&ordinal);
    if (moe_rt_status s = moe_rt_gpu_open(ordinal, &rowsOnDevice)) {
      std::printf("open: %s: %s\n", moe_rt_status_name(s), moe_rt_last_error());
      return 1;
    }
  }
  int rank = 0, size = 1;
  moe_rt_comm_rank(comm, &rank);
  moe_rt_comm_size(comm, &size);
  int last = size - 1;

  // Every rank must use the same seed: rank 0's, sent as a row count.
  int64_t seed = int64_t(moe_rt_fresh_seed() >> 2);
  const size_t ranks = static_cast<size_t>(size);
  std::vector<int64_t> seeds(ranks, seed), fromEach(ranks);
  moe_rt_exchange_counts(comm, seeds.data(), fromEach.data());
  seed = fromEach[0];
  if (rank == 0)
    say(rank, "seed " + std::to_string(seed) + " on " + std::to_string(size) +
                  " ranks");

  checkExchange(comm, uint64_t(seed), 3, "exchange of 3-float rows");
  checkExchange(comm, uint64_t(seed) + 7, 1, "exchange of 1-float rows");

  {
    Args args(size);
    if (rank == last)
      args.sendCounts[0] = -1;
    expect(rank, "negative send count", args.run(comm),
           MOE_RT_INVALID_ARGUMENT);
  }
  {
    Args args(size);
    if (rank == 0)
      args.sendRows = 2 * size - 1;
    expect(rank, "counts overrun the send buffer", args.run(comm),
           MOE_RT_INVALID_ARGUMENT);
  }
  {
    Args args(size);
    if (rank == 0)
      args.recvPtr = nullptr;
    expect(rank, "null receive buffer", args.run(comm),
           MOE_RT_INVALID_ARGUMENT);
  }
  {
    Args args(size);
    if (rank == last) {
      args.recvCounts[0] = 3;
      args.recvRows += 1;
    }
    expect(rank, "a rank expects other counts", args.run(comm),
           MOE_RT_MISMATCH);
  }
  if (size > 1) {
    Args args(size);
    if (rank == 0)
      args.rowBytes = 2 * sizeof(float);
    expect(rank, "ranks disagree on the row size", args.run(comm),
           MOE_RT_MISMATCH);
  }
  {
    std::vector<int64_t> counts(ranks, 1), recv(ranks);
    if (rank == last)
      counts[0] = -4;
    expect(rank, "negative count in the count exchange",
           moe_rt_exchange_counts(comm, counts.data(), recv.data()),
           MOE_RT_INVALID_ARGUMENT);
  }
  // The faults left the communicator usable.
  checkExchange(comm, uint64_t(seed) + 13, 5, "exchange after the faults");

  moe_rt_comm_destroy(comm);
  if (rowsOnDevice)
    moe_rt_gpu_close(rowsOnDevice);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return failed ? 1 : 0;
}

/// y = a * x + y, one thread per element. Hand-written PTX 7.0 for sm_80,
/// which the driver compiles for any newer GPU (ptxas-checked in
/// test/Runtime/gpu-kernel-ptx.test).
const char *axpyPTX = R"(
.version 7.0
.target sm_80
.address_size 64

.visible .entry moe_rt_check_axpy(
  .param .u64 y_param,
  .param .u64 x_param,
  .param .f32 a_param,
  .param .u32 n_param)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<5>;
  .reg .b64 %rd<8>;

  ld.param.u64 %rd1, [y_param];
  ld.param.u64 %rd2, [x_param];
  ld.param.f32 %f1, [a_param];
  ld.param.u32 %r1, [n_param];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd3, %rd1;
  cvta.to.global.u64 %rd4, %rd2;
  mul.wide.u32 %rd5, %r5, 4;
  add.s64 %rd6, %rd3, %rd5;
  add.s64 %rd7, %rd4, %rd5;
  ld.global.f32 %f2, [%rd7];
  ld.global.f32 %f3, [%rd6];
  fma.rn.f32 %f4, %f1, %f2, %f3;
  st.global.f32 [%rd6], %f4;
DONE:
  ret;
}
)";

int checkGPU(bool printPTX) {
  if (printPTX) {
    std::fputs(axpyPTX, stdout);
    return 0;
  }
  moe_rt_gpu *gpu = nullptr;
  if (moe_rt_status s = moe_rt_gpu_open(0, &gpu)) {
    // No GPU is an outcome, not a failure: lit checks which one it was.
    std::printf("open: %s: %s\n", moe_rt_status_name(s), moe_rt_last_error());
    return 0;
  }
  const char *name = "";
  int major = 0, minor = 0;
  moe_rt_gpu_describe(gpu, &name, &major, &minor);
  std::printf("open: %s (sm_%d%d)\n", name, major, minor);

  auto check = [](const char *what, moe_rt_status got, moe_rt_status expected) {
    std::printf("%s\n", outcome(what, got, expected).c_str());
    return got == expected;
  };

  // A kernel on fresh random data, n not a multiple of the block.
  uint64_t seed = moe_rt_fresh_seed();
  const uint32_t n = 100003;
  std::vector<float> x(n), y(n), result(n);
  moe_rt_fill_uniform_f32(x.data(), n, seed, -2.0f, 2.0f);
  moe_rt_fill_uniform_f32(y.data(), n, seed + 1, -2.0f, 2.0f);
  float a = 0.75f;
  moe_rt_gpu_module *module = nullptr;
  moe_rt_gpu_function *axpy = nullptr;
  uint64_t dx = 0, dy = 0;
  if (check("load PTX", moe_rt_gpu_module_load(gpu, axpyPTX, &module),
            MOE_RT_OK) &&
      check("kernel lookup",
            moe_rt_gpu_function_get(module, "moe_rt_check_axpy", &axpy),
            MOE_RT_OK) &&
      check("alloc", moe_rt_gpu_alloc(gpu, n * 4, &dx), MOE_RT_OK) &&
      check("alloc", moe_rt_gpu_alloc(gpu, n * 4, &dy), MOE_RT_OK) &&
      check("copy in", moe_rt_gpu_copy_to_device(gpu, dx, x.data(), n * 4),
            MOE_RT_OK) &&
      check("copy in", moe_rt_gpu_copy_to_device(gpu, dy, y.data(), n * 4),
            MOE_RT_OK)) {
    uint32_t count = n;
    void *args[] = {&dy, &dx, &a, &count};
    int64_t grid[3] = {(n + 255) / 256, 1, 1}, block[3] = {256, 1, 1};
    if (check("launch", moe_rt_gpu_launch(axpy, grid, block, 0, args),
              MOE_RT_OK) &&
        check("copy out",
              moe_rt_gpu_copy_to_host(gpu, result.data(), dy, n * 4),
              MOE_RT_OK)) {
      uint32_t wrong = 0;
      for (uint32_t i = 0; i < n; ++i)
        wrong += result[i] != std::fma(a, x[i], y[i]);
      std::printf("axpy on %u random floats (seed %llu): %u differ from the "
                  "host's fma%s\n",
                  n, (unsigned long long)seed, wrong, wrong ? " [FAILED]" : "");
      failed |= wrong != 0;
    }
  }
  moe_rt_gpu_free(gpu, dx);
  moe_rt_gpu_free(gpu, dy);
  moe_rt_gpu_module_unload(module);

  // Faults that must come back as statuses.
  uint64_t huge = 0;
  check("alloc of 2^50 bytes", moe_rt_gpu_alloc(gpu, int64_t(1) << 50, &huge),
        MOE_RT_OUT_OF_MEMORY);
  moe_rt_gpu_module *broken = nullptr;
  check("load PTX with an error",
        moe_rt_gpu_module_load(gpu,
                               ".version 7.0\n.target sm_80\n.address_size 64\n"
                               ".visible .entry k() { bogus.instruction; }\n",
                               &broken),
        MOE_RT_BACKEND_ERROR);
  moe_rt_gpu_function *missing = nullptr;
  if (moe_rt_gpu_module_load(gpu, axpyPTX, &module) == MOE_RT_OK) {
    check("lookup of a missing kernel",
          moe_rt_gpu_function_get(module, "no_such_kernel", &missing),
          MOE_RT_BACKEND_ERROR);
    moe_rt_gpu_module_unload(module);
  }
  moe_rt_gpu_close(gpu);
  return failed ? 1 : 0;
}
/// Host-shared GPU memory holding a copy of `values`, as the layers of
/// moe-gpu-pipeline keep their rows; freed on destruction.
template <typename T> struct SharedCopy {
  T *data = nullptr;
  size_t size;
  explicit SharedCopy(const std::vector<T> &values) : size(values.size()) {
    data = static_cast<T *>(
        mgpuMemAlloc(std::max<size_t>(size, 1) * sizeof(T), nullptr, true));
    if (data)
      std::copy(values.begin(), values.end(), data);
  }
  ~SharedCopy() {
    if (data)
      mgpuMemFree(data, nullptr);
  }
  void copyTo(std::vector<T> &values) const {
    if (data)
      std::copy(data, data + size, values.begin());
  }
};

/// moe-rt-check layer: see the file comment.
int checkLayerComm(int64_t compiledFor, int exitEarly, bool gpuRows) {
  moe_rt_comm *comm = nullptr;
  if (gpuRows) {
    // This rank's GPU is the default device of the mgpu* calls.
    int ordinal = 0;
    if (moe_rt_gpu_of_rank(&ordinal) == MOE_RT_OK)
      mgpuSetDefaultDevice(ordinal);
    if (moe_rt_status s = moe_rt_layer_gpu_comm(&comm)) {
      std::printf("layer gpu comm: %s: %s\n", moe_rt_status_name(s),
                  moe_rt_last_error());
      // Like an NCCL that is not there (comm --kind=nccl): an outcome.
      return s == MOE_RT_UNAVAILABLE ? 0 : 1;
    }
    // The rows' host-shared memory needs the GPU (the host communicator
    // of MOE_RT_LAYER_GPU_COMM=host does not).
    moe_rt_gpu *gpu = nullptr;
    if (moe_rt_status s = moe_rt_gpu_open(ordinal, &gpu)) {
      std::printf("open: %s: %s\n", moe_rt_status_name(s), moe_rt_last_error());
      moe_rt_layer_comm_release();
      return s == MOE_RT_UNAVAILABLE ? 0 : 1;
    }
    moe_rt_gpu_close(gpu);
  } else if (moe_rt_status s = moe_rt_layer_comm(&comm)) {
    std::printf("layer comm: %s: %s\n", moe_rt_status_name(s),
                moe_rt_last_error());
    return 1;
  }
  int rank = 0, size = 1;
  moe_rt_comm_rank(comm, &rank);
  moe_rt_comm_size(comm, &size);
  if (rank == exitEarly) {
    std::printf("rank %d: exits before the exchange\n", rank);
    std::fflush(stdout);
    std::_Exit(3);
  }
  int64_t ranks = compiledFor > 0 ? compiledFor : size;
  auto exchange = [&](int64_t layerRanks) {
    // Rank r sends r + 1 rows of one float to every rank.
    std::vector<int64_t> send(size_t(layerRanks), rank + 1),
        recv(size_t(layerRanks), -1);
    std::vector<float> rowsOut(size_t((rank + 1) * layerRanks), float(rank));
    if (!gpuRows) {
      moe_rt_layer_exchange_counts(layerRanks, send.data(), recv.data());
      int64_t rows = 0;
      for (int64_t count : recv)
        rows += count;
      std::vector<float> rowsIn(size_t(rows), -1.0f);
      moe_rt_layer_all_to_all(layerRanks, rowsOut.data(),
                              int64_t(rowsOut.size()), send.data(),
                              rowsIn.data(), rows, recv.data(), sizeof(float));
      return rows;
    }
    SharedCopy<int64_t> sendCounts(send), recvCounts(recv);
    moe_rt_layer_gpu_exchange_counts(layerRanks, sendCounts.data,
                                     recvCounts.data);
    recvCounts.copyTo(recv);
    int64_t rows = 0;
    for (int64_t count : recv)
      rows += count;
    SharedCopy<float> rowsIn(std::vector<float>(size_t(rows), -1.0f)),
        rowsSent(rowsOut);
    moe_rt_layer_gpu_all_to_all(
        layerRanks, rowsSent.data, int64_t(rowsOut.size()), sendCounts.data,
        rowsIn.data, rows, recvCounts.data, sizeof(float));
    return rows;
  };
  int64_t rows = exchange(ranks);
  moe_rt_status status = moe_rt_layer_take_error();
  expect(rank,
         ("a layer compiled for " + std::to_string(ranks) + " ranks").c_str(),
         status, ranks == size ? MOE_RT_OK : MOE_RT_MISMATCH);
  say(rank, "rows received: " + std::to_string(rows));
  // Afterwards a layer for the right rank count exchanges again.
  rows = exchange(size);
  expect(rank, "the next layer", moe_rt_layer_take_error(), MOE_RT_OK);
  if (rows != int64_t(size) * (size + 1) / 2) {
    say(rank,
        "the next layer received " + std::to_string(rows) + " rows [FAILED]");
    failed = true;
  }
  if (gpuRows)
    expect(rank, "host-shared memory", moe_rt_gpu_take_error(), MOE_RT_OK);
  std::fputs(out.c_str(), stdout);
  moe_rt_layer_comm_release();
  return failed ? 1 : 0;
}
} // namespace

int main(int argc, char **argv) {
  std::string what = argc > 1 ? argv[1] : "";
  std::string option = argc > 2 ? argv[2] : "";
  if (what == "comm" && (option.empty() || option == "--kind=local"))
    return checkComm(MOE_RT_COMM_LOCAL);
  if (what == "comm" && option == "--kind=mpi")
    return checkComm(MOE_RT_COMM_MPI);
  if (what == "comm" && option == "--kind=nccl")
    return checkComm(MOE_RT_COMM_NCCL);
  if (what == "layer") {
    int64_t compiledFor = 0;
    int exitEarly = -1;
    bool gpuRows = false;
    for (int i = 2; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--compiled-for=", 0) == 0)
        compiledFor = std::atoll(arg.c_str() + 15);
      else if (arg.rfind("--exit-early=", 0) == 0)
        exitEarly = std::atoi(arg.c_str() + 13);
      else if (arg == "--gpu-rows")
        gpuRows = true;
      else
        return std::fprintf(stderr, "moe-rt-check: unknown option %s\n",
                            arg.c_str()),
               2;
    }
    return checkLayerComm(compiledFor, exitEarly, gpuRows);
  }
  if (what == "gpu" && (option.empty() || option == "--print-ptx"))
    return checkGPU(!option.empty());
  bool help = what == "--help" || what == "-h";
  std::fprintf(help ? stdout : stderr,
               "usage: moe-rt-check comm [--kind=local|mpi|nccl]\n"
               "       moe-rt-check layer [--compiled-for=R] "
               "[--exit-early=RANK] [--gpu-rows]\n"
               "       moe-rt-check gpu [--print-ptx]\n"
               "Drives the runtime's communicators and GPU calls in real "
               "processes, faults included.\n"
               "Example: mpirun -np 2 moe-rt-check comm --kind=mpi\n");
  return help ? 0 : 2;
}
