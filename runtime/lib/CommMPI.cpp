//===- CommMPI.cpp - The MPI communicator backend -------------------------===//
//
// Built when OpenMPI's headers are found (MOE_RT_HAVE_MPI). The communicator
// is a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN, so a failing MPI
// call becomes MOE_RT_BACKEND_ERROR with MPI's message instead of aborting
// every process (MPI's default error handler).
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "Status.h"

#include <string>

#ifdef MOE_RT_HAVE_MPI
// The C API only: OpenMPI's deprecated C++ bindings need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <atomic>
#include <vector>

namespace {
/// Live MPI communicators, and whether this runtime called MPI_Init (then
/// the last communicator's destruction calls MPI_Finalize).
std::atomic<int> liveComms{0};
bool initialisedByUs = false;

moe_rt_status mpiFailure(const char *what, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    length = 0;
  return moe_rt::fail(MOE_RT_BACKEND_ERROR,
                      std::string(what) + " failed: " +
                          (length ? std::string(text, size_t(length))
                                  : "MPI error " + std::to_string(code)));
}

struct MPIComm final : moe_rt_comm {
  MPIComm(MPI_Comm comm, int rank, int size)
      : moe_rt_comm(MOE_RT_COMM_MPI, rank, size), comm(comm) {}
  ~MPIComm() override {
    MPI_Comm_free(&comm);
    if (--liveComms == 0 && initialisedByUs) {
      MPI_Finalize();
      initialisedByUs = false;
    }
  }

  moe_rt_status allReduceMax(int64_t *values, int n) override {
    if (int code =
            MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, MPI_MAX, comm))
      return mpiFailure("MPI_Allreduce", code);
    return MOE_RT_OK;
  }

  moe_rt_status allToAllInt64(const int64_t *send, int64_t *recv) override {
    if (int code =
            MPI_Alltoall(send, 1, MPI_INT64_T, recv, 1, MPI_INT64_T, comm))
      return mpiFailure("MPI_Alltoall", code);
    return MOE_RT_OK;
  }

  moe_rt_status allToAllRows(const void *send, const int64_t *sendCounts,
                             void *recv, const int64_t *recvCounts,
                             int64_t rowBytes) override {
    // Counts in rows of a contiguous row type: 2^31 - 1 rows, not bytes.
    const size_t ranks = static_cast<size_t>(size);
    std::vector<int> sc(ranks), sd(ranks), rc(ranks), rd(ranks);
    int sendOffset = 0, recvOffset = 0;
    for (int j = 0; j < size; ++j) {
      sc[j] = int(sendCounts[j]);
      sd[j] = sendOffset;
      sendOffset += sc[j];
      rc[j] = int(recvCounts[j]);
      rd[j] = recvOffset;
      recvOffset += rc[j];
    }
    MPI_Datatype row;
    if (int code = MPI_Type_contiguous(int(rowBytes), MPI_BYTE, &row))
      return mpiFailure("MPI_Type_contiguous", code);
    if (int code = MPI_Type_commit(&row)) {
      MPI_Type_free(&row);
      return mpiFailure("MPI_Type_commit", code);
    }
    int code = MPI_Alltoallv(send, sc.data(), sd.data(), row, recv, rc.data(),
                             rd.data(), row, comm);
    MPI_Type_free(&row);
    if (code)
      return mpiFailure("MPI_Alltoallv", code);
    return MOE_RT_OK;
  }

  MPI_Comm comm;
};
} // namespace

bool moe_rt::haveMPI() { return true; }

moe_rt_status moe_rt::createMPIComm(std::unique_ptr<moe_rt_comm> &out) {
  int finalized = 0, initialized = 0;
  MPI_Finalized(&finalized);
  if (finalized)
    return fail(MOE_RT_UNAVAILABLE,
                "moe_rt_comm_create: MPI is already finalised in this process");
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (int code =
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided))
      return mpiFailure("MPI_Init_thread", code);
    initialisedByUs = true;
  }
  // Errors on the world communicator (the duplication below) return too.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm comm;
  if (int code = MPI_Comm_dup(MPI_COMM_WORLD, &comm))
    return mpiFailure("MPI_Comm_dup", code);
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  int rank = 0, size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ++liveComms;
  out = std::make_unique<MPIComm>(comm, rank, size);
  return MOE_RT_OK;
}

#else // !MOE_RT_HAVE_MPI

bool moe_rt::haveMPI() { return false; }

moe_rt_status moe_rt::createMPIComm(std::unique_ptr<moe_rt_comm> &) {
  return fail(MOE_RT_UNAVAILABLE,
              "moe_rt_comm_create: this runtime was built without MPI "
              "(install OpenMPI's headers, libopenmpi-dev, and rebuild)");
}

#endif // MOE_RT_HAVE_MPI
