//===- GroupedMatmulKernel.h - Tensor-core grouped GEMM kernels -*- C++ -*-===//
//
// A generator of GPU kernels for the grouped GEMM of a mixture-of-experts
// layer: rows grouped by expert, each group multiplied by its expert's
// weight matrix, on the tensor cores (bf16 in, f32 accumulation) with
// shared-memory staging through asynchronous copies. Two variants:
// mma.sync m16n8k16 from ldmatrix fragments (sm_80 and up), and, for
// sm_90a, wgmma.mma_async reading both operands from 128-byte-swizzled
// shared memory through matrix descriptors.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_CODEGEN_GPU_GROUPEDMATMULKERNEL_H
#define MOE_MLIR_CODEGEN_GPU_GROUPEDMATMULKERNEL_H

#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>

namespace mlir {
namespace gpu {
class GPUModuleOp;
} // namespace gpu
namespace moe {

/// The problem: C[r, :] = A[r, :] * B[e(r)]^T for the rows r of expert e,
/// offsets[e] <= r < offsets[e + 1]. A is [R, k] and C is [R, n], both bf16
/// row-major with R dynamic; B is [experts, n, k] bf16 ([out, in], the
/// "col" B operand of mma.sync); offsets is [experts + 1] i32 on the device.
struct GroupedMatmulProblem {
  int64_t n = 0;
  int64_t k = 0;
  int64_t experts = 0;
  /// The chip the kernel is for: "sm_80", "sm_90" or "sm_90a" (the
  /// architecture-specific Hopper target, the only one with wgmma).
  std::string chip = "sm_80";
  /// For measuring alternatives: the wgmma kernel's n tile (128 or 256)
  /// and stage count (3 to 6), in place of the generator's; 0 = its choice.
  int64_t blockN = 0;
  int64_t stages = 0;
};

/// How a kernel tiles the problem. A block computes blockM x blockN of C
/// for one expert, stepping through k by blockK; its warpsM x warpsN warps
/// each own a (blockM / warpsM) x (blockN / warpsN) tile of 16 x 8
/// mma.sync tiles. `stages` shared-memory buffers of A and B tiles are in
/// flight (cp.async multi-buffering); rows are padded by `pad` elements so
/// that ldmatrix reads hit distinct banks.
///
/// With `wgmma`, the block's warps form blockM / 64 warpgroups, each
/// computing 64 x blockN with wgmma.mma_async m64nNk16; blockK is 64 (one
/// 128-byte swizzle atom a row, no padding) and the stages live in dynamic
/// shared memory (sharedBytes() of it, with 1 KiB of slack to align the
/// swizzle atoms).
///
/// Blocks are ordered so that `groupM` consecutive row tiles sweep every n
/// tile together: the weight tile of one expert that they share is read
/// from device memory about once per group, and the group's rows of A stay
/// in L2 while the n tiles pass.
struct GroupedMatmulTiling {
  int64_t blockM = 0, blockN = 0, blockK = 0;
  int64_t warpsM = 0, warpsN = 0;
  int64_t stages = 0;
  int64_t pad = 8;
  int64_t groupM = 1;
  bool wgmma = false;
  /// Blocks a multiprocessor should hold at once (the kernel's
  /// nvvm.minctasm, which caps its registers): 2 when the stages fit in
  /// half of Hopper's shared memory.
  int64_t blocksPerSM = 1;

  int64_t threads() const { return 32 * warpsM * warpsN; }
  /// Shared memory of the kernel, in bytes: static for mma.sync, dynamic
  /// (to be passed at launch) for wgmma.
  int64_t sharedBytes() const {
    if (wgmma)
      return stages * (blockM + blockN) * blockK * 2 + 1024;
    return stages * (blockM + blockN) * (blockK + pad) * 2;
  }
  int64_t dynamicSharedBytes() const { return wgmma ? sharedBytes() : 0; }
  /// The launch grid for `rows` rows in all (grouped by expert): x over the
  /// n tiles, y over a bound on the per-expert row tiles (a block past the
  /// last tile returns at once).
  int64_t gridX(const GroupedMatmulProblem &p) const { return p.n / blockN; }
  int64_t gridY(const GroupedMatmulProblem &p, int64_t rows) const {
    return (rows + blockM - 1) / blockM + p.experts;
  }
};

/// The tiling the generator uses for `problem`, from n, k and the chip;
/// fails (with the reason in `why`) when the shape is not supported: n must
/// be a multiple of 16 and k of 16. For sm_90a the wgmma variant is chosen
/// when n is a multiple of 128 and k of 64, mma.sync otherwise.
FailureOr<GroupedMatmulTiling>
chooseGroupedMatmulTiling(const GroupedMatmulProblem &problem,
                          std::string &why);

/// Builds, at the builder's insertion point (inside a module with
/// gpu.container_module), `gpu.module @<moduleName>` holding one kernel
/// `gpu.func @<kernelName>(A, B, offsets, C)`, with the memref types above.
/// The kernel carries its tiling as `moe.tile = [blockM, blockN, blockK]`,
/// its variant as `moe.variant = "mma.sync" | "wgmma"`, its dynamic shared
/// memory in bytes as `moe.dynamic_smem` and its block size as
/// `known_block_size`; launch it on tiling.gridX x tiling.gridY blocks with
/// that much dynamic shared memory.
gpu::GPUModuleOp buildGroupedMatmulKernel(OpBuilder &builder, Location loc,
                                          const GroupedMatmulProblem &problem,
                                          const GroupedMatmulTiling &tiling,
                                          StringRef moduleName,
                                          StringRef kernelName);

} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_CODEGEN_GPU_GROUPEDMATMULKERNEL_H
