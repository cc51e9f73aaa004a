//===- Comm.h - The communicator backends' interface ----------------------===//
//
// Private to runtime/lib. A backend implements three collectives; the
// argument checks and the agreement between ranks (Comm.cpp) are written
// once on top of them, so that every backend fails the same way on bad input.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_LIB_COMM_H
#define MOE_RUNTIME_LIB_COMM_H

#include "moe-runtime/MoERuntime.h"

#include <memory>

struct moe_rt_comm {
  moe_rt_comm(moe_rt_comm_kind kind, int rank, int size)
      : kind(kind), rank(rank), size(size) {}
  virtual ~moe_rt_comm() = default;

  /// Element-wise maximum over the ranks of `n` values, in place.
  virtual moe_rt_status allReduceMax(int64_t *values, int n) = 0;
  /// One int64 to and from every rank: recv[j] is what rank j put in its
  /// send[rank].
  virtual moe_rt_status allToAllInt64(const int64_t *send, int64_t *recv) = 0;
  /// Moves rows whose counts the ranks have already agreed on; every count
  /// and displacement fits an int (checked by the caller).
  virtual moe_rt_status allToAllRows(const void *send,
                                     const int64_t *sendCounts, void *recv,
                                     const int64_t *recvCounts,
                                     int64_t rowBytes) = 0;

  const moe_rt_comm_kind kind;
  const int rank;
  const int size;
};

namespace moe_rt {
/// The MPI backend (CommMPI.cpp), or MOE_RT_UNAVAILABLE when the runtime is
/// built without MPI.
moe_rt_status createMPIComm(std::unique_ptr<moe_rt_comm> &out);
bool haveMPI();
/// The NCCL backend (CommNCCL.cpp), or MOE_RT_UNAVAILABLE with the reason
/// (built without cuda.h and nccl.h, no libnccl.so.2, no driver or GPU).
moe_rt_status createNCCLComm(std::unique_ptr<moe_rt_comm> &out);
bool haveNCCL();
/// This process's rank on its node as an MPI launcher (or Slurm) sets it,
/// or -1 outside one (Comm.cpp).
int launcherLocalRank();
} // namespace moe_rt

#endif // MOE_RUNTIME_LIB_COMM_H
