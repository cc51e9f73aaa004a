//===- CUDADriver.h - The dlopen'ed CUDA driver, shared by the GPU parts --===//
//
// Private to runtime/lib, and only with cuda.h (MOE_RT_HAVE_CUDA_HEADERS).
// GPU.cpp (the moe_rt_gpu_* calls) and MGPU.cpp (MLIR's mgpu* host ABI) use
// one driver table, opened once per process.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_LIB_CUDADRIVER_H
#define MOE_RUNTIME_LIB_CUDADRIVER_H

#include "Status.h"

#include <cuda.h>

#include <string>

namespace moe_rt {
/// The driver entry points we use. The names are the ABI symbols: cuda.h's
/// macros map e.g. cuMemAlloc to cuMemAlloc_v2, which dlsym must be given.
struct Driver {
  decltype(&::cuInit) init;
  decltype(&::cuGetErrorName) getErrorName;
  decltype(&::cuGetErrorString) getErrorString;
  decltype(&::cuDeviceGetCount) deviceGetCount;
  decltype(&::cuDeviceGet) deviceGet;
  decltype(&::cuDeviceGetName) deviceGetName;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute;
  decltype(&::cuDevicePrimaryCtxRetain) primaryCtxRetain;
  decltype(&::cuDevicePrimaryCtxRelease) primaryCtxRelease;
  decltype(&::cuCtxSetCurrent) ctxSetCurrent;
  decltype(&::cuCtxSynchronize) ctxSynchronize;
  decltype(&::cuMemAlloc) memAlloc;
  decltype(&::cuMemFree) memFree;
  decltype(&::cuMemcpyHtoD) memcpyHtoD;
  decltype(&::cuMemcpyDtoH) memcpyDtoH;
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx;
  decltype(&::cuModuleUnload) moduleUnload;
  decltype(&::cuModuleGetFunction) moduleGetFunction;
  decltype(&::cuLaunchKernel) launchKernel;
  // The mgpu* ABI's extra needs: streams, events, managed memory, async
  // copies and fills, dynamic shared memory above 48 KiB, clusters.
  decltype(&::cuMemAllocManaged) memAllocManaged;
  decltype(&::cuMemcpyAsync) memcpyAsync;
  decltype(&::cuMemsetD32Async) memsetD32Async;
  decltype(&::cuMemsetD16Async) memsetD16Async;
  decltype(&::cuMemsetD8) memsetD8;
  decltype(&::cuMemHostRegister) memHostRegister;
  decltype(&::cuMemHostUnregister) memHostUnregister;
  decltype(&::cuStreamCreate) streamCreate;
  decltype(&::cuStreamDestroy) streamDestroy;
  decltype(&::cuStreamSynchronize) streamSynchronize;
  decltype(&::cuStreamWaitEvent) streamWaitEvent;
  decltype(&::cuEventCreate) eventCreate;
  decltype(&::cuEventDestroy) eventDestroy;
  decltype(&::cuEventSynchronize) eventSynchronize;
  decltype(&::cuEventRecord) eventRecord;
  decltype(&::cuEventElapsedTime) eventElapsedTime;
  decltype(&::cuFuncSetAttribute) funcSetAttribute;
  decltype(&::cuLaunchKernelEx) launchKernelEx;
};

/// The driver, loaded and initialised once per process; null when there is
/// none, with the reason (the same on every call).
const Driver *loadDriver(std::string &reason);

/// MOE_RT_BACKEND_ERROR (or MOE_RT_OUT_OF_MEMORY) with the driver's words,
/// recorded as this thread's last error.
moe_rt_status cudaFailure(const Driver &driver, const std::string &what,
                          CUresult result);
} // namespace moe_rt

#endif // MOE_RUNTIME_LIB_CUDADRIVER_H
