// RUN: moe-opt %s --moe-cpu-vectorize-elementwise="vector-width=16" | FileCheck %s
// RUN: not moe-opt %s --moe-cpu-vectorize-elementwise="vector-width=0" 2>&1 | FileCheck %s --check-prefix=WIDTH

// moe-cpu-vectorize-elementwise: elementwise linalg ops whose innermost loop
// the vector width divides become loops over [1, 16] tiles of vector code;
// fills of buffers become vector stores; the rest is left alone. The loop
// over the rows (an op's outermost dimension, parallel, not the vectors')
// is marked moe.parallel_rows for moe-cpu-parallel-rows.

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// The dispatch's row gather on tensors: rows read through indices. The row
// index is the same for the tile's 16 lanes (read before the tile's op), so
// each tile is one contiguous load, not a gather.
// CHECK-LABEL: func.func @gather
// CHECK:         scf.for
// CHECK:           scf.for %[[J:.*]] = {{.*}} step %c16
// CHECK:             %[[ID:.*]] = tensor.extract %{{.*}}[%c0] : tensor<1xi32>
// CHECK:             %[[ROW:.*]] = arith.index_cast %[[ID]] : i32 to index
// CHECK:             vector.transfer_read %{{.*}}[%[[ROW]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<?x32xf32>, vector<16xf32>
// CHECK-NOT:         vector.gather
// CHECK:             vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x16xf32>
// CHECK-NOT:     linalg.generic
func.func @gather(%x: tensor<?x32xf32>, %src: tensor<?xi32>, %out: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %r = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%src : tensor<?xi32>) outs(%out : tensor<?x32xf32>) {
  ^bb0(%s: i32, %o: f32):
    %j = linalg.index 1 : index
    %i = arith.index_cast %s : i32 to index
    %v = tensor.extract %x[%i, %j] : tensor<?x32xf32>
    linalg.yield %v : f32
  } -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// The combine: a reduction over each token's slots (innermost in the op)
// around a gather of expert output rows. The column loop moves innermost,
// the slots outward, one at a time and in order: each tile is a contiguous
// load, a multiply by the slot's weight and an add.
// CHECK-LABEL: func.func @combine
// CHECK:         scf.for %[[T:.*]] = %c0 to
// CHECK:           scf.for %[[S:.*]] = %c0 to %c2 step %c1
// CHECK:             scf.for {{.*}} = %c0 to %c32 step %c16
// CHECK:               vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<?x32xf32>, vector<16xf32>
// CHECK-NOT:           vector.gather
// CHECK:               arith.mulf {{.*}} : vector<16xf32>
// CHECK:               vector.multi_reduction <add>
// CHECK:               scf.yield
// CHECK-NEXT:        }
// CHECK-NEXT:        scf.yield
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield
// CHECK-NEXT:    } {moe.parallel_rows = 1 : i64}
#tdj_out = affine_map<(t, d, j) -> (t, d)>
#tdj_slot = affine_map<(t, d, j) -> (t, j)>
func.func @combine(%out: tensor<?x32xf32>, %rows: tensor<?x2xi32>,
                   %w: tensor<?x2xf32>, %y: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %r = linalg.generic {indexing_maps = [#tdj_slot, #tdj_slot, #tdj_out],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%rows, %w : tensor<?x2xi32>, tensor<?x2xf32>) outs(%y : tensor<?x32xf32>) {
  ^bb0(%row: i32, %weight: f32, %acc: f32):
    %d = linalg.index 1 : index
    %i = arith.index_cast %row : i32 to index
    %v = tensor.extract %out[%i, %d] : tensor<?x32xf32>
    %m = arith.mulf %weight, %v : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// A per-row scale on buffers: vector loads, a vector multiply, a store.
// CHECK-LABEL: func.func @scale
// CHECK:         scf.for
// CHECK:           scf.for {{.*}} step %c16
// CHECK:             vector.transfer_read {{.*}} vector<16xf32>
// CHECK:             vector.transfer_read {{.*}} vector<16xf32>
// CHECK:             arith.mulf {{.*}} : vector<16xf32>
// CHECK:             vector.transfer_write {{.*}} : vector<16xf32>
// CHECK:         } {moe.parallel_rows = 1 : i64}
// CHECK-NOT:     linalg.generic
func.func @scale(%y: memref<?x32xf32>, %w: memref<?xf32>) {
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w : memref<?xf32>) outs(%y : memref<?x32xf32>) {
  ^bb0(%s: f32, %o: f32):
    %m = arith.mulf %o, %s : f32
    linalg.yield %m : f32
  }
  return
}

// CHECK-LABEL: func.func @fill
// CHECK:         %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK:         scf.for
// CHECK:           scf.for {{.*}} step %c16
// CHECK:             vector.store %[[ZERO]], {{.*}} : memref<?x32xf32>, vector<16xf32>
// CHECK:           }
// CHECK-NEXT:    } {moe.parallel_rows = 1 : i64}
// CHECK-NOT:     linalg.fill
func.func @fill(%y: memref<?x32xf32>) {
  %c = arith.constant 0.0 : f32
  linalg.fill ins(%c : f32) outs(%y : memref<?x32xf32>)
  return
}

// One dimension: the vectors' own, not rows; no mark.
// CHECK-LABEL: func.func @fill_vector
// CHECK:         scf.for {{.*}} step %c16
// CHECK:           vector.store
// CHECK-NOT:     moe.parallel_rows
// CHECK:         return
func.func @fill_vector(%y: memref<64xf32>) {
  %c = arith.constant 0.0 : f32
  linalg.fill ins(%c : f32) outs(%y : memref<64xf32>)
  return
}

// 20 columns: not a multiple of 16, left to the scalar loops.
// CHECK-LABEL: func.func @odd
// CHECK:         linalg.generic
// CHECK:         linalg.fill
// CHECK-NOT:     vector.
func.func @odd(%y: memref<?x20xf32>, %w: memref<?xf32>) {
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w : memref<?xf32>) outs(%y : memref<?x20xf32>) {
  ^bb0(%s: f32, %o: f32):
    %m = arith.mulf %o, %s : f32
    linalg.yield %m : f32
  }
  %c = arith.constant 0.0 : f32
  linalg.fill ins(%c : f32) outs(%y : memref<?x20xf32>)
  return
}

// A matmul is the kernels' business.
// CHECK-LABEL: func.func @matmul
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
func.func @matmul(%a: memref<4x32xf32>, %b: memref<32x32xf32>, %c: memref<4x32xf32>) {
  linalg.matmul ins(%a, %b : memref<4x32xf32>, memref<32x32xf32>) outs(%c : memref<4x32xf32>)
  return
}

// WIDTH: vector-width must be positive, got 0
