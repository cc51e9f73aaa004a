// RUN: moe-opt %s --pass-pipeline="builtin.module(func.func(moe-cpu-parallel-rows))" --split-input-file | FileCheck %s
// RUN: moe-opt %s --pass-pipeline="builtin.module(func.func(moe-cpu-parallel-rows{min-rows=8}))" --split-input-file | FileCheck %s --check-prefix=OPTIONS
// RUN: moe-opt %s --pass-pipeline="builtin.module(func.func(moe-cpu-vectorize-elementwise{vector-width=16},moe-cpu-parallel-rows))" --split-input-file | FileCheck %s --check-prefix=ELEMENTWISE
// RUN: moe-opt %s --pass-pipeline="builtin.module(func.func(moe-cpu-parallel-rows,moe-cpu-matmul-kernels))" --split-input-file | FileCheck %s --check-prefix=KERNELS
// RUN: not moe-opt %s --pass-pipeline="builtin.module(func.func(moe-cpu-parallel-rows{min-rows=0}))" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// A loop over rows that moe-cpu-vectorize-elementwise marked: chosen at run
// time, an scf.parallel over the same rows with at least 64 of them, else
// the loop as it was. The mark is gone from both.
// CHECK-LABEL: func.func @scale
// CHECK-SAME: (%[[Y:[^:]+]]: memref<?x32xf32>, %[[W:[^:]+]]: memref<?xf32>)
// CHECK: %[[ROWS:.+]] = memref.dim %[[Y]], %c0
// CHECK: %[[N:.+]] = arith.subi %[[ROWS]], %c0
// CHECK: %[[ENOUGH:.+]] = arith.cmpi sge, %[[N]], %c64
// CHECK: scf.if %[[ENOUGH]] {
// CHECK:   scf.parallel (%[[I:.+]]) = (%c0) to (%[[ROWS]]) step (%c1) {
// CHECK:     memref.load %[[W]][%[[I]]]
// CHECK:     scf.for %[[J:.+]] = %c0 to %c32 step %c16 {
// CHECK:       vector.load %[[Y]][%[[I]], %[[J]]]
// CHECK:       arith.mulf
// CHECK:       vector.store
// CHECK:     scf.reduce
// CHECK: } else {
// CHECK:   scf.for %[[I2:.+]] = %c0 to %[[ROWS]] step %c1 {
// CHECK:     memref.load %[[W]][%[[I2]]]
// CHECK:     scf.for
// CHECK-NOT: moe.parallel_rows
// CHECK: return
// OPTIONS-LABEL: func.func @scale
// OPTIONS: arith.cmpi sge, %{{.+}}, %c8
func.func @scale(%y: memref<?x32xf32>, %w: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %rows = memref.dim %y, %c0 : memref<?x32xf32>
  scf.for %i = %c0 to %rows step %c1 {
    %s = memref.load %w[%i] : memref<?xf32>
    %sv = vector.broadcast %s : f32 to vector<16xf32>
    scf.for %j = %c0 to %c32 step %c16 {
      %v = vector.load %y[%i, %j] : memref<?x32xf32>, vector<16xf32>
      %m = arith.mulf %v, %sv : vector<16xf32>
      vector.store %m, %y[%i, %j] : memref<?x32xf32>, vector<16xf32>
    }
  } {moe.parallel_rows = 1 : i64}
  return
}

// -----

// A loop whose iterations cover 16 rows each (the gate's token tiles): 4 of
// them are 64 rows. A matmul inside the parallel form gets a serial kernel.
// CHECK-LABEL: func.func @tiles
// CHECK: %[[N:.+]] = arith.subi
// CHECK: %[[ENOUGH:.+]] = arith.cmpi sge, %[[N]], %c4
// CHECK: scf.if %[[ENOUGH]] {
// CHECK:   scf.parallel
// CHECK: } else {
// CHECK:   scf.for
// OPTIONS-LABEL: func.func @tiles
// OPTIONS: arith.cmpi sge, %{{.+}}, %c1{{(_[0-9]+)?}} :
// KERNELS-LABEL: func.func @tiles
// KERNELS: scf.if
// KERNELS: scf.parallel
// KERNELS-NOT: scf.parallel
// KERNELS: vector.fma
// KERNELS: } else {
func.func @tiles(%x: memref<?x64xf32>, %w: memref<64x64xf32>, %out: memref<?x64xf32>, %tiles: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %tiles step %c1 {
    %first = arith.muli %i, %c16 : index
    %rows = memref.subview %x[%first, 0] [16, 64] [1, 1]
        : memref<?x64xf32> to memref<16x64xf32, strided<[64, 1], offset: ?>>
    %acc = memref.subview %out[%first, 0] [16, 64] [1, 1]
        : memref<?x64xf32> to memref<16x64xf32, strided<[64, 1], offset: ?>>
    linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
        ins(%rows, %w : memref<16x64xf32, strided<[64, 1], offset: ?>>, memref<64x64xf32>)
        outs(%acc : memref<16x64xf32, strided<[64, 1], offset: ?>>)
  } {moe.parallel_rows = 16 : i64}
  return
}

// -----

// A marked loop inside a marked loop (a fill inside the gate's tiles): the
// outer loop's parallel form holds the inner loop serial; its serial form
// gives the inner loop its own choice.
// CHECK-LABEL: func.func @nested
// CHECK: scf.if
// CHECK-NEXT: scf.parallel
// CHECK-NOT: scf.if
// CHECK: scf.for
// CHECK: vector.store
// CHECK: } else {
// CHECK-NEXT: scf.for
// CHECK: scf.if
// CHECK-NEXT: scf.parallel
// CHECK: vector.store
// CHECK: } else {
// CHECK-NEXT: scf.for
// CHECK: vector.store
// CHECK-NOT: moe.parallel_rows
func.func @nested(%y: memref<?x16xf32>, %tiles: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant dense<0.0> : vector<16xf32>
  scf.for %t = %c0 to %tiles step %c1 {
    scf.for %i = %c0 to %c16 step %c1 {
      %row = arith.addi %t, %i : index
      vector.store %zero, %y[%row, %c0] : memref<?x16xf32>, vector<16xf32>
    } {moe.parallel_rows = 1 : i64}
  } {moe.parallel_rows = 16 : i64}
  return
}

// -----

// Left serial (the mark removed): loops not marked, loops inside a parallel
// region (an expert's code that moe-cpu-parallel-experts shares among
// threads) or a parallel loop, loops with results, steps other than 1.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.if
// CHECK-NOT: moe.parallel_rows
// CHECK: return
func.func @left_alone(%y: memref<?x16xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant dense<0.0> : vector<16xf32>
  %f0 = arith.constant 0.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    vector.store %zero, %y[%i, %c0] : memref<?x16xf32>, vector<16xf32>
  }
  omp.parallel {
    scf.for %i = %c0 to %n step %c1 {
      vector.store %zero, %y[%i, %c0] : memref<?x16xf32>, vector<16xf32>
    } {moe.parallel_rows = 1 : i64}
    omp.terminator
  }
  scf.parallel (%e) = (%c0) to (%c2) step (%c1) {
    scf.for %i = %c0 to %n step %c1 {
      vector.store %zero, %y[%i, %c0] : memref<?x16xf32>, vector<16xf32>
    } {moe.parallel_rows = 1 : i64}
    scf.reduce
  }
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %f0) -> (f32) {
    %v = memref.load %y[%i, %c0] : memref<?x16xf32>
    %a = arith.addf %acc, %v : f32
    scf.yield %a : f32
  } {moe.parallel_rows = 1 : i64}
  scf.for %i = %c0 to %n step %c2 {
    vector.store %zero, %y[%i, %c0] : memref<?x16xf32>, vector<16xf32>
  } {moe.parallel_rows = 1 : i64}
  return %sum : f32
}

// -----

// After moe-cpu-vectorize-elementwise: a fill's and an activation's rows
// parallel with rows enough; the loop over the vectors stays inside.
// ELEMENTWISE-LABEL: func.func @fill_and_silu
// ELEMENTWISE: scf.if
// ELEMENTWISE: scf.parallel
// ELEMENTWISE: scf.for {{.*}} step %c16
// ELEMENTWISE: vector.store
// ELEMENTWISE: } else {
// ELEMENTWISE: scf.if
// ELEMENTWISE: scf.parallel
// ELEMENTWISE: scf.for {{.*}} step %c16
// ELEMENTWISE: math.exp {{.*}} : vector<16xf32>
// ELEMENTWISE-NOT: moe.parallel_rows
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @fill_and_silu(%x: memref<?x64xf32>, %y: memref<?x64xf32>) {
  %c = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%c : f32) outs(%y : memref<?x64xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %s = arith.divf %v, %d : f32
    linalg.yield %s : f32
  }
  return
}

// BAD: moe-cpu-parallel-rows: min-rows must be at least 1, got 0
