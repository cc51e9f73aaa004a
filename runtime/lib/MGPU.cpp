//===- MGPU.cpp - MLIR's mgpu* GPU host ABI on the CUDA driver -----------===//
//
// The entry points that MLIR's gpu-to-llvm lowering and the gpu.binary
// embedding (SelectObjectAttr) call: module load and kernel launch, streams,
// events, memory. They stand in for upstream's libmlir_cuda_runtime, which
// Debian's MLIR does not ship, and use the driver that GPU.cpp opens with
// dlopen, so that a compiled layer links and starts without a driver.
//
// The ABI has no way to return an error, and upstream's wrappers print and
// carry on. Here the first failure is kept as a process-wide sticky error
// (printed once to stderr) and every later call does nothing until the
// caller collects it with moe_rt_gpu_take_error(): a kernel never runs on
// buffers whose allocation or copy failed, and nothing aborts.
//
// Sizes and handles are plain integers and pointers, so the same definitions
// serve a build without cuda.h, where every call reports MOE_RT_UNAVAILABLE.
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include "moe-runtime/MGPU.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#ifdef MOE_RT_HAVE_CUDA_HEADERS
#include "CUDADriver.h"

#include <vector>
#endif

namespace {
//===----------------------------------------------------------------------===//
// The sticky error
//===----------------------------------------------------------------------===//

struct StickyError {
  std::mutex mutex;
  // Read without the lock on every call: the common case is no error.
  std::atomic<bool> pending{false};
  moe_rt_status status = MOE_RT_OK;
  std::string message;
};

StickyError &sticky() {
  static StickyError error;
  return error;
}

bool errorPending() { return sticky().pending.load(std::memory_order_acquire); }

/// Keeps the first failure (later ones are its consequences) and prints it.
void record(moe_rt_status status, const std::string &message) {
  StickyError &error = sticky();
  std::lock_guard<std::mutex> lock(error.mutex);
  if (error.pending.load(std::memory_order_relaxed))
    return;
  error.status = status;
  error.message = message;
  error.pending.store(true, std::memory_order_release);
  std::fprintf(stderr,
               "moe_rt: %s (GPU calls do nothing until "
               "moe_rt_gpu_take_error)\n",
               message.c_str());
}

std::atomic<bool> poisonAllocations{false};

// Each thread launches on its own default device, as upstream's does.
thread_local int defaultDevice = 0;
} // namespace

extern "C" moe_rt_status moe_rt_gpu_take_error(void) {
  StickyError &error = sticky();
  std::lock_guard<std::mutex> lock(error.mutex);
  if (!error.pending.load(std::memory_order_relaxed))
    return MOE_RT_OK;
  moe_rt_status status = error.status;
  std::string message = std::move(error.message);
  error.status = MOE_RT_OK;
  error.message.clear();
  error.pending.store(false, std::memory_order_release);
  return moe_rt::fail(status, std::move(message));
}

extern "C" void moe_rt_gpu_set_alloc_poison(int enabled) {
  poisonAllocations.store(enabled != 0, std::memory_order_relaxed);
}

extern "C" void mgpuSetDefaultDevice(int32_t device) { defaultDevice = device; }

#ifdef MOE_RT_HAVE_CUDA_HEADERS

namespace {
using moe_rt::Driver;

/// Records a driver failure of `what` (a call's name and the driver entry).
void recordCUDA(const Driver &driver, const std::string &what,
                CUresult result) {
  moe_rt_status status = moe_rt::cudaFailure(driver, what, result);
  record(status, moe_rt_last_error());
}

/// The primary context of `device`, retained on first use and kept for the
/// life of the process (the ABI has no call that would release it).
CUcontext primaryContext(const Driver &driver, int device, const char *call) {
  static std::mutex mutex;
  static std::vector<CUcontext> contexts;
  std::lock_guard<std::mutex> lock(mutex);
  if (device >= 0 && size_t(device) < contexts.size() && contexts[device])
    return contexts[device];
  int count = 0;
  if (CUresult r = driver.deviceGetCount(&count)) {
    recordCUDA(driver, std::string(call) + ": cuDeviceGetCount", r);
    return nullptr;
  }
  if (count == 0) {
    record(MOE_RT_UNAVAILABLE,
           std::string(call) + ": the CUDA driver sees no GPU");
    return nullptr;
  }
  if (device < 0 || device >= count) {
    record(MOE_RT_INVALID_ARGUMENT,
           std::string(call) + ": the default device " +
               std::to_string(device) + " does not exist (" +
               std::to_string(count) + " GPUs)");
    return nullptr;
  }
  CUdevice handle;
  if (CUresult r = driver.deviceGet(&handle, device)) {
    recordCUDA(driver, std::string(call) + ": cuDeviceGet", r);
    return nullptr;
  }
  CUcontext context;
  if (CUresult r = driver.primaryCtxRetain(&context, handle)) {
    recordCUDA(driver, std::string(call) + ": cuDevicePrimaryCtxRetain", r);
    return nullptr;
  }
  if (contexts.size() <= size_t(device))
    contexts.resize(device + 1, nullptr);
  contexts[device] = context;
  return context;
}

/// The driver with the default device's context current on this thread, or
/// null (nothing to do) when an error is pending or this call fails to get
/// there.
const Driver *enter(const char *call) {
  if (errorPending())
    return nullptr;
  std::string reason;
  const Driver *driver = moe_rt::loadDriver(reason);
  if (!driver) {
    record(MOE_RT_UNAVAILABLE, std::string(call) + ": " + reason);
    return nullptr;
  }
  CUcontext context = primaryContext(*driver, defaultDevice, call);
  if (!context)
    return nullptr;
  if (CUresult r = driver->ctxSetCurrent(context)) {
    recordCUDA(*driver, std::string(call) + ": cuCtxSetCurrent", r);
    return nullptr;
  }
  return driver;
}

/// The driver for a call that releases a handle: it still runs while an
/// error is pending, so that a caller that takes the error and goes on does
/// not leak; its own failures are recorded only when none is pending.
const Driver *enterRelease() {
  std::string reason;
  return moe_rt::loadDriver(reason);
}

void recordRelease(const Driver &driver, const char *what, CUresult result) {
  // At process exit the driver may shut down before the global destructors
  // that MLIR's host code registers unload their modules: nothing is left
  // to release then, and nothing failed.
  if (result == CUDA_ERROR_DEINITIALIZED)
    return;
  if (result && !errorPending())
    recordCUDA(driver, what, result);
}

/// Records a null handle where one is needed (unless an earlier failure,
/// which is then the cause, is pending).
bool isNull(const void *handle, const char *call, const char *what) {
  if (handle)
    return false;
  if (!errorPending())
    record(MOE_RT_INVALID_ARGUMENT,
           std::string(call) + ": " + what + " is null");
  return true;
}

/// Loads a cubin, fatbin or PTX image with the JIT's log kept for the
/// message; optLevel < 0 leaves the JIT's default.
void *loadModule(void *data, int optLevel, const char *call) {
  const Driver *driver = enter(call);
  if (!driver || isNull(data, call, "the image"))
    return nullptr;
  char log[4096] = {0};
  CUjit_option options[3] = {CU_JIT_ERROR_LOG_BUFFER,
                             CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                             CU_JIT_OPTIMIZATION_LEVEL};
  void *values[3] = {log, reinterpret_cast<void *>(sizeof(log) - 1),
                     reinterpret_cast<void *>(intptr_t(optLevel))};
  CUmodule module = nullptr;
  if (CUresult r = driver->moduleLoadDataEx(&module, data, optLevel < 0 ? 2 : 3,
                                            options, values)) {
    moe_rt_status status = moe_rt::cudaFailure(
        *driver, std::string(call) + ": cuModuleLoadDataEx", r);
    record(status, log[0] ? moe_rt_last_error() + std::string(": ") + log
                          : std::string(moe_rt_last_error()));
    return nullptr;
  }
  return module;
}

/// A grid without blocks is a parallel loop of zero trips (an expert that
/// received no rows, T = 0): there is nothing to run, and the driver would
/// reject the launch. Negative sizes are still errors (checkLaunch).
bool emptyGrid(intptr_t x, intptr_t y, intptr_t z) {
  return x >= 0 && y >= 0 && z >= 0 && (x == 0 || y == 0 || z == 0);
}

/// Grid and block sizes the driver takes (it has unsigned ints).
bool checkLaunch(void *function, const intptr_t dims[], int count, int32_t smem,
                 const char *call) {
  if (isNull(function, call, "the kernel"))
    return false;
  for (int i = 0; i < count; ++i)
    if (dims[i] <= 0 || uintptr_t(dims[i]) > UINT32_MAX) {
      record(MOE_RT_INVALID_ARGUMENT,
             std::string(call) +
                 ": grid, block and cluster sizes must be in "
                 "[1, 2^32), got " +
                 std::to_string(dims[i]));
      return false;
    }
  if (smem < 0) {
    record(MOE_RT_INVALID_ARGUMENT,
           std::string(call) + ": negative dynamic shared memory size " +
               std::to_string(smem));
    return false;
  }
  return true;
}

/// Above 48 KiB of dynamic shared memory a kernel must opt in.
bool allowSharedMemory(const Driver &driver, void *function, int32_t smem,
                       const char *call) {
  if (smem <= 48 * 1024)
    return true;
  if (CUresult r = driver.funcSetAttribute(
          static_cast<CUfunction>(function),
          CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem)) {
    recordCUDA(driver,
               std::string(call) + ": cuFuncSetAttribute(" +
                   std::to_string(smem) + " bytes of shared memory)",
               r);
    return false;
  }
  return true;
}
} // namespace

// The image's size is not needed: cubins, fatbins and PTX describe their own
// length. Older MLIR passes no size; the extra argument is then ignored.
extern "C" void *mgpuModuleLoad(void *data, size_t /*size*/) {
  return loadModule(data, /*optLevel=*/-1, "mgpuModuleLoad");
}

extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel, size_t /*size*/) {
  // The JIT accepts levels 0 to 4.
  optLevel = optLevel < 0 ? 0 : optLevel > 4 ? 4 : optLevel;
  return loadModule(data, optLevel, "mgpuModuleLoadJIT");
}

extern "C" void mgpuModuleUnload(void *module) {
  const Driver *driver = module ? enterRelease() : nullptr;
  if (driver)
    recordRelease(*driver, "mgpuModuleUnload: cuModuleUnload",
                  driver->moduleUnload(static_cast<CUmodule>(module)));
}

extern "C" void *mgpuModuleGetFunction(void *module, const char *name) {
  const char *call = "mgpuModuleGetFunction";
  const Driver *driver = enter(call);
  if (!driver || isNull(module, call, "the module") ||
      isNull(name, call, "the kernel name"))
    return nullptr;
  CUfunction function = nullptr;
  if (CUresult r = driver->moduleGetFunction(
          &function, static_cast<CUmodule>(module), name)) {
    recordCUDA(*driver,
               std::string(call) + ": cuModuleGetFunction('" + name + "')", r);
    return nullptr;
  }
  return function;
}

// Sizes are intptr_t (MLIR's index) rather than the driver's unsigned int.
// The trailing parameter count of newer MLIR is not needed.
extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ, int32_t smem,
                                 void *stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  const char *call = "mgpuLaunchKernel";
  if (emptyGrid(gridX, gridY, gridZ))
    return;
  const Driver *driver = enter(call);
  const intptr_t dims[] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
  if (!driver || !checkLaunch(function, dims, 6, smem, call) ||
      !allowSharedMemory(*driver, function, smem, call))
    return;
  if (CUresult r = driver->launchKernel(
          static_cast<CUfunction>(function), unsigned(gridX), unsigned(gridY),
          unsigned(gridZ), unsigned(blockX), unsigned(blockY), unsigned(blockZ),
          unsigned(smem), static_cast<CUstream>(stream), params, extra))
    recordCUDA(*driver,
               std::string(call) + ": cuLaunchKernel (grid " +
                   std::to_string(gridX) + "x" + std::to_string(gridY) + "x" +
                   std::to_string(gridZ) + ", block " + std::to_string(blockX) +
                   "x" + std::to_string(blockY) + "x" + std::to_string(blockZ) +
                   ")",
               r);
}

extern "C" void
mgpuLaunchClusterKernel(void *function, intptr_t clusterX, intptr_t clusterY,
                        intptr_t clusterZ, intptr_t gridX, intptr_t gridY,
                        intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                        intptr_t blockZ, int32_t smem, void *stream,
                        void **params, void **extra, size_t /*paramsCount*/) {
  const char *call = "mgpuLaunchClusterKernel";
  if (emptyGrid(gridX, gridY, gridZ))
    return;
  const Driver *driver = enter(call);
  const intptr_t dims[] = {clusterX, clusterY, clusterZ, gridX, gridY,
                           gridZ,    blockX,   blockY,   blockZ};
  if (!driver || !checkLaunch(function, dims, 9, smem, call) ||
      !allowSharedMemory(*driver, function, smem, call))
    return;
  CUlaunchAttribute cluster;
  std::memset(&cluster, 0, sizeof(cluster));
  cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  cluster.value.clusterDim.x = unsigned(clusterX);
  cluster.value.clusterDim.y = unsigned(clusterY);
  cluster.value.clusterDim.z = unsigned(clusterZ);
  CUlaunchConfig config;
  std::memset(&config, 0, sizeof(config));
  config.gridDimX = unsigned(gridX);
  config.gridDimY = unsigned(gridY);
  config.gridDimZ = unsigned(gridZ);
  config.blockDimX = unsigned(blockX);
  config.blockDimY = unsigned(blockY);
  config.blockDimZ = unsigned(blockZ);
  config.sharedMemBytes = unsigned(smem);
  config.hStream = static_cast<CUstream>(stream);
  config.attrs = &cluster;
  config.numAttrs = 1;
  if (CUresult r = driver->launchKernelEx(
          &config, static_cast<CUfunction>(function), params, extra))
    recordCUDA(*driver, std::string(call) + ": cuLaunchKernelEx", r);
}

extern "C" void *mgpuStreamCreate(void) {
  const char *call = "mgpuStreamCreate";
  const Driver *driver = enter(call);
  if (!driver)
    return nullptr;
  // Non-blocking, as upstream's: no implicit order with the legacy stream.
  CUstream stream = nullptr;
  if (CUresult r = driver->streamCreate(&stream, CU_STREAM_NON_BLOCKING))
    recordCUDA(*driver, std::string(call) + ": cuStreamCreate", r);
  return stream;
}

extern "C" void mgpuStreamDestroy(void *stream) {
  const Driver *driver = stream ? enterRelease() : nullptr;
  if (driver)
    recordRelease(*driver, "mgpuStreamDestroy: cuStreamDestroy",
                  driver->streamDestroy(static_cast<CUstream>(stream)));
}

// A fault inside a kernel launched on the stream is reported here.
extern "C" void mgpuStreamSynchronize(void *stream) {
  const char *call = "mgpuStreamSynchronize";
  const Driver *driver = enter(call);
  if (!driver)
    return;
  if (CUresult r = driver->streamSynchronize(static_cast<CUstream>(stream)))
    recordCUDA(*driver, std::string(call) + ": cuStreamSynchronize", r);
}

extern "C" void mgpuStreamWaitEvent(void *stream, void *event) {
  const char *call = "mgpuStreamWaitEvent";
  const Driver *driver = enter(call);
  if (!driver || isNull(event, call, "the event"))
    return;
  if (CUresult r = driver->streamWaitEvent(static_cast<CUstream>(stream),
                                           static_cast<CUevent>(event), 0))
    recordCUDA(*driver, std::string(call) + ": cuStreamWaitEvent", r);
}

extern "C" void *mgpuEventCreate(void) {
  const char *call = "mgpuEventCreate";
  const Driver *driver = enter(call);
  if (!driver)
    return nullptr;
  // Events only order streams here: no timing, which makes them cheaper.
  CUevent event = nullptr;
  if (CUresult r = driver->eventCreate(&event, CU_EVENT_DISABLE_TIMING))
    recordCUDA(*driver, std::string(call) + ": cuEventCreate", r);
  return event;
}

extern "C" void mgpuEventDestroy(void *event) {
  const Driver *driver = event ? enterRelease() : nullptr;
  if (driver)
    recordRelease(*driver, "mgpuEventDestroy: cuEventDestroy",
                  driver->eventDestroy(static_cast<CUevent>(event)));
}

extern "C" void mgpuEventSynchronize(void *event) {
  const char *call = "mgpuEventSynchronize";
  const Driver *driver = enter(call);
  if (!driver || isNull(event, call, "the event"))
    return;
  if (CUresult r = driver->eventSynchronize(static_cast<CUevent>(event)))
    recordCUDA(*driver, std::string(call) + ": cuEventSynchronize", r);
}

extern "C" void mgpuEventRecord(void *event, void *stream) {
  const char *call = "mgpuEventRecord";
  const Driver *driver = enter(call);
  if (!driver || isNull(event, call, "the event"))
    return;
  if (CUresult r = driver->eventRecord(static_cast<CUevent>(event),
                                       static_cast<CUstream>(stream)))
    recordCUDA(*driver, std::string(call) + ": cuEventRecord", r);
}

// Timing (not in MLIR's ABI): events that record time, and the time between
// two of them.
extern "C" void *moe_rt_mgpu_event_create_timed(void) {
  const char *call = "moe_rt_mgpu_event_create_timed";
  const Driver *driver = enter(call);
  if (!driver)
    return nullptr;
  CUevent event = nullptr;
  if (CUresult r = driver->eventCreate(&event, CU_EVENT_DEFAULT))
    recordCUDA(*driver, std::string(call) + ": cuEventCreate", r);
  return event;
}

extern "C" float moe_rt_mgpu_event_elapsed_ms(void *start, void *end) {
  const char *call = "moe_rt_mgpu_event_elapsed_ms";
  const Driver *driver = enter(call);
  if (!driver || isNull(start, call, "the start event") ||
      isNull(end, call, "the end event"))
    return -1.0f;
  float ms = -1.0f;
  if (CUresult r = driver->eventElapsedTime(&ms, static_cast<CUevent>(start),
                                            static_cast<CUevent>(end))) {
    recordCUDA(*driver, std::string(call) + ": cuEventElapsedTime", r);
    return -1.0f;
  }
  return ms;
}

// Host-shared memory (gpu.alloc host_shared) is managed memory: the host
// code between the kernels reads and writes it in place. The allocation is
// synchronous; the stream is not needed.
extern "C" void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/,
                              bool isHostShared) {
  const char *call = "mgpuMemAlloc";
  const Driver *driver = enter(call);
  if (!driver || bytes == 0)
    return nullptr;
  CUdeviceptr ptr = 0;
  CUresult r = isHostShared
                   ? driver->memAllocManaged(&ptr, bytes, CU_MEM_ATTACH_GLOBAL)
                   : driver->memAlloc(&ptr, bytes);
  if (r) {
    recordCUDA(*driver,
               std::string(call) + ": " +
                   (isHostShared ? "cuMemAllocManaged" : "cuMemAlloc") +
                   " of " + std::to_string(bytes) + " bytes",
               r);
    return nullptr;
  }
  // All ones: NaN in every float format, -1 in every integer, so that an
  // element nobody writes shows in a check.
  if (poisonAllocations.load(std::memory_order_relaxed)) {
    if (CUresult p = driver->memsetD8(ptr, 0xff, bytes)) {
      recordCUDA(*driver, std::string(call) + ": cuMemsetD8 (poison)", p);
      driver->memFree(ptr);
      return nullptr;
    }
    if (CUresult p = driver->ctxSynchronize()) {
      recordCUDA(*driver, std::string(call) + ": cuCtxSynchronize", p);
      return reinterpret_cast<void *>(ptr);
    }
  }
  return reinterpret_cast<void *>(ptr);
}

extern "C" void mgpuMemFree(void *ptr, void * /*stream*/) {
  const Driver *driver = ptr ? enterRelease() : nullptr;
  if (driver)
    recordRelease(*driver, "mgpuMemFree: cuMemFree",
                  driver->memFree(reinterpret_cast<CUdeviceptr>(ptr)));
}

extern "C" void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  const char *call = "mgpuMemcpy";
  const Driver *driver = enter(call);
  if (!driver || bytes == 0 || isNull(dst, call, "the destination") ||
      isNull(src, call, "the source"))
    return;
  if (CUresult r = driver->memcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                       reinterpret_cast<CUdeviceptr>(src),
                                       bytes, static_cast<CUstream>(stream)))
    recordCUDA(*driver,
               std::string(call) + ": cuMemcpyAsync of " +
                   std::to_string(bytes) + " bytes",
               r);
}

extern "C" void mgpuMemset32(void *dst, unsigned int value, size_t count,
                             void *stream) {
  const char *call = "mgpuMemset32";
  const Driver *driver = enter(call);
  if (!driver || count == 0 || isNull(dst, call, "the destination"))
    return;
  if (CUresult r =
          driver->memsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                 count, static_cast<CUstream>(stream)))
    recordCUDA(*driver, std::string(call) + ": cuMemsetD32Async", r);
}

extern "C" void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             void *stream) {
  const char *call = "mgpuMemset16";
  const Driver *driver = enter(call);
  if (!driver || count == 0 || isNull(dst, call, "the destination"))
    return;
  if (CUresult r =
          driver->memsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                 count, static_cast<CUstream>(stream)))
    recordCUDA(*driver, std::string(call) + ": cuMemsetD16Async", r);
}

extern "C" void mgpuMemHostRegister(void *ptr, uint64_t bytes) {
  const char *call = "mgpuMemHostRegister";
  const Driver *driver = enter(call);
  if (!driver || bytes == 0 || isNull(ptr, call, "the buffer"))
    return;
  if (CUresult r = driver->memHostRegister(ptr, bytes, 0))
    recordCUDA(*driver, std::string(call) + ": cuMemHostRegister", r);
}

extern "C" void mgpuMemHostUnregister(void *ptr) {
  const Driver *driver = ptr ? enterRelease() : nullptr;
  if (driver)
    recordRelease(*driver, "mgpuMemHostUnregister: cuMemHostUnregister",
                  driver->memHostUnregister(ptr));
}

#else // !MOE_RT_HAVE_CUDA_HEADERS

namespace {
void noCUDA(const char *call) {
  if (!errorPending())
    record(MOE_RT_UNAVAILABLE, std::string(call) +
                                   ": this runtime was built without the CUDA "
                                   "toolkit's headers (cuda.h)");
}
} // namespace

extern "C" void *mgpuModuleLoad(void *, size_t) {
  noCUDA("mgpuModuleLoad");
  return nullptr;
}
extern "C" void *mgpuModuleLoadJIT(void *, int, size_t) {
  noCUDA("mgpuModuleLoadJIT");
  return nullptr;
}
extern "C" void mgpuModuleUnload(void *) {}
extern "C" void *mgpuModuleGetFunction(void *, const char *) {
  noCUDA("mgpuModuleGetFunction");
  return nullptr;
}
extern "C" void mgpuLaunchKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                                 intptr_t, intptr_t, int32_t, void *, void **,
                                 void **, size_t) {
  noCUDA("mgpuLaunchKernel");
}
extern "C" void mgpuLaunchClusterKernel(void *, intptr_t, intptr_t, intptr_t,
                                        intptr_t, intptr_t, intptr_t, intptr_t,
                                        intptr_t, intptr_t, int32_t, void *,
                                        void **, void **, size_t) {
  noCUDA("mgpuLaunchClusterKernel");
}
extern "C" void *mgpuStreamCreate(void) {
  noCUDA("mgpuStreamCreate");
  return nullptr;
}
extern "C" void mgpuStreamDestroy(void *) {}
extern "C" void mgpuStreamSynchronize(void *) {
  noCUDA("mgpuStreamSynchronize");
}
extern "C" void mgpuStreamWaitEvent(void *, void *) {
  noCUDA("mgpuStreamWaitEvent");
}
extern "C" void *mgpuEventCreate(void) {
  noCUDA("mgpuEventCreate");
  return nullptr;
}
extern "C" void mgpuEventDestroy(void *) {}
extern "C" void mgpuEventSynchronize(void *) { noCUDA("mgpuEventSynchronize"); }
extern "C" void mgpuEventRecord(void *, void *) { noCUDA("mgpuEventRecord"); }
extern "C" void *moe_rt_mgpu_event_create_timed(void) {
  noCUDA("moe_rt_mgpu_event_create_timed");
  return nullptr;
}
extern "C" float moe_rt_mgpu_event_elapsed_ms(void *, void *) {
  noCUDA("moe_rt_mgpu_event_elapsed_ms");
  return -1.0f;
}
extern "C" void *mgpuMemAlloc(uint64_t, void *, bool) {
  noCUDA("mgpuMemAlloc");
  return nullptr;
}
extern "C" void mgpuMemFree(void *, void *) {}
extern "C" void mgpuMemcpy(void *, void *, size_t, void *) {
  noCUDA("mgpuMemcpy");
}
extern "C" void mgpuMemset32(void *, unsigned int, size_t, void *) {
  noCUDA("mgpuMemset32");
}
extern "C" void mgpuMemset16(void *, unsigned short, size_t, void *) {
  noCUDA("mgpuMemset16");
}
extern "C" void mgpuMemHostRegister(void *, uint64_t) {
  noCUDA("mgpuMemHostRegister");
}
extern "C" void mgpuMemHostUnregister(void *) {}

#endif // MOE_RT_HAVE_CUDA_HEADERS

// A ranked memref descriptor: allocated and aligned pointers, offset, then
// sizes[rank] and strides[rank].
namespace {
struct MemRefPrefix {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[1];
};
} // namespace

extern "C" void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                          int64_t elementBytes) {
  const char *call = "mgpuMemHostRegisterMemRef";
  if (errorPending())
    return;
  if (!descriptor || rank < 0 || elementBytes <= 0) {
    record(MOE_RT_INVALID_ARGUMENT,
           std::string(call) + ": null descriptor or bad rank/element size");
    return;
  }
  auto *memref = static_cast<MemRefPrefix *>(descriptor);
  const int64_t *sizes = memref->sizesAndStrides;
  const int64_t *strides = sizes + rank;
  // Only dense row-major buffers: their bytes are one range.
  int64_t elements = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    if (sizes[i] != 1 && strides[i] != elements) {
      record(MOE_RT_INVALID_ARGUMENT, std::string(call) +
                                          ": the memref is not dense row-major "
                                          "(dimension " +
                                          std::to_string(i) + ")");
      return;
    }
    elements *= sizes[i];
  }
  mgpuMemHostRegister(memref->aligned + memref->offset * elementBytes,
                      uint64_t(elements * elementBytes));
}

extern "C" void mgpuMemHostUnregisterMemRef(int64_t /*rank*/, void *descriptor,
                                            int64_t elementBytes) {
  if (!descriptor)
    return;
  auto *memref = static_cast<MemRefPrefix *>(descriptor);
  mgpuMemHostUnregister(memref->aligned + memref->offset * elementBytes);
}
