// RUN: moe-opt %s | moe-opt | FileCheck %s
// RUN: moe-opt %s --mlir-print-op-generic | moe-opt | FileCheck %s

// Every op in its custom form, every attribute parameter, dynamic and static
// token counts and the three element types. Both RUN lines print the custom
// form, so the checks are shared; the second goes through the generic form.

//===----------------------------------------------------------------------===//
// moe.layer
//===----------------------------------------------------------------------===//

// Mixtral: gated, dropless, no biases, dynamic T, f32.
// CHECK-LABEL: func.func @layer_mixtral
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[WR:[^:]+]]: tensor<8x64xf32>, %[[WG:[^:]+]]: tensor<8x128x64xf32>, %[[WU:[^:]+]]: tensor<8x128x64xf32>, %[[WD:[^:]+]]: tensor<8x64x128xf32>)
// CHECK: %[[Y:[^ ]+]] = moe.layer %[[X]] router(%[[WR]]) gate(%[[WG]]) up(%[[WU]]) down(%[[WD]])
// CHECK-SAME: {activation = #moe.activation<swiglu>, capacity = #moe.capacity<dropless>, router = #moe.router<k = 2, order = topk_softmax, renormalize = true>}
// CHECK-SAME: : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
// CHECK: return %[[Y]] : tensor<?x64xf32>
func.func @layer_mixtral(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>,
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

// DeepSeek-style: router bias and selection bias, every router parameter
// (order = softmax_topk is the default and is not printed), a fixed capacity
// with the dropped count, static T, bf16.
// CHECK-LABEL: func.func @layer_deepseek
// CHECK-SAME: (%[[X:[^:]+]]: tensor<16x32xbf16>, %[[WR:[^:]+]]: tensor<8x32xbf16>, %[[RB:[^:]+]]: tensor<8xf32>, %[[SB:[^:]+]]: tensor<8xf32>, %[[WG:[^:]+]]: tensor<8x48x32xbf16>, %[[WU:[^:]+]]: tensor<8x48x32xbf16>, %[[WD:[^:]+]]: tensor<8x32x48xbf16>)
// CHECK: %[[Y:[^ ]+]], %[[DROPPED:[^ ]+]] = moe.layer %[[X]] router(%[[WR]]) bias(%[[RB]]) selection_bias(%[[SB]]) gate(%[[WG]]) up(%[[WU]]) down(%[[WD]])
// CHECK-SAME: {activation = #moe.activation<geglu>, capacity = #moe.capacity<fixed = 3>, router = #moe.router<k = 4, scoring = sigmoid, renormalize = true, scale = 2.500000e+00, groups = 4, topk_groups = 2, group_score = sum_top2>}
// CHECK-SAME: : (tensor<16x32xbf16>, tensor<8x32xbf16>, tensor<8xf32>, tensor<8xf32>, tensor<8x48x32xbf16>, tensor<8x48x32xbf16>, tensor<8x32x48xbf16>) -> (tensor<16x32xbf16>, tensor<i64>)
// CHECK: return %[[Y]], %[[DROPPED]] : tensor<16x32xbf16>, tensor<i64>
func.func @layer_deepseek(%x: tensor<16x32xbf16>, %wr: tensor<8x32xbf16>,
                          %rb: tensor<8xf32>, %sb: tensor<8xf32>,
                          %wg: tensor<8x48x32xbf16>, %wu: tensor<8x48x32xbf16>,
                          %wd: tensor<8x32x48xbf16>)
    -> (tensor<16x32xbf16>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) bias(%rb) selection_bias(%sb)
       gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<geglu>,
         capacity = #moe.capacity<fixed = 3>,
         router = #moe.router<k = 4, scoring = sigmoid, order = softmax_topk,
                              renormalize = true, scale = 2.5, groups = 4,
                              topk_groups = 2, group_score = sum_top2>}
       : (tensor<16x32xbf16>, tensor<8x32xbf16>, tensor<8xf32>, tensor<8xf32>,
          tensor<8x48x32xbf16>, tensor<8x48x32xbf16>, tensor<8x32x48xbf16>)
       -> (tensor<16x32xbf16>, tensor<i64>)
  return %y, %dropped : tensor<16x32xbf16>, tensor<i64>
}

// Ungated (no gate weight), a router bias alone, a capacity factor with the
// explicit (default, so not printed) drop policy, dynamic T, f16.
// CHECK-LABEL: func.func @layer_ungated_factor
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf16>, %[[WR:[^:]+]]: tensor<4x32xf16>, %[[RB:[^:]+]]: tensor<4xf32>, %[[WU:[^:]+]]: tensor<4x16x32xf16>, %[[WD:[^:]+]]: tensor<4x32x16xf16>)
// CHECK: %[[Y:[^ ]+]], %[[DROPPED:[^ ]+]] = moe.layer %[[X]] router(%[[WR]]) bias(%[[RB]]) up(%[[WU]]) down(%[[WD]])
// CHECK-SAME: {activation = #moe.activation<gelu>, capacity = #moe.capacity<factor = 1.250000e+00>, router = #moe.router<k = 1>}
// CHECK-SAME: : (tensor<?x32xf16>, tensor<4x32xf16>, tensor<4xf32>, tensor<4x16x32xf16>, tensor<4x32x16xf16>) -> (tensor<?x32xf16>, tensor<i64>)
// CHECK: return %[[Y]], %[[DROPPED]]
func.func @layer_ungated_factor(%x: tensor<?x32xf16>, %wr: tensor<4x32xf16>,
                                %rb: tensor<4xf32>, %wu: tensor<4x16x32xf16>,
                                %wd: tensor<4x32x16xf16>)
    -> (tensor<?x32xf16>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) bias(%rb) up(%wu) down(%wd) {
         activation = #moe.activation<gelu>,
         capacity = #moe.capacity<factor = 1.25, drop = position>,
         router = #moe.router<k = 1>}
       : (tensor<?x32xf16>, tensor<4x32xf16>, tensor<4xf32>,
          tensor<4x16x32xf16>, tensor<4x32x16xf16>)
       -> (tensor<?x32xf16>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf16>, tensor<i64>
}

// A selection bias without a router bias, and a dropless layer that still
// returns its (always zero) dropped count; gelu_tanh, static T, f32.
// CHECK-LABEL: func.func @layer_selection_bias_dropless_count
// CHECK-SAME: (%[[X:[^:]+]]: tensor<4x32xf32>, %[[WR:[^:]+]]: tensor<4x32xf32>, %[[SB:[^:]+]]: tensor<4xf32>, %[[WU:[^:]+]]: tensor<4x16x32xf32>, %[[WD:[^:]+]]: tensor<4x32x16xf32>)
// CHECK: %[[Y:[^ ]+]], %[[DROPPED:[^ ]+]] = moe.layer %[[X]] router(%[[WR]]) selection_bias(%[[SB]]) up(%[[WU]]) down(%[[WD]])
// CHECK-SAME: {activation = #moe.activation<gelu_tanh>, capacity = #moe.capacity<dropless>, router = #moe.router<k = 2, scoring = sigmoid>}
// CHECK-SAME: : (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> (tensor<4x32xf32>, tensor<i64>)
// CHECK: return %[[Y]], %[[DROPPED]]
func.func @layer_selection_bias_dropless_count(
    %x: tensor<4x32xf32>, %wr: tensor<4x32xf32>, %sb: tensor<4xf32>,
    %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>)
    -> (tensor<4x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) selection_bias(%sb)
       up(%wu) down(%wd) {
         activation = #moe.activation<gelu_tanh>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, scoring = sigmoid>}
       : (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x16x32xf32>, tensor<4x32x16xf32>)
       -> (tensor<4x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<4x32xf32>, tensor<i64>
}

// No bias at all.
// CHECK-LABEL: func.func @layer_no_bias
// CHECK: moe.layer %{{.*}} router(%{{.*}}) up(%{{.*}}) down(%{{.*}}) {activation = #moe.activation<silu>, capacity = #moe.capacity<fixed = 1>, router = #moe.router<k = 1>}
func.func @layer_no_bias(%x: tensor<?x32xf16>, %wr: tensor<4x32xf16>,
                         %wu: tensor<4x16x32xf16>, %wd: tensor<4x32x16xf16>)
    -> (tensor<?x32xf16>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<silu>,
         capacity = #moe.capacity<fixed = 1>, router = #moe.router<k = 1>}
       : (tensor<?x32xf16>, tensor<4x32xf16>, tensor<4x16x32xf16>,
          tensor<4x32x16xf16>) -> (tensor<?x32xf16>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf16>, tensor<i64>
}

//===----------------------------------------------------------------------===//
// moe.route
//===----------------------------------------------------------------------===//

// Every router parameter given at its default: only k is printed.
// CHECK-LABEL: func.func @route_defaults
// CHECK-SAME: (%[[L:[^:]+]]: tensor<?x8xf32>)
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route %[[L]] {router = #moe.router<k = 2>} : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: return %[[W]], %[[IDS]]
func.func @route_defaults(%logits: tensor<?x8xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.route %logits {
      router = #moe.router<k = 2, scoring = softmax, order = softmax_topk,
                           renormalize = false, scale = 1.0, groups = 1,
                           topk_groups = 1, group_score = max>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// A selection bias and group-limited routing scored by the best expert
// (group_score = max, the default); static T.
// CHECK-LABEL: func.func @route_selection_bias_groups
// CHECK-SAME: (%[[L:[^:]+]]: tensor<5x8xf32>, %[[SB:[^:]+]]: tensor<8xf32>)
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route %[[L]] selection_bias(%[[SB]]) {router = #moe.router<k = 3, scoring = sigmoid, scale = 1.500000e+00, groups = 4, topk_groups = 2>} : (tensor<5x8xf32>, tensor<8xf32>) -> (tensor<5x3xf32>, tensor<5x3xi32>)
// CHECK: return %[[W]], %[[IDS]]
func.func @route_selection_bias_groups(%logits: tensor<5x8xf32>,
                                       %bias: tensor<8xf32>)
    -> (tensor<5x3xf32>, tensor<5x3xi32>) {
  %w, %ids = moe.route %logits selection_bias(%bias) {
      router = #moe.router<k = 3, scoring = sigmoid, scale = 1.5, groups = 4,
                           topk_groups = 2, group_score = max>}
    : (tensor<5x8xf32>, tensor<8xf32>) -> (tensor<5x3xf32>, tensor<5x3xi32>)
  return %w, %ids : tensor<5x3xf32>, tensor<5x3xi32>
}

//===----------------------------------------------------------------------===//
// moe.dispatch
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @dispatch_dropless
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>)
// CHECK: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %[[SRC:[^ ]+]], %[[DROPPED:[^ ]+]] = moe.dispatch %[[X]], %[[IDS]] {capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
// CHECK-SAME: : (tensor<?x64xf32>, tensor<?x2xi32>) -> (tensor<?x64xf32>, tensor<9xi32>, tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
// CHECK: return %[[BUF]], %[[OFF]], %[[ROWS]], %[[SRC]], %[[DROPPED]]
func.func @dispatch_dropless(%x: tensor<?x64xf32>, %ids: tensor<?x2xi32>)
    -> (tensor<?x64xf32>, tensor<9xi32>, tensor<?x2xi32>, tensor<?xi32>,
        tensor<i64>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x64xf32>, tensor<?x2xi32>) -> (tensor<?x64xf32>, tensor<9xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return %buf, %offsets, %rows, %src, %dropped
    : tensor<?x64xf32>, tensor<9xi32>, tensor<?x2xi32>, tensor<?xi32>,
      tensor<i64>
}

// Static T: R = T * k = 12 rows; f16.
// CHECK-LABEL: func.func @dispatch_fixed
// CHECK: moe.dispatch %{{.*}}, %{{.*}} {capacity = #moe.capacity<fixed = 5>, num_experts = 4 : i64}
// CHECK-SAME: : (tensor<6x32xf16>, tensor<6x2xi32>) -> (tensor<12x32xf16>, tensor<5xi32>, tensor<6x2xi32>, tensor<12xi32>, tensor<i64>)
func.func @dispatch_fixed(%x: tensor<6x32xf16>, %ids: tensor<6x2xi32>)
    -> (tensor<12x32xf16>, tensor<i64>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 5>, num_experts = 4 : i64}
    : (tensor<6x32xf16>, tensor<6x2xi32>) -> (tensor<12x32xf16>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<12xi32>, tensor<i64>)
  return %buf, %dropped : tensor<12x32xf16>, tensor<i64>
}

// CHECK-LABEL: func.func @dispatch_factor
// CHECK: moe.dispatch %{{.*}}, %{{.*}} {capacity = #moe.capacity<factor = 2.000000e+00>, num_experts = 8 : i64}
// CHECK-SAME: : (tensor<?x16xbf16>, tensor<?x1xi32>) -> (tensor<?x16xbf16>, tensor<9xi32>, tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
func.func @dispatch_factor(%x: tensor<?x16xbf16>, %ids: tensor<?x1xi32>)
    -> tensor<i64> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<factor = 2.0, drop = position>,
      num_experts = 8 : i64}
    : (tensor<?x16xbf16>, tensor<?x1xi32>) -> (tensor<?x16xbf16>,
       tensor<9xi32>, tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  return %dropped : tensor<i64>
}

//===----------------------------------------------------------------------===//
// moe.experts
//===----------------------------------------------------------------------===//

// Gated: swiglu and geglu take a gate weight.
// CHECK-LABEL: func.func @experts_gated
// CHECK-SAME: (%[[IN:[^:]+]]: tensor<?x64xf32>, %[[OFF:[^:]+]]: tensor<9xi32>, %[[WG:[^:]+]]: tensor<8x128x64xf32>, %[[WU:[^:]+]]: tensor<8x128x64xf32>, %[[WD:[^:]+]]: tensor<8x64x128xf32>)
// CHECK: %[[A:[^ ]+]] = moe.experts %[[IN]], %[[OFF]] gate(%[[WG]]) up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<swiglu>}
// CHECK-SAME: : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
// CHECK: %[[B:[^ ]+]] = moe.experts %[[IN]], %[[OFF]] gate(%[[WG]]) up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<geglu>}
// CHECK: return %[[A]], %[[B]]
func.func @experts_gated(%in: tensor<?x64xf32>, %offsets: tensor<9xi32>,
                         %wg: tensor<8x128x64xf32>, %wu: tensor<8x128x64xf32>,
                         %wd: tensor<8x64x128xf32>)
    -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %a = moe.experts %in, %offsets gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>}
    : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>,
       tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
  %b = moe.experts %in, %offsets gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<geglu>}
    : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>,
       tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
  return %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
}

// Ungated: gelu, gelu_tanh, relu and silu take none; static R, bf16.
// CHECK-LABEL: func.func @experts_ungated
// CHECK-SAME: (%[[IN:[^:]+]]: tensor<12x32xbf16>, %[[OFF:[^:]+]]: tensor<5xi32>, %[[WU:[^:]+]]: tensor<4x16x32xbf16>, %[[WD:[^:]+]]: tensor<4x32x16xbf16>)
// CHECK: %[[A:[^ ]+]] = moe.experts %[[IN]], %[[OFF]] up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<gelu>}
// CHECK-SAME: : (tensor<12x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>, tensor<4x32x16xbf16>) -> tensor<12x32xbf16>
// CHECK: %[[B:[^ ]+]] = moe.experts %[[IN]], %[[OFF]] up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<gelu_tanh>}
// CHECK: %[[C:[^ ]+]] = moe.experts %[[IN]], %[[OFF]] up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<relu>}
// CHECK: %[[D:[^ ]+]] = moe.experts %[[IN]], %[[OFF]] up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<silu>}
// CHECK: return %[[A]], %[[B]], %[[C]], %[[D]]
func.func @experts_ungated(%in: tensor<12x32xbf16>, %offsets: tensor<5xi32>,
                           %wu: tensor<4x16x32xbf16>, %wd: tensor<4x32x16xbf16>)
    -> (tensor<12x32xbf16>, tensor<12x32xbf16>, tensor<12x32xbf16>,
        tensor<12x32xbf16>) {
  %a = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<gelu>}
    : (tensor<12x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x32x16xbf16>) -> tensor<12x32xbf16>
  %b = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<gelu_tanh>}
    : (tensor<12x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x32x16xbf16>) -> tensor<12x32xbf16>
  %c = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<12x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x32x16xbf16>) -> tensor<12x32xbf16>
  %d = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<silu>}
    : (tensor<12x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x32x16xbf16>) -> tensor<12x32xbf16>
  return %a, %b, %c, %d
    : tensor<12x32xbf16>, tensor<12x32xbf16>, tensor<12x32xbf16>,
      tensor<12x32xbf16>
}

//===----------------------------------------------------------------------===//
// moe.combine
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @combine_dynamic
// CHECK-SAME: (%[[OUT:[^:]+]]: tensor<?x64xf32>, %[[ROWS:[^:]+]]: tensor<?x2xi32>, %[[W:[^:]+]]: tensor<?x2xf32>)
// CHECK: %[[Y:[^ ]+]] = moe.combine %[[OUT]], %[[ROWS]], %[[W]] : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xf32>
// CHECK: return %[[Y]]
func.func @combine_dynamic(%out: tensor<?x64xf32>, %rows: tensor<?x2xi32>,
                           %w: tensor<?x2xf32>) -> tensor<?x64xf32> {
  %y = moe.combine %out, %rows, %w
    : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// Static shapes, f16 expert output; the weights stay f32.
// CHECK-LABEL: func.func @combine_static_f16
// CHECK: moe.combine %{{.*}}, %{{.*}}, %{{.*}} : (tensor<12x32xf16>, tensor<6x2xi32>, tensor<6x2xf32>) -> tensor<6x32xf16>
func.func @combine_static_f16(%out: tensor<12x32xf16>, %rows: tensor<6x2xi32>,
                              %w: tensor<6x2xf32>) -> tensor<6x32xf16> {
  %y = moe.combine %out, %rows, %w
    : (tensor<12x32xf16>, tensor<6x2xi32>, tensor<6x2xf32>) -> tensor<6x32xf16>
  return %y : tensor<6x32xf16>
}

//===----------------------------------------------------------------------===//
// Model-family variants: expert biases, clamped swiglu, shared experts,
// input-side gate weights, pass-through of dropped tokens
//===----------------------------------------------------------------------===//

// GPT-OSS: router bias, biases on every expert linear, clamped swiglu.
// CHECK-LABEL: func.func @gpt_oss_style
// CHECK: moe.layer %{{.*}} router(%{{.*}}) bias(%{{.*}}) gate(%{{.*}}) gate_bias(%{{.*}}) up(%{{.*}}) up_bias(%{{.*}}) down(%{{.*}}) down_bias(%{{.*}}) {activation = #moe.activation<clamped_swiglu, alpha = 1.702000e+00, limit = 7.000000e+00>, capacity = #moe.capacity<dropless>, router = #moe.router<k = 2, order = topk_softmax>}
func.func @gpt_oss_style(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                         %br: tensor<4xf32>, %wg: tensor<4x16x32xf32>,
                         %bg: tensor<4x16xf32>, %wu: tensor<4x16x32xf32>,
                         %bu: tensor<4x16xf32>, %wd: tensor<4x32x16xf32>,
                         %bd: tensor<4x32xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) bias(%br) gate(%wg) gate_bias(%bg) up(%wu)
         up_bias(%bu) down(%wd) down_bias(%bd) {
         activation = #moe.activation<clamped_swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, order = topk_softmax>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x16x32xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>,
          tensor<4x16xf32>, tensor<4x32x16xf32>, tensor<4x32xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// Non-default clamp parameters print back exactly.
// CHECK-LABEL: func.func @clamped_swiglu_parameters
// CHECK: activation = #moe.activation<clamped_swiglu, alpha = 1.500000e+00, limit = 1.000000e+01>
func.func @clamped_swiglu_parameters(%in: tensor<12x32xf32>,
                                     %offsets: tensor<5xi32>,
                                     %wg: tensor<4x16x32xf32>,
                                     %wu: tensor<4x16x32xf32>,
                                     %wd: tensor<4x32x16xf32>)
    -> tensor<12x32xf32> {
  %y = moe.experts %in, %offsets gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<clamped_swiglu, limit = 10.0, alpha = 1.5>}
    : (tensor<12x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>,
       tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<12x32xf32>
  return %y : tensor<12x32xf32>
}

// moe.experts with biases on the up and down projections only.
// CHECK-LABEL: func.func @experts_biases
// CHECK: moe.experts %{{.*}}, %{{.*}} up(%{{.*}}) up_bias(%{{.*}}) down(%{{.*}}) down_bias(%{{.*}}) {activation = #moe.activation<relu>}
func.func @experts_biases(%in: tensor<?x32xbf16>, %offsets: tensor<5xi32>,
                          %wu: tensor<4x16x32xbf16>, %bu: tensor<4x16xbf16>,
                          %wd: tensor<4x32x16xbf16>, %bd: tensor<4x32xbf16>)
    -> tensor<?x32xbf16> {
  %y = moe.experts %in, %offsets up(%wu) up_bias(%bu) down(%wd) down_bias(%bd) {
      activation = #moe.activation<relu>}
    : (tensor<?x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x16xbf16>, tensor<4x32x16xbf16>, tensor<4x32xbf16>)
    -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}

// Qwen2-MoE: a shared expert scaled by a per-token sigmoid gate.
// CHECK-LABEL: func.func @qwen2_style
// CHECK: moe.layer %{{.*}} router(%{{.*}}) gate(%{{.*}}) up(%{{.*}}) down(%{{.*}}) shared_gate(%{{.*}}) shared_up(%{{.*}}) shared_down(%{{.*}}) shared_sigmoid_gate(%{{.*}}) {
func.func @qwen2_style(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
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

// Llama-4: top-1, sigmoid weight applied to the expert input, a shared
// expert without a gate.
// CHECK-LABEL: func.func @llama4_style
// CHECK: router = #moe.router<k = 1, scoring = sigmoid, weights_on = input>
func.func @llama4_style(%x: tensor<5x32xf32>, %wr: tensor<4x32xf32>,
                        %wg: tensor<4x16x32xf32>, %wu: tensor<4x16x32xf32>,
                        %wd: tensor<4x32x16xf32>, %sg: tensor<16x32xf32>,
                        %su: tensor<16x32xf32>, %sd: tensor<32x16xf32>)
    -> tensor<5x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) shared_gate(%sg)
         shared_up(%su) shared_down(%sd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 1, scoring = sigmoid, weights_on = input>}
       : (tensor<5x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x16x32xf32>, tensor<4x32x16xf32>, tensor<16x32xf32>,
          tensor<16x32xf32>, tensor<32x16xf32>) -> tensor<5x32xf32>
  return %y : tensor<5x32xf32>
}

// Hugging Face Switch: dropped tokens pass through, scaled by their weight.
// CHECK-LABEL: func.func @switch_identity
// CHECK: capacity = #moe.capacity<fixed = 3, dropped = identity>
// CHECK: moe.dispatch %{{.*}}, %{{.*}} scale(%{{.*}}) {
// CHECK: moe.combine %{{.*}}, %{{.*}}, %{{.*}} identity(%{{.*}}) :
func.func @switch_identity(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                           %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>,
                           %ids: tensor<?x1xi32>, %w: tensor<?x1xf32>,
                           %out: tensor<?x32xf32>, %rows: tensor<?x1xi32>)
    -> (tensor<?x32xf32>, tensor<i64>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 3, dropped = identity>,
         router = #moe.router<k = 1>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  %buf, %offsets, %r, %src, %d = moe.dispatch %x, %ids scale(%w) {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x32xf32>, tensor<?x1xi32>, tensor<?x1xf32>)
    -> (tensor<?x32xf32>, tensor<5xi32>, tensor<?x1xi32>, tensor<?xi32>,
        tensor<i64>)
  %c = moe.combine %out, %rows, %w identity(%x)
    : (tensor<?x32xf32>, tensor<?x1xi32>, tensor<?x1xf32>, tensor<?x32xf32>)
    -> tensor<?x32xf32>
  return %y, %dropped, %buf, %c
    : tensor<?x32xf32>, tensor<i64>, tensor<?x32xf32>, tensor<?x32xf32>
}

// Training-time statistics: the three extra results after the dropped
// count, and the level-1 op that computes them.
// CHECK-LABEL: func.func @statistics
// CHECK: moe.layer {{.*}} : ({{.*}}) -> (tensor<?x32xf32>, tensor<4xi64>, tensor<f32>, tensor<f32>)
// CHECK: moe.layer {{.*}} : ({{.*}}) -> (tensor<?x32xf32>, tensor<i64>, tensor<4xi64>, tensor<f32>, tensor<f32>)
// CHECK: moe.router_statistics %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<4xi64>, tensor<f32>, tensor<f32>)
func.func @statistics(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                      %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>,
                      %logits: tensor<?x4xf32>, %ids: tensor<?x2xi32>) {
  %y, %counts, %aux, %z = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>)
       -> (tensor<?x32xf32>, tensor<4xi64>, tensor<f32>, tensor<f32>)
  %y2, %d2, %counts2, %aux2, %z2 = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<factor = 1.0>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>)
       -> (tensor<?x32xf32>, tensor<i64>, tensor<4xi64>, tensor<f32>,
           tensor<f32>)
  %c, %a, %zl = moe.router_statistics %logits, %ids
    : (tensor<?x4xf32>, tensor<?x2xi32>)
    -> (tensor<4xi64>, tensor<f32>, tensor<f32>)
  return
}

// The probability drop policy: the dispatch ranks by the gate weights.
// CHECK-LABEL: func.func @probability_policy
// CHECK: capacity = #moe.capacity<factor = 1.250000e+00, drop = probability>
// CHECK: moe.dispatch %{{.*}}, %{{.*}} priority(%{{.*}}) {capacity = #moe.capacity<fixed = 2, drop = probability>, num_experts = 4 : i64}
func.func @probability_policy(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                              %wu: tensor<4x16x32xf32>,
                              %wd: tensor<4x32x16xf32>, %ids: tensor<?x2xi32>,
                              %w: tensor<?x2xf32>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<factor = 1.25, drop = probability>,
         router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>,
          tensor<4x32x16xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  %buf, %offsets, %rows, %src, %d = moe.dispatch %x, %ids priority(%w) {
      capacity = #moe.capacity<fixed = 2, drop = probability>,
      num_experts = 4 : i64}
    : (tensor<?x32xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
    -> (tensor<?x32xf32>, tensor<5xi32>, tensor<?x2xi32>, tensor<?xi32>,
        tensor<i64>)
  return
}

// Expert-choice routing.
// CHECK-LABEL: func.func @expert_choice
// CHECK: router = #moe.router<k = 2, choice = expert>
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

//===----------------------------------------------------------------------===//
// moe.grouped_matmul
//===----------------------------------------------------------------------===//

// The plain product: [R, K] rows times [E, N, K], dynamic R, f32.
// CHECK-LABEL: func.func @grouped_matmul_plain
// CHECK-SAME: (%[[A:[^:]+]]: tensor<?x64xf32>, %[[W:[^:]+]]: tensor<8x32x64xf32>, %[[OFF:[^:]+]]: tensor<9xi32>)
// CHECK: %[[Y:[^ ]+]] = moe.grouped_matmul %[[A]], %[[W]], %[[OFF]] : (tensor<?x64xf32>, tensor<8x32x64xf32>, tensor<9xi32>) -> tensor<?x32xf32>
// CHECK: return %[[Y]]
func.func @grouped_matmul_plain(%a: tensor<?x64xf32>, %w: tensor<8x32x64xf32>,
                                %offsets: tensor<9xi32>) -> tensor<?x32xf32> {
  %y = moe.grouped_matmul %a, %w, %offsets
     : (tensor<?x64xf32>, tensor<8x32x64xf32>, tensor<9xi32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// Gate and up as one [E, 2F, K] product with the gated activation fused,
// read through the gather indices, with a bias; bf16.
// CHECK-LABEL: func.func @grouped_matmul_gate_up
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xbf16>, %[[W:[^:]+]]: tensor<8x256x64xbf16>, %[[OFF:[^:]+]]: tensor<9xi32>, %[[SRC:[^:]+]]: tensor<?xi32>, %[[B:[^:]+]]: tensor<8x256xbf16>)
// CHECK: %[[H:[^ ]+]] = moe.grouped_matmul %[[X]], %[[W]], %[[OFF]] gather(%[[SRC]]) bias(%[[B]]) {activation = #moe.activation<swiglu>} : (tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<9xi32>, tensor<?xi32>, tensor<8x256xbf16>) -> tensor<?x128xbf16>
// CHECK: return %[[H]]
func.func @grouped_matmul_gate_up(%x: tensor<?x64xbf16>,
                                  %w: tensor<8x256x64xbf16>,
                                  %offsets: tensor<9xi32>,
                                  %sources: tensor<?xi32>,
                                  %b: tensor<8x256xbf16>)
    -> tensor<?x128xbf16> {
  %h = moe.grouped_matmul %x, %w, %offsets gather(%sources) bias(%b) {
         activation = #moe.activation<swiglu>}
     : (tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<9xi32>,
        tensor<?xi32>, tensor<8x256xbf16>) -> tensor<?x128xbf16>
  return %h : tensor<?x128xbf16>
}

// The down projection with the per-row gate weights in its epilogue; static
// R, f16.
// CHECK-LABEL: func.func @grouped_matmul_scale
// CHECK: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} scale(%{{[^ ]+}}) : (tensor<12x128xf16>, tensor<4x64x128xf16>, tensor<5xi32>, tensor<12xf32>) -> tensor<12x64xf16>
func.func @grouped_matmul_scale(%h: tensor<12x128xf16>,
                                %w: tensor<4x64x128xf16>,
                                %offsets: tensor<5xi32>, %s: tensor<12xf32>)
    -> tensor<12x64xf16> {
  %y = moe.grouped_matmul %h, %w, %offsets scale(%s)
     : (tensor<12x128xf16>, tensor<4x64x128xf16>, tensor<5xi32>,
        tensor<12xf32>) -> tensor<12x64xf16>
  return %y : tensor<12x64xf16>
}

// An ungated activation over the [E, F, K] product, every option at once;
// clamped_swiglu's parameters print; an f32 result of bf16 data (the
// unrounded accumulator).
// CHECK-LABEL: func.func @grouped_matmul_everything
// CHECK: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} gather(%{{[^ ]+}}) bias(%{{[^ ]+}}) scale(%{{[^ ]+}}) {activation = #moe.activation<gelu_tanh>} : (tensor<?x32xf32>, tensor<2x16x32xf32>, tensor<3xi32>, tensor<?xi32>, tensor<2x16xf32>, tensor<?xf32>) -> tensor<?x16xf32>
// CHECK: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {activation = #moe.activation<clamped_swiglu, alpha = 1.702000e+00, limit = 7.000000e+00>} : (tensor<?x32xf32>, tensor<2x32x32xf32>, tensor<3xi32>) -> tensor<?x16xf32>
// CHECK: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x32xbf16>, tensor<2x16x32xbf16>, tensor<3xi32>) -> tensor<?x16xf32>
func.func @grouped_matmul_everything(%x: tensor<?x32xf32>,
                                     %w: tensor<2x16x32xf32>,
                                     %wgu: tensor<2x32x32xf32>,
                                     %offsets: tensor<3xi32>,
                                     %rows: tensor<?xi32>,
                                     %b: tensor<2x16xf32>,
                                     %s: tensor<?xf32>,
                                     %xb: tensor<?x32xbf16>,
                                     %wb: tensor<2x16x32xbf16>) {
  %y = moe.grouped_matmul %x, %w, %offsets gather(%rows) bias(%b) scale(%s) {
         activation = #moe.activation<gelu_tanh>}
     : (tensor<?x32xf32>, tensor<2x16x32xf32>, tensor<3xi32>, tensor<?xi32>,
        tensor<2x16xf32>, tensor<?xf32>) -> tensor<?x16xf32>
  %h = moe.grouped_matmul %x, %wgu, %offsets {
         activation = #moe.activation<clamped_swiglu, alpha = 1.702, limit = 7.0>}
     : (tensor<?x32xf32>, tensor<2x32x32xf32>, tensor<3xi32>) -> tensor<?x16xf32>
  %acc = moe.grouped_matmul %xb, %wb, %offsets
     : (tensor<?x32xbf16>, tensor<2x16x32xbf16>, tensor<3xi32>)
     -> tensor<?x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.gate
//===----------------------------------------------------------------------===//

// Mixtral's router fused: no biases, dynamic T, f32.
// CHECK-LABEL: func.func @gate_mixtral
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[WR:[^:]+]]: tensor<8x64xf32>)
// CHECK: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.gate %[[X]] router(%[[WR]]) {router = #moe.router<k = 2, order = topk_softmax, renormalize = true>} : (tensor<?x64xf32>, tensor<8x64xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: return %[[W]], %[[IDS]]
func.func @gate_mixtral(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.gate %x router(%wr) {
      router = #moe.router<k = 2, order = topk_softmax, renormalize = true>}
    : (tensor<?x64xf32>, tensor<8x64xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// DeepSeek-style: router bias and selection bias, sigmoid scores with
// group-limited selection, static T, bf16 tokens and weight (f32 biases).
// CHECK-LABEL: func.func @gate_deepseek
// CHECK-SAME: (%[[X:[^:]+]]: tensor<16x32xbf16>, %[[WR:[^:]+]]: tensor<8x32xbf16>, %[[RB:[^:]+]]: tensor<8xf32>, %[[SB:[^:]+]]: tensor<8xf32>)
// CHECK: moe.gate %[[X]] router(%[[WR]]) bias(%[[RB]]) selection_bias(%[[SB]]) {router = #moe.router<k = 4, scoring = sigmoid, renormalize = true, scale = 2.500000e+00, groups = 4, topk_groups = 2, group_score = sum_top2>} : (tensor<16x32xbf16>, tensor<8x32xbf16>, tensor<8xf32>, tensor<8xf32>) -> (tensor<16x4xf32>, tensor<16x4xi32>)
func.func @gate_deepseek(%x: tensor<16x32xbf16>, %wr: tensor<8x32xbf16>,
                         %rb: tensor<8xf32>, %sb: tensor<8xf32>) {
  %w, %ids = moe.gate %x router(%wr) bias(%rb) selection_bias(%sb) {
      router = #moe.router<k = 4, scoring = sigmoid, renormalize = true,
                           scale = 2.5, groups = 4, topk_groups = 2,
                           group_score = sum_top2>}
    : (tensor<16x32xbf16>, tensor<8x32xbf16>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<16x4xf32>, tensor<16x4xi32>)
  return
}

// A selection bias without a router bias (the two optional operands are
// told apart by keyword), f16; a router bias alone, k = E = 1.
// CHECK-LABEL: func.func @gate_one_bias
// CHECK: moe.gate %{{[^ ]+}} router(%{{[^ ]+}}) selection_bias(%{{[^ ]+}}) {router = #moe.router<k = 2, scoring = sigmoid>} : (tensor<?x32xf16>, tensor<4x32xf16>, tensor<4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: moe.gate %{{[^ ]+}} router(%{{[^ ]+}}) bias(%{{[^ ]+}}) {router = #moe.router<k = 1>} : (tensor<?x32xf32>, tensor<1x32xf32>, tensor<1xf32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
func.func @gate_one_bias(%x: tensor<?x32xf16>, %wr: tensor<4x32xf16>,
                         %sb: tensor<4xf32>, %x1: tensor<?x32xf32>,
                         %wr1: tensor<1x32xf32>, %rb1: tensor<1xf32>) {
  %w, %ids = moe.gate %x router(%wr) selection_bias(%sb) {
      router = #moe.router<k = 2, scoring = sigmoid>}
    : (tensor<?x32xf16>, tensor<4x32xf16>, tensor<4xf32>)
      -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w1, %ids1 = moe.gate %x1 router(%wr1) bias(%rb1) {
      router = #moe.router<k = 1>}
    : (tensor<?x32xf32>, tensor<1x32xf32>, tensor<1xf32>)
      -> (tensor<?x1xf32>, tensor<?x1xi32>)
  return
}

// All-to-all: token rows (f32, bf16), scalars (expert ids), static and
// dynamic row counts.
// CHECK-LABEL: func.func @all_to_all
// CHECK: moe.all_to_all %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x64xf32>, tensor<4xi64>) -> (tensor<?x64xf32>, tensor<4xi64>)
// CHECK: moe.all_to_all %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?xi32>, tensor<4xi64>) -> (tensor<?xi32>, tensor<4xi64>)
// CHECK: moe.all_to_all %{{[^ ]+}}, %{{[^ ]+}} : (tensor<6x2x8xbf16>, tensor<2xi64>) -> (tensor<?x2x8xbf16>, tensor<2xi64>)
func.func @all_to_all(%rows: tensor<?x64xf32>, %counts: tensor<4xi64>,
                      %ids: tensor<?xi32>, %b: tensor<6x2x8xbf16>,
                      %counts2: tensor<2xi64>) {
  %r, %rc = moe.all_to_all %rows, %counts
    : (tensor<?x64xf32>, tensor<4xi64>) -> (tensor<?x64xf32>, tensor<4xi64>)
  %i, %ic = moe.all_to_all %ids, %counts
    : (tensor<?xi32>, tensor<4xi64>) -> (tensor<?xi32>, tensor<4xi64>)
  %s, %sc = moe.all_to_all %b, %counts2
    : (tensor<6x2x8xbf16>, tensor<2xi64>) -> (tensor<?x2x8xbf16>, tensor<2xi64>)
  return
}
