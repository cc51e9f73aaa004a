//===- HostTarget.cpp - The host CPU's vector features --------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

mlir::moe::CPUTarget mlir::moe::getHostCPUTarget() {
  CPUTarget target;
  target.name = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef name) { return features.lookup(name); };
  target.vectorWidth = has("avx512f") ? 16 : 8;
  target.hasBF16Dot = has("avx512f") && has("avx512bf16");
  target.prefersBF16Dot = target.hasBF16Dot && !has("amx-bf16");
  target.hasAMX = has("amx-tile") && has("amx-bf16");
  return target;
}

bool mlir::moe::requestAMXState() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kRequestPermission = 0x1023; // ARCH_REQ_XCOMP_PERM
  constexpr long kTileData = 18;              // XFEATURE_XTILEDATA
  static const bool granted =
      syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
  return granted;
#else
  return false;
#endif
}
