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
    into `gpu.alloc host_shared` and its `memref.dealloc` into `gpu.dealloc`,
    so that the buffers live in memory both the host loops (the dispatch's
    scans run there) and the kernels can access (managed memory under
    CUDA). Functions without a `gpu.launch_func` are left alone, and so is
    everything when the module has no GPU code. The function's own arguments
    are the caller's business: they must be device-accessible too.

    Example: `moe-opt --moe-gpu-shared-buffers kernels.mlir`
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // MOE_CODEGEN_GPU_PASSES_TD
