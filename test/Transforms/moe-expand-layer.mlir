// RUN: moe-opt %s --moe-expand-layer | FileCheck %s

// moe.layer becomes the f32 router matmul (+ bias), moe.route,
// moe.dispatch, moe.experts and moe.combine, wired as in docs/Semantics.md.

// The router matmul reads Wr [E, D] transposed: logits[t, e] += x[t, d] * Wr[e, d].
// CHECK-DAG: #[[$X_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$WT_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$OUT_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$BIAS_MAP:[^ ]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$ID_MAP:[^ ]+]] = affine_map<(d0, d1) -> (d0, d1)>

// Mixtral: gated, dropless, dynamic T.
// CHECK-LABEL: func.func @mixtral
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[WR:[^:]+]]: tensor<8x64xf32>, %[[WG:[^:]+]]: tensor<8x128x64xf32>, %[[WU:[^:]+]]: tensor<8x128x64xf32>, %[[WD:[^:]+]]: tensor<8x64x128xf32>)
// CHECK-DAG: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[C0:[^ ]+]] = arith.constant 0 : index
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[X]], %[[C0]] : tensor<?x64xf32>
// CHECK: %[[EMPTY:[^ ]+]] = tensor.empty(%[[T]]) : tensor<?x8xf32>
// CHECK: %[[INIT:[^ ]+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<?x8xf32>)
// CHECK: %[[LOGITS:[^ ]+]] = linalg.matmul indexing_maps = [#[[$X_MAP]], #[[$WT_MAP]], #[[$OUT_MAP]]] ins(%[[X]], %[[WR]] : tensor<?x64xf32>, tensor<8x64xf32>) outs(%[[INIT]] : tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route %[[LOGITS]] {router = #moe.router<k = 2, order = topk_softmax, renormalize = true>} : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %[[SRC:[^ ]+]], %[[DROPPED:[^ ]+]] = moe.dispatch %[[X]], %[[IDS]] {capacity = #moe.capacity<dropless>, num_experts = 8 : i64} : (tensor<?x64xf32>, tensor<?x2xi32>) -> (tensor<?x64xf32>, tensor<9xi32>, tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
// CHECK: %[[OUT:[^ ]+]] = moe.experts %[[BUF]], %[[OFF]] gate(%[[WG]]) up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<swiglu>} : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
// CHECK: %[[Y:[^ ]+]] = moe.combine %[[OUT]], %[[ROWS]], %[[W]] : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xf32>
// CHECK-NOT: moe.layer
// CHECK: return %[[Y]] : tensor<?x64xf32>
func.func @mixtral(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>,
                   %wg: tensor<8x128x64xf32>, %wu: tensor<8x128x64xf32>,
                   %wd: tensor<8x64x128xf32>) -> tensor<?x64xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, order = topk_softmax, renormalize = true>}
       : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x128x64xf32>,
          tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// A router bias is added to the logits (a broadcast over tokens) before the
// route; static T needs no tensor.dim.
// CHECK-LABEL: func.func @router_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<6x32xf32>, %[[WR:[^:]+]]: tensor<4x32xf32>, %[[RB:[^:]+]]: tensor<4xf32>
// CHECK-NOT: tensor.dim
// CHECK: %[[EMPTY:[^ ]+]] = tensor.empty() : tensor<6x4xf32>
// CHECK: %[[INIT:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EMPTY]] : tensor<6x4xf32>)
// CHECK: %[[MM:[^ ]+]] = linalg.matmul {{.*}} ins(%[[X]], %[[WR]] : tensor<6x32xf32>, tensor<4x32xf32>) outs(%[[INIT]] : tensor<6x4xf32>)
// CHECK: %[[LOGITS:[^ ]+]] = linalg.generic {indexing_maps = [#[[$BIAS_MAP]], #[[$ID_MAP]]], iterator_types = ["parallel", "parallel"]} ins(%[[RB]] : tensor<4xf32>) outs(%[[MM]] : tensor<6x4xf32>)
// CHECK-NEXT: ^bb0(%[[B:[^ ]+]]: f32, %[[L:[^ ]+]]: f32):
// CHECK-NEXT: %[[SUM:[^ ]+]] = arith.addf %[[L]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: moe.route %[[LOGITS]] {router = #moe.router<k = 1>} : (tensor<6x4xf32>) -> (tensor<6x1xf32>, tensor<6x1xi32>)
// CHECK: moe.dispatch %[[X]], %{{.*}} : (tensor<6x32xf32>, tensor<6x1xi32>) -> (tensor<6x32xf32>, tensor<5xi32>, tensor<6x1xi32>, tensor<6xi32>, tensor<i64>)
func.func @router_bias(%x: tensor<6x32xf32>, %wr: tensor<4x32xf32>,
                       %rb: tensor<4xf32>, %wu: tensor<4x16x32xf32>,
                       %wd: tensor<4x32x16xf32>) -> tensor<6x32xf32> {
  %y = moe.layer %x router(%wr) bias(%rb) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 1>}
       : (tensor<6x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<6x32xf32>
  return %y : tensor<6x32xf32>
}

// The selection bias goes to moe.route, and only there (it never touches
// the logits).
// CHECK-LABEL: func.func @selection_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, %[[WR:[^:]+]]: tensor<8x32xf32>, %[[RB:[^:]+]]: tensor<8xf32>, %[[SB:[^:]+]]: tensor<8xf32>
// CHECK: %[[MM:[^ ]+]] = linalg.matmul
// CHECK: %[[LOGITS:[^ ]+]] = linalg.generic {{.*}} ins(%[[RB]] : tensor<8xf32>) outs(%[[MM]] : tensor<?x8xf32>)
// CHECK: moe.route %[[LOGITS]] selection_bias(%[[SB]]) {router = #moe.router<k = 2, scoring = sigmoid, renormalize = true, scale = 2.500000e+00, groups = 4, topk_groups = 2>} : (tensor<?x8xf32>, tensor<8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
func.func @selection_bias(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                          %rb: tensor<8xf32>, %sb: tensor<8xf32>,
                          %wg: tensor<8x16x32xf32>, %wu: tensor<8x16x32xf32>,
                          %wd: tensor<8x32x16xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) bias(%rb) selection_bias(%sb)
       gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, scoring = sigmoid, renormalize = true,
                              scale = 2.5, groups = 4, topk_groups = 2>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8xf32>,
          tensor<8x16x32xf32>, tensor<8x16x32xf32>, tensor<8x32x16xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// Under a capacity the layer's dropped count is the dispatch's.
// CHECK-LABEL: func.func @capacity_dropped
// CHECK: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %[[SRC:[^ ]+]], %[[DROPPED:[^ ]+]] = moe.dispatch %{{.*}}, %{{.*}} {capacity = #moe.capacity<factor = 1.250000e+00>, num_experts = 4 : i64}
// CHECK: %[[OUT:[^ ]+]] = moe.experts %[[BUF]], %[[OFF]]
// CHECK: %[[Y:[^ ]+]] = moe.combine %[[OUT]], %[[ROWS]], %{{.*}}
// CHECK: return %[[Y]], %[[DROPPED]] : tensor<?x32xf32>, tensor<i64>
func.func @capacity_dropped(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                            %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<gelu>,
         capacity = #moe.capacity<factor = 1.25>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

// An ungated activation: moe.experts gets no gate weight.
// CHECK-LABEL: func.func @ungated
// CHECK-SAME: %[[WU:[^:]+]]: tensor<4x16x32xf32>, %[[WD:[^:]+]]: tensor<4x32x16xf32>)
// CHECK: moe.experts %{{.*}}, %{{.*}} up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<gelu_tanh>} : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<?x32xf32>
func.func @ungated(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                   %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<gelu_tanh>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// bf16 tokens: the router matmul reads bf16 and accumulates in f32; the
// dispatched buffer, the expert output and the result stay bf16, the gate
// weights f32.
// CHECK-LABEL: func.func @bf16
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xbf16>, %[[WR:[^:]+]]: tensor<4x32xbf16>
// CHECK: %[[LOGITS:[^ ]+]] = linalg.matmul {{.*}} ins(%[[X]], %[[WR]] : tensor<?x32xbf16>, tensor<4x32xbf16>) outs(%{{.*}} : tensor<?x4xf32>) -> tensor<?x4xf32>
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route %[[LOGITS]] {{.*}} : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: moe.dispatch %[[X]], %[[IDS]] {{.*}} : (tensor<?x32xbf16>, tensor<?x2xi32>) -> (tensor<?x32xbf16>, tensor<5xi32>, tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
// CHECK: moe.experts {{.*}} : (tensor<?x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>, tensor<4x16x32xbf16>, tensor<4x32x16xbf16>) -> tensor<?x32xbf16>
// CHECK: %[[Y:[^ ]+]] = moe.combine %{{.*}}, %{{.*}}, %[[W]] : (tensor<?x32xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x32xbf16>
// CHECK: return %[[Y]] : tensor<?x32xbf16>
func.func @bf16(%x: tensor<?x32xbf16>, %wr: tensor<4x32xbf16>,
                %wg: tensor<4x16x32xbf16>, %wu: tensor<4x16x32xbf16>,
                %wd: tensor<4x32x16xbf16>) -> tensor<?x32xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<geglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x32xbf16>, tensor<4x32xbf16>, tensor<4x16x32xbf16>,
          tensor<4x16x32xbf16>, tensor<4x32x16xbf16>) -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}
