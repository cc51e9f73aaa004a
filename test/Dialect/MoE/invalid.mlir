// RUN: moe-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule. Sizes: T tokens (often dynamic), D = 4,
// F = 8, E = 4 experts (8 for the routing cases), k = 2.

//===----------------------------------------------------------------------===//
// #moe.router
//===----------------------------------------------------------------------===//

// Router: k must be positive.
// expected-error @+1 {{router k must be positive, got 0}}
func.func private @router_k_zero() attributes {r = #moe.router<k = 0>}

// -----

// Router: k must be positive (negative).
// expected-error @+1 {{router k must be positive, got -2}}
func.func private @router_k_negative() attributes {r = #moe.router<k = -2>}

// -----

// Router: the scale must be positive.
// expected-error @+1 {{router scale must be a finite positive number, got 0.000000e+00}}
func.func private @router_scale_zero() attributes {r = #moe.router<k = 2, scale = 0.0>}

// -----

// Router: the scale must be positive (negative).
// expected-error @+1 {{router scale must be a finite positive number, got -1.500000e+00}}
func.func private @router_scale_negative() attributes {r = #moe.router<k = 2, scale = -1.5>}

// -----

// Router: the scale must be finite (+inf as a hexadecimal f64).
// expected-error @+1 {{router scale must be a finite positive number, got INF}}
func.func private @router_scale_inf() attributes {r = #moe.router<k = 2, scale = 0x7FF0000000000000>}

// -----

// Router: the scale must be a number (NaN as a hexadecimal f64).
// expected-error @+1 {{router scale must be a finite positive number, got nan}}
func.func private @router_scale_nan() attributes {r = #moe.router<k = 2, scale = 0x7FF8000000000000>}

// -----

// Router: groups must be positive.
// expected-error @+1 {{router groups must be positive, got 0}}
func.func private @router_groups_zero() attributes {r = #moe.router<k = 2, groups = 0>}

// -----

// Router: topk_groups may not exceed groups.
// expected-error @+1 {{router topk_groups must be in [1, groups = 4], got 5}}
func.func private @router_topk_groups_too_many() attributes {r = #moe.router<k = 2, groups = 4, topk_groups = 5>}

// -----

// Router: topk_groups must be positive.
// expected-error @+1 {{router topk_groups must be in [1, groups = 4], got 0}}
func.func private @router_topk_groups_zero() attributes {r = #moe.router<k = 2, groups = 4, topk_groups = 0>}

// -----

// Router: topk_softmax is a softmax order; sigmoid scoring has none.
// expected-error @+1 {{router order topk_softmax needs softmax scoring, not sigmoid}}
func.func private @router_sigmoid_topk_softmax() attributes {r = #moe.router<k = 2, scoring = sigmoid, order = topk_softmax>}

// -----

// Router: k is required.
// expected-error @+1 {{struct is missing required parameter: k}}
func.func private @router_no_k() attributes {r = #moe.router<scale = 2.0>}

// -----

// Router (with E known): k may not exceed the number of experts.
func.func @router_k_exceeds_experts(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op router k = 9 exceeds the number of experts E = 8}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 9>}
    : (tensor<?x8xf32>) -> (tensor<?x9xf32>, tensor<?x9xi32>)
  return
}

// -----

// Router (with E known): the groups must divide the experts evenly.
func.func @router_groups_do_not_divide(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op router groups = 3 does not divide the number of experts E = 8}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2, groups = 3>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Router (with E known): the kept groups must hold at least k experts.
func.func @router_kept_groups_too_small(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op router keeps topk_groups = 1 groups of 2 experts, fewer than k = 3}}
  %w, %ids = moe.route %logits {
      router = #moe.router<k = 3, groups = 4, topk_groups = 1>}
    : (tensor<?x8xf32>) -> (tensor<?x3xf32>, tensor<?x3xi32>)
  return
}

// -----

// Router (with E known): sum_top2 needs two experts per group.
func.func @router_sum_top2_single_expert_groups(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op router group_score sum_top2 needs groups of at least 2 experts, got 1}}
  %w, %ids = moe.route %logits {
      router = #moe.router<k = 2, groups = 8, topk_groups = 4, group_score = sum_top2>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

//===----------------------------------------------------------------------===//
// #moe.capacity
//===----------------------------------------------------------------------===//

// -----

// Capacity: the kind is dropless, fixed or factor.
// expected-error @+1 {{expected 'dropless', 'fixed' or 'factor', got 'unbounded'}}
func.func private @capacity_unknown_kind() attributes {c = #moe.capacity<unbounded>}

// -----

// Capacity: dropless takes no value.
// expected-error @+1 {{a dropless capacity takes no value}}
func.func private @capacity_dropless_value() attributes {c = #moe.capacity<dropless = 4>}

// -----

// Capacity: a fixed capacity must be positive.
// expected-error @+1 {{capacity must be positive, got 0}}
func.func private @capacity_fixed_zero() attributes {c = #moe.capacity<fixed = 0>}

// -----

// Capacity: a fixed capacity must be positive (negative).
// expected-error @+1 {{capacity must be positive, got -3}}
func.func private @capacity_fixed_negative() attributes {c = #moe.capacity<fixed = -3>}

// -----

// Capacity: a fixed capacity is an integer.
// expected-error @+1 {{expected integer value}}
func.func private @capacity_fixed_float() attributes {c = #moe.capacity<fixed = 1.5>}

// -----

// Capacity: a factor must be positive.
// expected-error @+1 {{capacity factor must be a finite positive number, got 0.000000e+00}}
func.func private @capacity_factor_zero() attributes {c = #moe.capacity<factor = 0.0>}

// -----

// Capacity: a factor must be positive (negative).
// expected-error @+1 {{capacity factor must be a finite positive number, got -1.250000e+00}}
func.func private @capacity_factor_negative() attributes {c = #moe.capacity<factor = -1.25>}

// -----

// Capacity: a factor must be finite (+inf as a hexadecimal f64).
// expected-error @+1 {{capacity factor must be a finite positive number, got INF}}
func.func private @capacity_factor_inf() attributes {c = #moe.capacity<factor = 0x7FF0000000000000>}

// -----

// Capacity: the only drop policy is position.
// expected-error @+1 {{unknown drop policy 'random'}}
func.func private @capacity_unknown_drop_policy() attributes {c = #moe.capacity<fixed = 4, drop = random>}

// -----

// Capacity: the only optional parameter is drop.
// expected-error @+1 {{expected 'drop'}}
func.func private @capacity_unknown_parameter() attributes {c = #moe.capacity<fixed = 4, policy = position>}

//===----------------------------------------------------------------------===//
// moe.layer
//===----------------------------------------------------------------------===//

// -----

// Layer: the tokens are [T, D].
func.func @layer_tokens_rank(%x: tensor<4xf32>, %wr: tensor<4x4xf32>,
                             %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects tokens of rank 2 [T, D], got 'tensor<4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
       -> tensor<4x4xf32>
  return
}

// -----

// Layer: D must be static.
func.func @layer_dynamic_model_size(%x: tensor<?x?xf32>, %wr: tensor<4x4xf32>,
                                    %wu: tensor<4x8x4xf32>,
                                    %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects a static model size D (tokens dim 1)}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x?xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
       -> tensor<?x?xf32>
  return
}

// -----

// Layer: D must be positive.
func.func @layer_empty_model_size(%x: tensor<?x0xf32>, %wr: tensor<4x0xf32>,
                                  %wu: tensor<4x8x0xf32>,
                                  %wd: tensor<4x0x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects a positive model size D (tokens dim 1), got 0}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x0xf32>, tensor<4x0xf32>, tensor<4x8x0xf32>, tensor<4x0x8xf32>)
       -> tensor<?x0xf32>
  return
}

// -----

// Layer: the router weight is [E, D].
func.func @layer_router_weight_rank(%x: tensor<?x4xf32>, %wr: tensor<4x4x1xf32>,
                                    %wu: tensor<4x8x4xf32>,
                                    %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects router weight of rank 2 [E, D], got 'tensor<4x4x1xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4x1xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: E must be static.
func.func @layer_dynamic_experts(%x: tensor<?x4xf32>, %wr: tensor<?x4xf32>,
                                 %wu: tensor<4x8x4xf32>,
                                 %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects a static number of experts E}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: E must be positive.
func.func @layer_no_experts(%x: tensor<?x4xf32>, %wr: tensor<0x4xf32>,
                            %wu: tensor<0x8x4xf32>, %wd: tensor<0x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects a positive number of experts E, got 0}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<0x4xf32>, tensor<0x8x4xf32>,
          tensor<0x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the router weight's D is the tokens' D.
func.func @layer_router_weight_shape(%x: tensor<?x4xf32>, %wr: tensor<4x5xf32>,
                                     %wu: tensor<4x8x4xf32>,
                                     %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects router weight of shape [4, 4] (E x D), got 'tensor<4x5xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x5xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the router weight has the tokens' element type.
func.func @layer_router_weight_type(%x: tensor<?x4xbf16>, %wr: tensor<4x4xf32>,
                                    %wu: tensor<4x8x4xbf16>,
                                    %wd: tensor<4x4x8xbf16>) {
  // expected-error @+1 {{'moe.layer' op expects router weight element type 'bf16' (that of the tokens), got 'f32'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xbf16>, tensor<4x4xf32>, tensor<4x8x4xbf16>,
          tensor<4x4x8xbf16>) -> tensor<?x4xbf16>
  return
}

// -----

// Layer: the router bias is [E].
func.func @layer_router_bias_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                   %rb: tensor<5xf32>, %wu: tensor<4x8x4xf32>,
                                   %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects router bias of shape [4] (E), got 'tensor<5xf32>'}}
  %y = moe.layer %x router(%wr) bias(%rb) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<5xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the selection bias is [E].
func.func @layer_selection_bias_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                      %rb: tensor<4xf32>, %sb: tensor<4x1xf32>,
                                      %wu: tensor<4x8x4xf32>,
                                      %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects selection bias of shape [4] (E), got 'tensor<4x1xf32>'}}
  %y = moe.layer %x router(%wr) bias(%rb) selection_bias(%sb)
       up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x1xf32>,
          tensor<4x8x4xf32>, tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the router is checked against the layer's E.
func.func @layer_router_k_exceeds_experts(%x: tensor<?x4xf32>,
                                          %wr: tensor<4x4xf32>,
                                          %wu: tensor<4x8x4xf32>,
                                          %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op router k = 5 exceeds the number of experts E = 4}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 5>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: a gated activation needs a gate weight.
func.func @layer_gated_without_gate(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                    %wu: tensor<4x8x4xf32>,
                                    %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op activation 'swiglu' is gated and needs a gate weight}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: an ungated activation takes no gate weight.
func.func @layer_ungated_with_gate(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                   %wg: tensor<4x8x4xf32>,
                                   %wu: tensor<4x8x4xf32>,
                                   %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op activation 'gelu' is not gated and takes no gate weight}}
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<gelu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x8x4xf32>, tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the up weight is [E, F, D].
func.func @layer_up_weight_rank(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                %wu: tensor<8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects up weight of rank 3 [E, F, D], got 'tensor<8x4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<8x4xf32>, tensor<4x4x8xf32>)
       -> tensor<?x4xf32>
  return
}

// -----

// Layer: F must be static.
func.func @layer_dynamic_hidden_size(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                     %wu: tensor<4x?x4xf32>,
                                     %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects a static expert hidden size F}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x?x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: F must be positive.
func.func @layer_empty_hidden_size(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                   %wu: tensor<4x0x4xf32>,
                                   %wd: tensor<4x4x0xf32>) {
  // expected-error @+1 {{'moe.layer' op expects a positive expert hidden size F, got 0}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x0x4xf32>,
          tensor<4x4x0xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the up weight has one matrix per expert.
func.func @layer_up_weight_experts(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                   %wu: tensor<3x8x4xf32>,
                                   %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects up weight of shape [4, 8, 4] (E x F x D), got 'tensor<3x8x4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<3x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the up weight's D is the tokens' D.
func.func @layer_up_weight_model_size(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                      %wu: tensor<4x8x5xf32>,
                                      %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects up weight of shape [4, 8, 4] (E x F x D), got 'tensor<4x8x5xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x5xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the up weight has the tokens' element type.
func.func @layer_up_weight_type(%x: tensor<?x4xf16>, %wr: tensor<4x4xf16>,
                                %wu: tensor<4x8x4xbf16>,
                                %wd: tensor<4x4x8xf16>) {
  // expected-error @+1 {{'moe.layer' op expects up weight element type 'f16' (that of the tokens), got 'bf16'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf16>, tensor<4x4xf16>, tensor<4x8x4xbf16>,
          tensor<4x4x8xf16>) -> tensor<?x4xf16>
  return
}

// -----

// Layer: the gate weight has the up weight's shape.
func.func @layer_gate_weight_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                   %wg: tensor<4x6x4xf32>,
                                   %wu: tensor<4x8x4xf32>,
                                   %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects gate weight of shape [4, 8, 4] (E x F x D), got 'tensor<4x6x4xf32>'}}
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<geglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x6x4xf32>,
          tensor<4x8x4xf32>, tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the gate weight has the tokens' element type.
func.func @layer_gate_weight_type(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                  %wg: tensor<4x8x4xf16>,
                                  %wu: tensor<4x8x4xf32>,
                                  %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects gate weight element type 'f32' (that of the tokens), got 'f16'}}
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf16>,
          tensor<4x8x4xf32>, tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the down weight is [E, D, F] (here [E, F, D] by mistake).
func.func @layer_down_weight_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                                   %wu: tensor<4x8x4xf32>,
                                   %wd: tensor<4x8x4xf32>) {
  // expected-error @+1 {{'moe.layer' op expects down weight of shape [4, 4, 8] (E x D x F), got 'tensor<4x8x4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x8x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the down weight has the tokens' element type.
func.func @layer_down_weight_type(%x: tensor<?x4xbf16>, %wr: tensor<4x4xbf16>,
                                  %wu: tensor<4x8x4xbf16>,
                                  %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects down weight element type 'bf16' (that of the tokens), got 'f32'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xbf16>, tensor<4x4xbf16>, tensor<4x8x4xbf16>,
          tensor<4x4x8xf32>) -> tensor<?x4xbf16>
  return
}

// -----

// Layer: the output is [T, D].
func.func @layer_output_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                              %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects output of shape [T, 4] (T x D), got 'tensor<?x8xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

// Layer: the output has one row per token.
func.func @layer_output_tokens(%x: tensor<6x4xf32>, %wr: tensor<4x4xf32>,
                               %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects output of shape [6, 4] (T x D), got 'tensor<5x4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<6x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<5x4xf32>
  return
}

// -----

// Layer: the output has the tokens' element type.
func.func @layer_output_type(%x: tensor<?x4xf16>, %wr: tensor<4x4xf16>,
                             %wu: tensor<4x8x4xf16>, %wd: tensor<4x4x8xf16>) {
  // expected-error @+1 {{'moe.layer' op expects output element type 'f16' (that of the tokens), got 'f32'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf16>, tensor<4x4xf16>, tensor<4x8x4xf16>,
          tensor<4x4x8xf16>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: a capacity that can drop needs the dropped count as a result.
func.func @layer_capacity_without_dropped(%x: tensor<?x4xf32>,
                                          %wr: tensor<4x4xf32>,
                                          %wu: tensor<4x8x4xf32>,
                                          %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op has a capacity that can drop assignments but does not return the dropped count; add a tensor<i64> result}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<factor = 1.25>, router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the dropped count is a tensor<i64>; anything else after the output
// does not fit the result pattern.
func.func @layer_dropped_type(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
                              %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects its results to be the output, optionally the dropped count (tensor<i64>), and optionally the statistics (expert counts tensor<4xi64>, aux loss tensor<f32>, z-loss tensor<f32>); got 2 results}}
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 4>, router = #moe.router<k = 2>}
       : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>,
          tensor<4x4x8xf32>) -> (tensor<?x4xf32>, tensor<i32>)
  return
}

// -----

// Layer: tokens are f32, bf16 or f16 (type constraint).
func.func @layer_f64_tokens(%x: tensor<?x4xf64>, %wr: tensor<4x4xf64>,
                            %wu: tensor<4x8x4xf64>, %wd: tensor<4x4x8xf64>) {
  // expected-error @+1 {{'moe.layer' op operand #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x4xf64>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2>}
       : (tensor<?x4xf64>, tensor<4x4xf64>, tensor<4x8x4xf64>,
          tensor<4x4x8xf64>) -> tensor<?x4xf64>
  return
}

//===----------------------------------------------------------------------===//
// moe.route
//===----------------------------------------------------------------------===//

// -----

// Route: the logits are [T, E].
func.func @route_logits_rank(%logits: tensor<8xf32>) {
  // expected-error @+1 {{'moe.route' op expects logits of rank 2 [T, E], got 'tensor<8xf32>'}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Route: E must be static.
func.func @route_dynamic_experts(%logits: tensor<?x?xf32>) {
  // expected-error @+1 {{'moe.route' op expects a static number of experts E (logits dim 1)}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x?xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Route: E must be positive.
func.func @route_no_experts(%logits: tensor<?x0xf32>) {
  // expected-error @+1 {{'moe.route' op expects a positive number of experts E (logits dim 1), got 0}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x0xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Route: the selection bias is [E].
func.func @route_selection_bias_shape(%logits: tensor<?x8xf32>,
                                      %bias: tensor<4xf32>) {
  // expected-error @+1 {{'moe.route' op expects selection bias of shape [8] (E), got 'tensor<4xf32>'}}
  %w, %ids = moe.route %logits selection_bias(%bias) {
      router = #moe.router<k = 2>}
    : (tensor<?x8xf32>, tensor<4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Route: the weights are [T, k].
func.func @route_weights_k(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op expects weights of shape [T, 2] (T x k), got 'tensor<?x3xf32>'}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x8xf32>) -> (tensor<?x3xf32>, tensor<?x2xi32>)
  return
}

// -----

// Route: the weights have one row per token.
func.func @route_weights_tokens(%logits: tensor<6x8xf32>) {
  // expected-error @+1 {{'moe.route' op expects weights to have 6 rows (one per token), got 5}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<6x8xf32>) -> (tensor<5x2xf32>, tensor<6x2xi32>)
  return
}

// -----

// Route: the weights are f32 (type constraint).
func.func @route_weights_type(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x2xbf16>'}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x8xf32>) -> (tensor<?x2xbf16>, tensor<?x2xi32>)
  return
}

// -----

// Route: the expert ids are [T, k].
func.func @route_ids_rank(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op expects expert ids of shape [T, 2] (T x k), got 'tensor<?xi32>'}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?xi32>)
  return
}

// -----

// Route: the expert ids have one row per token.
func.func @route_ids_tokens(%logits: tensor<6x8xf32>) {
  // expected-error @+1 {{'moe.route' op expects expert ids to have 6 rows (one per token), got 7}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<6x8xf32>) -> (tensor<6x2xf32>, tensor<7x2xi32>)
  return
}

// -----

// Route: with dynamic logits, the weights and ids still agree on T.
func.func @route_results_disagree(%logits: tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.route' op expects expert ids to have 4 rows (one per token), got 5}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x8xf32>) -> (tensor<4x2xf32>, tensor<5x2xi32>)
  return
}

//===----------------------------------------------------------------------===//
// moe.dispatch
//===----------------------------------------------------------------------===//

// -----

// Dispatch: the tokens are [T, D].
func.func @dispatch_tokens_rank(%x: tensor<4xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects tokens of rank 2 [T, D], got 'tensor<4xf32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<4xf32>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the expert ids are [T, k].
func.func @dispatch_ids_rank(%x: tensor<?x4xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects expert ids of rank 2 [T, k], got 'tensor<?xi32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: D must be static.
func.func @dispatch_dynamic_model_size(%x: tensor<?x?xf32>,
                                       %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects a static model size D (tokens dim 1)}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x?xf32>, tensor<?x2xi32>) -> (tensor<?x?xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: k must be static.
func.func @dispatch_dynamic_k(%x: tensor<?x4xf32>, %ids: tensor<?x?xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects a static k (expert ids dim 1)}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x?xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x?xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: k must be positive.
func.func @dispatch_zero_k(%x: tensor<?x4xf32>, %ids: tensor<?x0xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects a positive k (expert ids dim 1), got 0}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x0xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x0xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the expert ids have one row per token.
func.func @dispatch_ids_tokens(%x: tensor<6x4xf32>, %ids: tensor<5x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects expert ids to have 6 rows (one per token), got 5}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<6x4xf32>, tensor<5x2xi32>) -> (tensor<12x4xf32>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<12xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: with dynamic tokens, the expert ids and rows still agree on T.
func.func @dispatch_ids_rows_disagree(%x: tensor<?x4xf32>,
                                      %ids: tensor<6x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects rows of shape [6, 2] (T x k), got 'tensor<5x2xi32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<6x2xi32>) -> (tensor<12x4xf32>, tensor<5xi32>,
       tensor<5x2xi32>, tensor<12xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the buffer has T * k rows.
func.func @dispatch_buffer_rows(%x: tensor<6x4xf32>, %ids: tensor<6x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects dispatched buffer of shape [12, 4] (T*k x D), got 'tensor<6x4xf32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<6x4xf32>, tensor<6x2xi32>) -> (tensor<6x4xf32>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<12xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the buffer has D columns.
func.func @dispatch_buffer_model_size(%x: tensor<?x4xf32>,
                                      %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects dispatched buffer of shape [T*k, 4] (T*k x D), got 'tensor<?x8xf32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<?x8xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the buffer has the tokens' element type.
func.func @dispatch_buffer_type(%x: tensor<?x4xbf16>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects dispatched buffer element type 'bf16' (that of the tokens), got 'f32'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xbf16>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the offsets are [E + 1].
func.func @dispatch_offsets_shape(%x: tensor<?x4xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects offsets of shape [5] (E+1), got 'tensor<4xi32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<4xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the rows are [T, k].
func.func @dispatch_rows_shape(%x: tensor<?x4xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects rows of shape [T, 2] (T x k), got 'tensor<?x1xi32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: the sources are [T * k].
func.func @dispatch_sources_shape(%x: tensor<6x4xf32>, %ids: tensor<6x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects sources of shape [12] (T*k), got 'tensor<6xi32>'}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<6x4xf32>, tensor<6x2xi32>) -> (tensor<12x4xf32>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<6xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: a dynamic T cannot give a static row count.
func.func @dispatch_dynamic_tokens_static_rows(%x: tensor<?x4xf32>,
                                               %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects a dynamic row count T*k when the token count is dynamic}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<12x4xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: a dynamic T cannot give a static source count.
func.func @dispatch_dynamic_tokens_static_sources(%x: tensor<?x4xf32>,
                                                  %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects a dynamic row count T*k when the token count is dynamic}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<12xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: num_experts must be positive (attribute constraint).
func.func @dispatch_no_experts(%x: tensor<?x4xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op attribute 'num_experts' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 0 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<1xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: expert ids are i32, so E fits in i32 (and E + 1 cannot overflow
// into the dynamic size, which would accept any offsets shape).
func.func @dispatch_too_many_experts(%x: tensor<?x4xf32>,
                                     %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op expects num_experts to fit the i32 expert ids (at most 2147483647), got 9223372036854775807}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>,
      num_experts = 9223372036854775807 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<?x4xf32>, tensor<4xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

//===----------------------------------------------------------------------===//
// moe.experts
//===----------------------------------------------------------------------===//

// -----

// Experts: the input is [R, D].
func.func @experts_input_rank(%in: tensor<4xf32>, %offsets: tensor<5xi32>,
                              %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects input of rank 2 [R, D], got 'tensor<4xf32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: the offsets are [E + 1].
func.func @experts_offsets_rank(%in: tensor<?x4xf32>, %offsets: tensor<5x1xi32>,
                                %wu: tensor<4x8x4xf32>,
                                %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects offsets of rank 1 [E+1], got 'tensor<5x1xi32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf32>, tensor<5x1xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: D must be static.
func.func @experts_dynamic_model_size(%in: tensor<?x?xf32>,
                                      %offsets: tensor<5xi32>,
                                      %wu: tensor<4x8x4xf32>,
                                      %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects a static model size D (input dim 1)}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x?xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x?xf32>
  return
}

// -----

// Experts: the offsets must be static.
func.func @experts_dynamic_offsets(%in: tensor<?x4xf32>, %offsets: tensor<?xi32>,
                                   %wu: tensor<4x8x4xf32>,
                                   %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects static offsets of shape [E+1] with E >= 1, got 'tensor<?xi32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf32>, tensor<?xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: there is at least one expert.
func.func @experts_no_experts(%in: tensor<?x4xf32>, %offsets: tensor<1xi32>,
                              %wu: tensor<0x8x4xf32>, %wd: tensor<0x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects static offsets of shape [E+1] with E >= 1, got 'tensor<1xi32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf32>, tensor<1xi32>, tensor<0x8x4xf32>, tensor<0x4x8xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: a gated activation needs a gate weight.
func.func @experts_gated_without_gate(%in: tensor<?x4xf32>,
                                      %offsets: tensor<5xi32>,
                                      %wu: tensor<4x8x4xf32>,
                                      %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op activation 'geglu' is gated and needs a gate weight}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<geglu>}
    : (tensor<?x4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: an ungated activation takes no gate weight.
func.func @experts_ungated_with_gate(%in: tensor<?x4xf32>,
                                     %offsets: tensor<5xi32>,
                                     %wg: tensor<4x8x4xf32>,
                                     %wu: tensor<4x8x4xf32>,
                                     %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op activation 'silu' is not gated and takes no gate weight}}
  %out = moe.experts %in, %offsets gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<silu>}
    : (tensor<?x4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x8x4xf32>,
       tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Experts: the weights have one matrix per offset segment (E from offsets).
func.func @experts_weights_experts(%in: tensor<?x4xf32>,
                                   %offsets: tensor<9xi32>,
                                   %wu: tensor<4x8x4xf32>,
                                   %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects up weight of shape [8, 8, 4] (E x F x D), got 'tensor<4x8x4xf32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf32>, tensor<9xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: the down weight's F is the up weight's F.
func.func @experts_down_hidden_size(%in: tensor<?x4xf32>,
                                    %offsets: tensor<5xi32>,
                                    %wu: tensor<4x8x4xf32>,
                                    %wd: tensor<4x4x16xf32>) {
  // expected-error @+1 {{'moe.experts' op expects down weight of shape [4, 4, 8] (E x D x F), got 'tensor<4x4x16xf32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x16xf32>)
    -> tensor<?x4xf32>
  return
}

// -----

// Experts: the weights have the input's element type.
func.func @experts_weight_type(%in: tensor<?x4xf16>, %offsets: tensor<5xi32>,
                               %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf16>) {
  // expected-error @+1 {{'moe.experts' op expects up weight element type 'f16' (that of the input), got 'f32'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf16>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf16>)
    -> tensor<?x4xf16>
  return
}

// -----

// Experts: the output is [R, D].
func.func @experts_output_shape(%in: tensor<?x4xf32>, %offsets: tensor<5xi32>,
                                %wu: tensor<4x8x4xf32>,
                                %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects output of shape [R, 4] (R x D), got 'tensor<?x8xf32>'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<?x8xf32>
  return
}

// -----

// Experts: the output has the input's rows.
func.func @experts_output_rows(%in: tensor<12x4xf32>, %offsets: tensor<5xi32>,
                               %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects output to have 12 rows (one per token), got 10}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<12x4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> tensor<10x4xf32>
  return
}

// -----

// Experts: the output has the input's element type.
func.func @experts_output_type(%in: tensor<?x4xbf16>, %offsets: tensor<5xi32>,
                               %wu: tensor<4x8x4xbf16>,
                               %wd: tensor<4x4x8xbf16>) {
  // expected-error @+1 {{'moe.experts' op expects output element type 'bf16' (that of the input), got 'f32'}}
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x4xbf16>, tensor<5xi32>, tensor<4x8x4xbf16>,
       tensor<4x4x8xbf16>) -> tensor<?x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.combine
//===----------------------------------------------------------------------===//

// -----

// Combine: the expert output is [R, D].
func.func @combine_expert_output_rank(%out: tensor<4xf32>,
                                      %rows: tensor<?x2xi32>,
                                      %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects expert output of rank 2 [R, D], got 'tensor<4xf32>'}}
  %y = moe.combine %out, %rows, %w
    : (tensor<4xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Combine: the rows are [T, k].
func.func @combine_rows_rank(%out: tensor<?x4xf32>, %rows: tensor<?xi32>,
                             %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects rows of rank 2 [T, k], got 'tensor<?xi32>'}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<?xi32>, tensor<?x2xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Combine: D must be static.
func.func @combine_dynamic_model_size(%out: tensor<?x?xf32>,
                                      %rows: tensor<?x2xi32>,
                                      %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects a static model size D (expert output dim 1)}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x?xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x?xf32>
  return
}

// -----

// Combine: k must be static.
func.func @combine_dynamic_k(%out: tensor<?x4xf32>, %rows: tensor<?x?xi32>,
                             %w: tensor<?x?xf32>) {
  // expected-error @+1 {{'moe.combine' op expects a static k (rows dim 1)}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Combine: k must be positive.
func.func @combine_zero_k(%out: tensor<?x4xf32>, %rows: tensor<?x0xi32>,
                          %w: tensor<?x0xf32>) {
  // expected-error @+1 {{'moe.combine' op expects a positive k (rows dim 1), got 0}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<?x0xi32>, tensor<?x0xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Combine: the weights are [T, k].
func.func @combine_weights_k(%out: tensor<?x4xf32>, %rows: tensor<?x2xi32>,
                             %w: tensor<?x3xf32>) {
  // expected-error @+1 {{'moe.combine' op expects weights of shape [T, 2] (T x k), got 'tensor<?x3xf32>'}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<?x2xi32>, tensor<?x3xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Combine: the weights have one row per token.
func.func @combine_weights_tokens(%out: tensor<?x4xf32>, %rows: tensor<6x2xi32>,
                                  %w: tensor<5x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects weights to have 6 rows (one per token), got 5}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<6x2xi32>, tensor<5x2xf32>) -> tensor<6x4xf32>
  return
}

// -----

// Combine: the weights are f32 (type constraint).
func.func @combine_weights_type(%out: tensor<?x4xbf16>, %rows: tensor<?x2xi32>,
                                %w: tensor<?x2xbf16>) {
  // expected-error @+1 {{'moe.combine' op operand #2 must be ranked tensor of 32-bit float values, but got 'tensor<?x2xbf16>'}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xbf16>, tensor<?x2xi32>, tensor<?x2xbf16>)
    -> tensor<?x4xbf16>
  return
}

// -----

// Combine: the output is [T, D].
func.func @combine_output_shape(%out: tensor<?x4xf32>, %rows: tensor<?x2xi32>,
                                %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects output of shape [T, 4] (T x D), got 'tensor<?x2xf32>'}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x2xf32>
  return
}

// -----

// Combine: the output has one row per token.
func.func @combine_output_tokens(%out: tensor<?x4xf32>, %rows: tensor<6x2xi32>,
                                 %w: tensor<6x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects output to have 6 rows (one per token), got 12}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<6x2xi32>, tensor<6x2xf32>) -> tensor<12x4xf32>
  return
}

// -----

// Combine: with dynamic rows, the weights and output still agree on T.
func.func @combine_weights_output_disagree(%out: tensor<?x4xf32>,
                                           %rows: tensor<?x2xi32>,
                                           %w: tensor<6x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects output to have 6 rows (one per token), got 5}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf32>, tensor<?x2xi32>, tensor<6x2xf32>) -> tensor<5x4xf32>
  return
}

// -----

// Combine: the output has the expert output's element type.
func.func @combine_output_type(%out: tensor<?x4xf16>, %rows: tensor<?x2xi32>,
                               %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.combine' op expects output element type 'f16' (that of the expert output), got 'f32'}}
  %y = moe.combine %out, %rows, %w
    : (tensor<?x4xf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Model-family variants
//===----------------------------------------------------------------------===//

// -----

// Router: input-side weights only with one expert per token.
// expected-error @+1 {{router weights_on = input needs k = 1, got k = 2}}
func.func private @weights_on_input_k2() attributes {r = #moe.router<k = 2, weights_on = input>}

// -----

// Capacity: a dropless capacity has nothing to pass through.
// expected-error @+1 {{a dropless capacity drops nothing: 'dropped = identity' does not apply}}
func.func private @dropless_identity() attributes {c = #moe.capacity<dropless, dropped = identity>}

// -----

// Capacity: unknown key after the kind.
// expected-error @+1 {{expected 'drop' or 'dropped', got 'overflow'}}
func.func private @capacity_unknown_key() attributes {c = #moe.capacity<fixed = 2, overflow = zero>}

// -----

// Capacity: unknown dropped output.
// expected-error @+1 {{expected 'zero' or 'identity', got 'residual'}}
func.func private @capacity_unknown_dropped() attributes {c = #moe.capacity<fixed = 2, dropped = residual>}

// -----

// Capacity: a key given twice.
// expected-error @+1 {{'dropped' given twice}}
func.func private @capacity_dropped_twice() attributes {c = #moe.capacity<fixed = 2, dropped = zero, dropped = identity>}

// -----

// Activation: unknown kind.
// expected-error @+1 {{unknown activation 'swish'}}
func.func private @activation_unknown() attributes {a = #moe.activation<swish>}

// -----

// Activation: only clamped_swiglu takes parameters.
// expected-error @+1 {{activation 'swiglu' takes no parameters}}
func.func private @activation_swiglu_limit() attributes {a = #moe.activation<swiglu, limit = 7.0>}

// -----

// Activation: clamped_swiglu's parameters are alpha and limit.
// expected-error @+1 {{expected 'alpha' or 'limit', got 'beta'}}
func.func private @activation_unknown_parameter() attributes {a = #moe.activation<clamped_swiglu, beta = 1.0>}

// -----

// Activation: a parameter given twice.
// expected-error @+1 {{'limit' given twice}}
func.func private @activation_limit_twice() attributes {a = #moe.activation<clamped_swiglu, limit = 7.0, limit = 8.0>}

// -----

// Activation: the limit must be positive.
// expected-error @+1 {{activation limit must be a finite positive number, got -1.000000e+00}}
func.func private @activation_negative_limit() attributes {a = #moe.activation<clamped_swiglu, limit = -1.0>}

// -----

// Activation: alpha must be positive.
// expected-error @+1 {{activation alpha must be a finite positive number, got 0.000000e+00}}
func.func private @activation_zero_alpha() attributes {a = #moe.activation<clamped_swiglu, alpha = 0.0>}

// -----

// Layer: a gate bias needs a gate weight.
func.func @gate_bias_without_gate(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %bg: tensor<4x8xf32>, %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op has a gate bias but no gate weight}}
  %y = moe.layer %x router(%wr) gate_bias(%bg) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8xf32>, tensor<4x8x4xf32>,
       tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: an up bias is [E, F].
func.func @up_bias_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %bu: tensor<4x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects up bias of shape [4, 8] (E x F), got 'tensor<4x4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) up_bias(%bu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4xf32>,
       tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: a down bias has the weights' element type.
func.func @down_bias_type(%x: tensor<?x4xbf16>, %wr: tensor<4x4xbf16>,
    %wu: tensor<4x8x4xbf16>, %wd: tensor<4x4x8xbf16>, %bd: tensor<4x4xf32>) {
  // expected-error @+1 {{'moe.layer' op expects down bias element type 'bf16' (that of the tokens), got 'f32'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) down_bias(%bd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xbf16>, tensor<4x4xbf16>, tensor<4x8x4xbf16>,
       tensor<4x4x8xbf16>, tensor<4x4xf32>) -> tensor<?x4xbf16>
  return
}

// -----

// Layer: shared experts need both shared_up and shared_down.
func.func @shared_up_only(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>, %su: tensor<6x4xf32>) {
  // expected-error @+1 {{'moe.layer' op shared experts need both shared_up and shared_down}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) shared_up(%su) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>,
       tensor<6x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: a gated activation needs a shared gate projection.
func.func @shared_missing_gate(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wg: tensor<4x8x4xf32>, %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>,
    %su: tensor<6x4xf32>, %sd: tensor<4x6xf32>) {
  // expected-error @+1 {{'moe.layer' op activation 'swiglu' is gated and the shared experts need a shared_gate}}
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) shared_up(%su)
      shared_down(%sd) {
      activation = #moe.activation<swiglu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x8x4xf32>,
       tensor<4x4x8xf32>, tensor<6x4xf32>, tensor<4x6xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: a shared sigmoid gate needs shared experts.
func.func @sigmoid_gate_without_shared(%x: tensor<?x4xf32>,
    %wr: tensor<4x4xf32>, %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>,
    %g: tensor<1x4xf32>) {
  // expected-error @+1 {{'moe.layer' op has a shared sigmoid gate but no shared experts (shared_up and shared_down)}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) shared_sigmoid_gate(%g) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>,
       tensor<1x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the shared down weight is [D, S].
func.func @shared_down_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>, %su: tensor<6x4xf32>,
    %sd: tensor<6x4xf32>) {
  // expected-error @+1 {{'moe.layer' op expects shared down weight of shape [4, 6] (D x S), got 'tensor<6x4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) shared_up(%su)
      shared_down(%sd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>,
       tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the shared sigmoid gate is [1, D].
func.func @shared_sigmoid_gate_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>, %su: tensor<6x4xf32>,
    %sd: tensor<4x6xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'moe.layer' op expects shared sigmoid gate of shape [1, 4] (1 x D), got 'tensor<4xf32>'}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) shared_up(%su)
      shared_down(%sd) shared_sigmoid_gate(%g) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>,
       tensor<6x4xf32>, tensor<4x6xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: passing dropped tokens through is meaningless when the weights
// already scaled the expert inputs.
func.func @identity_with_input_weights(%x: tensor<?x4xf32>,
    %wr: tensor<4x4xf32>, %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op cannot pass dropped tokens through (capacity dropped = identity) when the gate weights scale the expert inputs (router weights_on = input)}}
  %y, %d = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>,
      capacity = #moe.capacity<fixed = 2, dropped = identity>,
      router = #moe.router<k = 1, weights_on = input>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> (tensor<?x4xf32>, tensor<i64>)
  return
}

// -----

// Dispatch: the scale is [T, k].
func.func @dispatch_scale_shape(%x: tensor<?x4xf32>, %ids: tensor<?x2xi32>,
                                %w: tensor<?x1xf32>) {
  // expected-error @+1 {{'moe.dispatch' op expects scale of shape [T, 2] (T x k), got 'tensor<?x1xf32>'}}
  %buf, %offsets, %rows, %src, %d = moe.dispatch %x, %ids scale(%w) {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>, tensor<?x1xf32>)
    -> (tensor<?x4xf32>, tensor<5xi32>, tensor<?x2xi32>, tensor<?xi32>,
        tensor<i64>)
  return
}

// -----

// Combine: the identity tokens are [T, D].
func.func @combine_identity_shape(%out: tensor<?x4xf32>, %rows: tensor<3x2xi32>,
                                  %w: tensor<3x2xf32>, %x: tensor<5x4xf32>) {
  // expected-error @+1 {{'moe.combine' op expects identity tokens to have 3 rows (one per token), got 5}}
  %y = moe.combine %out, %rows, %w identity(%x)
    : (tensor<?x4xf32>, tensor<3x2xi32>, tensor<3x2xf32>, tensor<5x4xf32>)
    -> tensor<3x4xf32>
  return
}

// -----

// Experts: a gate bias is [E, F].
func.func @experts_gate_bias_shape(%in: tensor<?x4xf32>, %offsets: tensor<5xi32>,
    %wg: tensor<4x8x4xf32>, %bg: tensor<4x4xf32>, %wu: tensor<4x8x4xf32>,
    %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.experts' op expects gate bias of shape [4, 8] (E x F), got 'tensor<4x4xf32>'}}
  %y = moe.experts %in, %offsets gate(%wg) gate_bias(%bg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>}
    : (tensor<?x4xf32>, tensor<5xi32>, tensor<4x8x4xf32>, tensor<4x4xf32>,
       tensor<4x8x4xf32>, tensor<4x4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Layer: the statistics are all three results or none.
func.func @statistics_partial(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects its results to be the output, optionally the dropped count (tensor<i64>), and optionally the statistics (expert counts tensor<4xi64>, aux loss tensor<f32>, z-loss tensor<f32>); got 3 results}}
  %y:3 = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> (tensor<?x4xf32>, tensor<4xi64>, tensor<f32>)
  return
}

// -----

// Layer: one count per expert.
func.func @statistics_counts_shape(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects expert counts of shape [4] (E), got 'tensor<5xi64>'}}
  %y:4 = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> (tensor<?x4xf32>, tensor<5xi64>, tensor<f32>, tensor<f32>)
  return
}

// -----

// Layer: the losses are f32 scalars.
func.func @statistics_loss_type(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op expects the z-loss result to be tensor<f32>, got 'tensor<f16>'}}
  %y:4 = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> (tensor<?x4xf32>, tensor<4xi64>, tensor<f32>, tensor<f16>)
  return
}

// -----

// Layer: a capacity that can drop still needs the dropped count first.
func.func @statistics_without_dropped(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op has a capacity that can drop assignments but does not return the dropped count; add a tensor<i64> result}}
  %y:4 = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<fixed = 2>,
      router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> (tensor<?x4xf32>, tensor<4xi64>, tensor<f32>, tensor<f32>)
  return
}

// -----

// Router statistics: one count per expert of the logits.
func.func @router_statistics_counts(%logits: tensor<?x4xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.router_statistics' op expects expert counts of shape [4] (E), got 'tensor<8xi64>'}}
  %c, %a, %z = moe.router_statistics %logits, %ids
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<8xi64>, tensor<f32>, tensor<f32>)
  return
}

// -----

// Router statistics: ids and logits agree on T.
func.func @router_statistics_tokens(%logits: tensor<3x4xf32>, %ids: tensor<5x2xi32>) {
  // expected-error @+1 {{'moe.router_statistics' op expects expert ids to have 3 rows (one per token), got 5}}
  %c, %a, %z = moe.router_statistics %logits, %ids
    : (tensor<3x4xf32>, tensor<5x2xi32>) -> (tensor<4xi64>, tensor<f32>, tensor<f32>)
  return
}

// -----

// Capacity: a dropless capacity has no drop policy.
// expected-error @+1 {{a dropless capacity drops nothing: 'drop = probability' does not apply}}
func.func private @dropless_probability() attributes {c = #moe.capacity<dropless, drop = probability>}

// -----

// Dispatch: the probability policy needs the weights.
func.func @dispatch_probability_without_priority(%x: tensor<?x4xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.dispatch' op drops by probability and needs the gate weights: add priority(%weights)}}
  %buf, %offsets, %rows, %src, %d = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 2, drop = probability>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>)
    -> (tensor<?x4xf32>, tensor<5xi32>, tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Dispatch: priority weights only under the probability policy.
func.func @dispatch_priority_with_position(%x: tensor<?x4xf32>, %ids: tensor<?x2xi32>,
                                           %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.dispatch' op takes priority weights only under a capacity with drop = probability}}
  %buf, %offsets, %rows, %src, %d = moe.dispatch %x, %ids priority(%w) {
      capacity = #moe.capacity<fixed = 2>, num_experts = 4 : i64}
    : (tensor<?x4xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
    -> (tensor<?x4xf32>, tensor<5xi32>, tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return
}

// -----

// Router: expert choice ranks softmax scores.
// expected-error @+1 {{router choice = expert needs softmax scoring, order softmax_topk, no renormalize, no groups and weights on the output}}
func.func private @expert_choice_sigmoid() attributes {r = #moe.router<k = 2, scoring = sigmoid, choice = expert>}

// -----

// Layer: expert choice brings its own capacity.
func.func @expert_choice_capacity(%x: tensor<?x4xf32>, %wr: tensor<4x4xf32>,
    %wu: tensor<4x8x4xf32>, %wd: tensor<4x4x8xf32>) {
  // expected-error @+1 {{'moe.layer' op routes by expert choice, which bounds each expert's load itself: its capacity must be dropless}}
  %y, %d = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<fixed = 2>,
      router = #moe.router<k = 2, choice = expert>}
    : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x8x4xf32>, tensor<4x4x8xf32>)
    -> (tensor<?x4xf32>, tensor<i64>)
  return
}

// -----

// Route: expert choice is a layer-level router.
func.func @route_expert_choice(%logits: tensor<?x4xf32>) {
  // expected-error @+1 {{'moe.route' op routes tokens; expert choice exists at the layer level only}}
  %w, %ids = moe.route %logits {router = #moe.router<k = 2, choice = expert>}
    : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

//===----------------------------------------------------------------------===//
// moe.grouped_matmul
//===----------------------------------------------------------------------===//

// -----

// Grouped matmul: the input is a matrix [R, K].
func.func @gmm_input_rank(%a: tensor<4x8x4xf32>, %w: tensor<4x8x4xf32>,
                          %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects input of rank 2 [R, K], got 'tensor<4x8x4xf32>'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<4x8x4xf32>, tensor<4x8x4xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: the weight is a stack of matrices [E, N, K].
func.func @gmm_weight_rank(%a: tensor<?x4xf32>, %w: tensor<8x4xf32>,
                           %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects weight of rank 3 [E, N, K], got 'tensor<8x4xf32>'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: the offsets are a vector [E+1].
func.func @gmm_offsets_rank(%a: tensor<?x4xf32>, %w: tensor<4x8x4xf32>,
                            %o: tensor<5x1xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects offsets of rank 1 [E+1], got 'tensor<5x1xi32>'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<4x8x4xf32>, tensor<5x1xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: E is static.
func.func @gmm_dynamic_experts(%a: tensor<?x4xf32>, %w: tensor<?x8x4xf32>,
                               %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects a static number of experts E (weight dim 0)}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<?x8x4xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: N is static.
func.func @gmm_dynamic_columns(%a: tensor<?x4xf32>, %w: tensor<4x?x4xf32>,
                               %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects a static output size N (weight dim 1)}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<4x?x4xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: K is static.
func.func @gmm_dynamic_reduction(%a: tensor<?x4xf32>, %w: tensor<4x8x?xf32>,
                                 %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects a static reduction size K (weight dim 2)}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<4x8x?xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: the input's K is the weight's.
func.func @gmm_input_k(%a: tensor<?x6xf32>, %w: tensor<4x8x4xf32>,
                       %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects input of shape [R, 4] (R x K), got 'tensor<?x6xf32>'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x6xf32>, tensor<4x8x4xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: the weight has the input's element type.
func.func @gmm_weight_type(%a: tensor<?x4xf32>, %w: tensor<4x8x4xbf16>,
                           %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects weight element type 'f32' (that of the input), got 'bf16'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<4x8x4xbf16>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: one offset per expert, plus one.
func.func @gmm_offsets_size(%a: tensor<?x4xf32>, %w: tensor<4x8x4xf32>,
                            %o: tensor<4xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects offsets of shape [5] (E+1), got 'tensor<4xi32>'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xf32>, tensor<4x8x4xf32>, tensor<4xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: a gated activation splits N into gate and up halves.
func.func @gmm_gated_odd(%a: tensor<?x4xf32>, %w: tensor<4x7x4xf32>,
                         %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op applies the gated activation 'swiglu' and expects a weight [E, 2F, K] with gate and up stacked along N, got an odd N = 7}}
  %y = moe.grouped_matmul %a, %w, %o {activation = #moe.activation<swiglu>}
     : (tensor<?x4xf32>, tensor<4x7x4xf32>, tensor<5xi32>) -> tensor<?x3xf32>
  return
}

// -----

// Grouped matmul: the gather indices are a vector [R].
func.func @gmm_gather_rank(%a: tensor<?x4xf32>, %w: tensor<4x8x4xf32>,
                           %o: tensor<5xi32>, %g: tensor<?x2xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects gather indices of rank 1 [R], got 'tensor<?x2xi32>'}}
  %y = moe.grouped_matmul %a, %w, %o gather(%g)
     : (tensor<?x4xf32>, tensor<4x8x4xf32>, tensor<5xi32>, tensor<?x2xi32>)
     -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: the bias is one row [N] per expert.
func.func @gmm_bias_shape(%a: tensor<?x4xf32>, %w: tensor<4x8x4xf32>,
                          %o: tensor<5xi32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects bias of shape [4, 8] (E x N), got 'tensor<4x4xf32>'}}
  %y = moe.grouped_matmul %a, %w, %o bias(%b)
     : (tensor<?x4xf32>, tensor<4x8x4xf32>, tensor<5xi32>, tensor<4x4xf32>)
     -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: the bias has the input's element type.
func.func @gmm_bias_type(%a: tensor<?x4xbf16>, %w: tensor<4x8x4xbf16>,
                         %o: tensor<5xi32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects bias element type 'bf16' (that of the input), got 'f32'}}
  %y = moe.grouped_matmul %a, %w, %o bias(%b)
     : (tensor<?x4xbf16>, tensor<4x8x4xbf16>, tensor<5xi32>, tensor<4x8xf32>)
     -> tensor<?x8xbf16>
  return
}

// -----

// Grouped matmul: one scale per row.
func.func @gmm_scale_rows(%a: tensor<6x4xf32>, %w: tensor<4x8x4xf32>,
                          %o: tensor<5xi32>, %s: tensor<5xf32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects scale to have 6 rows (R, those of the input), got 5}}
  %y = moe.grouped_matmul %a, %w, %o scale(%s)
     : (tensor<6x4xf32>, tensor<4x8x4xf32>, tensor<5xi32>, tensor<5xf32>)
     -> tensor<6x8xf32>
  return
}

// -----

// Grouped matmul: a gated activation gives N/2 columns.
func.func @gmm_output_columns(%a: tensor<?x4xf32>, %w: tensor<4x8x4xf32>,
                              %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects output of shape [R, 4] (R x N/2), got 'tensor<?x8xf32>'}}
  %y = moe.grouped_matmul %a, %w, %o {activation = #moe.activation<geglu>}
     : (tensor<?x4xf32>, tensor<4x8x4xf32>, tensor<5xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Grouped matmul: with a gather, the output has a row per index.
func.func @gmm_output_rows(%a: tensor<3x4xf32>, %w: tensor<4x8x4xf32>,
                           %o: tensor<5xi32>, %g: tensor<6xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects output to have 6 rows (R, those of the gather indices), got 3}}
  %y = moe.grouped_matmul %a, %w, %o gather(%g)
     : (tensor<3x4xf32>, tensor<4x8x4xf32>, tensor<5xi32>, tensor<6xi32>)
     -> tensor<3x8xf32>
  return
}

// -----

// Grouped matmul: the result is of the input's type or f32.
func.func @gmm_output_type(%a: tensor<?x4xbf16>, %w: tensor<4x8x4xbf16>,
                           %o: tensor<5xi32>) {
  // expected-error @+1 {{'moe.grouped_matmul' op expects output element type 'bf16' (that of the input) or f32 (the accumulator's), got 'f16'}}
  %y = moe.grouped_matmul %a, %w, %o
     : (tensor<?x4xbf16>, tensor<4x8x4xbf16>, tensor<5xi32>) -> tensor<?x8xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe.gate
//===----------------------------------------------------------------------===//

// Gate: the tokens are a matrix [T, D].
func.func @gate_tokens_rank(%x: tensor<4xf32>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects tokens of rank 2 [T, D], got 'tensor<4xf32>'}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<4xf32>, tensor<8x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the model size D is static.
func.func @gate_dynamic_model_size(%x: tensor<?x?xf32>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects a static model size D (tokens dim 1)}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<?x?xf32>, tensor<8x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the router weight is a matrix [E, D].
func.func @gate_router_rank(%x: tensor<?x4xf32>, %wr: tensor<8x4x1xf32>) {
  // expected-error @+1 {{'moe.gate' op expects router weight of rank 2 [E, D], got 'tensor<8x4x1xf32>'}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<8x4x1xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the number of experts E is static.
func.func @gate_dynamic_experts(%x: tensor<?x4xf32>, %wr: tensor<?x4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects a static number of experts E (router weight dim 0)}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the router weight's D is the tokens'.
func.func @gate_router_model_size(%x: tensor<?x4xf32>, %wr: tensor<8x6xf32>) {
  // expected-error @+1 {{'moe.gate' op expects router weight of shape [8, 4] (E x D), got 'tensor<8x6xf32>'}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<8x6xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the router weight has the tokens' element type.
func.func @gate_router_type(%x: tensor<?x4xbf16>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects router weight element type 'bf16' (that of the tokens), got 'f32'}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<?x4xbf16>, tensor<8x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the router bias has one entry per expert.
func.func @gate_router_bias_shape(%x: tensor<?x4xf32>, %wr: tensor<8x4xf32>,
                                  %rb: tensor<4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects router bias of shape [8] (E), got 'tensor<4xf32>'}}
  %w, %ids = moe.gate %x router(%wr) bias(%rb) {router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4xf32>)
      -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the router bias is f32 (whatever the tokens' type).
func.func @gate_router_bias_type(%x: tensor<?x4xbf16>, %wr: tensor<8x4xbf16>,
                                 %rb: tensor<8xbf16>) {
  // expected-error @+1 {{'moe.gate' op operand #2 must be ranked tensor of 32-bit float values, but got 'tensor<8xbf16>'}}
  %w, %ids = moe.gate %x router(%wr) bias(%rb) {router = #moe.router<k = 2>}
    : (tensor<?x4xbf16>, tensor<8x4xbf16>, tensor<8xbf16>)
      -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the selection bias has one entry per expert.
func.func @gate_selection_bias_shape(%x: tensor<?x4xf32>, %wr: tensor<8x4xf32>,
                                     %sb: tensor<8x1xf32>) {
  // expected-error @+1 {{'moe.gate' op expects selection bias of shape [8] (E), got 'tensor<8x1xf32>'}}
  %w, %ids = moe.gate %x router(%wr) selection_bias(%sb) {
      router = #moe.router<k = 2, scoring = sigmoid>}
    : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<8x1xf32>)
      -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the router's k may not exceed E (the router's rules with E known).
func.func @gate_k_exceeds_experts(%x: tensor<?x4xf32>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op router k = 9 exceeds the number of experts E = 8}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 9>}
    : (tensor<?x4xf32>, tensor<8x4xf32>) -> (tensor<?x9xf32>, tensor<?x9xi32>)
  return
}

// -----

// Gate: expert choice exists at the layer level only.
func.func @gate_expert_choice(%x: tensor<?x4xf32>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op routes tokens; expert choice exists at the layer level only}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2, choice = expert>}
    : (tensor<?x4xf32>, tensor<8x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the weights are [T, k].
func.func @gate_weights_k(%x: tensor<?x4xf32>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects weights of shape [T, 2] (T x k), got 'tensor<?x3xf32>'}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<?x4xf32>, tensor<8x4xf32>) -> (tensor<?x3xf32>, tensor<?x2xi32>)
  return
}

// -----

// Gate: the expert ids have a row per token.
func.func @gate_ids_rows(%x: tensor<4x4xf32>, %wr: tensor<8x4xf32>) {
  // expected-error @+1 {{'moe.gate' op expects expert ids to have 4 rows (one per token), got 5}}
  %w, %ids = moe.gate %x router(%wr) {router = #moe.router<k = 2>}
    : (tensor<4x4xf32>, tensor<8x4xf32>) -> (tensor<?x2xf32>, tensor<5x2xi32>)
  return
}

// -----

// All-to-all: the counts say how many ranks there are.
func.func @all_to_all_dynamic_ranks(%rows: tensor<?x4xf32>, %c: tensor<?xi64>) {
  // expected-error @+1 {{'moe.all_to_all' op expects a static number of ranks R (send counts dim 0)}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<?x4xf32>, tensor<?xi64>) -> (tensor<?x4xf32>, tensor<?xi64>)
  return
}

// -----

// All-to-all: at least one rank.
func.func @all_to_all_no_ranks(%rows: tensor<?x4xf32>, %c: tensor<0xi64>) {
  // expected-error @+1 {{'moe.all_to_all' op expects a positive number of ranks R (send counts dim 0), got 0}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<?x4xf32>, tensor<0xi64>) -> (tensor<?x4xf32>, tensor<0xi64>)
  return
}

// -----

// All-to-all: a count per rank comes back.
func.func @all_to_all_received_counts(%rows: tensor<?x4xf32>, %c: tensor<2xi64>) {
  // expected-error @+1 {{'moe.all_to_all' op expects received counts of the send counts' type 'tensor<2xi64>', got 'tensor<4xi64>'}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<?x4xf32>, tensor<2xi64>) -> (tensor<?x4xf32>, tensor<4xi64>)
  return
}

// -----

// All-to-all: rows, not a scalar.
func.func @all_to_all_scalar(%rows: tensor<f32>, %c: tensor<2xi64>) {
  // expected-error @+1 {{'moe.all_to_all' op expects rows of rank 1 or more [N, ...], got 'tensor<f32>'}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<f32>, tensor<2xi64>) -> (tensor<?xf32>, tensor<2xi64>)
  return
}

// -----

// All-to-all: every rank must agree on the size of a row.
func.func @all_to_all_dynamic_row(%rows: tensor<?x?xf32>, %c: tensor<2xi64>) {
  // expected-error @+1 {{'moe.all_to_all' op expects rows with static trailing dimensions (the row size), got 'tensor<?x?xf32>'}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<?x?xf32>, tensor<2xi64>) -> (tensor<?x?xf32>, tensor<2xi64>)
  return
}

// -----

// All-to-all: the rows received are rows like those sent.
func.func @all_to_all_received_type(%rows: tensor<?x4xf32>, %c: tensor<2xi64>) {
  // expected-error @+1 {{'moe.all_to_all' op expects received rows like the rows sent ('f32', rows of shape [4]), got 'tensor<?x4xbf16>'}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<?x4xf32>, tensor<2xi64>) -> (tensor<?x4xbf16>, tensor<2xi64>)
  return
}

// -----

// All-to-all: counts are i64.
func.func @all_to_all_i32_counts(%rows: tensor<?x4xf32>, %c: tensor<2xi32>) {
  // expected-error @+1 {{'moe.all_to_all' op operand #1 must be 1D tensor of 64-bit signless integer values, but got 'tensor<2xi32>'}}
  %r, %rc = moe.all_to_all %rows, %c
    : (tensor<?x4xf32>, tensor<2xi32>) -> (tensor<?x4xf32>, tensor<2xi32>)
  return
}
