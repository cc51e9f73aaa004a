// RUN: moe-opt %s --moe-cpu-matmul-kernels="pack-weights=true" --split-input-file | FileCheck %s
// RUN: moe-opt %s --moe-cpu-matmul-kernels="pack-weights=true bf16-dot=true" --split-input-file | FileCheck %s --check-prefix=DOT
// RUN: moe-opt %s --moe-cpu-matmul-kernels="pack-weights=true parallel=false" --split-input-file | FileCheck %s --check-prefix=SERIAL

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Stacked expert weights [E, n, k] read only as experts' matrices by
// matmuls: the function takes them packed, [E, n / nr, k, nr], and the
// kernel reads each k block's panels in place (a subview, no buffer, no
// transposes); @experts_pack_arg1 packs a weight with the kernels'
// transposes over (expert x column block) work items.
// CHECK-LABEL: func.func @experts
// CHECK-SAME: (%[[A:[^:]+]]: memref<?x64xf32>, %[[W:[^:]+]]: memref<4x2x64x64xf32>, %[[C:[^:]+]]: memref<?x128xf32>, %[[E:[^:]+]]: index)
// CHECK-SAME: moe.packed_weights = [{argument = 1 : i64, element = f32, pack = @experts_pack_arg1, shape = array<i64: 4, 2, 64, 64>}]
// CHECK: %[[EXPERT:.+]] = memref.subview %[[W]][%[[E]], 0, 0, 0] [1, 2, 64, 64] [1, 1, 1, 1] : memref<4x2x64x64xf32> to memref<2x64x64xf32, strided<[4096, 64, 1], offset: ?>>
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel
// CHECK: scf.for %[[K0:[^ ]+]] =
// CHECK: %[[PANELS:.+]] = memref.subview %[[EXPERT]][%{{.*}}, %[[K0]], 0] [%{{.*}}, %{{.*}}, 64] [1, 1, 1]
// CHECK-NOT: vector.shuffle
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %[[PANELS]]
// CHECK: vector.fma
// CHECK-NOT: memref.dealloc
// CHECK: return
// CHECK-LABEL: func.func @experts_pack_arg1
// CHECK-SAME: (%[[SRC:[^:]+]]: memref<4x128x64xf32>, %[[DST:[^:]+]]: memref<4x2x64x64xf32>)
// CHECK: scf.parallel (%[[ITEM:.+]]) = (%{{.*}}) to (%c4) step
// CHECK: memref.subview %[[SRC]]
// CHECK: memref.subview %[[DST]]
// CHECK-COUNT-16: vector.load
// CHECK-COUNT-64: vector.shuffle
// SERIAL-LABEL: func.func @experts
// SERIAL-NOT: scf.parallel
// SERIAL-LABEL: func.func @experts_pack_arg1
// SERIAL-NOT: scf.parallel
// SERIAL: scf.for
func.func @experts(%a: memref<?x64xf32>, %w: memref<4x128x64xf32>,
                   %c: memref<?x128xf32>, %e: index) {
  %b = memref.subview %w[%e, 0, 0] [1, 128, 64] [1, 1, 1]
      : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xf32>, memref<128x64xf32, strided<[64, 1], offset: ?>>)
      outs(%c : memref<?x128xf32>)
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// bf16 weights with dot products: packed as k pairs, [E, n / nr, k / 2,
// 2 nr]; the k block's panels are a subview at k0 / 2.
// DOT-LABEL: func.func @bf16_experts
// DOT-SAME: %{{[^:]+}}: memref<2x2x32x128xbf16>
// DOT-SAME: moe.packed_weights = [{argument = 1 : i64, element = bf16, pack = @bf16_experts_pack_arg1, shape = array<i64: 2, 2, 32, 128>}]
// DOT: %[[K0:.+]] = arith.divui
// DOT: memref.subview %{{.*}}[%{{.*}}, %[[K0]], 0] [%{{.*}}, %{{.*}}, 128] [1, 1, 1]
// DOT: x86vector.avx512.dot
// DOT-LABEL: func.func @bf16_experts_pack_arg1
// DOT-SAME: memref<2x128x64xbf16>, %{{[^:]+}}: memref<2x2x32x128xbf16>)
// CHECK-LABEL: func.func @bf16_experts
// CHECK-SAME: memref<2x2x64x64xf32>
func.func @bf16_experts(%a: memref<?x64xbf16>, %w: memref<2x128x64xbf16>,
                        %c: memref<?x128xf32>, %e: index) {
  %b = memref.subview %w[%e, 0, 0] [1, 128, 64] [1, 1, 1]
      : memref<2x128x64xbf16> to memref<128x64xbf16, strided<[64, 1], offset: ?>>
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xbf16>, memref<128x64xbf16, strided<[64, 1], offset: ?>>)
      outs(%c : memref<?x128xf32>)
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// A weight read anywhere else than as a matmul's B (here also copied) stays
// in [E, n, k], and its matmul packs per call; so does a rank-2 weight.
// CHECK-LABEL: func.func @other_uses
// CHECK-SAME: (%{{[^:]+}}: memref<?x64xf32>, %{{[^:]+}}: memref<4x128x64xf32>, %{{[^:]+}}: memref<?x128xf32>, %{{[^:]+}}: index, %{{[^:]+}}: memref<128x64xf32>, %{{[^:]+}}: memref<128x64xf32>)
// CHECK-NOT: moe.packed_weights
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x64x64xf32>
// CHECK-NOT: func.func @other_uses_pack
func.func @other_uses(%a: memref<?x64xf32>, %w: memref<4x128x64xf32>,
                      %c: memref<?x128xf32>, %e: index,
                      %copy: memref<128x64xf32>, %router: memref<128x64xf32>) {
  %b = memref.subview %w[%e, 0, 0] [1, 128, 64] [1, 1, 1]
      : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xf32>, memref<128x64xf32, strided<[64, 1], offset: ?>>)
      outs(%c : memref<?x128xf32>)
  memref.copy %b, %copy : memref<128x64xf32, strided<[64, 1], offset: ?>> to memref<128x64xf32>
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %router : memref<?x64xf32>, memref<128x64xf32>)
      outs(%c : memref<?x128xf32>)
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// A function called in the module keeps its signature (its callers pass
// plain weights); its matmul packs per call.
// CHECK-LABEL: func.func @called
// CHECK-SAME: memref<4x128x64xf32>
// CHECK-NOT: moe.packed_weights
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x64x64xf32>
// CHECK-LABEL: func.func @caller
// CHECK: call @called
// CHECK-NOT: func.func @called_pack
func.func @called(%a: memref<?x64xf32>, %w: memref<4x128x64xf32>,
                  %c: memref<?x128xf32>, %e: index) {
  %b = memref.subview %w[%e, 0, 0] [1, 128, 64] [1, 1, 1]
      : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xf32>, memref<128x64xf32, strided<[64, 1], offset: ?>>)
      outs(%c : memref<?x128xf32>)
  return
}
func.func @caller(%a: memref<?x64xf32>, %w: memref<4x128x64xf32>,
                  %c: memref<?x128xf32>, %e: index) {
  call @called(%a, %w, %c, %e) : (memref<?x64xf32>, memref<4x128x64xf32>, memref<?x128xf32>, index) -> ()
  return
}
