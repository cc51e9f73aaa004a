// RUN: moe-opt %s --moe-gpu-shared-buffers --verify-diagnostics -split-input-file

// gpu.alloc takes no symbol operands: an allocation with a layout symbol
// cannot move, and the pass says so at the allocation.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @touch(%a: memref<4xf32, affine_map<(d0)[s0] -> (d0 + s0)>>) kernel {
      gpu.return
    }
  }
  func.func @with_symbol(%s: index) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{has symbol operands, which gpu.alloc cannot take; it stays a host allocation}}
    %a = memref.alloc()[%s] : memref<4xf32, affine_map<(d0)[s0] -> (d0 + s0)>>
    gpu.launch_func @kernels::@touch blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1)
        args(%a : memref<4xf32, affine_map<(d0)[s0] -> (d0 + s0)>>)
    return
  }
}
