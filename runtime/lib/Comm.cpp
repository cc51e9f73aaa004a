//===- Comm.cpp - Communicators: argument checks and rank agreement -------===//
//
// Each collective first checks its arguments on every rank, then the ranks
// agree (an all-reduce of error flags) before anything else happens: a rank
// with bad arguments, or ranks that disagree on sizes, make the call fail on
// every rank instead of leaving some waiting in a collective that never
// completes or writing past a buffer.
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "Status.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using moe_rt::fail;
using moe_rt::failArgument;

namespace {
/// The local backend: one rank, rows are copied.
struct LocalComm final : moe_rt_comm {
  LocalComm() : moe_rt_comm(MOE_RT_COMM_LOCAL, 0, 1) {}
  moe_rt_status allReduceMax(int64_t *, int) override { return MOE_RT_OK; }
  moe_rt_status allToAllInt64(const int64_t *send, int64_t *recv) override {
    recv[0] = send[0];
    return MOE_RT_OK;
  }
  moe_rt_status allToAllRows(const void *send, const int64_t *sendCounts,
                             void *recv, const int64_t *,
                             int64_t rowBytes) override {
    if (sendCounts[0] > 0)
      std::memmove(recv, send, size_t(sendCounts[0] * rowBytes));
    return MOE_RT_OK;
  }
};

std::string str(int64_t value) { return std::to_string(value); }
} // namespace

int moe_rt::launcherLocalRank() {
  for (const char *name :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char *value = std::getenv(name); value && *value)
      return std::atoi(value);
  return -1;
}

namespace {

/// Checks one rank's counts against its buffer; "" when they are fine.
std::string checkCounts(const char *what, const int64_t *counts, int size,
                        int64_t rows, const void *buffer) {
  if (!counts)
    return std::string(what) + "_counts is null";
  if (rows < 0)
    return std::string(what) + "_rows is negative (" + str(rows) + ")";
  int64_t total = 0;
  for (int j = 0; j < size; ++j) {
    if (counts[j] < 0)
      return std::string(what) + "_counts[" + str(j) + "] is negative (" +
             str(counts[j]) + ")";
    // MPI counts and displacements are ints; each count below INT_MAX keeps
    // the int64 total from overflowing too.
    if (counts[j] > INT_MAX)
      return std::string(what) + "_counts[" + str(j) + "] = " + str(counts[j]) +
             " is more than 2^31 - 1 rows";
    total += counts[j];
  }
  if (total > INT_MAX)
    return "the " + std::string(what) + " counts add up to " + str(total) +
           " rows, more than 2^31 - 1";
  if (total > rows)
    return "the " + std::string(what) + " counts add up to " + str(total) +
           " rows but the " + what + " buffer holds " + str(rows);
  if (total > 0 && !buffer)
    return std::string(what) + " is null but " + str(total) +
           " rows are to move";
  return "";
}

/// The ranks agree on whether every rank's own check passed. Returns OK when
/// all did; otherwise every rank fails with `status`, this rank with its own
/// message when it was one of the failing ranks.
moe_rt_status agree(moe_rt_comm *comm, const char *call,
                    const std::string &localError, moe_rt_status status,
                    const char *whatFailed) {
  int64_t failingRank = localError.empty() ? 0 : comm->rank + 1;
  if (moe_rt_status s = comm->allReduceMax(&failingRank, 1))
    return s;
  if (failingRank == 0)
    return MOE_RT_OK;
  if (!localError.empty())
    return fail(status, std::string(call) + ": " + localError);
  return fail(status, std::string(call) + ": rank " + str(failingRank - 1) +
                          " " + whatFailed + " (its message says how)");
}
} // namespace

extern "C" int moe_rt_comm_available(moe_rt_comm_kind kind) {
  switch (kind) {
  case MOE_RT_COMM_LOCAL:
    return 1;
  case MOE_RT_COMM_MPI:
    return moe_rt::haveMPI();
  case MOE_RT_COMM_NCCL:
    return moe_rt::haveNCCL();
  case MOE_RT_COMM_KIND_FORCE_INT32:
    break;
  }
  return 0;
}

extern "C" moe_rt_status moe_rt_comm_create(moe_rt_comm_kind kind,
                                            moe_rt_comm **out) {
  if (!out)
    return failArgument("moe_rt_comm_create: out is null");
  *out = nullptr;
  std::unique_ptr<moe_rt_comm> comm;
  switch (kind) {
  case MOE_RT_COMM_LOCAL:
    comm = std::make_unique<LocalComm>();
    break;
  case MOE_RT_COMM_MPI:
    if (moe_rt_status s = moe_rt::createMPIComm(comm))
      return s;
    break;
  case MOE_RT_COMM_NCCL:
    if (moe_rt_status s = moe_rt::createNCCLComm(comm))
      return s;
    break;
  default:
    return failArgument("moe_rt_comm_create: unknown communicator kind " +
                        str(int64_t(kind)));
  }
  *out = comm.release();
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_comm_destroy(moe_rt_comm *comm) {
  delete comm;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_comm_rank(const moe_rt_comm *comm, int *rank) {
  if (!comm || !rank)
    return failArgument("moe_rt_comm_rank: null argument");
  *rank = comm->rank;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_comm_size(const moe_rt_comm *comm, int *size) {
  if (!comm || !size)
    return failArgument("moe_rt_comm_size: null argument");
  *size = comm->size;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_exchange_counts(moe_rt_comm *comm,
                                                const int64_t *send_counts,
                                                int64_t *recv_counts) {
  const char *call = "moe_rt_exchange_counts";
  if (!comm)
    return failArgument(std::string(call) + ": the communicator is null");
  std::string error;
  if (!send_counts || !recv_counts)
    error = "send_counts and recv_counts must not be null";
  for (int j = 0; error.empty() && j < comm->size; ++j)
    if (send_counts[j] < 0)
      error = "send_counts[" + str(j) + "] is negative (" +
              str(send_counts[j]) + ")";
  if (moe_rt_status s = agree(comm, call, error, MOE_RT_INVALID_ARGUMENT,
                              "passed invalid counts"))
    return s;
  return comm->allToAllInt64(send_counts, recv_counts);
}

extern "C" moe_rt_status
moe_rt_all_to_all_rows(moe_rt_comm *comm, const void *send, int64_t send_rows,
                       const int64_t *send_counts, void *recv,
                       int64_t recv_rows, const int64_t *recv_counts,
                       int64_t row_bytes) {
  const char *call = "moe_rt_all_to_all_rows";
  if (!comm)
    return failArgument(std::string(call) + ": the communicator is null");

  // 1. Each rank's own arguments.
  std::string error;
  if (row_bytes <= 0 || row_bytes > INT_MAX)
    error = "row_bytes must be in [1, 2^31 - 1], got " + str(row_bytes);
  if (error.empty())
    error = checkCounts("send", send_counts, comm->size, send_rows, send);
  if (error.empty())
    error = checkCounts("recv", recv_counts, comm->size, recv_rows, recv);
  if (moe_rt_status s = agree(comm, call, error, MOE_RT_INVALID_ARGUMENT,
                              "passed invalid arguments"))
    return s;

  // 2. The same row size everywhere: max(row_bytes) == -max(-row_bytes).
  int64_t bounds[2] = {row_bytes, -row_bytes};
  if (moe_rt_status s = comm->allReduceMax(bounds, 2))
    return s;
  if (bounds[0] != -bounds[1])
    return fail(MOE_RT_MISMATCH, std::string(call) +
                                     ": the ranks disagree on the row size (" +
                                     str(-bounds[1]) + " to " + str(bounds[0]) +
                                     " bytes; rank " + str(comm->rank) +
                                     " has " + str(row_bytes) + ")");

  // 3. What each peer sends here is what this rank expects from it.
  std::vector<int64_t> incoming(static_cast<size_t>(comm->size));
  if (moe_rt_status s = comm->allToAllInt64(send_counts, incoming.data()))
    return s;
  error.clear();
  for (int j = 0; error.empty() && j < comm->size; ++j)
    if (incoming[j] != recv_counts[j])
      error = "rank " + str(j) + " sends " + str(incoming[j]) +
              " rows to rank " + str(comm->rank) + ", which expects " +
              str(recv_counts[j]);
  if (moe_rt_status s = agree(comm, call, error, MOE_RT_MISMATCH,
                              "expects other row counts than its peers send"))
    return s;

  // 4. Only now move the data.
  return comm->allToAllRows(send, send_counts, recv, recv_counts, row_bytes);
}
