// RUN: moe-opt %s --moe-expert-parallel=ranks=2 --split-input-file | FileCheck %s
// RUN: moe-opt %s --moe-expert-parallel --split-input-file | FileCheck %s --check-prefix=ONE

// A routed moe.experts over E = 8 experts on 2 ranks: each rank keeps 4
// experts' weights, sends the dispatched rows and their owner-local expert
// ids to the owners, runs its experts on what it received and sends the
// outputs back to the layer's combine.
// CHECK-LABEL: func.func @routed
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[W:[^:]+]]: tensor<?x2xf32>
// CHECK-SAME: %[[WG:[^:]+]]: tensor<4x32x16xf32>, %[[WU:[^:]+]]: tensor<4x32x16xf32>, %[[WD:[^:]+]]: tensor<4x16x32xf32>
// CHECK-SAME: attributes {moe.expert_parallel = {ranks = 2 : i64}}
// CHECK: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch %[[X]], %[[IDS]]
// The kept rows, offsets[8], and the rows per owner, offsets[4] - offsets[0]
// and offsets[8] - offsets[4].
// CHECK: %[[C8:.+]] = arith.constant 8 : index
// CHECK: %[[KEPT32:.+]] = tensor.extract %[[OFF]][%[[C8]]] : tensor<9xi32>
// CHECK: %[[KEPT:.+]] = arith.index_cast %[[KEPT32]] : i32 to index
// CHECK: %[[B0:.+]] = tensor.extract %[[OFF]][%c0] : tensor<9xi32>
// CHECK: %[[E0:.+]] = tensor.extract %[[OFF]][%c4] : tensor<9xi32>
// CHECK: %[[N0:.+]] = arith.subi %[[E0]], %[[B0]] : i32
// CHECK: %[[S0:.+]] = arith.extsi %[[N0]] : i32 to i64
// CHECK: %[[B1:.+]] = tensor.extract %[[OFF]][%c4{{.*}}] : tensor<9xi32>
// CHECK: %[[E1:.+]] = tensor.extract %[[OFF]][%c8{{.*}}] : tensor<9xi32>
// CHECK: %[[N1:.+]] = arith.subi %[[E1]], %[[B1]] : i32
// CHECK: %[[S1:.+]] = arith.extsi %[[N1]] : i32 to i64
// CHECK: %[[COUNTS:.+]] = tensor.from_elements %[[S0]], %[[S1]] : tensor<2xi64>
// CHECK: %[[SEND:.+]] = tensor.extract_slice %[[BUF]][0, 0] [%[[KEPT]], 16] [1, 1]
// Each row's expert among its owner's: e mod 4 over expert e's segment.
// CHECK: %[[LOCAL:.+]] = scf.for %[[E:[^ ]+]] =
// CHECK:   arith.remui %[[E]], %{{.+}} : index
// CHECK:   linalg.fill
// CHECK:   tensor.insert_slice
// CHECK: %[[RECV:[^ ]+]], %{{[^ ]+}} = moe.all_to_all %[[SEND]], %[[COUNTS]] : (tensor<?x16xf32>, tensor<2xi64>) -> (tensor<?x16xf32>, tensor<2xi64>)
// CHECK: %[[RIDS:[^ ]+]], %[[RCOUNTS:[^ ]+]] = moe.all_to_all %[[LOCAL]], %[[COUNTS]] : (tensor<?xi32>, tensor<2xi64>) -> (tensor<?xi32>, tensor<2xi64>)
// CHECK: %[[M:.+]] = tensor.dim %[[RIDS]]
// Rows that did not arrive (a failed exchange) read as zeros.
// CHECK: %[[RROWS:.+]] = scf.if %{{.+}} -> (tensor<?x16xf32>) {
// CHECK:   scf.yield %[[RECV]]
// CHECK: } else {
// CHECK:   linalg.fill
// CHECK: %[[COLUMN:.+]] = tensor.expand_shape %[[RIDS]] {{\[\[}}0, 1]] output_shape [%[[M]], 1]
// CHECK: %[[BUF2:[^ ]+]], %[[OFF2:[^ ]+]], %[[ROWS2:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch %[[RROWS]], %[[COLUMN]] {capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
// CHECK: %[[ONES:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<?x1xf32>)
// CHECK: %[[OUT2:.+]] = moe.experts %[[BUF2]], %[[OFF2]] gate(%[[WG]]) up(%[[WU]]) down(%[[WD]])
// CHECK: %[[BACK:.+]] = moe.combine %[[OUT2]], %[[ROWS2]], %[[ONES]]
// CHECK: %[[RET:[^ ]+]], %{{[^ ]+}} = moe.all_to_all %[[BACK]], %[[RCOUNTS]]
// CHECK: %[[OUTS:.+]] = scf.if
// CHECK:   scf.yield %[[RET]]
// CHECK: %[[Y:.+]] = moe.combine %[[OUTS]], %[[ROWS]], %[[W]]
// CHECK: return %[[Y]]
// ONE-LABEL: func.func @routed
// ONE-NOT: moe.all_to_all
// ONE-NOT: moe.expert_parallel
func.func @routed(%x: tensor<?x16xf32>, %ids: tensor<?x2xi32>,
                  %w: tensor<?x2xf32>, %wg: tensor<8x32x16xf32>,
                  %wu: tensor<8x32x16xf32>, %wd: tensor<8x16x32xf32>)
    -> tensor<?x16xf32> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x2xi32>) -> (tensor<?x16xf32>, tensor<9xi32>,
       tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %offsets gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x32x16xf32>,
       tensor<8x32x16xf32>, tensor<8x16x32xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Shared experts (one expert over every token, offsets not from a dispatch)
// stay on the rank's own tokens; the routed experts' biases are sharded
// with their weights, the shared weights are not.
// CHECK-LABEL: func.func @shared_and_biases
// CHECK-SAME: tensor<2x8x16xbf16>, %{{[^:]+}}: tensor<2x8xbf16>, %{{[^:]+}}: tensor<2x16x8xbf16>, %{{[^:]+}}: tensor<2x16xbf16>, %[[SU:[^:]+]]: tensor<1x8x16xbf16>, %[[SD:[^:]+]]: tensor<1x16x8xbf16>
// CHECK: moe.all_to_all
// CHECK: moe.all_to_all
// CHECK: moe.experts {{.+}} up_bias({{.+}}) down(
// CHECK-SAME: tensor<2x8x16xbf16>
// CHECK: moe.all_to_all
// CHECK-NOT: moe.all_to_all
// CHECK: moe.experts {{.+}} up(%[[SU]]) down(%[[SD]])
func.func @shared_and_biases(%x: tensor<?x16xbf16>, %ids: tensor<?x1xi32>,
                             %w: tensor<?x1xf32>, %wu: tensor<4x8x16xbf16>,
                             %bu: tensor<4x8xbf16>, %wd: tensor<4x16x8xbf16>,
                             %bd: tensor<4x16xbf16>, %su: tensor<1x8x16xbf16>,
                             %sd: tensor<1x16x8xbf16>, %all: tensor<2xi32>)
    -> (tensor<?x16xbf16>, tensor<?x16xbf16>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x16xbf16>, tensor<?x1xi32>) -> (tensor<?x16xbf16>,
       tensor<5xi32>, tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %offsets up(%wu) up_bias(%bu) down(%wd)
      down_bias(%bd) {activation = #moe.activation<relu>}
    : (tensor<?x16xbf16>, tensor<5xi32>, tensor<4x8x16xbf16>,
       tensor<4x8xbf16>, tensor<4x16x8xbf16>, tensor<4x16xbf16>)
      -> tensor<?x16xbf16>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xbf16>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x16xbf16>
  %shared = moe.experts %x, %all up(%su) down(%sd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xbf16>, tensor<2xi32>, tensor<1x8x16xbf16>,
       tensor<1x16x8xbf16>) -> tensor<?x16xbf16>
  return %y, %shared : tensor<?x16xbf16>, tensor<?x16xbf16>
}

// -----

// A fixed capacity under the probability policy, dropped tokens passed
// through. The plan keeps every assignment; each row's slot travels in its
// id (local * 2 + j) and its gate weight in a third exchange. The owner
// puts its rows in the global priority order (a dropless dispatch by slot),
// applies the capacity there, and returns the outputs in the received
// order and a kept flag per row. The layer's combine sees a dropped
// assignment's row as -1; the dropped count is the plan's plus the owners'.
// CHECK-LABEL: func.func @capacity
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[W:[^:]+]]: tensor<?x2xf32>, %[[WU:[^:]+]]: tensor<4x8x16xf32>, %[[WD:[^:]+]]: tensor<4x16x8xf32>
// CHECK: %{{[^ ]+}}, %{{[^ ]+}}, %[[ROWS:[^ ]+]], %{{[^ ]+}}, %[[PLANDROPPED:[^ ]+]] = moe.dispatch %[[X]], %[[IDS]] {capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
// CHECK: %[[SLOTS:.+]]:2 = scf.for {{.+}} -> (tensor<?xi32>, tensor<?xf32>)
// CHECK: %[[PACKED:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[SLOTS]]#0 : tensor<?xi32>, tensor<?xi32>)
// CHECK:   arith.muli
// CHECK:   arith.addi
// CHECK: moe.all_to_all %{{.+}} : (tensor<?x16xf32>, tensor<2xi64>)
// CHECK: %[[RPACKED:[^ ]+]], %[[RCOUNTS:[^ ]+]] = moe.all_to_all %[[PACKED]]
// CHECK: moe.all_to_all %[[SLOTS]]#1, %{{.+}} : (tensor<?xf32>, tensor<2xi64>)
// CHECK: linalg.generic {{.+}} ins(%[[RPACKED]] : tensor<?xi32>)
// CHECK:   arith.divui
// CHECK:   arith.remui
// CHECK: %[[BYSLOT:[^ ]+]], %{{[^ ]+}}, %[[SLOTROWS:[^ ]+]], %[[SLOTSRC:[^ ]+]], %{{[^ ]+}} = moe.dispatch {{.+}} {capacity = #moe.capacity<dropless>, num_experts = 2 : i64}
// CHECK: linalg.generic {{.+}} ins(%[[SLOTSRC]] : tensor<?xi32>)
// CHECK: %[[KEPTBUF:[^ ]+]], %[[KOFF:[^ ]+]], %[[KROWS:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch %[[BYSLOT]], %{{.+}} priority(%{{.+}}) {capacity = #moe.capacity<fixed = 4, drop = probability, dropped = identity>, num_experts = 4 : i64}
// CHECK: %[[OUT:.+]] = moe.experts %[[KEPTBUF]], %[[KOFF]] up(%[[WU]]) down(%[[WD]])
// CHECK: %[[PRIO:.+]] = moe.combine %[[OUT]], %[[KROWS]]
// CHECK: %[[BACK:.+]] = moe.combine %[[PRIO]], %[[SLOTROWS]]
// CHECK: %[[FLAGS:.+]] = linalg.generic
// CHECK: moe.all_to_all %[[BACK]], %[[RCOUNTS]]
// CHECK: moe.all_to_all %[[FLAGS]], %[[RCOUNTS]]
// CHECK: %[[KEPTROWS:.+]] = linalg.generic {{.+}} ins(%[[ROWS]] : tensor<?x2xi32>)
// CHECK:   scf.if
// CHECK:   arith.select
// CHECK: scf.for
// CHECK: %[[DROPPED:.+]] = tensor.from_elements %{{.+}} : tensor<i64>
// CHECK: %[[Y:.+]] = moe.combine %{{.+}}, %[[KEPTROWS]], %[[W]] identity(%[[X]])
// CHECK: return %[[Y]], %[[DROPPED]]
func.func @capacity(%x: tensor<?x16xf32>, %ids: tensor<?x2xi32>,
                    %w: tensor<?x2xf32>, %wu: tensor<8x8x16xf32>,
                    %wd: tensor<8x16x8xf32>) -> (tensor<?x16xf32>, tensor<i64>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids priority(%w) {
      capacity = #moe.capacity<fixed = 4, drop = probability,
                               dropped = identity>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
      -> (tensor<?x16xf32>, tensor<9xi32>, tensor<?x2xi32>, tensor<?xi32>,
          tensor<i64>)
  %out = moe.experts %buf, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w identity(%x)
    : (tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x16xf32>)
      -> tensor<?x16xf32>
  return %y, %dropped : tensor<?x16xf32>, tensor<i64>
}
