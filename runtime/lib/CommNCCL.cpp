//===- CommNCCL.cpp - The NCCL communicator backend -----------------------===//
//
// Rows move between GPUs with NCCL's point-to-point calls, grouped into one
// all-to-all. Like the CUDA driver, NCCL is opened with dlopen on first use
// (libnccl.so.2, or $MOE_RT_NCCL_LIBRARY): a process without it still loads
// the runtime and gets MOE_RT_UNAVAILABLE with the reason. nccl.h and
// cuda.h (found at build time) supply the types only.
//
// The ranks: under mpirun (OMPI_COMM_WORLD_SIZE > 1) and with MPI in this
// runtime, rank 0's NCCL id reaches the others over an MPI communicator that
// the NCCL one keeps; otherwise the communicator has one rank, on GPU 0.
// NCCL cannot put two ranks of one communicator on the same GPU, so a
// machine with one GPU runs one rank.
//
// The argument checks and the agreement between ranks are Comm.cpp's; this
// file only moves data. Rows are device memory; the counts and the values
// of the two small collectives are host memory, staged through a device
// buffer.
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "Status.h"

#include <string>

#if defined(MOE_RT_HAVE_CUDA_HEADERS) && defined(MOE_RT_HAVE_NCCL_HEADERS)
#include "CUDADriver.h"
#include "SharedLibrary.h"

#include <nccl.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace {
/// The NCCL entry points we use.
struct NCCL {
  decltype(&::ncclGetUniqueId) getUniqueId;
  decltype(&::ncclCommInitRank) commInitRank;
  decltype(&::ncclCommDestroy) commDestroy;
  decltype(&::ncclCommGetAsyncError) commGetAsyncError;
  decltype(&::ncclGetErrorString) getErrorString;
  decltype(&::ncclAllReduce) allReduce;
  decltype(&::ncclSend) send;
  decltype(&::ncclRecv) recv;
  decltype(&::ncclGroupStart) groupStart;
  decltype(&::ncclGroupEnd) groupEnd;
};

/// Loads NCCL once per process; the outcome is kept.
const NCCL *loadNCCL(std::string &reason) {
  static NCCL nccl;
  static std::string failure;
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    moe_rt::SharedLibrary library("MOE_RT_NCCL_LIBRARY", "libnccl.so.2",
                                  "no NCCL", "NCCL ");
    auto load = [&](auto &slot, const char *symbol) {
      library.load(slot, symbol);
    };
    load(nccl.getUniqueId, "ncclGetUniqueId");
    load(nccl.commInitRank, "ncclCommInitRank");
    load(nccl.commDestroy, "ncclCommDestroy");
    load(nccl.commGetAsyncError, "ncclCommGetAsyncError");
    load(nccl.getErrorString, "ncclGetErrorString");
    load(nccl.allReduce, "ncclAllReduce");
    load(nccl.send, "ncclSend");
    load(nccl.recv, "ncclRecv");
    load(nccl.groupStart, "ncclGroupStart");
    load(nccl.groupEnd, "ncclGroupEnd");
    failure = library.failure;
    loaded = failure.empty();
  });
  if (!loaded) {
    reason = failure;
    return nullptr;
  }
  return &nccl;
}

int envInt(const char *name, int fallback) {
  const char *value = std::getenv(name);
  return value && *value ? std::atoi(value) : fallback;
}

struct NCCLComm final : moe_rt_comm {
  NCCLComm(int rank, int size, const moe_rt::Driver &driver, const NCCL &nccl)
      : moe_rt_comm(MOE_RT_COMM_NCCL, rank, size), driver(driver), nccl(nccl) {}

  ~NCCLComm() override {
    if (comm)
      nccl.commDestroy(comm);
    if (scratch)
      driver.memFree(scratch);
    if (stream)
      driver.streamDestroy(stream);
    if (context)
      driver.primaryCtxRelease(device);
  }

  moe_rt_status ncclFailure(const std::string &what, ncclResult_t result) {
    return moe_rt::fail(MOE_RT_BACKEND_ERROR,
                        what + " failed: " + nccl.getErrorString(result));
  }

  /// Waits for the stream, then asks NCCL whether a peer failed.
  moe_rt_status finish(const char *what) {
    if (CUresult r = driver.streamSynchronize(stream))
      return moe_rt::cudaFailure(
          driver, std::string(what) + ": cuStreamSynchronize", r);
    ncclResult_t async = ncclSuccess;
    if (ncclResult_t r = nccl.commGetAsyncError(comm, &async))
      return ncclFailure("ncclCommGetAsyncError", r);
    if (async != ncclSuccess)
      return ncclFailure(what, async);
    return MOE_RT_OK;
  }

  /// The calling thread works in this communicator's context.
  moe_rt_status enter() {
    if (CUresult r = driver.ctxSetCurrent(context))
      return moe_rt::cudaFailure(driver, "NCCL communicator: cuCtxSetCurrent",
                                 r);
    return MOE_RT_OK;
  }

  moe_rt_status allReduceMax(int64_t *values, int n) override {
    if (moe_rt_status s = enter())
      return s;
    size_t bytes = size_t(n) * sizeof(int64_t);
    if (CUresult r = driver.memcpyHtoD(scratch, values, bytes))
      return moe_rt::cudaFailure(driver, "ncclAllReduce: cuMemcpyHtoD", r);
    if (ncclResult_t r =
            nccl.allReduce(reinterpret_cast<void *>(scratch),
                           reinterpret_cast<void *>(scratch), size_t(n),
                           ncclInt64, ncclMax, comm, stream))
      return ncclFailure("ncclAllReduce", r);
    if (moe_rt_status s = finish("ncclAllReduce"))
      return s;
    if (CUresult r = driver.memcpyDtoH(values, scratch, bytes))
      return moe_rt::cudaFailure(driver, "ncclAllReduce: cuMemcpyDtoH", r);
    return MOE_RT_OK;
  }

  moe_rt_status allToAllInt64(const int64_t *send, int64_t *recv) override {
    if (moe_rt_status s = enter())
      return s;
    // scratch holds `size` values to send, then `size` received.
    size_t bytes = size_t(size) * sizeof(int64_t);
    CUdeviceptr sendBuffer = scratch, recvBuffer = scratch + bytes;
    if (CUresult r = driver.memcpyHtoD(sendBuffer, send, bytes))
      return moe_rt::cudaFailure(driver, "count exchange: cuMemcpyHtoD", r);
    std::vector<std::pair<const void *, size_t>> sends, recvs;
    for (int j = 0; j < size; ++j) {
      sends.push_back(
          {reinterpret_cast<const void *>(sendBuffer + j * sizeof(int64_t)),
           sizeof(int64_t)});
      recvs.push_back(
          {reinterpret_cast<const void *>(recvBuffer + j * sizeof(int64_t)),
           sizeof(int64_t)});
    }
    if (moe_rt_status s = exchange(sends, recvs, "count exchange"))
      return s;
    if (CUresult r = driver.memcpyDtoH(recv, recvBuffer, bytes))
      return moe_rt::cudaFailure(driver, "count exchange: cuMemcpyDtoH", r);
    return MOE_RT_OK;
  }

  moe_rt_status allToAllRows(const void *send, const int64_t *sendCounts,
                             void *recv, const int64_t *recvCounts,
                             int64_t rowBytes) override {
    if (moe_rt_status s = enter())
      return s;
    std::vector<std::pair<const void *, size_t>> sends, recvs;
    size_t sendOffset = 0, recvOffset = 0;
    for (int j = 0; j < size; ++j) {
      size_t out = size_t(sendCounts[j] * rowBytes);
      size_t in = size_t(recvCounts[j] * rowBytes);
      sends.push_back({static_cast<const char *>(send) + sendOffset, out});
      recvs.push_back({static_cast<const char *>(recv) + recvOffset, in});
      sendOffset += out;
      recvOffset += in;
    }
    return exchange(sends, recvs, "all-to-all of rows");
  }

  /// One grouped round of sends and receives of bytes, skipping empty ones.
  moe_rt_status
  exchange(const std::vector<std::pair<const void *, size_t>> &sends,
           const std::vector<std::pair<const void *, size_t>> &recvs,
           const char *what) {
    if (ncclResult_t r = nccl.groupStart())
      return ncclFailure("ncclGroupStart", r);
    ncclResult_t first = ncclSuccess;
    for (int j = 0; j < size; ++j) {
      if (sends[j].second && first == ncclSuccess)
        first = nccl.send(sends[j].first, sends[j].second, ncclUint8, j, comm,
                          stream);
      if (recvs[j].second && first == ncclSuccess)
        first = nccl.recv(const_cast<void *>(recvs[j].first), recvs[j].second,
                          ncclUint8, j, comm, stream);
    }
    // The group is closed whatever happened inside it.
    ncclResult_t end = nccl.groupEnd();
    if (first != ncclSuccess)
      return ncclFailure(std::string(what) + ": ncclSend/ncclRecv", first);
    if (end != ncclSuccess)
      return ncclFailure(std::string(what) + ": ncclGroupEnd", end);
    return finish(what);
  }

  const moe_rt::Driver &driver;
  const NCCL &nccl;
  ncclComm_t comm = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUdeviceptr scratch = 0;
  /// Under mpirun: the MPI communicator that carried the NCCL id; kept so
  /// that MPI stays initialised while this communicator lives.
  std::unique_ptr<moe_rt_comm> bootstrap;
};

/// The ranks' common outcome of a step each rank took alone: on a rank where
/// it failed, its own failure; on the others, one naming `step`. With no
/// bootstrap communicator (one rank), `local` as it is.
moe_rt_status agree(moe_rt_comm *bootstrap, moe_rt_status local,
                    const std::string &step) {
  if (!bootstrap)
    return local;
  std::string message = local ? moe_rt_last_error() : "";
  int64_t worst[2] = {local ? 1 : 0, int64_t(local)};
  if (moe_rt_status s = bootstrap->allReduceMax(worst, 2))
    return s;
  if (local)
    return moe_rt::fail(local, message);
  if (worst[0])
    return moe_rt::fail(moe_rt_status(worst[1]),
                        "moe_rt_comm_create(NCCL): another rank failed to " +
                            step);
  return MOE_RT_OK;
}
} // namespace

bool moe_rt::haveNCCL() { return true; }

moe_rt_status moe_rt::createNCCLComm(std::unique_ptr<moe_rt_comm> &out) {
  const std::string call = "moe_rt_comm_create(NCCL)";
  // Under mpirun the ranks are MPI's. Before each collective step they agree
  // on whether every rank got through the steps it took alone (finding
  // NCCL, a driver and a GPU; rank 0's id; its GPU's context and buffers):
  // a rank that cannot go on must not leave the others waiting.
  int rank = 0, size = 1;
  std::unique_ptr<moe_rt_comm> bootstrap;
  if (envInt("OMPI_COMM_WORLD_SIZE", 1) > 1) {
    if (!haveMPI())
      return fail(MOE_RT_UNAVAILABLE,
                  call + ": several ranks need MPI to share NCCL's id, and "
                         "this runtime has none");
    if (moe_rt_status s = createMPIComm(bootstrap))
      return s;
    rank = bootstrap->rank;
    size = bootstrap->size;
  }

  std::string reason;
  const NCCL *nccl = loadNCCL(reason);
  const Driver *driver = nccl ? loadDriver(reason) : nullptr;
  int devices = 0;
  moe_rt_status found = MOE_RT_OK;
  if (!nccl || !driver)
    found = fail(MOE_RT_UNAVAILABLE, call + ": " + reason);
  else if (CUresult r = driver->deviceGetCount(&devices))
    found = cudaFailure(*driver, call + ": cuDeviceGetCount", r);
  else if (devices < 1)
    found = fail(MOE_RT_UNAVAILABLE, call + ": no GPU");
  if (moe_rt_status s =
          agree(bootstrap.get(), found, "find NCCL, a CUDA driver and a GPU"))
    return s;

  // Rank 0's NCCL id on every rank.
  ncclUniqueId id;
  moe_rt_status madeId = MOE_RT_OK;
  if (rank == 0)
    if (ncclResult_t r = nccl->getUniqueId(&id))
      madeId =
          fail(MOE_RT_BACKEND_ERROR,
               call + ": ncclGetUniqueId failed: " + nccl->getErrorString(r));
  if (moe_rt_status s = agree(bootstrap.get(), madeId, "make NCCL's id"))
    return s;
  if (bootstrap) {
    // Rank 0 sends its id as one row to every rank, itself included.
    std::vector<ncclUniqueId> ids(size_t(size), id);
    std::vector<int64_t> sendCounts(size_t(size), rank == 0 ? 1 : 0),
        recvCounts(size_t(size), 0);
    recvCounts[0] = 1;
    if (moe_rt_status s =
            bootstrap->allToAllRows(ids.data(), sendCounts.data(), &id,
                                    recvCounts.data(), sizeof(ncclUniqueId)))
      return s;
  }

  // This rank's GPU (moe_rt_gpu_of_rank's, or the global rank's when the
  // launcher sets no local rank), its context, a stream and the buffer of
  // the count exchange.
  auto comm = std::make_unique<NCCLComm>(rank, size, *driver, *nccl);
  int localRank = launcherLocalRank();
  int ordinal = (localRank >= 0 ? localRank : rank) % devices;
  auto prepare = [&]() -> moe_rt_status {
    if (CUresult r = driver->deviceGet(&comm->device, ordinal))
      return cudaFailure(*driver, call + ": cuDeviceGet", r);
    if (CUresult r = driver->primaryCtxRetain(&comm->context, comm->device))
      return cudaFailure(*driver, call + ": cuDevicePrimaryCtxRetain", r);
    if (moe_rt_status s = comm->enter())
      return s;
    if (CUresult r =
            driver->streamCreate(&comm->stream, CU_STREAM_NON_BLOCKING))
      return cudaFailure(*driver, call + ": cuStreamCreate", r);
    // size values out and size values in.
    if (CUresult r = driver->memAlloc(&comm->scratch,
                                      2 * size_t(size) * sizeof(int64_t) + 64))
      return cudaFailure(*driver, call + ": cuMemAlloc", r);
    return MOE_RT_OK;
  };
  if (moe_rt_status s =
          agree(bootstrap.get(), prepare(), "prepare its GPU for NCCL"))
    return s;
  comm->bootstrap = std::move(bootstrap);
  if (ncclResult_t r = nccl->commInitRank(&comm->comm, size, id, rank))
    return fail(MOE_RT_BACKEND_ERROR,
                call + ": ncclCommInitRank failed: " + nccl->getErrorString(r));
  out = std::move(comm);
  return MOE_RT_OK;
}

#else // no cuda.h or nccl.h at build time

bool moe_rt::haveNCCL() { return false; }

moe_rt_status moe_rt::createNCCLComm(std::unique_ptr<moe_rt_comm> &) {
  return moe_rt::fail(MOE_RT_UNAVAILABLE,
                      "moe_rt_comm_create(NCCL): this runtime was built "
                      "without cuda.h and nccl.h");
}

#endif
