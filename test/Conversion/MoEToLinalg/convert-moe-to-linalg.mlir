// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s
// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s --check-prefix=NOMOE
// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s --check-prefix=IREE
// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s --check-prefix=LOOPS

// Each level-1 op lowered on its own. The second RUN line checks that nothing
// of the dialect (op or attribute) is left anywhere in the output.
// NOMOE: module
// NOMOE-NOT: moe.

// The host-level patterns IREE cannot take (docs/IREE.md) appear nowhere:
// no arith.maxnumf, no scf.if, no scalar tensor.insert into a tensor of
// rank 2 or more. (LOOPS, per function below: no loop nest carries a
// dynamically shaped tensor through more than one level.)
// IREE: module
// IREE-NOT: arith.maxnumf
// IREE-NOT: scf.if
// IREE-NOT: tensor.insert {{.*}} : tensor<{{[0-9?]+}}x{{[0-9?]+}}x

// x [n, in] times W [out, in] transposed, as a linalg.matmul with indexing
// maps; the combine reads rows and weights [T, k] with the same (t, j) map.
// CHECK-DAG: #[[$LHS_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$RHS_T_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$OUT_MAP:[^ ]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$ROW_MAP:[^ ]+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$ID_MAP:[^ ]+]] = affine_map<(d0, d1) -> (d0, d1)>

//===----------------------------------------------------------------------===//
// moe.route
//===----------------------------------------------------------------------===//

// softmax_topk: per token, a max pass and a softmax-sum pass over E, then k
// selection passes on the softmax scores into static [k] tensors, written
// into row t of the [T, k] results by one insert_slice each. No
// renormalization, no scale: no second loop over k.
// CHECK-LABEL: func.func @route_softmax_topk
// CHECK-SAME: (%[[L:[^:]+]]: tensor<?x8xf32>)
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[L]], %{{.*}} : tensor<?x8xf32>
// CHECK-DAG: %[[W0:[^ ]+]] = tensor.empty(%[[T]]) : tensor<?x2xf32>
// CHECK-DAG: %[[I0:[^ ]+]] = tensor.empty(%[[T]]) : tensor<?x2xi32>
// CHECK: %[[RES:[^ ]+]]:2 = scf.for %[[TOK:[^ ]+]] = %{{.*}} to %[[T]] step %{{.*}} iter_args(%[[WACC:[^ ]+]] = %[[W0]], %[[IACC:[^ ]+]] = %[[I0]]) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// The max is cmpf ogt + select (IREE's VM has no maxnumf): with the
// accumulator starting at -inf, a NaN logit is ignored, as with maxnumf.
// CHECK: %[[MAX:[^ ]+]] = scf.for {{.*}} iter_args(%[[MACC:[^ ]+]] = %{{.*}}) -> (f32)
// CHECK: %[[ZM:[^ ]+]] = tensor.extract %[[L]][%[[TOK]], %{{.*}}] : tensor<?x8xf32>
// CHECK: %[[GT:[^ ]+]] = arith.cmpf ogt, %[[ZM]], %[[MACC]] : f32
// CHECK: %[[NEWMAX:[^ ]+]] = arith.select %[[GT]], %[[ZM]], %[[MACC]] : f32
// CHECK: scf.yield %[[NEWMAX]] : f32
// CHECK: %[[SUM:[^ ]+]] = scf.for {{.*}} -> (f32)
// CHECK: arith.subf %{{.*}}, %[[MAX]] : f32
// CHECK: math.exp
// CHECK-DAG: %[[RW0:[^ ]+]] = tensor.empty() : tensor<2xf32>
// CHECK-DAG: %[[RI0:[^ ]+]] = tensor.empty() : tensor<2xi32>
// CHECK: %[[SEL:[^ ]+]]:6 = scf.for %[[J:[^ ]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[RW:[^ ]+]] = %[[RW0]], %[[RI:[^ ]+]] = %[[RI0]], {{.*}}) -> (tensor<2xf32>, tensor<2xi32>, f32, index, f32, f32)
// CHECK: %[[BEST:[^ ]+]]:2 = scf.for {{.*}} -> (f32, index)
// NaN keys are read as -inf.
// CHECK: %[[ISNAN:[^ ]+]] = arith.cmpf uno
// CHECK: arith.select %[[ISNAN]], %{{.*}}, %{{.*}} : f32
// CHECK: scf.yield
// CHECK: %[[WEIGHT:[^ ]+]] = arith.divf %{{.*}}, %[[SUM]] : f32
// CHECK: tensor.insert %[[WEIGHT]] into %[[RW]][%[[J]]] : tensor<2xf32>
// CHECK: %[[ID:[^ ]+]] = arith.index_cast %[[BEST]]#1 : index to i32
// CHECK: tensor.insert %[[ID]] into %[[RI]][%[[J]]] : tensor<2xi32>
// CHECK: scf.yield
// CHECK-NOT: scf.for
// CHECK: %[[WROW:[^ ]+]] = tensor.insert_slice %[[SEL]]#0 into %[[WACC]][%[[TOK]], 0] [1, 2] [1, 1] : tensor<2xf32> into tensor<?x2xf32>
// CHECK: %[[IROW:[^ ]+]] = tensor.insert_slice %[[SEL]]#1 into %[[IACC]][%[[TOK]], 0] [1, 2] [1, 1] : tensor<2xi32> into tensor<?x2xi32>
// CHECK: scf.yield %[[WROW]], %[[IROW]] : tensor<?x2xf32>, tensor<?x2xi32>
// CHECK: return %[[RES]]#0, %[[RES]]#1
// Only the token loop carries the [T, k] tensors.
// LOOPS-LABEL: func.func @route_softmax_topk
// LOOPS: scf.for {{.*}} -> (tensor<?x2xf32>, tensor<?x2xi32>) {
// LOOPS-NOT: -> ({{[^)]*}}tensor<?
// LOOPS: tensor.insert_slice {{.*}} into tensor<?x2xf32>
func.func @route_softmax_topk(%logits: tensor<?x8xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
    : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// topk_softmax: selection on the raw logits (no softmax statistics pass);
// the selection loop keeps the picked logits and their max (cmpf + select),
// then w = exp(z - max picked z) over the k picks, divided by their sum.
// Static T: the token loop runs to a constant.
// CHECK-LABEL: func.func @route_topk_softmax
// CHECK-SAME: (%[[L:[^:]+]]: tensor<6x8xf32>)
// CHECK-NOT: tensor.dim
// CHECK-DAG: %[[C6:[^ ]+]] = arith.constant 6 : index
// CHECK-DAG: tensor.empty() : tensor<6x2xf32>
// CHECK-DAG: tensor.empty() : tensor<6x2xi32>
// CHECK: scf.for %[[TOK:[^ ]+]] = %{{.*}} to %[[C6]] step %{{.*}} iter_args(%[[WACC:[^ ]+]] = %{{.*}}, %[[IACC:[^ ]+]] = %{{.*}}) -> (tensor<6x2xf32>, tensor<6x2xi32>)
// CHECK: %[[SEL:[^ ]+]]:6 = scf.for %[[J:[^ ]+]] = {{.*}} iter_args(%[[RW:[^ ]+]] = %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[MACC:[^ ]+]] = %{{[^)]+}}) -> (tensor<2xf32>, tensor<2xi32>, f32, index, f32, f32)
// CHECK: %[[BEST:[^ ]+]]:2 = scf.for {{.*}} -> (f32, index)
// CHECK-NOT: math.exp
// CHECK: scf.yield
// CHECK: %[[Z:[^ ]+]] = tensor.extract %[[L]][%[[TOK]], %[[BEST]]#1]
// CHECK: tensor.insert %[[Z]] into %[[RW]][%[[J]]] : tensor<2xf32>
// CHECK: %[[GT:[^ ]+]] = arith.cmpf ogt, %[[Z]], %[[MACC]] : f32
// CHECK: %[[MAXZ:[^ ]+]] = arith.select %[[GT]], %[[Z]], %[[MACC]] : f32
// CHECK: scf.yield {{.*}}, %[[MAXZ]] :
// CHECK: %[[EXPS:[^ ]+]]:2 = scf.for %[[J1:[^ ]+]] = {{.*}} iter_args(%[[WE:[^ ]+]] = %[[SEL]]#0, {{.*}}) -> (tensor<2xf32>, f32)
// CHECK: %[[ZJ:[^ ]+]] = tensor.extract %[[WE]][%[[J1]]] : tensor<2xf32>
// z - max, or 0 where z is the max (an infinite max gives no NaN).
// CHECK: %[[ATMAX:[^ ]+]] = arith.cmpf oeq, %[[ZJ]], %[[SEL]]#5 : f32
// CHECK: %[[DIFF:[^ ]+]] = arith.subf %[[ZJ]], %[[SEL]]#5 : f32
// CHECK: %[[SHIFTED:[^ ]+]] = arith.select %[[ATMAX]], %{{.*}}, %[[DIFF]] : f32
// CHECK: %[[E:[^ ]+]] = math.exp %[[SHIFTED]] : f32
// CHECK: tensor.insert %[[E]] into %[[WE]][%[[J1]]] : tensor<2xf32>
// CHECK: arith.addf %{{.*}}, %[[E]] : f32
// CHECK: %[[NORM:[^ ]+]] = scf.for %[[J2:[^ ]+]] = {{.*}} iter_args(%[[WN:[^ ]+]] = %[[EXPS]]#0) -> (tensor<2xf32>)
// CHECK: %[[WJ:[^ ]+]] = tensor.extract %[[WN]][%[[J2]]]
// CHECK: %[[Q:[^ ]+]] = arith.divf %[[WJ]], %[[EXPS]]#1 : f32
// CHECK: tensor.insert %[[Q]] into %[[WN]][%[[J2]]]
// CHECK: %[[WROW:[^ ]+]] = tensor.insert_slice %[[NORM]] into %[[WACC]][%[[TOK]], 0] [1, 2] [1, 1] : tensor<2xf32> into tensor<6x2xf32>
// CHECK: %[[IROW:[^ ]+]] = tensor.insert_slice %[[SEL]]#1 into %[[IACC]][%[[TOK]], 0] [1, 2] [1, 1] : tensor<2xi32> into tensor<6x2xi32>
// CHECK: scf.yield %[[WROW]], %[[IROW]] : tensor<6x2xf32>, tensor<6x2xi32>
func.func @route_topk_softmax(%logits: tensor<6x8xf32>)
    -> (tensor<6x2xf32>, tensor<6x2xi32>) {
  %w, %ids = moe.route %logits {
      router = #moe.router<k = 2, order = topk_softmax>}
    : (tensor<6x8xf32>) -> (tensor<6x2xf32>, tensor<6x2xi32>)
  return %w, %ids : tensor<6x2xf32>, tensor<6x2xi32>
}

// sigmoid scoring, a selection bias and group-limited routing (4 groups of
// 2, keep 2, sum_top2): the 4 group scores go into a [4] scratch tensor
// threaded through the token loop, topk_groups = 2 passes over them find the
// last kept group, and the k passes then only take experts whose group is
// not after it. The weights are the unbiased sigmoid scores, renormalized
// and scaled by 2.5.
// CHECK-LABEL: func.func @route_sigmoid_groups
// CHECK-SAME: (%[[L:[^:]+]]: tensor<?x8xf32>, %[[SB:[^:]+]]: tensor<8xf32>)
// CHECK: %[[SCRATCH:[^ ]+]] = tensor.empty() : tensor<4xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}, %[[GS0:[^ ]+]] = %[[SCRATCH]]) -> (tensor<?x2xf32>, tensor<?x2xi32>, tensor<4xf32>)
// CHECK: %[[GSCORES:[^ ]+]] = scf.for %[[G:[^ ]+]] = {{.*}} to %c4{{.*}} iter_args(%[[GS:[^ ]+]] = %[[GS0]]) -> (tensor<4xf32>)
// CHECK: %[[FIRST:[^ ]+]] = arith.muli %[[G]], %c2{{.*}} : index
// CHECK: %[[TOP2:[^ ]+]]:2 = scf.for {{.*}} to %c2{{.*}} -> (f32, f32)
// CHECK: %[[E:[^ ]+]] = arith.addi %[[FIRST]], %{{.*}} : index
// CHECK: %[[Z:[^ ]+]] = tensor.extract %[[L]][%{{.*}}, %[[E]]]
// CHECK: %[[NEG:[^ ]+]] = arith.subf %{{.*}}, %[[Z]] : f32
// CHECK: %[[EXP:[^ ]+]] = math.exp %[[NEG]] : f32
// CHECK: %[[DEN:[^ ]+]] = arith.addf %{{.*}}, %[[EXP]] : f32
// CHECK: %[[SIG:[^ ]+]] = arith.divf %{{.*}}, %[[DEN]] : f32
// CHECK: %[[B:[^ ]+]] = tensor.extract %[[SB]][%[[E]]] : tensor<8xf32>
// CHECK: arith.addf %[[SIG]], %[[B]] : f32
// CHECK: scf.yield
// CHECK: %[[GSUM:[^ ]+]] = arith.addf %[[TOP2]]#0, %[[TOP2]]#1 : f32
// CHECK: tensor.insert %{{.*}} into %[[GS]][%[[G]]] : tensor<4xf32>
// CHECK: %[[THRESHOLD:[^ ]+]]:2 = scf.for {{.*}} -> (f32, index)
// CHECK: scf.for {{.*}} to %c4{{.*}} -> (f32, index)
// CHECK: tensor.extract %[[GSCORES]][%{{.*}}] : tensor<4xf32>
// CHECK: %[[SEL:[^ ]+]]:6 = scf.for {{.*}} -> (tensor<2xf32>, tensor<2xi32>, f32, index, f32, f32)
// CHECK: %[[GROUP:[^ ]+]] = arith.divui %{{.*}}, %c2{{.*}} : index
// CHECK: %[[GKEY:[^ ]+]] = tensor.extract %[[GSCORES]][%[[GROUP]]] : tensor<4xf32>
// CHECK: %[[BETTER:[^ ]+]] = arith.cmpf ogt, %[[GKEY]], %[[THRESHOLD]]#0 : f32
// CHECK: %[[NOT_AFTER:[^ ]+]] = arith.cmpi sle, %[[GROUP]], %[[THRESHOLD]]#1 : index
// CHECK: %[[NORM:[^ ]+]] = scf.for {{.*}} -> (tensor<2xf32>)
// CHECK: %[[Q:[^ ]+]] = arith.divf %{{.*}}, %[[SEL]]#4 : f32
// CHECK: %[[SCALE:[^ ]+]] = arith.constant 2.500000e+00 : f32
// CHECK: arith.mulf %[[Q]], %[[SCALE]] : f32
// CHECK: %[[WROW:[^ ]+]] = tensor.insert_slice %[[NORM]] into %{{.*}} : tensor<2xf32> into tensor<?x2xf32>
// CHECK: %[[IROW:[^ ]+]] = tensor.insert_slice %[[SEL]]#1 into %{{.*}} : tensor<2xi32> into tensor<?x2xi32>
// CHECK: scf.yield %[[WROW]], %[[IROW]], %[[GSCORES]] : tensor<?x2xf32>, tensor<?x2xi32>, tensor<4xf32>
// LOOPS-LABEL: func.func @route_sigmoid_groups
// LOOPS: scf.for {{.*}} -> (tensor<?x2xf32>, tensor<?x2xi32>, tensor<4xf32>) {
// LOOPS-NOT: -> ({{[^)]*}}tensor<?
// LOOPS: tensor.insert_slice {{.*}} into tensor<?x2xf32>
func.func @route_sigmoid_groups(%logits: tensor<?x8xf32>, %bias: tensor<8xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.route %logits selection_bias(%bias) {
      router = #moe.router<k = 2, scoring = sigmoid, renormalize = true,
                           scale = 2.5, groups = 4, topk_groups = 2,
                           group_score = sum_top2>}
    : (tensor<?x8xf32>, tensor<8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

//===----------------------------------------------------------------------===//
// moe.dispatch
//===----------------------------------------------------------------------===//

// Dropless: the capacity is T * k, which no expert can exceed. Keep pass
// (one loop over the T * k assignments in priority order, i = j * T + t),
// offsets scan, placement (one loop in token order, i = t * k + j), gather.
// rows[t, j] is built flat at t * k + j and expanded to [T, k] at the end;
// sources[] is written through selects (a dropped assignment rewrites row
// 0's source with its old value).
// CHECK-LABEL: func.func @dispatch_dropless
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>)
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[IDS]], %{{.*}} : tensor<?x2xi32>
// CHECK: %[[K:[^ ]+]] = arith.constant 2 : index
// CHECK: %[[R:[^ ]+]] = arith.muli %[[T]], %[[K]] : index
// CHECK-NOT: math.ceil
// CHECK: %[[CAP:[^ ]+]] = arith.index_cast %[[R]] : index to i32
// CHECK: %[[COUNTS0:[^ ]+]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<8xi32>)
// CHECK: %[[ROWS0:[^ ]+]] = tensor.empty(%[[R]]) : tensor<?xi32>
// CHECK: %[[KEPT:[^ ]+]]:3 = scf.for %[[I:[^ ]+]] = %{{.*}} to %[[R]] step %{{.*}} iter_args(%[[CNT:[^ ]+]] = %[[COUNTS0]], %[[KROWS:[^ ]+]] = %[[ROWS0]], %{{.*}}) -> (tensor<8xi32>, tensor<?xi32>, i64)
// CHECK: %[[KJ:[^ ]+]] = arith.divui %[[I]], %[[T]] : index
// CHECK: %[[KT:[^ ]+]] = arith.remui %[[I]], %[[T]] : index
// CHECK: tensor.extract %[[IDS]][%[[KT]], %[[KJ]]] : tensor<?x2xi32>
// CHECK: %[[COUNT:[^ ]+]] = tensor.extract %[[CNT]][%{{.*}}] : tensor<8xi32>
// CHECK: %[[ROOM:[^ ]+]] = arith.cmpi slt, %[[COUNT]], %[[CAP]] : i32
// CHECK: %[[KTK:[^ ]+]] = arith.muli %[[KT]], %[[K]] : index
// CHECK: %[[FLAT:[^ ]+]] = arith.addi %[[KTK]], %[[KJ]] : index
// CHECK: tensor.insert %{{.*}} into %[[KROWS]][%[[FLAT]]] : tensor<?xi32>
// CHECK: %[[OFFSETS:[^ ]+]]:2 = scf.for {{.*}} -> (tensor<9xi32>, i32)
// CHECK: %[[SOURCES0:[^ ]+]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<?xi32>)
// CHECK: %[[PLACED:[^ ]+]]:3 = scf.for %[[P:[^ ]+]] = %{{.*}} to %[[R]] step %{{.*}} iter_args(%[[CUR:[^ ]+]] = %{{.*}}, %[[PROWS:[^ ]+]] = %[[KEPT]]#1, %[[SRC:[^ ]+]] = %[[SOURCES0]]) -> (tensor<8xi32>, tensor<?xi32>, tensor<?xi32>)
// CHECK: %[[PT:[^ ]+]] = arith.divui %[[P]], %[[K]] : index
// CHECK: %[[PJ:[^ ]+]] = arith.remui %[[P]], %[[K]] : index
// CHECK: tensor.extract %[[IDS]][%[[PT]], %[[PJ]]] : tensor<?x2xi32>
// CHECK: %[[MARK:[^ ]+]] = tensor.extract %[[PROWS]][%[[P]]] : tensor<?xi32>
// CHECK: %[[ISKEPT:[^ ]+]] = arith.cmpi eq, %[[MARK]], %{{.*}} : i32
// CHECK: %[[ROW:[^ ]+]] = tensor.extract %[[CUR]][%{{.*}}] : tensor<8xi32>
// CHECK: %[[ROWORNONE:[^ ]+]] = arith.select %[[ISKEPT]], %[[ROW]], %{{.*}} : i32
// CHECK: tensor.insert %[[ROWORNONE]] into %[[PROWS]][%[[P]]] : tensor<?xi32>
// CHECK: %[[TARGET32:[^ ]+]] = arith.select %[[ISKEPT]], %[[ROW]], %{{.*}} : i32
// CHECK: %[[TARGET:[^ ]+]] = arith.index_cast %[[TARGET32]] : i32 to index
// CHECK: %[[OLD:[^ ]+]] = tensor.extract %[[SRC]][%[[TARGET]]] : tensor<?xi32>
// CHECK: %[[TOKEN:[^ ]+]] = arith.index_cast %[[PT]] : index to i32
// CHECK: %[[SOURCE:[^ ]+]] = arith.select %[[ISKEPT]], %[[TOKEN]], %[[OLD]] : i32
// CHECK: tensor.insert %[[SOURCE]] into %[[SRC]][%[[TARGET]]] : tensor<?xi32>
// CHECK: %[[ROWS:[^ ]+]] = tensor.expand_shape %[[PLACED]]#1 {{\[\[}}0, 1]] output_shape [%[[T]], 2] : tensor<?xi32> into tensor<?x2xi32>
// CHECK: %[[BUF0:[^ ]+]] = tensor.empty(%[[R]]) : tensor<?x64xf32>
// CHECK: %[[BUF:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ROW_MAP]], #[[$ID_MAP]]], iterator_types = ["parallel", "parallel"]} ins(%[[PLACED]]#2 : tensor<?xi32>) outs(%[[BUF0]] : tensor<?x64xf32>)
// CHECK: %[[D:[^ ]+]] = linalg.index 1 : index
// CHECK: tensor.extract %[[X]][%{{.*}}, %[[D]]] : tensor<?x64xf32>
// CHECK: %[[DROPPED:[^ ]+]] = tensor.from_elements %[[KEPT]]#2 : tensor<i64>
// CHECK: return %[[BUF]], %[[OFFSETS]]#0, %[[ROWS]], %[[PLACED]]#2, %[[DROPPED]]
// LOOPS-LABEL: func.func @dispatch_dropless
// LOOPS: scf.for {{.*}} -> (tensor<8xi32>, tensor<?xi32>, i64) {
// LOOPS-NOT: scf.for
// LOOPS: scf.yield {{.*}} : tensor<8xi32>, tensor<?xi32>, i64
// LOOPS: scf.for {{.*}} -> (tensor<9xi32>, i32) {
// LOOPS: scf.for {{.*}} -> (tensor<8xi32>) {
// LOOPS: scf.for {{.*}} -> (tensor<8xi32>, tensor<?xi32>, tensor<?xi32>) {
// LOOPS-NOT: scf.for
// LOOPS: scf.yield {{.*}} : tensor<8xi32>, tensor<?xi32>, tensor<?xi32>
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

// A capacity factor: C = ceil(1.25 * T * k / E - 1e-9), in f64 from the
// run-time T.
// CHECK-LABEL: func.func @dispatch_factor
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xbf16>, %[[IDS:[^:]+]]: tensor<?x2xi32>)
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[IDS]]
// CHECK: %[[R:[^ ]+]] = arith.muli %[[T]], %{{.*}} : index
// CHECK: %[[R64:[^ ]+]] = arith.index_castui %[[R]] : index to i64
// CHECK: %[[RF:[^ ]+]] = arith.uitofp %[[R64]] : i64 to f64
// CHECK-DAG: %[[E:[^ ]+]] = arith.constant 8.000000e+00 : f64
// CHECK-DAG: %[[F:[^ ]+]] = arith.constant 1.250000e+00 : f64
// CHECK: %[[FR:[^ ]+]] = arith.mulf %[[F]], %[[RF]] : f64
// CHECK: %[[PER:[^ ]+]] = arith.divf %[[FR]], %[[E]] : f64
// CHECK: %[[EPS:[^ ]+]] = arith.constant 1.000000e-09 : f64
// CHECK: %[[LESS:[^ ]+]] = arith.subf %[[PER]], %[[EPS]] : f64
// CHECK: %[[CEIL:[^ ]+]] = math.ceil %[[LESS]] : f64
// CHECK: %[[C64:[^ ]+]] = arith.fptosi %[[CEIL]] : f64 to i64
// CHECK: %[[CIDX:[^ ]+]] = arith.index_cast %[[C64]] : i64 to index
// A capacity above T * k is clamped to it before narrowing to i32.
// CHECK: %[[CLAMPED:[^ ]+]] = arith.minsi %[[CIDX]], %[[R]] : index
// CHECK: %[[CAP:[^ ]+]] = arith.index_cast %[[CLAMPED]] : index to i32
// CHECK: arith.cmpi slt, %{{.*}}, %[[CAP]] : i32
// The gather keeps the tokens' bf16 and zero-fills padding rows.
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x64xbf16>)
// CHECK: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : bf16
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[ZERO]] : bf16
func.func @dispatch_factor(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>)
    -> (tensor<?x64xbf16>, tensor<i64>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<factor = 1.25>, num_experts = 8 : i64}
    : (tensor<?x64xbf16>, tensor<?x2xi32>) -> (tensor<?x64xbf16>,
       tensor<9xi32>, tensor<?x2xi32>, tensor<?xi32>, tensor<i64>)
  return %buf, %dropped : tensor<?x64xbf16>, tensor<i64>
}

// A fixed capacity is a constant.
// CHECK-LABEL: func.func @dispatch_fixed
// CHECK-NOT: math.ceil
// CHECK: %[[C5:[^ ]+]] = arith.constant 5 : index
// CHECK: %[[CLAMPED:[^ ]+]] = arith.minsi %[[C5]], %{{.*}} : index
// CHECK: %[[CAP:[^ ]+]] = arith.index_cast %[[CLAMPED]] : index to i32
// CHECK: arith.cmpi slt, %{{.*}}, %[[CAP]] : i32
func.func @dispatch_fixed(%x: tensor<6x32xf16>, %ids: tensor<6x2xi32>)
    -> (tensor<12x32xf16>, tensor<i64>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 5>, num_experts = 4 : i64}
    : (tensor<6x32xf16>, tensor<6x2xi32>) -> (tensor<12x32xf16>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<12xi32>, tensor<i64>)
  return %buf, %dropped : tensor<12x32xf16>, tensor<i64>
}

// The verifier lets the rows type be more (or less) static than the expert
// ids: the flat rows tensor and its expansion follow the rows type.
// CHECK-LABEL: func.func @dispatch_rows_static
// CHECK: tensor.empty() : tensor<12xi32>
// CHECK: %[[ROWS:[^ ]+]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [6, 2] : tensor<12xi32> into tensor<6x2xi32>
// CHECK: return %{{.*}}, %[[ROWS]]
func.func @dispatch_rows_static(%x: tensor<?x16xf32>, %ids: tensor<?x2xi32>)
    -> (tensor<?x16xf32>, tensor<6x2xi32>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 2>, num_experts = 4 : i64}
    : (tensor<?x16xf32>, tensor<?x2xi32>) -> (tensor<?x16xf32>, tensor<5xi32>,
       tensor<6x2xi32>, tensor<?xi32>, tensor<i64>)
  return %buf, %rows : tensor<?x16xf32>, tensor<6x2xi32>
}

// CHECK-LABEL: func.func @dispatch_rows_dynamic
// CHECK-SAME: (%{{[^:]+}}: tensor<6x16xf32>, %[[IDS:[^:]+]]: tensor<6x2xi32>)
// CHECK-DAG: %[[T:[^ ]+]] = arith.constant 6 : index
// CHECK-DAG: %[[K:[^ ]+]] = arith.constant 2 : index
// CHECK: tensor.empty(%{{.*}}) : tensor<?xi32>
// CHECK: %[[ROWS:[^ ]+]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [%[[T]], %[[K]]] : tensor<?xi32> into tensor<?x?xi32>
// CHECK: return %[[ROWS]]
func.func @dispatch_rows_dynamic(%x: tensor<6x16xf32>, %ids: tensor<6x2xi32>)
    -> tensor<?x?xi32> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<fixed = 2>, num_experts = 4 : i64}
    : (tensor<6x16xf32>, tensor<6x2xi32>) -> (tensor<12x16xf32>, tensor<5xi32>,
       tensor<?x?xi32>, tensor<12xi32>, tensor<i64>)
  return %rows : tensor<?x?xi32>
}

//===----------------------------------------------------------------------===//
// moe.experts
//===----------------------------------------------------------------------===//

// Gated (swiglu): per expert, gate and up matmuls of the segment's rows
// against the expert's [F, D] matrices read transposed, act(g) * u, the
// down matmul into a fresh zero-filled [count, D] tensor, and the segment
// inserted into the output. No test for an empty segment: zero-row matmuls
// are fine.
// CHECK-LABEL: func.func @experts_gated
// CHECK-SAME: (%[[IN:[^:]+]]: tensor<?x64xf32>, %[[OFF:[^:]+]]: tensor<9xi32>, %[[WG:[^:]+]]: tensor<8x128x64xf32>, %[[WU:[^:]+]]: tensor<8x128x64xf32>, %[[WD:[^:]+]]: tensor<8x64x128xf32>)
// CHECK: %[[OUT0:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x64xf32>)
// CHECK: %[[C8:[^ ]+]] = arith.constant 8 : index
// CHECK: %[[RES:[^ ]+]] = scf.for %[[E:[^ ]+]] = %{{.*}} to %[[C8]] step %{{.*}} iter_args(%[[ACC:[^ ]+]] = %[[OUT0]]) -> (tensor<?x64xf32>)
// CHECK: %[[B32:[^ ]+]] = tensor.extract %[[OFF]][%[[E]]] : tensor<9xi32>
// CHECK: %[[BEGIN:[^ ]+]] = arith.index_cast %[[B32]] : i32 to index
// CHECK: %[[NEXT:[^ ]+]] = arith.addi %[[E]], %{{.*}} : index
// CHECK: %[[E32:[^ ]+]] = tensor.extract %[[OFF]][%[[NEXT]]] : tensor<9xi32>
// CHECK: %[[END:[^ ]+]] = arith.index_cast %[[E32]] : i32 to index
// CHECK: %[[COUNT:[^ ]+]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK: %[[ROWS:[^ ]+]] = tensor.extract_slice %[[IN]][%[[BEGIN]], 0] [%[[COUNT]], 64] [1, 1]
// CHECK: %[[WU_E:[^ ]+]] = tensor.extract_slice %[[WU]][%[[E]], 0, 0] [1, 128, 64] [1, 1, 1] : tensor<8x128x64xf32> to tensor<128x64xf32>
// CHECK: %[[UE:[^ ]+]] = tensor.empty(%[[COUNT]]) : tensor<?x128xf32>
// CHECK: %[[UZ:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[UE]] : tensor<?x128xf32>)
// CHECK: %[[UP:[^ ]+]] = linalg.matmul indexing_maps = [#[[$LHS_MAP]], #[[$RHS_T_MAP]], #[[$OUT_MAP]]] ins(%[[ROWS]], %[[WU_E]] : tensor<?x64xf32>, tensor<128x64xf32>) outs(%[[UZ]] : tensor<?x128xf32>)
// CHECK: %[[WG_E:[^ ]+]] = tensor.extract_slice %[[WG]][%[[E]], 0, 0] [1, 128, 64] [1, 1, 1] : tensor<8x128x64xf32> to tensor<128x64xf32>
// CHECK: %[[GE:[^ ]+]] = tensor.empty(%[[COUNT]]) : tensor<?x128xf32>
// CHECK: %[[GZ:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[GE]] : tensor<?x128xf32>)
// CHECK: %[[GATE:[^ ]+]] = linalg.matmul indexing_maps = [#[[$LHS_MAP]], #[[$RHS_T_MAP]], #[[$OUT_MAP]]] ins(%[[ROWS]], %[[WG_E]] : tensor<?x64xf32>, tensor<128x64xf32>) outs(%[[GZ]] : tensor<?x128xf32>)
// CHECK: %[[H:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ID_MAP]], #[[$ID_MAP]], #[[$ID_MAP]]], iterator_types = ["parallel", "parallel"]} ins(%[[GATE]], %[[UP]] : tensor<?x128xf32>, tensor<?x128xf32>)
// CHECK-NEXT: ^bb0(%[[G:[^ ]+]]: f32, %[[U:[^ ]+]]: f32, %{{.*}}: f32):
// CHECK: %[[NG:[^ ]+]] = arith.subf %{{.*}}, %[[G]] : f32
// CHECK: math.exp %[[NG]]
// CHECK: %[[SIG:[^ ]+]] = arith.divf
// CHECK: %[[SILU:[^ ]+]] = arith.mulf %[[G]], %[[SIG]] : f32
// CHECK: %[[HV:[^ ]+]] = arith.mulf %[[SILU]], %[[U]] : f32
// CHECK: linalg.yield %[[HV]] : f32
// CHECK: %[[WD_E:[^ ]+]] = tensor.extract_slice %[[WD]][%[[E]], 0, 0] [1, 64, 128] [1, 1, 1] : tensor<8x64x128xf32> to tensor<64x128xf32>
// CHECK: %[[DE:[^ ]+]] = tensor.empty(%[[COUNT]]) : tensor<?x64xf32>
// CHECK: %[[DZ:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[DE]] : tensor<?x64xf32>)
// CHECK: %[[DOWN:[^ ]+]] = linalg.matmul indexing_maps = [#[[$LHS_MAP]], #[[$RHS_T_MAP]], #[[$OUT_MAP]]] ins(%[[H]], %[[WD_E]] : tensor<?x128xf32>, tensor<64x128xf32>) outs(%[[DZ]] : tensor<?x64xf32>)
// CHECK: %[[INS:[^ ]+]] = tensor.insert_slice %[[DOWN]] into %[[ACC]][%[[BEGIN]], 0] [%[[COUNT]], 64] [1, 1]
// CHECK: scf.yield %[[INS]] : tensor<?x64xf32>
// CHECK: return %[[RES]]
// LOOPS-LABEL: func.func @experts_gated
// LOOPS: scf.for {{.*}} -> (tensor<?x64xf32>) {
// LOOPS-NOT: scf.
// LOOPS: scf.yield {{.*}} : tensor<?x64xf32>
func.func @experts_gated(%in: tensor<?x64xf32>, %offsets: tensor<9xi32>,
                         %wg: tensor<8x128x64xf32>, %wu: tensor<8x128x64xf32>,
                         %wd: tensor<8x64x128xf32>) -> tensor<?x64xf32> {
  %out = moe.experts %in, %offsets gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>}
    : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>,
       tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
  return %out : tensor<?x64xf32>
}

// Ungated (relu), bf16: two matmuls (up, down) accumulating in f32, the
// hidden state and the down projection rounded to bf16 (the latter into a
// fresh tensor, then inserted into the output).
// CHECK-LABEL: func.func @experts_ungated_bf16
// CHECK-SAME: (%[[IN:[^:]+]]: tensor<12x32xbf16>, %[[OFF:[^:]+]]: tensor<5xi32>, %[[WU:[^:]+]]: tensor<4x16x32xbf16>, %[[WD:[^:]+]]: tensor<4x32x16xbf16>)
// CHECK: scf.for %[[E:[^ ]+]] = {{.*}} iter_args(%[[ACC:[^ ]+]] = %{{.*}}) -> (tensor<12x32xbf16>)
// CHECK: %[[COUNT:[^ ]+]] = arith.subi
// CHECK: %[[ROWS:[^ ]+]] = tensor.extract_slice %[[IN]]
// CHECK: %[[WU_E:[^ ]+]] = tensor.extract_slice %[[WU]][%[[E]], 0, 0] [1, 16, 32] [1, 1, 1]
// CHECK: %[[UP:[^ ]+]] = linalg.matmul indexing_maps = [#[[$LHS_MAP]], #[[$RHS_T_MAP]], #[[$OUT_MAP]]] ins(%[[ROWS]], %[[WU_E]] : tensor<?x32xbf16>, tensor<16x32xbf16>) outs(%{{.*}} : tensor<?x16xf32>)
// CHECK: %[[H:[^ ]+]] = linalg.generic {{.*}} ins(%[[UP]] : tensor<?x16xf32>) outs(%{{.*}} : tensor<?x16xbf16>)
// CHECK: %[[RELU:[^ ]+]] = arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: %[[HB:[^ ]+]] = arith.truncf %[[RELU]] : f32 to bf16
// CHECK: linalg.yield %[[HB]] : bf16
// CHECK: %[[DE:[^ ]+]] = tensor.empty(%[[COUNT]]) : tensor<?x32xf32>
// CHECK: %[[DZ:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[DE]] : tensor<?x32xf32>)
// CHECK: %[[DOWN:[^ ]+]] = linalg.matmul indexing_maps = [#[[$LHS_MAP]], #[[$RHS_T_MAP]], #[[$OUT_MAP]]] ins(%[[H]], %{{.*}} : tensor<?x16xbf16>, tensor<32x16xbf16>) outs(%[[DZ]] : tensor<?x32xf32>)
// CHECK: %[[SE:[^ ]+]] = tensor.empty(%[[COUNT]]) : tensor<?x32xbf16>
// CHECK: %[[SEG:[^ ]+]] = linalg.generic {{.*}} ins(%[[DOWN]] : tensor<?x32xf32>) outs(%[[SE]] : tensor<?x32xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[INS:[^ ]+]] = tensor.insert_slice %[[SEG]] into %[[ACC]]
// CHECK-NOT: linalg.matmul
// CHECK: scf.yield %[[INS]] : tensor<12x32xbf16>
func.func @experts_ungated_bf16(%in: tensor<12x32xbf16>, %offsets: tensor<5xi32>,
                                %wu: tensor<4x16x32xbf16>,
                                %wd: tensor<4x32x16xbf16>)
    -> tensor<12x32xbf16> {
  %out = moe.experts %in, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<12x32xbf16>, tensor<5xi32>, tensor<4x16x32xbf16>,
       tensor<4x32x16xbf16>) -> tensor<12x32xbf16>
  return %out : tensor<12x32xbf16>
}

//===----------------------------------------------------------------------===//
// moe.combine
//===----------------------------------------------------------------------===//

// One generic over (t, d, j) with j a reduction: y[t, d] += w[t, j] *
// out[rows[t, j], d] for kept rows (a dropped row selects 0, not 0 * value).
// CHECK-LABEL: func.func @combine
// CHECK-SAME: (%[[OUT:[^:]+]]: tensor<?x64xf32>, %[[ROWS:[^:]+]]: tensor<?x2xi32>, %[[W:[^:]+]]: tensor<?x2xf32>)
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[ROWS]], %{{.*}} : tensor<?x2xi32>
// CHECK: %[[EMPTY:[^ ]+]] = tensor.empty(%[[T]]) : tensor<?x64xf32>
// CHECK: %[[INIT:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EMPTY]] : tensor<?x64xf32>)
// CHECK: %[[Y:[^ ]+]] = linalg.generic {indexing_maps = [#[[$LHS_MAP]], #[[$LHS_MAP]], #[[$OUT_MAP]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[ROWS]], %[[W]] : tensor<?x2xi32>, tensor<?x2xf32>) outs(%[[INIT]] : tensor<?x64xf32>)
// CHECK-NEXT: ^bb0(%[[ROW:[^ ]+]]: i32, %[[WEIGHT:[^ ]+]]: f32, %[[SUM:[^ ]+]]: f32):
// CHECK: %[[KEPT:[^ ]+]] = arith.cmpi sge, %[[ROW]], %{{.*}} : i32
// CHECK: %[[D:[^ ]+]] = linalg.index 1 : index
// CHECK: %[[V:[^ ]+]] = tensor.extract %[[OUT]][%{{.*}}, %[[D]]] : tensor<?x64xf32>
// CHECK: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[P:[^ ]+]] = arith.mulf %[[WEIGHT]], %[[V]] : f32
// CHECK: %[[C:[^ ]+]] = arith.select %[[KEPT]], %[[P]], %[[ZERO]] : f32
// CHECK: %[[NEW:[^ ]+]] = arith.addf %[[SUM]], %[[C]] : f32
// CHECK: linalg.yield %[[NEW]] : f32
// CHECK: return %[[Y]] : tensor<?x64xf32>
func.func @combine(%out: tensor<?x64xf32>, %rows: tensor<?x2xi32>,
                   %w: tensor<?x2xf32>) -> tensor<?x64xf32> {
  %y = moe.combine %out, %rows, %w
    : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// f16: the f32 sum is rounded to f16 by a second generic.
// CHECK-LABEL: func.func @combine_f16
// CHECK: %[[SUM:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[Y:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[SUM]] : tensor<6x32xf32>) outs(%{{.*}} : tensor<6x32xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: return %[[Y]] : tensor<6x32xf16>
func.func @combine_f16(%out: tensor<12x32xf16>, %rows: tensor<6x2xi32>,
                       %w: tensor<6x2xf32>) -> tensor<6x32xf16> {
  %y = moe.combine %out, %rows, %w
    : (tensor<12x32xf16>, tensor<6x2xi32>, tensor<6x2xf32>) -> tensor<6x32xf16>
  return %y : tensor<6x32xf16>
}
