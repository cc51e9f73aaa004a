//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//

#ifndef MOE_MLIR_CODEGEN_CPU_PASSES_H
#define MOE_MLIR_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Pass/Pass.h"

#include <cstdint>
#include <string>

namespace mlir::moe {

#define GEN_PASS_DECL
#include "moe-mlir/Codegen/CPU/Passes.h.inc"

/// What the CPU code generation needs to know about a CPU, as LLVM's host
/// detection reports it.
struct CPUTarget {
  /// LLVM's name of the CPU (e.g. sapphirerapids, znver4).
  std::string name;
  /// f32 lanes of its widest vector registers: 16 (AVX-512), 8 (AVX2 or
  /// less).
  int64_t vectorWidth = 8;
  /// AVX512-BF16 (vdpbf16ps).
  bool hasBF16Dot = false;
  /// Whether bf16 matmuls should use vdpbf16ps rather than widening to f32:
  /// where it has AVX512-BF16 and no AMX. Measured on a Xeon with AMX
  /// (Emerald Rapids), vdpbf16ps ran at 0.75x the widened f32 FMA kernel: its
  /// bf16 engine is AMX; Zen 4 (no AMX) issues vdpbf16ps at the FMA rate
  /// with twice the FLOPs per instruction.
  bool prefersBF16Dot = false;
  /// AMX with bf16 tile products (amx-tile, amx-bf16).
  bool hasAMX = false;
};

/// The CPU this process runs on (llvm::sys::getHostCPUName and
/// getHostCPUFeatures).
CPUTarget getHostCPUTarget();

/// Asks Linux for the AMX tile state of this process (arch_prctl
/// ARCH_REQ_XCOMP_PERM, Linux 5.16 and later): without it the first AMX
/// instruction raises SIGILL. Returns whether it is granted; asks once.
bool requestAMXState();

/// The attribute moe-cpu-matmul-kernels{pack-weights} puts on a function
/// whose weights it packs: one dictionary per packed argument (argument,
/// pack, shape, element).
constexpr llvm::StringLiteral kPackedWeightsAttrName = "moe.packed_weights";

#define GEN_PASS_REGISTRATION
#include "moe-mlir/Codegen/CPU/Passes.h.inc"

} // namespace mlir::moe

#endif // MOE_MLIR_CODEGEN_CPU_PASSES_H
