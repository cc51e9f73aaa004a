//===- LayerComm.cpp - The communicator compiled layers exchange rows on --===//
//
// convert-moe-to-runtime lowers moe.all_to_all to moe_rt_layer_* calls,
// which return nothing: a failure becomes a sticky error that the caller
// takes after the layer returns (as MGPU.cpp does for GPU calls), and every
// later exchange receives zero rows, so that the layer's remaining code
// works on empty buffers instead of reading what was never received.
//
// GPU layers (their rows are GPU memory) exchange on a communicator of their
// own, NCCL by default, through the moe_rt_layer_gpu_* calls; one that the
// caller gives serves both.
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "Status.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

namespace {
/// Where a layer's exchanged rows live, which decides the communicator.
enum class Rows { host, gpu };

struct LayerCommState {
  std::mutex mutex;
  /// The default communicators, created on first use: the host one, and
  /// the GPU one when it is not the host one (MOE_RT_LAYER_GPU_COMM=host).
  std::unique_ptr<moe_rt_comm> owned;
  std::unique_ptr<moe_rt_comm> ownedGPU;
  /// The caller's, from moe_rt_layer_set_comm; wins over `owned`.
  moe_rt_comm *given = nullptr;
  /// The sticky error.
  moe_rt_status status = MOE_RT_OK;
  std::string message;
  moe_rt_layer_stats stats{};
};

/// Adds the time from construction to destruction to the statistics.
class TimedExchange {
public:
  explicit TimedExchange(moe_rt_layer_stats &stats)
      : stats(stats), start(std::chrono::steady_clock::now()) {}
  ~TimedExchange() {
    stats.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }

private:
  moe_rt_layer_stats &stats;
  std::chrono::steady_clock::time_point start;
};

LayerCommState &state() {
  static LayerCommState instance;
  return instance;
}

/// The variable an MPI launcher sets, or null when none is set.
const char *mpiLauncherVariable() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name))
      return name;
  return nullptr;
}

/// The host layer communicator; creates the default one. Call with the
/// lock held.
moe_rt_status currentHostComm(LayerCommState &s, moe_rt_comm *&comm) {
  if (s.given) {
    comm = s.given;
    return MOE_RT_OK;
  }
  if (!s.owned) {
    moe_rt_comm *created = nullptr;
    const char *launcher = mpiLauncherVariable();
    if (launcher && !moe_rt_comm_available(MOE_RT_COMM_MPI))
      return moe_rt::fail(
          MOE_RT_UNAVAILABLE,
          std::string("moe_rt_layer_comm: this process runs under an MPI "
                      "launcher (") +
              launcher + " is set) but the runtime was built without MPI");
    if (moe_rt_status status = moe_rt_comm_create(
            launcher ? MOE_RT_COMM_MPI : MOE_RT_COMM_LOCAL, &created))
      return status;
    s.owned.reset(created);
  }
  comm = s.owned.get();
  return MOE_RT_OK;
}

/// The GPU layer communicator; creates the default one. Call with the lock
/// held.
moe_rt_status currentGPUComm(LayerCommState &s, moe_rt_comm *&comm) {
  if (s.given) {
    comm = s.given;
    return MOE_RT_OK;
  }
  const char *choice = std::getenv("MOE_RT_LAYER_GPU_COMM");
  std::string kind = choice ? choice : "";
  if (kind == "host")
    return currentHostComm(s, comm);
  if (!kind.empty() && kind != "nccl")
    return moe_rt::failArgument(
        "moe_rt_layer_gpu_comm: MOE_RT_LAYER_GPU_COMM=" + kind +
        " is neither nccl (the default) nor host");
  if (!s.ownedGPU) {
    moe_rt_comm *created = nullptr;
    if (moe_rt_status status = moe_rt_comm_create(MOE_RT_COMM_NCCL, &created))
      return moe_rt::fail(
          status, std::string("moe_rt_layer_gpu_comm: ") + moe_rt_last_error() +
                      " (MOE_RT_LAYER_GPU_COMM=host exchanges "
                      "host-shared rows on the host communicator)");
    s.ownedGPU.reset(created);
  }
  comm = s.ownedGPU.get();
  return MOE_RT_OK;
}

moe_rt_status currentComm(LayerCommState &s, Rows rows, moe_rt_comm *&comm) {
  return rows == Rows::gpu ? currentGPUComm(s, comm) : currentHostComm(s, comm);
}

/// Keeps the first failure (later ones follow from it) and prints it once.
void record(LayerCommState &s, moe_rt_status status) {
  if (s.status != MOE_RT_OK)
    return;
  s.status = status;
  s.message = moe_rt_last_error();
  std::fprintf(stderr,
               "moe_rt: %s (exchanges do nothing until "
               "moe_rt_layer_take_error)\n",
               s.message.c_str());
}

/// The communicator of an exchange compiled for `ranks` ranks, or null after
/// recording why there is none.
moe_rt_comm *exchangeComm(LayerCommState &s, Rows rows, const char *call,
                          int64_t ranks) {
  if (s.status != MOE_RT_OK)
    return nullptr;
  moe_rt_comm *comm = nullptr;
  if (moe_rt_status status = currentComm(s, rows, comm)) {
    record(s, status);
    return nullptr;
  }
  if (ranks != comm->size) {
    record(s, moe_rt::fail(MOE_RT_MISMATCH,
                           std::string(call) + ": the layer was compiled for " +
                               std::to_string(ranks) +
                               " ranks but runs on a communicator of " +
                               std::to_string(comm->size)));
    return nullptr;
  }
  return comm;
}

void zeroCounts(int64_t ranks, int64_t *counts) {
  for (int64_t j = 0; counts && j < ranks; ++j)
    counts[j] = 0;
}
} // namespace

extern "C" moe_rt_status moe_rt_layer_comm(moe_rt_comm **out) {
  if (!out)
    return moe_rt::failArgument("moe_rt_layer_comm: out is null");
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  *out = nullptr;
  return currentHostComm(s, *out);
}

extern "C" moe_rt_status moe_rt_layer_gpu_comm(moe_rt_comm **out) {
  if (!out)
    return moe_rt::failArgument("moe_rt_layer_gpu_comm: out is null");
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  *out = nullptr;
  return currentGPUComm(s, *out);
}

extern "C" moe_rt_status moe_rt_layer_set_comm(moe_rt_comm *comm) {
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.given = comm;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_layer_comm_release(void) {
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  // NCCL's communicator first: it keeps an MPI one of its own, and the last
  // MPI communicator to go finalises MPI.
  s.ownedGPU.reset();
  s.owned.reset();
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_layer_take_error(void) {
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  moe_rt_status status = s.status;
  if (status == MOE_RT_OK)
    return MOE_RT_OK;
  std::string message = std::move(s.message);
  s.status = MOE_RT_OK;
  s.message.clear();
  return moe_rt::fail(status, std::move(message));
}

namespace {
void exchangeCounts(Rows rows, const char *call, int64_t ranks,
                    const int64_t *send_counts, int64_t *recv_counts) {
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  TimedExchange timed(s.stats);
  moe_rt_comm *comm = exchangeComm(s, rows, call, ranks);
  if (comm) {
    if (moe_rt_status status =
            moe_rt_exchange_counts(comm, send_counts, recv_counts))
      record(s, status);
  }
  if (s.status != MOE_RT_OK)
    zeroCounts(ranks, recv_counts);
}

void allToAll(Rows rows, const char *call, int64_t ranks, const void *send,
              int64_t send_rows, const int64_t *send_counts, void *recv,
              int64_t recv_rows, const int64_t *recv_counts,
              int64_t row_bytes) {
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  TimedExchange timed(s.stats);
  ++s.stats.exchanges;
  moe_rt_comm *comm = exchangeComm(s, rows, call, ranks);
  if (comm) {
    if (moe_rt_status status =
            moe_rt_all_to_all_rows(comm, send, send_rows, send_counts, recv,
                                   recv_rows, recv_counts, row_bytes))
      record(s, status);
    else
      for (int j = 0; j < comm->size; ++j)
        if (j != comm->rank) {
          s.stats.bytes_sent += send_counts[j] * row_bytes;
          s.stats.bytes_received += recv_counts[j] * row_bytes;
        }
  }
  // What was not received reads as zeros, not as uninitialised memory; GPU
  // rows may be device memory, which the host cannot write.
  if (s.status != MOE_RT_OK && rows == Rows::host && recv && recv_rows > 0 &&
      row_bytes > 0)
    std::memset(recv, 0, size_t(recv_rows) * size_t(row_bytes));
}
} // namespace

extern "C" void moe_rt_layer_exchange_counts(int64_t ranks,
                                             const int64_t *send_counts,
                                             int64_t *recv_counts) {
  exchangeCounts(Rows::host, "moe_rt_layer_exchange_counts", ranks, send_counts,
                 recv_counts);
}

extern "C" void moe_rt_layer_all_to_all(int64_t ranks, const void *send,
                                        int64_t send_rows,
                                        const int64_t *send_counts, void *recv,
                                        int64_t recv_rows,
                                        const int64_t *recv_counts,
                                        int64_t row_bytes) {
  allToAll(Rows::host, "moe_rt_layer_all_to_all", ranks, send, send_rows,
           send_counts, recv, recv_rows, recv_counts, row_bytes);
}

extern "C" void moe_rt_layer_gpu_exchange_counts(int64_t ranks,
                                                 const int64_t *send_counts,
                                                 int64_t *recv_counts) {
  exchangeCounts(Rows::gpu, "moe_rt_layer_gpu_exchange_counts", ranks,
                 send_counts, recv_counts);
}

extern "C" void moe_rt_layer_gpu_all_to_all(int64_t ranks, const void *send,
                                            int64_t send_rows,
                                            const int64_t *send_counts,
                                            void *recv, int64_t recv_rows,
                                            const int64_t *recv_counts,
                                            int64_t row_bytes) {
  allToAll(Rows::gpu, "moe_rt_layer_gpu_all_to_all", ranks, send, send_rows,
           send_counts, recv, recv_rows, recv_counts, row_bytes);
}

extern "C" void moe_rt_layer_stats_get(moe_rt_layer_stats *stats) {
  if (!stats)
    return;
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  *stats = s.stats;
}

extern "C" void moe_rt_layer_stats_reset(void) {
  LayerCommState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.stats = moe_rt_layer_stats{};
}
