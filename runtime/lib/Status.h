//===- Status.h - Failure reporting shared by the runtime's parts ---------===//
//
// Private to runtime/lib. Every entry point returns a moe_rt_status and, on
// failure, leaves a message for moe_rt_last_error() on the calling thread.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_LIB_STATUS_H
#define MOE_RUNTIME_LIB_STATUS_H

#include "moe-runtime/MoERuntime.h"

#include <string>

namespace moe_rt {
/// Records `message` as this thread's last error and returns `status`.
moe_rt_status fail(moe_rt_status status, std::string message);

inline moe_rt_status failArgument(std::string message) {
  return fail(MOE_RT_INVALID_ARGUMENT, std::move(message));
}
} // namespace moe_rt

#endif // MOE_RUNTIME_LIB_STATUS_H
