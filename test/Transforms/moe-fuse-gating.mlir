// RUN: moe-opt %s --moe-fuse-gating | FileCheck %s

// The router matmul (+ bias) of moe-expand-layer feeding moe.route becomes
// one moe.gate, unless something else reads the logits.

#x_map = affine_map<(t, e, d) -> (t, d)>
#w_map = affine_map<(t, e, d) -> (e, d)>
#out_map = affine_map<(t, e, d) -> (t, e)>
#bias_map = affine_map<(t, e) -> (e)>
#id_map = affine_map<(t, e) -> (t, e)>

// Mixtral: softmax over the top k (topk_softmax), dynamic T, no bias. The
// logits' tensor.empty, fill and matmul go.
// CHECK-LABEL: func.func @topk_softmax
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[WR:[^:]+]]: tensor<8x64xf32>)
// CHECK-NOT: linalg
// CHECK-NOT: tensor.empty
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.gate %[[X]] router(%[[WR]]) {router = #moe.router<k = 2, order = topk_softmax, renormalize = true>} : (tensor<?x64xf32>, tensor<8x64xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK-NOT: moe.route
// CHECK: return %[[W]], %[[IDS]]
func.func @topk_softmax(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %t = tensor.dim %x, %c0 : tensor<?x64xf32>
  %empty = tensor.empty(%t) : tensor<?x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %logits = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<?x64xf32>, tensor<8x64xf32>)
      outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  %w, %ids = moe.route %logits {router = #moe.router<k = 2, order = topk_softmax, renormalize = true>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// Softmax over all experts first (softmax_topk, the default), static T,
// bf16 tokens and weight accumulated in f32.
// CHECK-LABEL: func.func @softmax_topk_bf16
// CHECK-SAME: (%[[X:[^:]+]]: tensor<6x32xbf16>, %[[WR:[^:]+]]: tensor<4x32xbf16>)
// CHECK: moe.gate %[[X]] router(%[[WR]]) {router = #moe.router<k = 2>} : (tensor<6x32xbf16>, tensor<4x32xbf16>) -> (tensor<6x2xf32>, tensor<6x2xi32>)
func.func @softmax_topk_bf16(%x: tensor<6x32xbf16>, %wr: tensor<4x32xbf16>)
    -> (tensor<6x2xf32>, tensor<6x2xi32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<6x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<6x4xf32>) -> tensor<6x4xf32>
  %logits = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<6x32xbf16>, tensor<4x32xbf16>)
      outs(%init : tensor<6x4xf32>) -> tensor<6x4xf32>
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<6x4xf32>) -> (tensor<6x2xf32>, tensor<6x2xi32>)
  return %w, %ids : tensor<6x2xf32>, tensor<6x2xi32>
}

// DeepSeek-V3: a router bias added to the logits (the linalg.generic goes
// too), sigmoid scores, a selection bias and group-limited selection.
// CHECK-LABEL: func.func @sigmoid_groups_biases
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, %[[WR:[^:]+]]: tensor<8x32xf32>, %[[RB:[^:]+]]: tensor<8xf32>, %[[SB:[^:]+]]: tensor<8xf32>)
// CHECK-NOT: linalg
// CHECK: moe.gate %[[X]] router(%[[WR]]) bias(%[[RB]]) selection_bias(%[[SB]]) {router = #moe.router<k = 2, scoring = sigmoid, renormalize = true, scale = 2.500000e+00, groups = 4, topk_groups = 2>} : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK-NOT: linalg
func.func @sigmoid_groups_biases(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                                 %rb: tensor<8xf32>, %sb: tensor<8xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %t = tensor.dim %x, %c0 : tensor<?x32xf32>
  %empty = tensor.empty(%t) : tensor<?x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %mm = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<?x32xf32>, tensor<8x32xf32>)
      outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  %logits = linalg.generic {indexing_maps = [#bias_map, #id_map],
                            iterator_types = ["parallel", "parallel"]}
      ins(%rb : tensor<8xf32>) outs(%mm : tensor<?x8xf32>) {
  ^bb0(%b: f32, %l: f32):
    %sum = arith.addf %l, %b : f32
    linalg.yield %sum : f32
  } -> tensor<?x8xf32>
  %w, %ids = moe.route %logits selection_bias(%sb) {
      router = #moe.router<k = 2, scoring = sigmoid, renormalize = true,
                           scale = 2.5, groups = 4, topk_groups = 2>}
    : (tensor<?x8xf32>, tensor<8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// Router statistics read the whole logits: nothing is fused.
// CHECK-LABEL: func.func @statistics
// CHECK: %[[MM:[^ ]+]] = linalg.matmul
// CHECK: %[[LOGITS:[^ ]+]] = linalg.generic
// CHECK: %{{[^ ]+}}, %[[IDS:[^ ]+]] = moe.route %[[LOGITS]]
// CHECK: moe.router_statistics %[[LOGITS]], %[[IDS]]
// CHECK-NOT: moe.gate
func.func @statistics(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                      %rb: tensor<8xf32>)
    -> (tensor<?x2xf32>, tensor<8xi64>, tensor<f32>, tensor<f32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %t = tensor.dim %x, %c0 : tensor<?x32xf32>
  %empty = tensor.empty(%t) : tensor<?x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %mm = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<?x32xf32>, tensor<8x32xf32>)
      outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  %logits = linalg.generic {indexing_maps = [#bias_map, #id_map],
                            iterator_types = ["parallel", "parallel"]}
      ins(%rb : tensor<8xf32>) outs(%mm : tensor<?x8xf32>) {
  ^bb0(%b: f32, %l: f32):
    %sum = arith.addf %l, %b : f32
    linalg.yield %sum : f32
  } -> tensor<?x8xf32>
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %counts, %aux, %z = moe.router_statistics %logits, %ids
    : (tensor<?x8xf32>, tensor<?x2xi32>) -> (tensor<8xi64>, tensor<f32>, tensor<f32>)
  return %w, %counts, %aux, %z : tensor<?x2xf32>, tensor<8xi64>, tensor<f32>, tensor<f32>
}

// Something else reads the product under the bias: nothing is fused.
// CHECK-LABEL: func.func @product_reused
// CHECK: linalg.matmul
// CHECK: moe.route
// CHECK-NOT: moe.gate
func.func @product_reused(%x: tensor<4x32xf32>, %wr: tensor<8x32xf32>,
                          %rb: tensor<8xf32>)
    -> (tensor<4x2xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x8xf32>) -> tensor<4x8xf32>
  %mm = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<4x32xf32>, tensor<8x32xf32>)
      outs(%init : tensor<4x8xf32>) -> tensor<4x8xf32>
  %logits = linalg.generic {indexing_maps = [#bias_map, #id_map],
                            iterator_types = ["parallel", "parallel"]}
      ins(%rb : tensor<8xf32>) outs(%mm : tensor<4x8xf32>) {
  ^bb0(%b: f32, %l: f32):
    %sum = arith.addf %l, %b : f32
    linalg.yield %sum : f32
  } -> tensor<4x8xf32>
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi32>)
  return %w, %mm : tensor<4x2xf32>, tensor<4x8xf32>
}

// Logits that are not the router matmul of zeros: an accumulator that does
// not start from 0, and a weight that is not transposed ([D, E]).
// CHECK-LABEL: func.func @not_router_matmuls
// CHECK-COUNT-2: moe.route
// CHECK-NOT: moe.gate
func.func @not_router_matmuls(%x: tensor<4x32xf32>, %wr: tensor<8x32xf32>,
                              %wt: tensor<32x8xf32>)
    -> (tensor<4x2xi32>, tensor<4x2xi32>) {
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x8xf32>
  %ones = linalg.fill ins(%one : f32) outs(%empty : tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<4x32xf32>, tensor<8x32xf32>)
      outs(%ones : tensor<4x8xf32>) -> tensor<4x8xf32>
  %w1, %ids1 = moe.route %a {router = #moe.router<k = 2>}
    : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi32>)
  %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x8xf32>) -> tensor<4x8xf32>
  %b = linalg.matmul ins(%x, %wt : tensor<4x32xf32>, tensor<32x8xf32>)
      outs(%zeros : tensor<4x8xf32>) -> tensor<4x8xf32>
  %w2, %ids2 = moe.route %b {router = #moe.router<k = 2>}
    : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi32>)
  return %ids1, %ids2 : tensor<4x2xi32>, tensor<4x2xi32>
}
