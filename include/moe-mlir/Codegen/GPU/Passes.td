//===- Passes.td - GPU code generation passes --------------*- tablegen -*-===//
//
// Passes below the moe dialect that prepare code for GPUs: they touch no moe
// op. moe-gpu-pipeline composes them.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CODEGEN_GPU_PASSES_TD
#define MOE_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"


def MoEGPUSharedBuffersPass : Pass<"moe-gpu-shared-buffers", "::mlir::ModuleOp"> {
  let summary = "Allocate the host code's buffers where GPU kernels can "
                "reach them";
  let description = [{
    After `gpu-kernel-outlining`, the host code of a function that launches
    kernels still allocates its temporaries with `memref.alloc`: host memory,
    which a kernel cannot read. This pass rewrites each such `memref.alloc`
    into `gpu.alloc host_shared` and its `memref.dealloc` into `gpu.dealloc`
    (in the asynchronous form, on a stream of its own waited for at once,
    which is the form `gpu-to-llvm` lowers),
    so that the buffers live in memory both the host loops (the dispatch's
    scans run there) and the kernels can access (managed memory under
    CUDA). Functions without a `gpu.launch_func` are left alone, and so is
    everything when the module has no GPU code. The function's own arguments
    are the caller's business: they must be device-accessible too.

    Example: `moe-opt --moe-gpu-shared-buffers kernels.mlir`
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

//===----------------------------------------------------------------------===//
// Tensor-core kernels
//===----------------------------------------------------------------------===//

def MoEGPUGroupedMatmulKernelPass
    : Pass<"moe-gpu-grouped-matmul-kernel", "::mlir::ModuleOp"> {
  let summary = "Add a tensor-core grouped GEMM kernel (bf16, mma.sync or "
                "wgmma) for one shape to the module";
  let description = [{
    Appends to the module (and marks it `gpu.container_module`) a
    `gpu.module` holding one kernel for the grouped GEMM of an MoE layer,
    `C[r, :] = A[r, :] * B[e(r)]^T` for the rows `r` of expert `e`
    (`offsets[e] <= r < offsets[e + 1]`):

        gpu.func @<kernel>(%A: memref<?xKxbf16>, %B: memref<ExNxKxbf16>,
                           %offsets: memref<E+1 x i32>, %C: memref<?xNxbf16>)

    The tiles come from `n` and `k` (`chooseGroupedMatmulTiling`): a block
    computes a blockM x blockN tile of one expert's rows, 8 or 4 warps each
    holding a grid of 16x8 f32 accumulators, k in steps of blockK staged in
    shared memory by `nvgpu.device_async_copy` (cp.async, multi-buffered),
    read with `nvgpu.ldmatrix` and multiplied with `mma.sync` m16n8k16 bf16
    (emitted as `nvvm.mma.sync`: MLIR 22's `nvgpu.mma.sync` does not lower
    bf16). The grid is (n / blockN) x (a bound on the row tiles): each block
    finds its expert from the offsets (a prefix sum of per-expert tile
    counts) and masks the rows past the expert's end; f32 is rounded to bf16
    once, at the store. Blocks are walked in groups of row tiles that sweep
    the n tiles together (L2 reuse of one expert's weight tile).

    With `chip=sm_90a`, where n is a multiple of 128 and k of 64, the kernel
    is the wgmma variant instead: two warpgroups each multiply 64 x blockN
    (blockN = 256 where n allows, else 128) with `nvvm.wgmma.mma_async`
    m64nNk16 bf16, both operands read from shared memory through matrix
    descriptors; cp.async stores the 128x64 A and blockNx64 B tiles in
    wgmma's 128-byte swizzled layout, 3 to 6 stages in dynamic shared memory
    (about 193 KiB), fenced for the async proxy before each step's barrier;
    the multiplies stay asynchronous (one group queued while the next
    step's copies are issued). Each warp finds the block's expert with a
    shuffle scan of 32 experts' tile counts at a time.

    The kernel's `moe.tile`, `moe.variant` ("mma.sync" or "wgmma"),
    `moe.dynamic_smem` (bytes of dynamic shared memory to launch with) and
    `known_block_size` say how to launch it.

    Example:
    `moe-opt --moe-gpu-grouped-matmul-kernel="n=4096 k=7168 experts=256"`
    on an empty module, then `--gpu-lower-to-nvvm-pipeline`; add
    `chip=sm_90a` and lower with `cubin-chip=sm_90a` for the wgmma kernel.
  }];
  let options = [
    Option<"n", "n", "int64_t", "0", "Output columns (rows of each expert's "
           "weight): a multiple of 16">,
    Option<"k", "k", "int64_t", "0", "Reduction size (columns of A and of "
           "the weights): a multiple of 16">,
    Option<"experts", "experts", "int64_t", "0", "Number of experts">,
    Option<"chip", "chip", "std::string", "\"sm_80\"", "The chip the kernel "
           "is for: sm_80, sm_90 (mma.sync) or sm_90a (wgmma where n is a "
           "multiple of 128 and k of 64, mma.sync otherwise)">,
    Option<"blockN", "block-n", "int64_t", "0", "wgmma only, for measuring "
           "alternatives: the n tile (128 or 256) instead of the "
           "generator's">,
    Option<"stages", "stages", "int64_t", "0", "wgmma only, for measuring "
           "alternatives: the shared-memory stages (3 to 6) instead of the "
           "generator's; two blocks a multiprocessor when they fit">,
    Option<"moduleName", "module-name", "std::string", "\"grouped_matmul\"",
           "Name of the gpu.module">,
    Option<"kernelName", "kernel-name", "std::string", "\"grouped_matmul\"",
           "Name of the kernel">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // MOE_CODEGEN_GPU_PASSES_TD
