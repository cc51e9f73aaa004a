/*===- MGPU.h - MLIR's GPU host ABI, as the runtime provides it ---*- C -*-===*
 *
 * The mgpu* functions that MLIR's gpu-to-llvm lowering and the gpu.binary
 * embedding call (upstream's libmlir_cuda_runtime has the same names). Code
 * from moe-gpu-pipeline links against libmoe_runtime for them; a C caller
 * may use them too, e.g. mgpuMemAlloc(bytes, NULL, 1) for host-shared
 * (managed) buffers a layer's kernels can read.
 *
 * They cannot return a status: the first failure is kept (see
 * moe_rt_gpu_take_error in MoERuntime.h), printed once to stderr, and every
 * call does nothing, returning NULL where it returns a handle, until it is
 * taken. Handles are the CUDA driver's (CUmodule, CUfunction, CUstream,
 * CUevent); pointers are device or managed addresses.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MOE_RUNTIME_MGPU_H
#define MOE_RUNTIME_MGPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A cubin or fatbin image, or PTX through the JIT (optLevel 0-4). The size
 * is not needed; it is accepted for the MLIR versions that pass it. */
void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel, size_t size);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);

/* Asynchronous on `stream`: a fault inside the kernel is reported by the
 * next mgpuStreamSynchronize or mgpuEventSynchronize. */
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t smem, void *stream, void **params,
                             void **extra, size_t paramsCount);

void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);

/* Timing, which MLIR's ABI lacks (mgpuEventCreate's events do not record
 * time). An event that does, for mgpuEventRecord, mgpuEventSynchronize and
 * mgpuEventDestroy; and the milliseconds from `start` to `end`, both
 * recorded and `end` complete (after mgpuEventSynchronize(end)), or -1 on
 * a failure, which is kept like the mgpu* calls' failures. */
void *moe_rt_mgpu_event_create_timed(void);
float moe_rt_mgpu_event_elapsed_ms(void *start, void *end);

/* Device memory, or managed memory the host can use too when isHostShared.
 * 0 bytes gives NULL. */
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
void mgpuMemHostRegister(void *ptr, uint64_t bytes);
void mgpuMemHostUnregister(void *ptr);
/* A ranked memref descriptor of `rank` (dense row-major only). */
void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementBytes);
void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementBytes);

/* The device the calls of this thread use (default 0). */
void mgpuSetDefaultDevice(int32_t device);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RUNTIME_MGPU_H */
