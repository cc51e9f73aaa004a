// RUN: moe-opt %s --convert-moe-to-linalg -split-input-file -verify-diagnostics

// A whole layer is not lowered: moe-expand-layer must split it first, and
// the pass says so at the op.
func.func @unexpanded_layer(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                            %wu: tensor<4x16x32xf32>,
                            %wd: tensor<4x32x16xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'moe.layer' op must be expanded before lowering: run moe-expand-layer first}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Also when level-1 ops that could be lowered sit next to it: the pass fails
// before converting anything.
func.func @layer_beside_route(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                              %wu: tensor<4x16x32xf32>,
                              %wd: tensor<4x32x16xf32>,
                              %logits: tensor<?x4xf32>)
    -> (tensor<?x32xf32>, tensor<?x2xf32>) {
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  // expected-error @+1 {{'moe.layer' op must be expanded before lowering: run moe-expand-layer first}}
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 4>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %w : tensor<?x32xf32>, tensor<?x2xf32>
}
