// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s
// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s --check-prefix=NOMOE

// moe.gate: one loop over tiles of 16 tokens; each tile's logits [n, E] by
// a zero-filled matmul (+ bias), routed row by row into static [16, k]
// tensors, whose n rows are copied into the [T, k] results.
// NOMOE: module
// NOMOE-NOT: = moe.

// CHECK-DAG: #[[$LHS_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$RHS_T_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$OUT_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$BIAS_MAP:[^ ]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$ID_MAP:[^ ]+]] = affine_map<(d0, d1) -> (d0, d1)>

// Dynamic T, bf16 tokens, router bias, selection bias and groups.
// CHECK-LABEL: func.func @gate_tiles
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xbf16>, %[[WR:[^:]+]]: tensor<8x32xbf16>, %[[RB:[^:]+]]: tensor<8xf32>, %[[SB:[^:]+]]: tensor<8xf32>)
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[X]], %{{.*}} : tensor<?x32xbf16>
// CHECK-DAG: %[[W0:[^ ]+]] = tensor.empty(%[[T]]) : tensor<?x2xf32>
// CHECK-DAG: %[[I0:[^ ]+]] = tensor.empty(%[[T]]) : tensor<?x2xi32>
// CHECK: %[[TILE:[^ ]+]] = arith.constant 16 : index
// CHECK: %[[TILES:[^ ]+]] = arith.ceildivui %[[T]], %[[TILE]] : index
// CHECK: %[[R:[^ ]+]]:2 = scf.for %[[I:[^ ]+]] = %{{.*}} to %[[TILES]] step %{{.*}} iter_args(%[[W:[^ ]+]] = %[[W0]], %[[IDS:[^ ]+]] = %[[I0]]) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
// CHECK:   %[[FIRST:[^ ]+]] = arith.muli %[[I]], %[[TILE]] : index
// CHECK:   %[[LEFT:[^ ]+]] = arith.subi %[[T]], %[[FIRST]] : index
// CHECK:   %[[N:[^ ]+]] = arith.minui %[[TILE]], %[[LEFT]] : index
// CHECK:   %[[XT:[^ ]+]] = tensor.extract_slice %[[X]][%[[FIRST]], 0] [%[[N]], 32] [1, 1] : tensor<?x32xbf16> to tensor<?x32xbf16>
// CHECK:   %[[LE:[^ ]+]] = tensor.empty(%[[N]]) : tensor<?x8xf32>
// CHECK:   %[[LZ:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[LE]] : tensor<?x8xf32>)
// CHECK:   %[[MM:[^ ]+]] = linalg.matmul indexing_maps = [#[[$LHS_MAP]], #[[$RHS_T_MAP]], #[[$OUT_MAP]]] ins(%[[XT]], %[[WR]] : tensor<?x32xbf16>, tensor<8x32xbf16>) outs(%[[LZ]] : tensor<?x8xf32>)
// CHECK:   %[[LOGITS:[^ ]+]] = linalg.generic {indexing_maps = [#[[$BIAS_MAP]], #[[$ID_MAP]]], {{.*}}} ins(%[[RB]] : tensor<8xf32>) outs(%[[MM]] : tensor<?x8xf32>)
// CHECK:   arith.addf
// CHECK-DAG:   %[[TW0:[^ ]+]] = tensor.empty() : tensor<16x2xf32>
// CHECK-DAG:   %[[TI0:[^ ]+]] = tensor.empty() : tensor<16x2xi32>
// CHECK:   %[[ROUTED:[^ ]+]]:3 = scf.for %[[ROW:[^ ]+]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%{{[^ ]+}} = %[[TW0]], %{{[^ ]+}} = %[[TI0]], %{{[^ ]+}} = %{{[^ ]+}}) -> (tensor<16x2xf32>, tensor<16x2xi32>, tensor<4xf32>) {
// CHECK:     tensor.extract %[[LOGITS]][%[[ROW]], %{{.*}}] : tensor<?x8xf32>
// CHECK:     tensor.extract %[[SB]][%{{.*}}] : tensor<8xf32>
// CHECK:     tensor.insert_slice %{{.*}} into %{{.*}}[%[[ROW]], 0] [1, 2] [1, 1] : tensor<2xf32> into tensor<16x2xf32>
// CHECK:   }
// CHECK:   %[[RW:[^ ]+]] = tensor.extract_slice %[[ROUTED]]#0[0, 0] [%[[N]], 2] [1, 1] : tensor<16x2xf32> to tensor<?x2xf32>
// CHECK:   %[[DW:[^ ]+]] = tensor.extract_slice %[[W]][%[[FIRST]], 0] [%[[N]], 2] [1, 1] : tensor<?x2xf32> to tensor<?x2xf32>
// CHECK:   %[[CW:[^ ]+]] = linalg.copy ins(%[[RW]] : tensor<?x2xf32>) outs(%[[DW]] : tensor<?x2xf32>)
// CHECK:   %[[NW:[^ ]+]] = tensor.insert_slice %[[CW]] into %[[W]][%[[FIRST]], 0] [%[[N]], 2] [1, 1] : tensor<?x2xf32> into tensor<?x2xf32>
// CHECK:   %[[RI:[^ ]+]] = tensor.extract_slice %[[ROUTED]]#1[0, 0] [%[[N]], 2] [1, 1] : tensor<16x2xi32> to tensor<?x2xi32>
// CHECK:   %[[DI:[^ ]+]] = tensor.extract_slice %[[IDS]][%[[FIRST]], 0] [%[[N]], 2] [1, 1] : tensor<?x2xi32> to tensor<?x2xi32>
// CHECK:   %[[CI:[^ ]+]] = linalg.copy ins(%[[RI]] : tensor<?x2xi32>) outs(%[[DI]] : tensor<?x2xi32>)
// CHECK:   %[[NI:[^ ]+]] = tensor.insert_slice %[[CI]] into %[[IDS]][%[[FIRST]], 0] [%[[N]], 2] [1, 1] : tensor<?x2xi32> into tensor<?x2xi32>
// CHECK:   scf.yield %[[NW]], %[[NI]] : tensor<?x2xf32>, tensor<?x2xi32>
// CHECK: } {moe.parallel_rows = 16 : i64}
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @gate_tiles(%x: tensor<?x32xbf16>, %wr: tensor<8x32xbf16>,
                      %rb: tensor<8xf32>, %sb: tensor<8xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.gate %x router(%wr) bias(%rb) selection_bias(%sb) {
      router = #moe.router<k = 2, scoring = sigmoid, renormalize = true,
                           groups = 4, topk_groups = 2>}
    : (tensor<?x32xbf16>, tensor<8x32xbf16>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// Static T = 5 (one tile of 5), no bias: the matmul's result is the logits.
// CHECK-LABEL: func.func @gate_static
// CHECK-SAME: (%[[X:[^:]+]]: tensor<5x16xf32>, %[[WR:[^:]+]]: tensor<4x16xf32>)
// CHECK: scf.for
// CHECK: %[[XT:[^ ]+]] = tensor.extract_slice %[[X]]
// CHECK: %[[MM:[^ ]+]] = linalg.matmul {{.*}} ins(%[[XT]], %[[WR]] : tensor<?x16xf32>, tensor<4x16xf32>)
// CHECK-NOT: linalg.generic
// CHECK: scf.for {{.*}} -> (tensor<16x1xf32>, tensor<16x1xi32>)
// CHECK: tensor.extract %[[MM]]
// CHECK: return {{.*}} : tensor<5x1xf32>, tensor<5x1xi32>
func.func @gate_static(%x: tensor<5x16xf32>, %wr: tensor<4x16xf32>)
    -> (tensor<5x1xf32>, tensor<5x1xi32>) {
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 1>}
    : (tensor<5x16xf32>, tensor<4x16xf32>) -> (tensor<5x1xf32>, tensor<5x1xi32>)
  return %w, %ids : tensor<5x1xf32>, tensor<5x1xi32>
}
