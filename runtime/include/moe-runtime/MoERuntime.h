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
  /* A caller's argument is wrong (null buffer, negative count, counts that
   * overrun the buffer, ...); nothing was done. */
  MOE_RT_INVALID_ARGUMENT = 1,
  /* An allocation failed (host or device memory). */
  MOE_RT_OUT_OF_MEMORY = 2,
  /* A backend is not there: the runtime was built without MPI, no CUDA
   * driver can be loaded, or the driver finds no GPU. */
  MOE_RT_UNAVAILABLE = 3,
  /* The ranks of a communicator disagree (row size, or the rows one rank
   * sends another against the rows that one expects); no data moved. */
  MOE_RT_MISMATCH = 4,
  /* A call into MPI or the CUDA driver failed; the message has its error. */
  MOE_RT_BACKEND_ERROR = 5,
  /* Widens the enum: any value in [0, 2^31) is a valid moe_rt_status (no
   * undefined behaviour when a caller passes one from elsewhere). */
  MOE_RT_STATUS_FORCE_INT32 = 0x7fffffff
} moe_rt_status;

/* The name of a status ("MOE_RT_OK", ...). */
const char *moe_rt_status_name(moe_rt_status status);

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

/*===-------------------------------------------------------------------===*
 * Host memory
 *===-------------------------------------------------------------------===*/

/* Allocates bytes (64-byte aligned; 0 bytes gives NULL and MOE_RT_OK).
 * MOE_RT_OUT_OF_MEMORY, with the size in the message, when the system has
 * no memory for it. Free with moe_rt_free. */
moe_rt_status moe_rt_alloc(int64_t bytes, void **out);
void moe_rt_free(void *data);

/*===-------------------------------------------------------------------===*
 * Communicators: the ranks of an expert-parallel layer
 *===-------------------------------------------------------------------===*
 *
 * Every call on a communicator is collective: all of its ranks make it, in
 * the same order. A call that fails fails on every rank with the same status
 * (the ranks agree on the outcome before any data moves), so a rank with bad
 * arguments never leaves the others waiting. Only a null communicator is
 * rejected locally, since there is no one to agree with. */

typedef struct moe_rt_comm moe_rt_comm;

typedef enum moe_rt_comm_kind {
  MOE_RT_COMM_LOCAL = 0, /* one rank, no library */
  MOE_RT_COMM_MPI = 1,   /* MPI_COMM_WORLD (duplicated) */
  /* GPUs: NCCL (libnccl.so.2 or $MOE_RT_NCCL_LIBRARY, opened at run time).
   * Under mpirun the ranks are MPI's (rank 0's NCCL id travels over MPI; rank
   * r uses GPU OMPI_COMM_WORLD_LOCAL_RANK modulo the GPUs), otherwise one
   * rank on GPU 0. The rows of moe_rt_all_to_all_rows are device memory
   * (CUdeviceptr values cast to pointers); counts stay host memory. */
  MOE_RT_COMM_NCCL = 2,
  MOE_RT_COMM_KIND_FORCE_INT32 = 0x7fffffff
} moe_rt_comm_kind;

/* Is this backend built into the runtime? (MPI needs OpenMPI's headers at
 * build time, NCCL cuda.h and nccl.h; whether NCCL, a driver and a GPU are
 * there shows when moe_rt_comm_create is called.) */
int moe_rt_comm_available(moe_rt_comm_kind kind);

/* Creates a communicator. MPI: initialises MPI when nobody has, with errors
 * returned rather than fatal; MOE_RT_UNAVAILABLE when the runtime was built
 * without MPI or MPI was already finalised. */
moe_rt_status moe_rt_comm_create(moe_rt_comm_kind kind, moe_rt_comm **out);

/* Frees the communicator; the last MPI communicator finalises MPI when the
 * runtime initialised it. Null is accepted. */
moe_rt_status moe_rt_comm_destroy(moe_rt_comm *comm);

moe_rt_status moe_rt_comm_rank(const moe_rt_comm *comm, int *rank);
moe_rt_status moe_rt_comm_size(const moe_rt_comm *comm, int *size);

/* Count exchange: send_counts[j] is the number of rows this rank sends to
 * rank j; on return recv_counts[j] is the number rank j sends here. Both
 * arrays have size() entries. Negative counts fail on every rank. */
moe_rt_status moe_rt_exchange_counts(moe_rt_comm *comm,
                                     const int64_t *send_counts,
                                     int64_t *recv_counts);

/* All-to-all-v of rows of row_bytes bytes. send holds send_rows rows: the
 * rows for rank 0 first, then those for rank 1, ...; recv has room for
 * recv_rows rows and receives rank 0's rows first. Before any data moves
 * the ranks check, together, that
 *   - every rank's arguments are valid (non-negative counts, counts that fit
 *     the buffers, non-null buffers where rows are to move): otherwise
 *     MOE_RT_INVALID_ARGUMENT everywhere;
 *   - every rank uses the same row_bytes, and recv_counts[j] on rank i is
 *     what rank j's send_counts[i] says: otherwise MOE_RT_MISMATCH
 *     everywhere, the message naming the ranks and counts. */
moe_rt_status moe_rt_all_to_all_rows(moe_rt_comm *comm, const void *send,
                                     int64_t send_rows,
                                     const int64_t *send_counts, void *recv,
                                     int64_t recv_rows,
                                     const int64_t *recv_counts,
                                     int64_t row_bytes);

/*===-------------------------------------------------------------------===*
 * The communicator of compiled layers
 *===-------------------------------------------------------------------===*
 *
 * An expert-parallel layer (moe-expert-parallel, lowered by
 * convert-moe-to-runtime) exchanges rows on the process's layer
 * communicator. Its calls cannot return a status, so, as with the mgpu*
 * calls, the first failure is kept as a sticky error: every exchange after
 * it receives nothing (zero counts), the layer finishes without touching
 * memory it does not own, and the caller takes the error after the call.
 * The ranks agree on every failure (see above), so they all fail at the same
 * exchange and skip the same later ones: none is left waiting. */

/* The layer communicator, created on first use: MPI when the process runs
 * under an MPI launcher (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the
 * environment), one local rank otherwise. MOE_RT_UNAVAILABLE, with the
 * reason, under a launcher when the runtime has no MPI. The runtime keeps
 * ownership (see moe_rt_layer_comm_release). */
moe_rt_status moe_rt_layer_comm(moe_rt_comm **out);

/* The GPU layer communicator, which the exchanges of GPU layers use (their
 * rows are GPU memory), created on first use: NCCL (ranks as above, one GPU
 * each: moe_rt_gpu_of_rank), or, with MOE_RT_LAYER_GPU_COMM=host in the
 * environment, the layer communicator above (rows the host can read, as
 * the host-shared buffers of moe-gpu-pipeline's layers are).
 * MOE_RT_UNAVAILABLE with the reason when NCCL, a driver or a GPU is
 * missing; MOE_RT_INVALID_ARGUMENT for another value of the variable. */
moe_rt_status moe_rt_layer_gpu_comm(moe_rt_comm **out);

/* Makes `comm` (owned by the caller, who keeps it alive while layers run)
 * the communicator of every layer exchange, host and GPU rows alike (an
 * NCCL one only suits GPU layers); null goes back to the defaults above. */
moe_rt_status moe_rt_layer_set_comm(moe_rt_comm *comm);

/* Destroys the default layer communicators that were created (an MPI one
 * finalises MPI when the runtime initialised it): call it before the
 * process exits, since MPI launchers report a process that never finalised
 * as failed. */
moe_rt_status moe_rt_layer_comm_release(void);

/* The first failure of the exchanges below since the last take, as
 * moe_rt_gpu_take_error does for GPU calls: MOE_RT_OK when there was none;
 * otherwise its status, the message in moe_rt_last_error(). Taking it
 * clears it. */
moe_rt_status moe_rt_layer_take_error(void);

/* What the layer exchanges did since the last reset (all threads), for
 * measuring the exchanges against the compute: `exchanges` counts the
 * moe.all_to_all (row exchange calls), `seconds` the time in both calls of
 * each (counts and rows), `bytes_sent` and `bytes_received` the rows moved
 * between this rank and the others (its own rows are copied, not sent). */
typedef struct moe_rt_layer_stats {
  int64_t exchanges;
  int64_t bytes_sent;
  int64_t bytes_received;
  double seconds;
} moe_rt_layer_stats;
void moe_rt_layer_stats_get(moe_rt_layer_stats *stats);
void moe_rt_layer_stats_reset(void);

/* What compiled code calls for moe.all_to_all. `ranks` is the rank count
 * the layer was compiled for: a communicator of another size is a
 * MOE_RT_MISMATCH. After a failure (this one or an earlier one not yet
 * taken) recv_counts is all zeros and no row moves. */
void moe_rt_layer_exchange_counts(int64_t ranks, const int64_t *send_counts,
                                  int64_t *recv_counts);
void moe_rt_layer_all_to_all(int64_t ranks, const void *send, int64_t send_rows,
                             const int64_t *send_counts, void *recv,
                             int64_t recv_rows, const int64_t *recv_counts,
                             int64_t row_bytes);

/* The same for GPU layers (convert-moe-to-runtime{gpu-rows}), on the GPU
 * layer communicator: `send` and `recv` are GPU memory (device or
 * host-shared), the counts host-readable memory. After a failure no row
 * moves and recv_counts is all zeros; `recv` is left as it is (rows nobody
 * counts are never read). */
void moe_rt_layer_gpu_exchange_counts(int64_t ranks, const int64_t *send_counts,
                                      int64_t *recv_counts);
void moe_rt_layer_gpu_all_to_all(int64_t ranks, const void *send,
                                 int64_t send_rows, const int64_t *send_counts,
                                 void *recv, int64_t recv_rows,
                                 const int64_t *recv_counts, int64_t row_bytes);

/*===-------------------------------------------------------------------===*
 * GPU (CUDA driver API, loaded at run time)
 *===-------------------------------------------------------------------===*
 *
 * The driver (libcuda.so.1, or $MOE_RT_CUDA_DRIVER) is opened with dlopen
 * on first use, so that a process without a driver or GPU still loads the
 * runtime and gets MOE_RT_UNAVAILABLE with the reason. */

typedef struct moe_rt_gpu moe_rt_gpu;
typedef struct moe_rt_gpu_module moe_rt_gpu_module;
typedef struct moe_rt_gpu_function moe_rt_gpu_function;

/* Opens device `device` (a primary context made current on this thread). */
moe_rt_status moe_rt_gpu_open(int device, moe_rt_gpu **out);
moe_rt_status moe_rt_gpu_close(moe_rt_gpu *gpu);
/* The GPU of this process when it is one rank among several on a node: its
 * local rank (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or SLURM_LOCALID)
 * modulo the GPUs the driver sees; 0, without asking the driver, when no
 * launcher set a local rank. The NCCL communicator puts its rank on this
 * GPU; a runner of a GPU layer over several ranks makes it the mgpu* default
 * device (mgpuSetDefaultDevice) before the layer loads its kernels.
 * MOE_RT_UNAVAILABLE under a launcher without a driver or a GPU. */
moe_rt_status moe_rt_gpu_of_rank(int *ordinal);

/* The device's name and compute capability ("NVIDIA H100 ...", 9, 0). */
moe_rt_status moe_rt_gpu_describe(const moe_rt_gpu *gpu, const char **name,
                                  int *major, int *minor);

/* Device memory: MOE_RT_OUT_OF_MEMORY when the device has not enough. */
moe_rt_status moe_rt_gpu_alloc(moe_rt_gpu *gpu, int64_t bytes,
                               uint64_t *device_ptr);
moe_rt_status moe_rt_gpu_free(moe_rt_gpu *gpu, uint64_t device_ptr);
moe_rt_status moe_rt_gpu_copy_to_device(moe_rt_gpu *gpu, uint64_t device_ptr,
                                        const void *host, int64_t bytes);
moe_rt_status moe_rt_gpu_copy_to_host(moe_rt_gpu *gpu, void *host,
                                      uint64_t device_ptr, int64_t bytes);

/* Loads a module from a cubin or a NUL-terminated PTX image (the driver
 * compiles PTX for the device); a PTX error comes back in the message. */
moe_rt_status moe_rt_gpu_module_load(moe_rt_gpu *gpu, const void *image,
                                     moe_rt_gpu_module **out);
moe_rt_status moe_rt_gpu_module_unload(moe_rt_gpu_module *module);
moe_rt_status moe_rt_gpu_function_get(moe_rt_gpu_module *module,
                                      const char *name,
                                      moe_rt_gpu_function **out);
/* Launches on the default stream and waits for the kernel: a fault inside
 * the kernel is reported here. args[i] points at the i-th parameter. */
moe_rt_status moe_rt_gpu_launch(moe_rt_gpu_function *function,
                                const int64_t grid[3], const int64_t block[3],
                                int64_t shared_bytes, void **args);

/* The first failure of MLIR's mgpu* GPU calls (moe-runtime/MGPU.h), which
 * compiled GPU code makes and which cannot return a status: MOE_RT_OK when
 * none failed since the last take. Otherwise its status (MOE_RT_UNAVAILABLE
 * when there is no driver or GPU, MOE_RT_OUT_OF_MEMORY, MOE_RT_BACKEND_ERROR
 * with the driver's error name, ...), with the call, the driver entry and
 * the reason in moe_rt_last_error(). Taking it clears it: until then every
 * mgpu* call does nothing, so a caller checks after each compiled call and
 * discards that call's results when this is not MOE_RT_OK. The error is
 * process-wide (one for all threads) and printed once to stderr when it
 * happens. A kernel fault leaves the CUDA context unusable: the calls after
 * it fail again. */
moe_rt_status moe_rt_gpu_take_error(void);

/* For checks: when enabled, every later mgpuMemAlloc fills its buffer with
 * all-ones bytes (NaN in the float types, -1 in the integers), so that an
 * element a compiled layer never writes shows as NaN. Off by default. */
void moe_rt_gpu_set_alloc_poison(int enabled);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RUNTIME_MOERUNTIME_H */
