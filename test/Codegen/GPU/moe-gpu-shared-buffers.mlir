// RUN: moe-opt %s --moe-gpu-shared-buffers --split-input-file | FileCheck %s

// A function that launches a kernel: its buffers become host-shared GPU
// allocations, static and dynamic, and their deallocations gpu.dealloc in
// the asynchronous form that gpu-to-llvm lowers, waited for at once.
// CHECK-LABEL: func.func @launches
// CHECK-SAME: (%[[N:.*]]: index)
// CHECK: %[[A:.*]] = gpu.alloc host_shared () : memref<16xf32>
// CHECK: %[[B:.*]] = gpu.alloc host_shared (%[[N]]) : memref<?xf32>
// CHECK: gpu.launch_func @kernels::@fill
// CHECK-SAME: args(%[[A]] : memref<16xf32>, %[[B]] : memref<?xf32>)
// CHECK: %[[S0:.*]] = gpu.wait async
// CHECK: %[[D0:.*]] = gpu.dealloc async [%[[S0]]] %[[A]] : memref<16xf32>
// CHECK: gpu.wait [%[[D0]]]
// CHECK: %[[S1:.*]] = gpu.wait async
// CHECK: %[[D1:.*]] = gpu.dealloc async [%[[S1]]] %[[B]] : memref<?xf32>
// CHECK: gpu.wait [%[[D1]]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%a: memref<16xf32>, %b: memref<?xf32>) kernel {
      gpu.return
    }
  }
  func.func @launches(%n: index) {
    %c1 = arith.constant 1 : index
    %a = memref.alloc() : memref<16xf32>
    %b = memref.alloc(%n) : memref<?xf32>
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1) args(%a : memref<16xf32>, %b : memref<?xf32>)
    memref.dealloc %a : memref<16xf32>
    memref.dealloc %b : memref<?xf32>
    return
  }

  // No kernel, no change: host code elsewhere keeps host memory.
  // CHECK-LABEL: func.func @host_only
  // CHECK: memref.alloc() : memref<4xf32>
  // CHECK: memref.dealloc
  func.func @host_only() {
    %a = memref.alloc() : memref<4xf32>
    memref.dealloc %a : memref<4xf32>
    return
  }
}
