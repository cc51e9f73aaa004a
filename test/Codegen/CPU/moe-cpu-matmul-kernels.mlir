// RUN: moe-opt %s --moe-cpu-matmul-kernels --split-input-file | FileCheck %s
// RUN: moe-opt %s --moe-cpu-matmul-kernels="parallel=false" --split-input-file | FileCheck %s --check-prefix=SERIAL
// RUN: moe-opt %s --moe-cpu-matmul-kernels="bf16-dot=true" --split-input-file | FileCheck %s --check-prefix=DOT
// RUN: moe-opt %s --moe-cpu-matmul-kernels="vector-width=8 tile-vectors=2" --split-input-file | FileCheck %s --check-prefix=W8
// RUN: moe-opt %s --moe-cpu-matmul-kernels="amx=true" --split-input-file | FileCheck %s --check-prefix=AMX

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// An expert's up projection: rows [?, 64] times [128, 64]^T. One block of
// two 64-column panels (n-block 256 is more than n: one work item), with
// its packed [panels][k][nr] buffer; 16x16 shuffle transposes pack B; the micro-kernel keeps 6 x 4
// accumulators loaded from C, broadcasts A, loads the packed panel and
// multiplies with vector.fma; the rows past the last tile of 6 run kernels
// of 4, 2 and 1 rows.
// CHECK-LABEL: func.func @transposed_b
// CHECK-SAME: (%[[A:[^:]+]]: memref<?x64xf32>, %[[B:[^:]+]]: memref<128x64xf32>, %[[C:[^:]+]]: memref<?x128xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: %[[M:.+]] = memref.dim %[[A]]
// An expert without rows neither packs nor reads its weights.
// CHECK: %[[HAS_ROWS:.+]] = arith.cmpi sgt, %[[M]], %{{.*}} : index
// CHECK: scf.if %[[HAS_ROWS]] {
// CHECK: scf.parallel (%[[BLOCK:.+]]) =
// CHECK: %[[BUF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x64x64xf32>
// CHECK: scf.for %[[K0:[^ ]+]] =
// CHECK-COUNT-16: vector.load %[[B]]
// CHECK-COUNT-64: vector.shuffle
// CHECK: vector.store %{{.*}}, %[[BUF]]
// CHECK: memref.load %[[B]]
// CHECK: memref.store %{{.*}}, %[[BUF]]
// CHECK: scf.for %[[ROW:[^ ]+]] = %{{.*}} to %{{.*}} step %c6
// CHECK-COUNT-24: vector.load %[[C]]
// CHECK: %[[ACC:.+]]:24 = scf.for %[[K:[^ ]+]] = {{.*}} -> (vector<16xf32>,
// CHECK-COUNT-4: vector.load %[[BUF]][%{{.*}}, %[[K]], %{{.*}}] : memref<2x64x64xf32>, vector<16xf32>
// CHECK: %[[AV:.+]] = memref.load %[[A]][%[[ROW]], %{{.*}}]
// CHECK: %[[SPLAT:.+]] = vector.broadcast %[[AV]] : f32 to vector<16xf32>
// CHECK: vector.fma %[[SPLAT]], %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-COUNT-23: vector.fma
// CHECK: vector.store %[[ACC]]#0, %[[C]][%[[ROW]], %{{.*}}]
// CHECK: scf.if
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: scf.if
// CHECK: scf.if
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: memref.dealloc %[[BUF]]
// SERIAL-LABEL: func.func @transposed_b
// SERIAL-NOT: scf.parallel
// SERIAL: vector.fma
// W8-LABEL: func.func @transposed_b
// W8: memref.alloc() {alignment = 64 : i64} : memref<8x64x16xf32>
// W8-COUNT-16: vector.load {{.*}} : memref<128x64xf32>, vector<16xf32>
// W8: scf.for {{.*}} -> (vector<8xf32>,
// W8: vector.fma {{.*}} : vector<8xf32>
func.func @transposed_b(%a: memref<?x64xf32>, %b: memref<128x64xf32>,
                        %c: memref<?x128xf32>) {
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xf32>, memref<128x64xf32>)
      outs(%c : memref<?x128xf32>)
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// bf16 rows and weights, f32 accumulator. Without dot products both are
// widened to f32 (B while packing, A when broadcast) and the kernel is the
// f32 one. With them, B is packed as k pairs ([panels][k / 2][2 nr] bf16,
// 32-bit lanes through the transposes), A's pairs are broadcast as i32, and
// x86vector.avx512.dot accumulates.
// CHECK-LABEL: func.func @bf16
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x64x64xf32>
// CHECK: arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: arith.extf {{.*}} : bf16 to f32
// CHECK: vector.fma
// CHECK-NOT: x86vector
// DOT-LABEL: func.func @bf16
// DOT: %[[BUF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x32x128xbf16>
// DOT: vector.bitcast {{.*}} : vector<32xbf16> to vector<16xi32>
// DOT: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// DOT: scf.for {{.*}} -> (vector<16xf32>,
// DOT: %[[BV:.+]] = vector.load %[[BUF]]{{.*}} : memref<1x32x128xbf16>, vector<32xbf16>
// DOT: %[[PAIR:.+]] = vector.load %{{.*}} : memref<?x64xbf16>, vector<2xbf16>
// DOT: %[[LANE:.+]] = vector.bitcast %[[PAIR]] : vector<2xbf16> to vector<1xi32>
// DOT: %[[SPLAT:.+]] = vector.broadcast %{{.*}} : i32 to vector<16xi32>
// DOT: %[[AV:.+]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<32xbf16>
// DOT: x86vector.avx512.dot %{{.*}}, %[[AV]], %[[BV]] : vector<32xbf16> -> vector<16xf32>
// DOT-NOT: vector.fma
// DOT-LABEL: func.func @router_strided
//
// With AMX tiles, B is packed in pairs as for the dot products (the tiles'
// VNNI layout); blocks of 32 rows take 2 x 2 tile products per 32 values of
// k, unrolled over the k block (k = 64: two steps of 4 products for each 32
// columns); the rows past the last block go through zeroed copies of their A
// and C rows, so that they take the same tile products.
// AMX-LABEL: func.func @bf16
// AMX: %[[BUF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x32x128xbf16>
// AMX: %[[APAD:.+]] = memref.alloc() {alignment = 64 : i64} : memref<32x64xbf16>
// AMX: %[[CPAD:.+]] = memref.alloc() {alignment = 64 : i64} : memref<32x64xf32>
// AMX: linalg.fill {{.*}} outs(%[[APAD]]
// AMX: linalg.fill {{.*}} outs(%[[CPAD]]
// AMX: scf.for {{.*}} step %c32
// AMX-COUNT-4: amx.tile_load %{{.*}} : memref<?x64xf32> into !amx.tile<16x16xf32>
// AMX: amx.tile_load %{{.*}} : memref<?x64xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_load %{{.*}} : memref<?x64xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_load %[[BUF]]{{.*}} : memref<1x32x128xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_load %[[BUF]]{{.*}} : memref<1x32x128xbf16> into !amx.tile<16x32xbf16>
// AMX-COUNT-4: amx.tile_mulf
// AMX: amx.tile_load
// AMX-COUNT-3: amx.tile_load
// AMX-COUNT-4: amx.tile_mulf
// AMX-COUNT-4: amx.tile_store %{{.*}} : memref<?x64xf32>, !amx.tile<16x16xf32>
// AMX: scf.if
// AMX: vector.load {{.*}} : memref<?x64xbf16>, vector<32xbf16>
// AMX: vector.store {{.*}}, %[[APAD]]
// AMX: amx.tile_load %[[CPAD]]
// AMX: amx.tile_mulf
// AMX: amx.tile_store %[[CPAD]]
// AMX-NOT: vector.fma
// AMX-NOT: x86vector
// AMX-LABEL: func.func @router_strided
func.func @bf16(%a: memref<?x64xbf16>, %b: memref<64x64xbf16>,
                %c: memref<?x64xf32>) {
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xbf16>, memref<64x64xbf16>)
      outs(%c : memref<?x64xf32>)
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// A router with 8 experts: 8-lane vectors. Strided views (an expert's slice
// of the stacked weights, a segment of the dispatched rows) are fine as long
// as rows are contiguous; k = 20 packs 16 values by transposes and the last
// 4 by scalar copies.
// CHECK-LABEL: func.func @router_strided
// CHECK-NOT: linalg.matmul
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x20x8xf32>
// CHECK-COUNT-8: vector.load {{.*}} : memref<8x20xf32, strided<[20, 1], offset: ?>>, vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
func.func @router_strided(%a: memref<?x20xf32, strided<[20, 1], offset: ?>>,
                          %b: memref<8x20xf32, strided<[20, 1], offset: ?>>,
                          %c: memref<?x8xf32, strided<[8, 1], offset: ?>>) {
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x20xf32, strided<[20, 1], offset: ?>>,
                   memref<8x20xf32, strided<[20, 1], offset: ?>>)
      outs(%c : memref<?x8xf32, strided<[8, 1], offset: ?>>)
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Left to the generic lowering: a plain (not transposed) B, n not a multiple
// of 8, a bf16 C, A and B of different types, and tensors.
// CHECK-LABEL: func.func @unsupported
// CHECK-NOT: vector.
// CHECK-COUNT-5: linalg.matmul
func.func @unsupported(%a: memref<?x64xf32>, %bn: memref<64x32xf32>,
                       %c: memref<?x32xf32>, %b30: memref<30x64xf32>,
                       %c30: memref<?x30xf32>, %ah: memref<?x64xbf16>,
                       %bh: memref<32x64xbf16>, %ch: memref<?x32xbf16>,
                       %ta: tensor<?x64xf32>, %tb: tensor<32x64xf32>,
                       %tc: tensor<?x32xf32>) -> tensor<?x32xf32> {
  linalg.matmul ins(%a, %bn : memref<?x64xf32>, memref<64x32xf32>)
                outs(%c : memref<?x32xf32>)
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b30 : memref<?x64xf32>, memref<30x64xf32>)
      outs(%c30 : memref<?x30xf32>)
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%ah, %bh : memref<?x64xbf16>, memref<32x64xbf16>)
      outs(%ch : memref<?x32xbf16>)
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%ah, %b30 : memref<?x64xbf16>, memref<30x64xf32>)
      outs(%c30 : memref<?x30xf32>)
  %r = linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%ta, %tb : tensor<?x64xf32>, tensor<32x64xf32>)
      outs(%tc : tensor<?x32xf32>) -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// -----

// Bad options are diagnostics, not crashes.
// RUN: not moe-opt %s --moe-cpu-matmul-kernels=vector-width=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not moe-opt %s --moe-cpu-matmul-kernels=vector-width=4 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD4
// RUN: not moe-opt %s --moe-cpu-matmul-kernels=tile-rows=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=BADROWS
// BAD: vector-width must be positive, got 0
// BAD4: vector-width must be 8 or 16, got 4
// BADROWS: tile-rows must be positive, got 0
func.func @any() {
  return
}
