// RUN: moe-opt %s --convert-moe-to-linalg --canonicalize | FileCheck %s

// moe.grouped_matmul: an scf.for over experts; per expert, the segment's
// rows (sliced, or gathered through the indices), one linalg.matmul with B
// transposed per part of the weight into an f32 accumulator, then one
// linalg.generic epilogue inserted into the zero-filled output.

// CHECK-DAG: #[[$ROW:[^ ]+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$ID:[^ ]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$COL:[^ ]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$A:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:[^ ]+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$C:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>

// Gate and up concatenated along N are read in place (no tensor.concat is
// left), each into its half of the f32 accumulator; the gathered rows are
// read from the tokens; SwiGLU and the rounding to bf16 in the epilogue.
// CHECK-LABEL: func.func @gate_up
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xbf16>, %[[WG:[^:]+]]: tensor<8x128x64xbf16>, %[[WU:[^:]+]]: tensor<8x128x64xbf16>, %[[OFF:[^:]+]]: tensor<9xi32>, %[[SRC:[^:]+]]: tensor<?xi32>)
// CHECK-NOT: tensor.concat
// CHECK: %[[R:[^ ]+]] = tensor.dim %[[SRC]]
// CHECK: %[[EMPTY:[^ ]+]] = tensor.empty(%[[R]]) : tensor<?x128xbf16>
// CHECK: %[[ZEROS:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : bf16) outs(%[[EMPTY]] : tensor<?x128xbf16>)
// CHECK: %[[RES:[^ ]+]] = scf.for %[[E:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} iter_args(%[[OUT:[^ ]+]] = %[[ZEROS]])
// CHECK: %[[B32:[^ ]+]] = tensor.extract %[[OFF]][%[[E]]]
// CHECK: %[[BEGIN:[^ ]+]] = arith.index_cast %[[B32]]
// CHECK: %[[COUNT:[^ ]+]] = arith.subi %{{[^ ]+}}, %[[BEGIN]] : index
// CHECK: %[[IDX:[^ ]+]] = tensor.extract_slice %[[SRC]][%[[BEGIN]]] [%[[COUNT]]] [1]
// CHECK: %[[ROWS:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ROW]], #[[$ID]]], {{.*}}} ins(%[[IDX]] : tensor<?xi32>) outs(%{{[^ ]+}} : tensor<?x64xbf16>)
// CHECK: tensor.extract %[[X]]
// CHECK: %[[ACC:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<?x256xf32>)
// CHECK: %[[MG:[^ ]+]] = tensor.extract_slice %[[WG]][%[[E]], 0, 0] [1, 128, 64] [1, 1, 1]
// CHECK: %[[ACC_G:[^ ]+]] = tensor.extract_slice %[[ACC]][0, 0] [%[[COUNT]], 128] [1, 1]
// CHECK: %[[G:[^ ]+]] = linalg.matmul indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]] ins(%[[ROWS]], %[[MG]] : tensor<?x64xbf16>, tensor<128x64xbf16>) outs(%[[ACC_G]] : tensor<?x128xf32>)
// CHECK: %[[ACC1:[^ ]+]] = tensor.insert_slice %[[G]] into %[[ACC]][0, 0] [%[[COUNT]], 128]
// CHECK: %[[MU:[^ ]+]] = tensor.extract_slice %[[WU]][%[[E]], 0, 0] [1, 128, 64] [1, 1, 1]
// CHECK: %[[ACC_U:[^ ]+]] = tensor.extract_slice %[[ACC1]][0, 128] [%[[COUNT]], 128] [1, 1]
// CHECK: %[[U:[^ ]+]] = linalg.matmul indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]] ins(%[[ROWS]], %[[MU]] : tensor<?x64xbf16>, tensor<128x64xbf16>) outs(%[[ACC_U]] : tensor<?x128xf32>)
// CHECK: %[[ACC2:[^ ]+]] = tensor.insert_slice %[[U]] into %[[ACC1]][0, 128] [%[[COUNT]], 128]
// CHECK: %[[GATE:[^ ]+]] = tensor.extract_slice %[[ACC2]][0, 0] [%[[COUNT]], 128] [1, 1]
// CHECK: %[[H:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]], #[[$ID]]], {{.*}}} ins(%[[GATE]], %[[U]] : tensor<?x128xf32>, tensor<?x128xf32>) outs(%{{[^ ]+}} : tensor<?x128xbf16>)
// CHECK: math.exp %{{[^ ]+}} fastmath<afn> : f32
// CHECK: arith.truncf %{{[^ ]+}} : f32 to bf16
// CHECK: %[[NEXT:[^ ]+]] = tensor.insert_slice %[[H]] into %[[OUT]][%[[BEGIN]], 0] [%[[COUNT]], 128] [1, 1]
// CHECK: scf.yield %[[NEXT]]
// Each iteration writes only its expert's rows: the loop says so.
// CHECK-NEXT: } {moe.expert_loop}
// CHECK: return %[[RES]]
func.func @gate_up(%x: tensor<?x64xbf16>, %wg: tensor<8x128x64xbf16>,
                   %wu: tensor<8x128x64xbf16>, %offsets: tensor<9xi32>,
                   %sources: tensor<?xi32>) -> tensor<?x128xbf16> {
  %w = tensor.concat dim(1) %wg, %wu
     : (tensor<8x128x64xbf16>, tensor<8x128x64xbf16>) -> tensor<8x256x64xbf16>
  %h = moe.grouped_matmul %x, %w, %offsets gather(%sources) {
         activation = #moe.activation<swiglu>}
     : (tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<9xi32>,
        tensor<?xi32>) -> tensor<?x128xbf16>
  return %h : tensor<?x128xbf16>
}

// The bias row is the accumulator's initial value; the per-row scale
// multiplies in the epilogue.
// CHECK-LABEL: func.func @down
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x128xf32>, %[[W:[^:]+]]: tensor<8x64x128xf32>, %[[OFF:[^:]+]]: tensor<9xi32>, %[[B:[^:]+]]: tensor<8x64xf32>, %[[S:[^:]+]]: tensor<?xf32>)
// CHECK: scf.for %[[E:[^ ]+]] =
// CHECK: %[[COUNT:[^ ]+]] = arith.subi
// CHECK: %[[ROWS:[^ ]+]] = tensor.extract_slice %[[H]][%[[BEGIN:[^,]+]], 0] [%[[COUNT]], 128] [1, 1]
// CHECK: %[[BROW:[^ ]+]] = tensor.extract_slice %[[B]][%[[E]], 0] [1, 64] [1, 1]
// CHECK: %[[ACC:[^ ]+]] = linalg.generic {indexing_maps = [#[[$COL]], #[[$ID]]], {{.*}}} ins(%[[BROW]] : tensor<64xf32>)
// CHECK: %[[M:[^ ]+]] = tensor.extract_slice %[[W]][%[[E]], 0, 0] [1, 64, 128] [1, 1, 1]
// CHECK: %[[P:[^ ]+]] = linalg.matmul indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]] ins(%[[ROWS]], %[[M]] : tensor<?x128xf32>, tensor<64x128xf32>) outs(%[[ACC]] : tensor<?x64xf32>)
// CHECK: %[[SROWS:[^ ]+]] = tensor.extract_slice %[[S]][%[[BEGIN]]] [%[[COUNT]]] [1]
// CHECK: %[[Y:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], {{.*}}} ins(%[[P]], %[[SROWS]] : tensor<?x64xf32>, tensor<?xf32>)
// CHECK-NEXT: ^bb0(%[[V:[^:]+]]: f32, %[[SV:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[PROD:[^ ]+]] = arith.mulf %[[V]], %[[SV]] : f32
// CHECK-NEXT: linalg.yield %[[PROD]] : f32
// CHECK: tensor.insert_slice %[[Y]]
func.func @down(%h: tensor<?x128xf32>, %w: tensor<8x64x128xf32>,
                %offsets: tensor<9xi32>, %b: tensor<8x64xf32>,
                %s: tensor<?xf32>) -> tensor<?x64xf32> {
  %y = moe.grouped_matmul %h, %w, %offsets bias(%b) scale(%s)
     : (tensor<?x128xf32>, tensor<8x64x128xf32>, tensor<9xi32>,
        tensor<8x64xf32>, tensor<?xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// An f32 product without epilogue is inserted as it is.
// CHECK-LABEL: func.func @plain
// CHECK: scf.for
// CHECK: %[[ROWS:[^ ]+]] = tensor.extract_slice
// CHECK: %[[ACC:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<?x32xf32>)
// CHECK: %[[P:[^ ]+]] = linalg.matmul indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]] ins(%[[ROWS]], %{{[^ ]+}} : tensor<?x64xf32>, tensor<32x64xf32>) outs(%[[ACC]] : tensor<?x32xf32>)
// CHECK-NOT: linalg.generic
// CHECK: tensor.insert_slice %[[P]]
func.func @plain(%a: tensor<?x64xf32>, %w: tensor<8x32x64xf32>,
                 %offsets: tensor<9xi32>) -> tensor<?x32xf32> {
  %y = moe.grouped_matmul %a, %w, %offsets
     : (tensor<?x64xf32>, tensor<8x32x64xf32>, tensor<9xi32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
