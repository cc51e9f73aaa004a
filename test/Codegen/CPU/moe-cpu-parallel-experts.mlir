// RUN: moe-opt %s --moe-cpu-parallel-experts --split-input-file | FileCheck %s
// RUN: moe-opt %s --moe-cpu-parallel-experts="min-rows=4 experts-per-thread=2" --split-input-file | FileCheck %s --check-prefix=OPTIONS
// RUN: moe-opt %s --moe-cpu-parallel-experts --moe-cpu-matmul-kernels --split-input-file | FileCheck %s --check-prefix=KERNELS
// RUN: not moe-opt %s --moe-cpu-parallel-experts="experts-per-thread=0" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// A grouped product's expert loop (as convert-moe-to-linalg builds it, on
// buffers): reads offsets[e] and offsets[e + 1], runs the expert's matmul on
// its rows. The pass chooses at run time: with at least 8 experts per
// OpenMP thread the experts are shared among threads (a dynamic schedule);
// otherwise the loop runs as it was. With min-rows (here 4), also at least
// that many rows per expert on average (offsets[16] - offsets[0] >= 4 * 16).
// CHECK: func.func private @omp_get_max_threads() -> i32
// CHECK-LABEL: func.func @experts
// CHECK-SAME: (%[[X:[^:]+]]: memref<?x64xf32>, %[[W:[^:]+]]: memref<16x128x64xf32>, %[[OUT:[^:]+]]: memref<?x128xf32>, %[[OFF:[^:]+]]: memref<17xi32>)
// CHECK-NOT: memref.load
// CHECK: %[[THREADS:.+]] = call @omp_get_max_threads() : () -> i32
// CHECK: %[[T:.+]] = arith.index_cast %[[THREADS]] : i32 to index
// CHECK: %[[NEEDED:.+]] = arith.muli %[[T]], %c8
// CHECK: %[[SHARED:.+]] = arith.cmpi sle, %[[NEEDED]], %c16
// CHECK-NOT: memref.load
// CHECK: scf.if %[[SHARED]] {
// CHECK: omp.parallel {
// CHECK: omp.wsloop schedule(dynamic) {
// CHECK: omp.loop_nest (%[[E:.+]]) : index = (%{{.+}}) to (%{{.+}}) step (%{{.+}}) {
// CHECK: memref.load %[[OFF]][%[[E]]]
// CHECK: linalg.matmul
// CHECK: omp.yield
// CHECK: omp.terminator
// CHECK: } else {
// CHECK: scf.for %[[E2:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: memref.load %[[OFF]][%[[E2]]]
// CHECK: linalg.matmul
// CHECK: } {moe.expert_loop}
// OPTIONS: arith.muli %{{.+}}, %c2
// OPTIONS: %[[ENOUGH_EXPERTS:.+]] = arith.cmpi sle
// OPTIONS: %[[LAST:.+]] = memref.load %{{.+}}[%c16{{.*}}] : memref<17xi32>
// OPTIONS: %[[FIRST:.+]] = memref.load %{{.+}}[%c0{{.*}}] : memref<17xi32>
// OPTIONS: %[[ROWS:.+]] = arith.subi
// OPTIONS: %[[ENOUGH_ROWS:.+]] = arith.cmpi sge, %[[ROWS]], %c64
// OPTIONS: %[[SHARED:.+]] = arith.andi %[[ENOUGH_ROWS]], %[[ENOUGH_EXPERTS]]
// OPTIONS: scf.if %[[SHARED]] {
// The matmul inside the shared loop gets a serial kernel; the one in the
// loop as it was keeps its parallel column blocks.
// KERNELS: omp.loop_nest
// KERNELS-NOT: scf.parallel
// KERNELS: vector.fma
// KERNELS: omp.yield
// KERNELS: } else {
// KERNELS: scf.parallel
// KERNELS: vector.fma
// BAD: moe-cpu-parallel-experts: min-rows must be at least 0 and experts-per-thread at least 1
func.func @experts(%x: memref<?x64xf32>, %w: memref<16x128x64xf32>,
                   %out: memref<?x128xf32>, %offsets: memref<17xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %e = %c0 to %c16 step %c1 {
    %b32 = memref.load %offsets[%e] : memref<17xi32>
    %next = arith.addi %e, %c1 : index
    %e32 = memref.load %offsets[%next] : memref<17xi32>
    %begin = arith.index_cast %b32 : i32 to index
    %end = arith.index_cast %e32 : i32 to index
    %count = arith.subi %end, %begin : index
    %rows = memref.subview %x[%begin, 0] [%count, 64] [1, 1]
        : memref<?x64xf32> to memref<?x64xf32, strided<[64, 1], offset: ?>>
    %weight = memref.subview %w[%e, 0, 0] [1, 128, 64] [1, 1, 1]
        : memref<16x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
    %acc = memref.subview %out[%begin, 0] [%count, 128] [1, 1]
        : memref<?x128xf32> to memref<?x128xf32, strided<[128, 1], offset: ?>>
    linalg.matmul indexing_maps = [#a, #bt, #c]
        ins(%rows, %weight : memref<?x64xf32, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1], offset: ?>>)
        outs(%acc : memref<?x128xf32, strided<[128, 1], offset: ?>>)
  } {moe.expert_loop}
  return
}

// -----

// Loops the lowering did not mark, or whose offsets it cannot find, stay.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: omp.
// CHECK-NOT: scf.if
func.func @left_alone(%offsets: memref<17xi32>, %other: memref<16xi32>,
                      %out: memref<16xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %e = %c0 to %c16 step %c1 {
    %v = memref.load %offsets[%e] : memref<17xi32>
    memref.store %v, %out[%e] : memref<16xi32>
  }
  scf.for %e = %c0 to %c16 step %c1 {
    %v = memref.load %other[%e] : memref<16xi32>
    memref.store %v, %out[%e] : memref<16xi32>
  } {moe.expert_loop}
  return
}
