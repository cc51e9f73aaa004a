// RUN: moe-opt %s --moe-cpu-matmul-kernels --split-input-file | FileCheck %s
// RUN: moe-opt %s --moe-cpu-matmul-kernels=vector-width=8 --split-input-file | FileCheck %s --check-prefix=W8

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// An expert's up projection: rows [?, 64] times [32, 64]^T. Full tiles of 4
// rows, then the tail one row at a time, both over column tiles of 4 and k
// steps of 16 with 16 (or 4) vector accumulators.
// CHECK-LABEL: func.func @transposed_b
// CHECK-SAME: (%[[A:[^:]+]]: memref<?x64xf32>, %[[B:[^:]+]]: memref<32x64xf32>, %[[C:[^:]+]]: memref<?x32xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: %[[M:[^ ]+]] = memref.dim %[[A]], %{{.*}}
// CHECK: %[[REM:[^ ]+]] = arith.remui %[[M]], %[[C4:[^ ]+]] : index
// CHECK: %[[FULL:[^ ]+]] = arith.subi %[[M]], %[[REM]] : index
// CHECK: scf.for %[[ROW:[^ ]+]] = %{{.*}} to %[[FULL]] step %[[C4]]
// CHECK: scf.for %[[COL:[^ ]+]] = %{{.*}} to %{{.*}} step
// CHECK: %[[ACC:[^ ]+]]:16 = scf.for %[[K:[^ ]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<16xf32>,
// CHECK: vector.load %[[A]][%[[ROW]], %[[K]]] : memref<?x64xf32>, vector<16xf32>
// CHECK: vector.load %[[B]][%[[COL]], %[[K]]] : memref<32x64xf32>, vector<16xf32>
// CHECK-COUNT-16: vector.fma
// CHECK: vector.reduction <add>, %[[ACC]]#0 fastmath<reassoc> : vector<16xf32> into f32
// CHECK: memref.load %[[C]][%[[ROW]], %[[COL]]]
// CHECK: memref.store %{{.*}}, %[[C]][%[[ROW]], %[[COL]]]
// CHECK: scf.for %[[TAIL:[^ ]+]] = %[[FULL]] to %[[M]] step
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-4: vector.fma
// W8-LABEL: func.func @transposed_b
// W8: scf.for {{.*}} -> (vector<8xf32>,
func.func @transposed_b(%a: memref<?x64xf32>, %b: memref<32x64xf32>,
                        %c: memref<?x32xf32>) {
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xf32>, memref<32x64xf32>)
      outs(%c : memref<?x32xf32>)
  return
}

// -----

// Strided views (segments of the dispatched buffer, an expert's slice of the
// stacked weights) are fine as long as rows are contiguous.
// CHECK-LABEL: func.func @strided_views
// CHECK-NOT: linalg.matmul
// CHECK: vector.load {{.*}} : memref<?x64xf32, strided<[64, 1], offset: ?>>, vector<16xf32>
func.func @strided_views(%a: memref<?x64xf32, strided<[64, 1], offset: ?>>,
                         %b: memref<32x64xf32, strided<[64, 1], offset: ?>>,
                         %c: memref<?x32xf32, strided<[32, 1], offset: ?>>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %b : memref<?x64xf32, strided<[64, 1], offset: ?>>,
                   memref<32x64xf32, strided<[64, 1], offset: ?>>)
      outs(%c : memref<?x32xf32, strided<[32, 1], offset: ?>>)
  return
}

// -----

// Left to the generic lowering: a plain (not transposed) B, k not a multiple
// of the vector width, n not a multiple of 4, bf16 operands, and tensors.
// CHECK-LABEL: func.func @unsupported
// CHECK-NOT: vector.
// CHECK-COUNT-5: linalg.matmul
func.func @unsupported(%a: memref<?x64xf32>, %bn: memref<64x32xf32>,
                       %c: memref<?x32xf32>, %a20: memref<?x20xf32>,
                       %b20: memref<32x20xf32>, %b30: memref<30x64xf32>,
                       %c30: memref<?x30xf32>, %ah: memref<?x64xbf16>,
                       %bh: memref<32x64xbf16>, %ta: tensor<?x64xf32>,
                       %tb: tensor<32x64xf32>, %tc: tensor<?x32xf32>) -> tensor<?x32xf32> {
  linalg.matmul ins(%a, %bn : memref<?x64xf32>, memref<64x32xf32>)
                outs(%c : memref<?x32xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%a20, %b20 : memref<?x20xf32>, memref<32x20xf32>)
      outs(%c : memref<?x32xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %b30 : memref<?x64xf32>, memref<30x64xf32>)
      outs(%c30 : memref<?x30xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%ah, %bh : memref<?x64xbf16>, memref<32x64xbf16>)
      outs(%c : memref<?x32xf32>)
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
      ins(%ta, %tb : tensor<?x64xf32>, tensor<32x64xf32>)
      outs(%tc : tensor<?x32xf32>) -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// -----

// A bad option is a diagnostic, not a crash.
// RUN: not moe-opt %s --moe-cpu-matmul-kernels=vector-width=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: vector-width must be positive, got 0
func.func @any() {
  return
}
