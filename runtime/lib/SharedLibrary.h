//===- SharedLibrary.h - A library opened at run time, and its symbols ----===//
//
// Private to runtime/lib. The CUDA driver (GPU.cpp) and NCCL (CommNCCL.cpp)
// are opened with dlopen rather than linked, so that the runtime loads on a
// machine without them; this opens one and fills a table of its entry
// points, keeping the first failure as the reason there is none.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_LIB_SHAREDLIBRARY_H
#define MOE_RUNTIME_LIB_SHAREDLIBRARY_H

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <type_traits>

namespace moe_rt {
class SharedLibrary {
public:
  /// Opens $envVar, or `fallback` when it is unset or empty. `absent` starts
  /// the message when it cannot be opened ("no NCCL: cannot load ..."),
  /// `owner` the one when a symbol is missing ("NCCL <path> lacks ...").
  SharedLibrary(const char *envVar, const char *fallback, const char *absent,
                const char *owner)
      : owner(owner) {
    const char *chosen = std::getenv(envVar);
    path = chosen && *chosen ? chosen : fallback;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *why = dlerror();
      failure = std::string(absent) + ": cannot load " + path + " (" +
                (why ? why : "unknown error") + ")";
    }
  }

  /// Fills `slot` with `symbol`; the first one missing becomes the failure.
  template <typename Function> void load(Function &slot, const char *symbol) {
    slot = nullptr;
    if (!handle)
      return;
    slot = reinterpret_cast<Function>(dlsym(handle, symbol));
    if (!slot && failure.empty())
      failure = owner + path + " lacks " + symbol;
  }

  /// Empty when the library and every symbol asked for are there.
  std::string failure;
  std::string path;

private:
  void *handle = nullptr;
  std::string owner;
};
} // namespace moe_rt

#endif // MOE_RUNTIME_LIB_SHAREDLIBRARY_H
