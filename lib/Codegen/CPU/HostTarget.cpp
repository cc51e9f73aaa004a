//===- HostTarget.cpp - The host CPU's vector features --------------------===//

#include "moe-mlir/Codegen/CPU/Passes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

mlir::moe::CPUTarget mlir::moe::getHostCPUTarget() {
  CPUTarget target;
  target.name = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef name) { return features.lookup(name); };
  target.vectorWidth = has("avx512f") ? 16 : 8;
  target.hasBF16Dot = has("avx512f") && has("avx512bf16");
  target.prefersBF16Dot = target.hasBF16Dot && !has("amx-bf16");
  return target;
}
