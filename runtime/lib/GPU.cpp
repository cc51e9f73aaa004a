//===- GPU.cpp - Module load and launch through the CUDA driver API -------===//
//
// The driver is opened with dlopen on first use rather than linked: a process
// on a machine without a driver still starts, and every GPU call returns
// MOE_RT_UNAVAILABLE with the reason. cuda.h (CUDA toolkit, found at build
// time) supplies the types only; without it the GPU calls are all
// MOE_RT_UNAVAILABLE.
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "Status.h"

#include <string>

using moe_rt::fail;
using moe_rt::failArgument;

#ifdef MOE_RT_HAVE_CUDA_HEADERS
#include "CUDADriver.h"
#include "SharedLibrary.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace moe_rt {
/// Loads the driver once per process; the outcome (a driver or the reason
/// there is none) is kept, so later calls fail fast with the same message.
const Driver *loadDriver(std::string &reason) {
  static Driver driver;
  static std::string failure;
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    SharedLibrary library("MOE_RT_CUDA_DRIVER", "libcuda.so.1",
                          "no CUDA driver", "the CUDA driver ");
    auto load = [&](auto &slot, const char *symbol) {
      library.load(slot, symbol);
    };
    load(driver.init, "cuInit");
    load(driver.getErrorName, "cuGetErrorName");
    load(driver.getErrorString, "cuGetErrorString");
    load(driver.deviceGetCount, "cuDeviceGetCount");
    load(driver.deviceGet, "cuDeviceGet");
    load(driver.deviceGetName, "cuDeviceGetName");
    load(driver.deviceGetAttribute, "cuDeviceGetAttribute");
    load(driver.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
    load(driver.primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    load(driver.ctxSetCurrent, "cuCtxSetCurrent");
    load(driver.ctxSynchronize, "cuCtxSynchronize");
    load(driver.memAlloc, "cuMemAlloc_v2");
    load(driver.memFree, "cuMemFree_v2");
    load(driver.memcpyHtoD, "cuMemcpyHtoD_v2");
    load(driver.memcpyDtoH, "cuMemcpyDtoH_v2");
    load(driver.moduleLoadDataEx, "cuModuleLoadDataEx");
    load(driver.moduleUnload, "cuModuleUnload");
    load(driver.moduleGetFunction, "cuModuleGetFunction");
    load(driver.launchKernel, "cuLaunchKernel");
    // For the mgpu* ABI (MGPU.cpp).
    load(driver.memAllocManaged, "cuMemAllocManaged");
    load(driver.memcpyAsync, "cuMemcpyAsync");
    load(driver.memsetD32Async, "cuMemsetD32Async");
    load(driver.memsetD16Async, "cuMemsetD16Async");
    load(driver.memsetD8, "cuMemsetD8_v2");
    load(driver.memHostRegister, "cuMemHostRegister_v2");
    load(driver.memHostUnregister, "cuMemHostUnregister");
    load(driver.streamCreate, "cuStreamCreate");
    load(driver.streamDestroy, "cuStreamDestroy_v2");
    load(driver.streamSynchronize, "cuStreamSynchronize");
    load(driver.streamWaitEvent, "cuStreamWaitEvent");
    load(driver.eventCreate, "cuEventCreate");
    load(driver.eventDestroy, "cuEventDestroy_v2");
    load(driver.eventSynchronize, "cuEventSynchronize");
    load(driver.eventRecord, "cuEventRecord");
    load(driver.eventElapsedTime, "cuEventElapsedTime_v2");
    load(driver.funcSetAttribute, "cuFuncSetAttribute");
    load(driver.launchKernelEx, "cuLaunchKernelEx");
    failure = library.failure;
    if (!failure.empty())
      return;
    CUresult init = driver.init(0);
    if (init != CUDA_SUCCESS) {
      // A stub cannot name its own errors: name the two that mean "no GPU".
      const char *name = nullptr;
      if (driver.getErrorName(init, &name) != CUDA_SUCCESS)
        name = init == CUDA_ERROR_STUB_LIBRARY ? "CUDA_ERROR_STUB_LIBRARY"
               : init == CUDA_ERROR_NO_DEVICE  ? "CUDA_ERROR_NO_DEVICE"
                                               : nullptr;
      failure = "the CUDA driver " + library.path +
                " cannot start: cuInit returned " +
                (name ? name : std::to_string(int(init))) +
                (init == CUDA_ERROR_NO_DEVICE ? " (no GPU)"
                 : init == CUDA_ERROR_STUB_LIBRARY
                     ? " (the toolkit's stub, not a driver)"
                     : "");
      return;
    }
    loaded = true;
  });
  if (!loaded) {
    reason = failure;
    return nullptr;
  }
  return &driver;
}

/// MOE_RT_BACKEND_ERROR (or MOE_RT_OUT_OF_MEMORY) with the driver's words.
moe_rt_status cudaFailure(const Driver &driver, const std::string &what,
                          CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (driver.getErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (driver.getErrorString(result, &text) != CUDA_SUCCESS)
    text = nullptr;
  std::string message =
      what + " failed: " + (name ? name : std::to_string(int(result))) +
      (text ? std::string(" (") + text + ")" : "");
  return fail(result == CUDA_ERROR_OUT_OF_MEMORY ? MOE_RT_OUT_OF_MEMORY
                                                 : MOE_RT_BACKEND_ERROR,
              message);
}
} // namespace moe_rt

using moe_rt::cudaFailure;
using moe_rt::Driver;
using moe_rt::loadDriver;

struct moe_rt_gpu {
  const Driver *driver;
  CUdevice device;
  CUcontext context;
  std::string name;
  int major, minor;
};

struct moe_rt_gpu_function {
  moe_rt_gpu_module *module;
  CUfunction function;
  std::string name;
};

/// A module owns the functions looked up in it: unloading it frees them.
struct moe_rt_gpu_module {
  moe_rt_gpu *gpu;
  CUmodule module;
  std::vector<std::unique_ptr<moe_rt_gpu_function>> functions;
};

namespace {
/// Makes the GPU's context current on this thread (the runtime may be
/// called from several threads).
moe_rt_status makeCurrent(moe_rt_gpu *gpu, const char *call) {
  if (CUresult r = gpu->driver->ctxSetCurrent(gpu->context))
    return cudaFailure(*gpu->driver, std::string(call) + ": cuCtxSetCurrent",
                       r);
  return MOE_RT_OK;
}

/// The driver and the number of GPUs it sees, or MOE_RT_UNAVAILABLE (no
/// driver, no GPU) with `call` in the message.
moe_rt_status countGPUs(const char *call, const Driver *&driver, int &count) {
  std::string reason;
  driver = loadDriver(reason);
  if (!driver)
    return fail(MOE_RT_UNAVAILABLE, std::string(call) + ": " + reason);
  if (CUresult r = driver->deviceGetCount(&count))
    return cudaFailure(*driver, std::string(call) + ": cuDeviceGetCount", r);
  if (count == 0)
    return fail(MOE_RT_UNAVAILABLE,
                std::string(call) + ": the driver sees no GPU");
  return MOE_RT_OK;
}
} // namespace

extern "C" moe_rt_status moe_rt_gpu_of_rank(int *ordinal) {
  if (!ordinal)
    return failArgument("moe_rt_gpu_of_rank: ordinal is null");
  *ordinal = 0;
  int localRank = moe_rt::launcherLocalRank();
  if (localRank < 0)
    return MOE_RT_OK;
  const Driver *driver = nullptr;
  int count = 0;
  if (moe_rt_status s = countGPUs("moe_rt_gpu_of_rank", driver, count))
    return s;
  *ordinal = localRank % count;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_open(int device, moe_rt_gpu **out) {
  if (!out)
    return failArgument("moe_rt_gpu_open: out is null");
  *out = nullptr;
  const Driver *driver = nullptr;
  int count = 0;
  if (moe_rt_status s = countGPUs("moe_rt_gpu_open", driver, count))
    return s;
  if (device < 0 || device >= count)
    return failArgument("moe_rt_gpu_open: device " + std::to_string(device) +
                        " does not exist (" + std::to_string(count) + " GPUs)");
  auto gpu = std::make_unique<moe_rt_gpu>();
  gpu->driver = driver;
  if (CUresult r = driver->deviceGet(&gpu->device, device))
    return cudaFailure(*driver, "moe_rt_gpu_open: cuDeviceGet", r);
  char name[256] = {0};
  if (CUresult r = driver->deviceGetName(name, sizeof(name) - 1, gpu->device))
    return cudaFailure(*driver, "moe_rt_gpu_open: cuDeviceGetName", r);
  gpu->name = name;
  if (CUresult r = driver->deviceGetAttribute(
          &gpu->major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
          gpu->device))
    return cudaFailure(*driver, "moe_rt_gpu_open: cuDeviceGetAttribute", r);
  if (CUresult r = driver->deviceGetAttribute(
          &gpu->minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
          gpu->device))
    return cudaFailure(*driver, "moe_rt_gpu_open: cuDeviceGetAttribute", r);
  if (CUresult r = driver->primaryCtxRetain(&gpu->context, gpu->device))
    return cudaFailure(*driver, "moe_rt_gpu_open: cuDevicePrimaryCtxRetain", r);
  if (moe_rt_status s = makeCurrent(gpu.get(), "moe_rt_gpu_open")) {
    driver->primaryCtxRelease(gpu->device);
    return s;
  }
  *out = gpu.release();
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_close(moe_rt_gpu *gpu) {
  if (!gpu)
    return MOE_RT_OK;
  CUresult r = gpu->driver->primaryCtxRelease(gpu->device);
  const Driver *driver = gpu->driver;
  delete gpu;
  if (r)
    return cudaFailure(*driver, "moe_rt_gpu_close: cuDevicePrimaryCtxRelease",
                       r);
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_describe(const moe_rt_gpu *gpu,
                                             const char **name, int *major,
                                             int *minor) {
  if (!gpu)
    return failArgument("moe_rt_gpu_describe: gpu is null");
  if (name)
    *name = gpu->name.c_str();
  if (major)
    *major = gpu->major;
  if (minor)
    *minor = gpu->minor;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_alloc(moe_rt_gpu *gpu, int64_t bytes,
                                          uint64_t *device_ptr) {
  if (!gpu || !device_ptr)
    return failArgument("moe_rt_gpu_alloc: null argument");
  *device_ptr = 0;
  if (bytes < 0)
    return failArgument("moe_rt_gpu_alloc: negative size " +
                        std::to_string(bytes));
  if (bytes == 0)
    return MOE_RT_OK;
  if (moe_rt_status s = makeCurrent(gpu, "moe_rt_gpu_alloc"))
    return s;
  CUdeviceptr ptr = 0;
  if (CUresult r = gpu->driver->memAlloc(&ptr, size_t(bytes)))
    return cudaFailure(*gpu->driver,
                       "moe_rt_gpu_alloc: cuMemAlloc of " +
                           std::to_string(bytes) + " bytes",
                       r);
  *device_ptr = ptr;
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_free(moe_rt_gpu *gpu, uint64_t device_ptr) {
  if (!gpu)
    return failArgument("moe_rt_gpu_free: gpu is null");
  if (!device_ptr)
    return MOE_RT_OK;
  if (moe_rt_status s = makeCurrent(gpu, "moe_rt_gpu_free"))
    return s;
  if (CUresult r = gpu->driver->memFree(CUdeviceptr(device_ptr)))
    return cudaFailure(*gpu->driver, "moe_rt_gpu_free: cuMemFree", r);
  return MOE_RT_OK;
}

namespace {
moe_rt_status checkCopy(moe_rt_gpu *gpu, const void *host, uint64_t device,
                        int64_t bytes, const char *call) {
  if (!gpu)
    return failArgument(std::string(call) + ": gpu is null");
  if (bytes < 0)
    return failArgument(std::string(call) + ": negative size " +
                        std::to_string(bytes));
  if (bytes > 0 && (!host || !device))
    return failArgument(std::string(call) + ": null buffer");
  return makeCurrent(gpu, call);
}
} // namespace

extern "C" moe_rt_status moe_rt_gpu_copy_to_device(moe_rt_gpu *gpu,
                                                   uint64_t device_ptr,
                                                   const void *host,
                                                   int64_t bytes) {
  const char *call = "moe_rt_gpu_copy_to_device";
  if (moe_rt_status s = checkCopy(gpu, host, device_ptr, bytes, call))
    return s;
  if (bytes == 0)
    return MOE_RT_OK;
  if (CUresult r =
          gpu->driver->memcpyHtoD(CUdeviceptr(device_ptr), host, size_t(bytes)))
    return cudaFailure(*gpu->driver, std::string(call) + ": cuMemcpyHtoD", r);
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_copy_to_host(moe_rt_gpu *gpu, void *host,
                                                 uint64_t device_ptr,
                                                 int64_t bytes) {
  const char *call = "moe_rt_gpu_copy_to_host";
  if (moe_rt_status s = checkCopy(gpu, host, device_ptr, bytes, call))
    return s;
  if (bytes == 0)
    return MOE_RT_OK;
  if (CUresult r =
          gpu->driver->memcpyDtoH(host, CUdeviceptr(device_ptr), size_t(bytes)))
    return cudaFailure(*gpu->driver, std::string(call) + ": cuMemcpyDtoH", r);
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_module_load(moe_rt_gpu *gpu,
                                                const void *image,
                                                moe_rt_gpu_module **out) {
  const char *call = "moe_rt_gpu_module_load";
  if (!gpu || !image || !out)
    return failArgument(std::string(call) + ": null argument");
  *out = nullptr;
  if (moe_rt_status s = makeCurrent(gpu, call))
    return s;
  // The PTX compiler's log says what is wrong with a bad PTX image.
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1)};
  CUmodule module;
  if (CUresult r =
          gpu->driver->moduleLoadDataEx(&module, image, 2, options, values)) {
    moe_rt_status s = cudaFailure(
        *gpu->driver, std::string(call) + ": cuModuleLoadDataEx", r);
    if (log[0])
      return fail(s, moe_rt_last_error() + std::string(": ") + log);
    return s;
  }
  *out = new moe_rt_gpu_module{gpu, module, {}};
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_module_unload(moe_rt_gpu_module *module) {
  if (!module)
    return MOE_RT_OK;
  moe_rt_gpu *gpu = module->gpu;
  CUmodule handle = module->module;
  delete module;
  if (moe_rt_status s = makeCurrent(gpu, "moe_rt_gpu_module_unload"))
    return s;
  if (CUresult r = gpu->driver->moduleUnload(handle))
    return cudaFailure(*gpu->driver, "moe_rt_gpu_module_unload", r);
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_function_get(moe_rt_gpu_module *module,
                                                 const char *name,
                                                 moe_rt_gpu_function **out) {
  const char *call = "moe_rt_gpu_function_get";
  if (!module || !name || !out)
    return failArgument(std::string(call) + ": null argument");
  *out = nullptr;
  CUfunction function;
  if (CUresult r = module->gpu->driver->moduleGetFunction(&function,
                                                          module->module, name))
    return cudaFailure(*module->gpu->driver,
                       std::string(call) + ": no kernel '" + name + "'", r);
  module->functions.push_back(std::make_unique<moe_rt_gpu_function>(
      moe_rt_gpu_function{module, function, name}));
  *out = module->functions.back().get();
  return MOE_RT_OK;
}

extern "C" moe_rt_status moe_rt_gpu_launch(moe_rt_gpu_function *function,
                                           const int64_t grid[3],
                                           const int64_t block[3],
                                           int64_t shared_bytes, void **args) {
  const char *call = "moe_rt_gpu_launch";
  if (!function || !grid || !block)
    return failArgument(std::string(call) + ": null argument");
  for (int i = 0; i < 3; ++i)
    if (grid[i] <= 0 || grid[i] > UINT32_MAX || block[i] <= 0 ||
        block[i] > 1024)
      return failArgument(std::string(call) + ": kernel '" + function->name +
                          "': grid and block sizes must be positive (block " +
                          "at most 1024 per dimension)");
  if (shared_bytes < 0 || shared_bytes > UINT32_MAX)
    return failArgument(std::string(call) + ": bad shared memory size");
  moe_rt_gpu *gpu = function->module->gpu;
  if (moe_rt_status s = makeCurrent(gpu, call))
    return s;
  if (CUresult r = gpu->driver->launchKernel(
          function->function, unsigned(grid[0]), unsigned(grid[1]),
          unsigned(grid[2]), unsigned(block[0]), unsigned(block[1]),
          unsigned(block[2]), unsigned(shared_bytes), nullptr, args, nullptr))
    return cudaFailure(
        *gpu->driver,
        std::string(call) + ": cuLaunchKernel of '" + function->name + "'", r);
  if (CUresult r = gpu->driver->ctxSynchronize())
    return cudaFailure(*gpu->driver,
                       std::string(call) + ": kernel '" + function->name + "'",
                       r);
  return MOE_RT_OK;
}

#else // !MOE_RT_HAVE_CUDA_HEADERS

namespace {
moe_rt_status noCUDA(const char *call) {
  return fail(MOE_RT_UNAVAILABLE,
              std::string(call) + ": this runtime was built without the CUDA "
                                  "toolkit's headers (cuda.h)");
}
} // namespace

extern "C" moe_rt_status moe_rt_gpu_of_rank(int *ordinal) {
  if (!ordinal)
    return failArgument("moe_rt_gpu_of_rank: ordinal is null");
  *ordinal = 0;
  if (moe_rt::launcherLocalRank() < 0)
    return MOE_RT_OK;
  return noCUDA("moe_rt_gpu_of_rank");
}

extern "C" moe_rt_status moe_rt_gpu_open(int, moe_rt_gpu **out) {
  if (out)
    *out = nullptr;
  return noCUDA("moe_rt_gpu_open");
}
// With no way to open a GPU, every other call has no valid handle to get.
extern "C" moe_rt_status moe_rt_gpu_close(moe_rt_gpu *) { return MOE_RT_OK; }
extern "C" moe_rt_status moe_rt_gpu_describe(const moe_rt_gpu *, const char **,
                                             int *, int *) {
  return noCUDA("moe_rt_gpu_describe");
}
extern "C" moe_rt_status moe_rt_gpu_alloc(moe_rt_gpu *, int64_t, uint64_t *) {
  return noCUDA("moe_rt_gpu_alloc");
}
extern "C" moe_rt_status moe_rt_gpu_free(moe_rt_gpu *, uint64_t) {
  return noCUDA("moe_rt_gpu_free");
}
extern "C" moe_rt_status moe_rt_gpu_copy_to_device(moe_rt_gpu *, uint64_t,
                                                   const void *, int64_t) {
  return noCUDA("moe_rt_gpu_copy_to_device");
}
extern "C" moe_rt_status moe_rt_gpu_copy_to_host(moe_rt_gpu *, void *, uint64_t,
                                                 int64_t) {
  return noCUDA("moe_rt_gpu_copy_to_host");
}
extern "C" moe_rt_status moe_rt_gpu_module_load(moe_rt_gpu *, const void *,
                                                moe_rt_gpu_module **) {
  return noCUDA("moe_rt_gpu_module_load");
}
extern "C" moe_rt_status moe_rt_gpu_module_unload(moe_rt_gpu_module *) {
  return MOE_RT_OK;
}
extern "C" moe_rt_status moe_rt_gpu_function_get(moe_rt_gpu_module *,
                                                 const char *,
                                                 moe_rt_gpu_function **) {
  return noCUDA("moe_rt_gpu_function_get");
}
extern "C" moe_rt_status moe_rt_gpu_launch(moe_rt_gpu_function *,
                                           const int64_t[3], const int64_t[3],
                                           int64_t, void **) {
  return noCUDA("moe_rt_gpu_launch");
}

#endif // MOE_RT_HAVE_CUDA_HEADERS
