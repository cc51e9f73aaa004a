// RUN: moe-opt %s --moe-expand-layer | FileCheck %s

// The model-family variants of moe.layer and how moe-expand-layer wires
// them: shared experts (with and without a sigmoid gate), gate weights on
// the expert inputs (Llama-4), dropped tokens passed through (Hugging
// Face's Switch), expert biases (GPT-OSS).

// Shared experts: a second moe.experts of one expert over all T rows
// (offsets [0, T], weights expanded to [1, S, D]), added to the combine
// output; the Qwen2 sigmoid gate scales it by sigmoid(x . g).
// CHECK-DAG: #[[$ID:[^ ]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$GATE:[^ ]+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @shared
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, {{.*}}, %[[SG:[^:]+]]: tensor<48x32xf32>, %[[SU:[^:]+]]: tensor<48x32xf32>, %[[SD:[^:]+]]: tensor<32x48xf32>, %[[G:[^:]+]]: tensor<1x32xf32>)
// CHECK: %[[ROUTED:[^ ]+]] = moe.combine
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[X]]
// CHECK: %[[T32:[^ ]+]] = arith.index_cast %[[T]] : index to i32
// CHECK: %[[OFFSETS:[^ ]+]] = tensor.from_elements %{{.*}}, %[[T32]] : tensor<2xi32>
// CHECK: %[[EG:[^ ]+]] = tensor.expand_shape %[[SG]] {{\[\[}}0, 1], [2]] output_shape [1, 48, 32] : tensor<48x32xf32> into tensor<1x48x32xf32>
// CHECK: %[[EU:[^ ]+]] = tensor.expand_shape %[[SU]] {{\[\[}}0, 1], [2]] output_shape [1, 48, 32]
// CHECK: %[[ED:[^ ]+]] = tensor.expand_shape %[[SD]] {{\[\[}}0, 1], [2]] output_shape [1, 32, 48]
// CHECK: %[[SHARED:[^ ]+]] = moe.experts %[[X]], %[[OFFSETS]] gate(%[[EG]]) up(%[[EU]]) down(%[[ED]]) {activation = #moe.activation<swiglu>} : (tensor<?x32xf32>, tensor<2xi32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x32x48xf32>) -> tensor<?x32xf32>
// CHECK: %[[LOGIT:[^ ]+]] = linalg.matmul {{.*}} ins(%[[X]], %[[G]] : tensor<?x32xf32>, tensor<1x32xf32>) outs(%{{.*}} : tensor<?x1xf32>)
// CHECK: %[[SUM:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]], #[[$GATE]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[ROUTED]], %[[SHARED]], %[[LOGIT]] : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x1xf32>)
// CHECK-NEXT: ^bb0(%[[R:[^:]+]]: f32, %[[S:[^:]+]]: f32, %[[Z:[^:]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[NEGZ:[^ ]+]] = arith.negf %[[Z]]
// CHECK-NEXT: %[[E:[^ ]+]] = math.exp %[[NEGZ]]
// CHECK-NEXT: %[[DEN:[^ ]+]] = arith.addf %{{.*}}, %[[E]]
// CHECK-NEXT: %[[SIG:[^ ]+]] = arith.divf %{{.*}}, %[[DEN]]
// CHECK-NEXT: %[[SCALED:[^ ]+]] = arith.mulf %[[SIG]], %[[S]]
// CHECK-NEXT: %[[OUT:[^ ]+]] = arith.addf %[[R]], %[[SCALED]]
// CHECK-NEXT: linalg.yield %[[OUT]]
// CHECK: return %[[SUM]]
func.func @shared(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                       %wg: tensor<4x16x32xf32>, %wu: tensor<4x16x32xf32>,
                       %wd: tensor<4x32x16xf32>, %sg: tensor<48x32xf32>,
                       %su: tensor<48x32xf32>, %sd: tensor<32x48xf32>,
                       %sgate: tensor<1x32xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) shared_gate(%sg)
         shared_up(%su) shared_down(%sd) shared_sigmoid_gate(%sgate) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x16x32xf32>, tensor<4x32x16xf32>, tensor<48x32xf32>,
          tensor<48x32xf32>, tensor<32x48xf32>, tensor<1x32xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// Without a sigmoid gate the shared output is added as is.
// CHECK-LABEL: func.func @shared_ungated
// CHECK: %[[ROUTED:[^ ]+]] = moe.combine
// CHECK: %[[SHARED:[^ ]+]] = moe.experts %{{.*}}, %{{.*}} up(%{{.*}}) down(%{{.*}}) {activation = #moe.activation<relu>} : (tensor<6x32xbf16>, tensor<2xi32>, tensor<1x24x32xbf16>, tensor<1x32x24xbf16>) -> tensor<6x32xbf16>
// CHECK-NOT: linalg.matmul
// CHECK: %[[SUM:[^ ]+]] = linalg.generic {{.*}} ins(%[[ROUTED]], %[[SHARED]] : tensor<6x32xbf16>, tensor<6x32xbf16>)
// CHECK: arith.extf
// CHECK: arith.extf
// CHECK: arith.addf
// CHECK: arith.truncf
// CHECK: return %[[SUM]]
func.func @shared_ungated(%x: tensor<6x32xbf16>, %wr: tensor<4x32xbf16>,
                          %wu: tensor<4x16x32xbf16>, %wd: tensor<4x32x16xbf16>,
                          %su: tensor<24x32xbf16>, %sd: tensor<32x24xbf16>)
    -> tensor<6x32xbf16> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) shared_up(%su)
         shared_down(%sd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<6x32xbf16>, tensor<4x32xbf16>, tensor<4x16x32xbf16>,
          tensor<4x32x16xbf16>, tensor<24x32xbf16>, tensor<32x24xbf16>)
       -> tensor<6x32xbf16>
  return %y : tensor<6x32xbf16>
}

// Llama-4: the dispatch scales each row by its gate weight and the combine
// sums with weights of one.
// CHECK-LABEL: func.func @input_weights
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route
// CHECK: moe.dispatch %{{.*}}, %[[IDS]] scale(%[[W]]) {capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
// CHECK: %[[OUT:[^ ]+]] = moe.experts
// CHECK: %[[ONES:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<5x1xf32>)
// CHECK: moe.combine %[[OUT]], %{{.*}}, %[[ONES]] :
func.func @input_weights(%x: tensor<5x32xf32>, %wr: tensor<4x32xf32>,
                        %wu: tensor<4x16x32xf32>,
                        %wd: tensor<4x32x16xf32>)
    -> tensor<5x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 1, scoring = sigmoid, weights_on = input>}
       : (tensor<5x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<5x32xf32>
  return %y : tensor<5x32xf32>
}

// Hugging Face Switch: the combine gets the tokens to pass dropped ones
// through; expert biases go to moe.experts.
// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, {{.*}}, %[[BU:[^:]+]]: tensor<4x16xf32>)
// CHECK: %[[W:[^ ]+]], %{{.*}} = moe.route
// CHECK: %{{.*}}, %{{.*}}, %[[ROWS:[^ ]+]], %{{.*}}, %[[DROPPED:[^ ]+]] = moe.dispatch
// CHECK: %[[OUT:[^ ]+]] = moe.experts %{{.*}}, %{{.*}} up(%{{.*}}) up_bias(%[[BU]]) down(%{{.*}})
// CHECK: %[[Y:[^ ]+]] = moe.combine %[[OUT]], %[[ROWS]], %[[W]] identity(%[[X]])
// CHECK: return %[[Y]], %[[DROPPED]]
func.func @identity(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                           %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>, %bu: tensor<4x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) up_bias(%bu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 3, dropped = identity>,
         router = #moe.router<k = 1>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>, tensor<4x16xf32>,
          tensor<4x32x16xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

// Statistics: moe.router_statistics of the router logits and the route's
// ids, returned after the dropped count.
// CHECK-LABEL: func.func @statistics
// CHECK: %[[LOGITS:[^ ]+]] = linalg.matmul
// CHECK: %{{.*}}, %[[IDS:[^ ]+]] = moe.route %[[LOGITS]]
// CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[DROPPED:[^ ]+]] = moe.dispatch
// CHECK: %[[Y:[^ ]+]] = moe.combine
// CHECK: %[[COUNTS:[^ ]+]], %[[AUX:[^ ]+]], %[[Z:[^ ]+]] = moe.router_statistics %[[LOGITS]], %[[IDS]] : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<4xi64>, tensor<f32>, tensor<f32>)
// CHECK: return %[[Y]], %[[DROPPED]], %[[COUNTS]], %[[AUX]], %[[Z]]
func.func @statistics(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                      %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>, tensor<4xi64>, tensor<f32>,
        tensor<f32>) {
  %y:5 = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<factor = 1.0>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>)
       -> (tensor<?x32xf32>, tensor<i64>, tensor<4xi64>, tensor<f32>,
           tensor<f32>)
  return %y#0, %y#1, %y#2, %y#3, %y#4
    : tensor<?x32xf32>, tensor<i64>, tensor<4xi64>, tensor<f32>, tensor<f32>
}

// The probability drop policy hands the route's weights to the dispatch.
// CHECK-LABEL: func.func @probability_policy
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route
// CHECK: moe.dispatch %{{.*}}, %[[IDS]] priority(%[[W]]) {capacity = #moe.capacity<fixed = 3, drop = probability>
func.func @probability_policy(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                              %wu: tensor<4x16x32xf32>,
                              %wd: tensor<4x32x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 3, drop = probability>,
         router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

// Expert choice (k = 2 of E = 4): a route of all 4 experts per token and a
// dispatch that keeps each expert's ceil(2 T / 4) best tokens by score
// (capacity factor k / E = 0.5 over the T * 4 assignments, probability
// policy).
// CHECK-LABEL: func.func @expert_choice
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route %{{.*}} {router = #moe.router<k = 4>} : (tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>)
// CHECK: moe.dispatch %{{.*}}, %[[IDS]] priority(%[[W]]) {capacity = #moe.capacity<factor = 5.000000e-01, drop = probability>, num_experts = 4 : i64}
// CHECK: moe.combine %{{.*}}, %{{.*}}, %[[W]] : (tensor<?x32xf32>, tensor<?x4xi32>, tensor<?x4xf32>) -> tensor<?x32xf32>
func.func @expert_choice(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                         %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, choice = expert>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
