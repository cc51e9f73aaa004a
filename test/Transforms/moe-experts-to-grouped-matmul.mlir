// RUN: moe-opt %s --moe-experts-to-grouped-matmul | FileCheck %s
// RUN: moe-opt %s --moe-experts-to-grouped-matmul="fuse-activation=false" | FileCheck %s --check-prefix=NOACT
// RUN: moe-opt %s --moe-experts-to-grouped-matmul="fuse-gather=false" | FileCheck %s --check-prefix=NOGATHER
// RUN: moe-opt %s --moe-experts-to-grouped-matmul="fuse-scale=false" | FileCheck %s --check-prefix=NOSCALE

// moe.experts becomes two moe.grouped_matmul products; the default fuses
// the activation (gate and up as one [E, 2F, D] product), the dispatch's
// gather and the combine's gate weights. Each other RUN line turns one
// fusion off.

// Mixtral-style: gated, dropless, dynamic T, f32: every fusion applies.
// CHECK-LABEL: func.func @mixtral
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[W:[^:]+]]: tensor<?x2xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[WG:[^:]+]]: tensor<8x128x64xf32>, %[[WU:[^:]+]]: tensor<8x128x64xf32>, %[[WD:[^:]+]]: tensor<8x64x128xf32>)
// CHECK: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %[[SRC:[^ ]+]], %{{[^ ]+}} = moe.dispatch %[[X]], %[[IDS]]
// CHECK: %[[WGU:[^ ]+]] = tensor.concat dim(1) %[[WG]], %[[WU]] : (tensor<8x128x64xf32>, tensor<8x128x64xf32>) -> tensor<8x256x64xf32>
// CHECK: %[[H:[^ ]+]] = moe.grouped_matmul %[[X]], %[[WGU]], %[[OFF]] gather(%[[SRC]]) {activation = #moe.activation<swiglu>} : (tensor<?x64xf32>, tensor<8x256x64xf32>, tensor<9xi32>, tensor<?xi32>) -> tensor<?x128xf32>
// The per-row gate weight: row r takes w[t, j] of the (t, j) with
// t = sources[r] and rows[t, j] = r.
// CHECK: %[[SCALE:[^ ]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[SRC]], %{{[^ ]+}} : tensor<?xi32>, tensor<2xi32>)
// CHECK: tensor.extract %[[ROWS]]
// CHECK: tensor.extract %[[W]]
// CHECK: %[[Y:[^ ]+]] = moe.grouped_matmul %[[H]], %[[WD]], %[[OFF]] scale(%[[SCALE]]) : (tensor<?x128xf32>, tensor<8x64x128xf32>, tensor<9xi32>, tensor<?xf32>) -> tensor<?x64xf32>
// The combine sums with weights of one.
// CHECK: %[[ONES:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<?x2xf32>)
// CHECK: %[[OUT:[^ ]+]] = moe.combine %[[Y]], %[[ROWS]], %[[ONES]]
// CHECK-NOT: moe.experts
// CHECK: return %[[OUT]]

// Off, each projection is its own f32 product and the activation a
// linalg.generic that rounds h.
// NOACT-LABEL: func.func @mixtral
// NOACT-NOT: tensor.concat
// NOACT: %[[G:[^ ]+]] = moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} gather(%{{[^ ]+}}) : (tensor<?x64xf32>, tensor<8x128x64xf32>, tensor<9xi32>, tensor<?xi32>) -> tensor<?x128xf32>
// NOACT: %[[U:[^ ]+]] = moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} gather(%{{[^ ]+}}) : (tensor<?x64xf32>, tensor<8x128x64xf32>, tensor<9xi32>, tensor<?xi32>) -> tensor<?x128xf32>
// NOACT: %[[H:[^ ]+]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<?x128xf32>, tensor<?x128xf32>)
// NOACT: math.exp
// NOACT: moe.grouped_matmul %[[H]], %{{[^ ]+}}, %{{[^ ]+}} scale(%{{[^ ]+}})

// NOGATHER-LABEL: func.func @mixtral
// NOGATHER: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch
// NOGATHER: moe.grouped_matmul %[[BUF]], %{{[^ ]+}}, %[[OFF]] {activation = #moe.activation<swiglu>}
// NOGATHER: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %[[OFF]] scale(

// NOSCALE-LABEL: func.func @mixtral
// NOSCALE-SAME: %[[W:[^:]+]]: tensor<?x2xf32>
// NOSCALE: %{{[^ ]+}}, %{{[^ ]+}}, %[[ROWS:[^ ]+]], %[[SRC:[^ ]+]], %{{[^ ]+}} = moe.dispatch
// NOSCALE: %[[H:[^ ]+]] = moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} gather(%[[SRC]]) {activation = #moe.activation<swiglu>}
// NOSCALE-NOT: linalg.generic
// NOSCALE: %[[Y:[^ ]+]] = moe.grouped_matmul %[[H]], %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x128xf32>, tensor<8x64x128xf32>, tensor<9xi32>) -> tensor<?x64xf32>
// NOSCALE: moe.combine %[[Y]], %[[ROWS]], %[[W]]
func.func @mixtral(%x: tensor<?x64xf32>, %w: tensor<?x2xf32>,
                   %ids: tensor<?x2xi32>, %wg: tensor<8x128x64xf32>,
                   %wu: tensor<8x128x64xf32>, %wd: tensor<8x64x128xf32>)
    -> tensor<?x64xf32> {
  %buf, %off, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x64xf32>, tensor<?x2xi32>) -> (tensor<?x64xf32>, tensor<9xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %off gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>}
    : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>,
       tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// Ungated with up and down biases, static T, a capacity.
// CHECK-LABEL: func.func @ungated_biases
// CHECK-SAME: %[[X:[^:]+]]: tensor<6x32xf32>, %{{[^:]+}}: tensor<6x2xf32>, %{{[^:]+}}: tensor<6x2xi32>, %[[WU:[^:]+]]: tensor<4x16x32xf32>, %[[BU:[^:]+]]: tensor<4x16xf32>, %[[WD:[^:]+]]: tensor<4x32x16xf32>, %[[BD:[^:]+]]: tensor<4x32xf32>
// CHECK-NOT: tensor.concat
// CHECK: %[[H:[^ ]+]] = moe.grouped_matmul %[[X]], %[[WU]], %{{[^ ]+}} gather(%{{[^ ]+}}) bias(%[[BU]]) {activation = #moe.activation<gelu>} : (tensor<6x32xf32>, tensor<4x16x32xf32>, tensor<5xi32>, tensor<12xi32>, tensor<4x16xf32>) -> tensor<12x16xf32>
// CHECK: moe.grouped_matmul %[[H]], %[[WD]], %{{[^ ]+}} bias(%[[BD]]) scale(%{{[^ ]+}}) : (tensor<12x16xf32>, tensor<4x32x16xf32>, tensor<5xi32>, tensor<4x32xf32>, tensor<12xf32>) -> tensor<12x32xf32>

// NOACT-LABEL: func.func @ungated_biases
// NOACT: %[[U:[^ ]+]] = moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} gather(%{{[^ ]+}}) bias(%{{[^ ]+}}) : {{.*}} -> tensor<12x16xf32>
// NOACT: %[[H:[^ ]+]] = linalg.generic {{.*}} ins(%[[U]] : tensor<12x16xf32>)
// NOACT: math.erf
// NOACT: moe.grouped_matmul %[[H]]
func.func @ungated_biases(%x: tensor<6x32xf32>, %w: tensor<6x2xf32>,
                          %ids: tensor<6x2xi32>, %wu: tensor<4x16x32xf32>,
                          %bu: tensor<4x16xf32>, %wd: tensor<4x32x16xf32>,
                          %bd: tensor<4x32xf32>) -> tensor<6x32xf32> {
  %buf, %off, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 2>, num_experts = 4 : i64}
    : (tensor<6x32xf32>, tensor<6x2xi32>) -> (tensor<12x32xf32>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<12xi32>, tensor<i64>)
  %out = moe.experts %buf, %off up(%wu) up_bias(%bu) down(%wd) down_bias(%bd) {
      activation = #moe.activation<gelu>}
    : (tensor<12x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>, tensor<4x16xf32>,
       tensor<4x32x16xf32>, tensor<4x32xf32>) -> tensor<12x32xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<12x32xf32>, tensor<6x2xi32>, tensor<6x2xf32>) -> tensor<6x32xf32>
  return %y : tensor<6x32xf32>
}

// A gate bias without an up bias: zeros stand in for the up half.
// No dispatch and no combine: only the activation fuses.
// CHECK-LABEL: func.func @gate_bias_only
// CHECK-SAME: (%[[BUF:[^:]+]]: tensor<?x32xf32>, %[[OFF:[^:]+]]: tensor<5xi32>, %[[WG:[^:]+]]: tensor<4x16x32xf32>, %[[BG:[^:]+]]: tensor<4x16xf32>, %[[WU:[^:]+]]: tensor<4x16x32xf32>, %[[WD:[^:]+]]: tensor<4x32x16xf32>)
// CHECK: %[[WGU:[^ ]+]] = tensor.concat dim(1) %[[WG]], %[[WU]]
// CHECK: %[[ZERO:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<4x16xf32>)
// CHECK: %[[BGU:[^ ]+]] = tensor.concat dim(1) %[[BG]], %[[ZERO]] : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x32xf32>
// CHECK: %[[H:[^ ]+]] = moe.grouped_matmul %[[BUF]], %[[WGU]], %[[OFF]] bias(%[[BGU]]) {activation = #moe.activation<clamped_swiglu, alpha = 1.702000e+00, limit = 7.000000e+00>}
// CHECK: %[[Y:[^ ]+]] = moe.grouped_matmul %[[H]], %[[WD]], %[[OFF]] : (tensor<?x16xf32>, tensor<4x32x16xf32>, tensor<5xi32>) -> tensor<?x32xf32>
// CHECK: return %[[Y]]

// NOACT-LABEL: func.func @gate_bias_only
// NOACT-NOT: tensor.concat
// NOACT: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} bias(%{{[^ ]+}}) : {{.*}} -> tensor<?x16xf32>
// NOACT: moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : {{.*}} -> tensor<?x16xf32>
// NOACT: linalg.generic
func.func @gate_bias_only(%buf: tensor<?x32xf32>, %off: tensor<5xi32>,
                          %wg: tensor<4x16x32xf32>, %bg: tensor<4x16xf32>,
                          %wu: tensor<4x16x32xf32>, %wd: tensor<4x32x16xf32>)
    -> tensor<?x32xf32> {
  %out = moe.experts %buf, %off gate(%wg) gate_bias(%bg) up(%wu) down(%wd) {
      activation = #moe.activation<clamped_swiglu>}
    : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>, tensor<4x16xf32>,
       tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// bf16: the gather fuses, the scale stays in the combine.
// CHECK-LABEL: func.func @bf16
// CHECK-SAME: %[[W:[^:]+]]: tensor<?x2xf32>
// CHECK: %{{[^ ]+}}, %{{[^ ]+}}, %[[ROWS:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch
// CHECK: %[[H:[^ ]+]] = moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} gather(%{{[^ ]+}}) {activation = #moe.activation<geglu>} : (tensor<?x32xbf16>, tensor<4x32x32xbf16>, tensor<5xi32>, tensor<?xi32>) -> tensor<?x16xbf16>
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:[^ ]+]] = moe.grouped_matmul %[[H]], %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x16xbf16>, tensor<4x32x16xbf16>, tensor<5xi32>) -> tensor<?x32xbf16>
// CHECK: moe.combine %[[Y]], %[[ROWS]], %[[W]]

// The unfused products stay in f32 and the activation rounds h to bf16.
// NOACT-LABEL: func.func @bf16
// NOACT: moe.grouped_matmul {{.*}} -> tensor<?x16xf32>
// NOACT: moe.grouped_matmul {{.*}} -> tensor<?x16xf32>
// NOACT: arith.truncf %{{[^ ]+}} : f32 to bf16
// NOACT: } -> tensor<?x16xbf16>
func.func @bf16(%x: tensor<?x32xbf16>, %w: tensor<?x2xf32>,
                %ids: tensor<?x2xi32>, %wg: tensor<4x16x32xbf16>,
                %wu: tensor<4x16x32xbf16>, %wd: tensor<4x32x16xbf16>)
    -> tensor<?x32xbf16> {
  %buf, %off, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x32xbf16>, tensor<?x2xi32>) -> (tensor<?x32xbf16>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %off gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<geglu>}
    : (tensor<?x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x16x32xbf16>, tensor<4x32x16xbf16>) -> tensor<?x32xbf16>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x32xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}

// Weights on the input (Llama-4): the dispatch scales its rows, so neither
// the gather nor the scale fuses.
// CHECK-LABEL: func.func @weights_on_input
// CHECK-SAME: %[[ONES:[^:]+]]: tensor<?x1xf32>, %{{[^:]+}}: tensor<?x1xi32>
// CHECK: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch {{.*}} scale(
// CHECK: %[[H:[^ ]+]] = moe.grouped_matmul %[[BUF]], %{{[^ ]+}}, %[[OFF]] {activation = #moe.activation<swiglu>}
// CHECK: %[[Y:[^ ]+]] = moe.grouped_matmul %[[H]], %{{[^ ]+}}, %[[OFF]] :
// CHECK: moe.combine %[[Y]], %[[ROWS]], %[[ONES]]
func.func @weights_on_input(%x: tensor<?x32xf32>, %w: tensor<?x1xf32>,
                            %ones: tensor<?x1xf32>, %ids: tensor<?x1xi32>,
                            %wg: tensor<4x16x32xf32>, %wu: tensor<4x16x32xf32>,
                            %wd: tensor<4x32x16xf32>) -> tensor<?x32xf32> {
  %buf, %off, %rows, %src, %dropped = moe.dispatch %x, %ids scale(%w) {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x32xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> (tensor<?x32xf32>,
       tensor<5xi32>, tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %off gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>}
    : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>,
       tensor<4x16x32xf32>, tensor<4x32x16xf32>) -> tensor<?x32xf32>
  %y = moe.combine %out, %rows, %ones
    : (tensor<?x32xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// A combine that passes dropped tokens through keeps its weights.
// CHECK-LABEL: func.func @identity_combine
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, %[[W:[^:]+]]: tensor<?x2xf32>
// CHECK: moe.grouped_matmul %[[X]], %{{[^ ]+}}, %{{[^ ]+}} gather(%{{[^ ]+}}) {activation = #moe.activation<relu>}
// CHECK: %[[Y:[^ ]+]] = moe.grouped_matmul %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x16xf32>, tensor<4x32x16xf32>, tensor<5xi32>) -> tensor<?x32xf32>
// CHECK: moe.combine %[[Y]], %{{[^ ]+}}, %[[W]] identity(%[[X]])
func.func @identity_combine(%x: tensor<?x32xf32>, %w: tensor<?x2xf32>,
                            %ids: tensor<?x2xi32>, %wu: tensor<4x16x32xf32>,
                            %wd: tensor<4x32x16xf32>) -> tensor<?x32xf32> {
  %buf, %off, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 1, dropped = identity>,
      num_experts = 4 : i64}
    : (tensor<?x32xf32>, tensor<?x2xi32>) -> (tensor<?x32xf32>, tensor<5xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %off up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>,
       tensor<4x32x16xf32>) -> tensor<?x32xf32>
  %y = moe.combine %out, %rows, %w identity(%x)
    : (tensor<?x32xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x32xf32>)
    -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
