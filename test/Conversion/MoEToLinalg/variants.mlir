// RUN: moe-opt %s --convert-moe-to-linalg | FileCheck %s

// The lowering of the model-family variants: expert biases as the
// accumulators' initial values, clamped swiglu, a dispatch that scales its
// rows, a combine that passes dropped tokens through.

// Each bias row of expert e is broadcast into the f32 accumulator that the
// projection's matmul adds into; clamped swiglu clamps g from above and u on
// both sides with cmpf + select (a NaN stays NaN), then (u' + 1) * g' *
// sigmoid(alpha g').
// CHECK-DAG: #[[$ROW:[^ ]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @experts_gpt_oss
// CHECK-SAME: %[[BG:[^:]+]]: tensor<4x16xf32>, %[[WU:[^:]+]]: tensor<4x16x32xf32>, %[[BU:[^:]+]]: tensor<4x16xf32>, %[[WD:[^:]+]]: tensor<4x32x16xf32>, %[[BD:[^:]+]]: tensor<4x32xf32>)
// CHECK: scf.for %[[E:[^ ]+]] =
// CHECK: %[[BUROW:[^ ]+]] = tensor.extract_slice %[[BU]][%[[E]], 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<16xf32>
// CHECK: %[[UINIT:[^ ]+]] = linalg.generic {indexing_maps = [#[[$ROW]], {{.*}}]{{.*}} ins(%[[BUROW]] : tensor<16xf32>)
// CHECK: %[[U:[^ ]+]] = linalg.matmul {{.*}} outs(%[[UINIT]] : tensor<?x16xf32>)
// CHECK: %[[BGROW:[^ ]+]] = tensor.extract_slice %[[BG]][%[[E]], 0]
// CHECK: %[[GINIT:[^ ]+]] = linalg.generic {{.*}} ins(%[[BGROW]] : tensor<16xf32>)
// CHECK: %[[G:[^ ]+]] = linalg.matmul {{.*}} outs(%[[GINIT]] : tensor<?x16xf32>)
// CHECK: %[[H:[^ ]+]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<?x16xf32>, tensor<?x16xf32>)
// CHECK-NEXT: ^bb0(%[[GV:[^:]+]]: f32, %[[UV:[^:]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[LIMIT:[^ ]+]] = arith.constant 5.000000e+00 : f32
// CHECK-NEXT: %[[NEGLIMIT:[^ ]+]] = arith.constant -5.000000e+00 : f32
// CHECK-NEXT: %[[GABOVE:[^ ]+]] = arith.cmpf ogt, %[[GV]], %[[LIMIT]]
// CHECK-NEXT: %[[GC:[^ ]+]] = arith.select %[[GABOVE]], %[[LIMIT]], %[[GV]]
// CHECK-NEXT: %[[UABOVE:[^ ]+]] = arith.cmpf ogt, %[[UV]], %[[LIMIT]]
// CHECK-NEXT: %[[UCAP:[^ ]+]] = arith.select %[[UABOVE]], %[[LIMIT]], %[[UV]]
// CHECK-NEXT: %[[UBELOW:[^ ]+]] = arith.cmpf olt, %[[UCAP]], %[[NEGLIMIT]]
// CHECK-NEXT: %[[UC:[^ ]+]] = arith.select %[[UBELOW]], %[[NEGLIMIT]], %[[UCAP]]
// CHECK-NEXT: %[[ALPHA:[^ ]+]] = arith.constant 1.702000e+00 : f32
// CHECK-NEXT: %[[AG:[^ ]+]] = arith.mulf %[[ALPHA]], %[[GC]]
// CHECK: %[[SIG:[^ ]+]] = arith.divf
// CHECK-NEXT: %[[GLU:[^ ]+]] = arith.mulf %[[GC]], %[[SIG]]
// CHECK-NEXT: %[[ONE:[^ ]+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[UP1:[^ ]+]] = arith.addf %[[UC]], %[[ONE]]
// CHECK-NEXT: %[[HV:[^ ]+]] = arith.mulf %[[UP1]], %[[GLU]]
// CHECK-NEXT: linalg.yield %[[HV]]
// CHECK: %[[BDROW:[^ ]+]] = tensor.extract_slice %[[BD]][%[[E]], 0] [1, 32] [1, 1] : tensor<4x32xf32> to tensor<32xf32>
// CHECK: %[[DINIT:[^ ]+]] = linalg.generic {{.*}} ins(%[[BDROW]] : tensor<32xf32>)
// CHECK: linalg.matmul {{.*}} ins(%[[H]], %{{.*}} : tensor<?x16xf32>, tensor<32x16xf32>) outs(%[[DINIT]] : tensor<?x32xf32>)
func.func @experts_gpt_oss(%in: tensor<?x32xf32>, %offsets: tensor<5xi32>,
    %wg: tensor<4x16x32xf32>, %bg: tensor<4x16xf32>, %wu: tensor<4x16x32xf32>,
    %bu: tensor<4x16xf32>, %wd: tensor<4x32x16xf32>, %bd: tensor<4x32xf32>)
    -> tensor<?x32xf32> {
  %y = moe.experts %in, %offsets gate(%wg) gate_bias(%bg) up(%wu) up_bias(%bu)
      down(%wd) down_bias(%bd) {activation = #moe.activation<clamped_swiglu, limit = 5.0>}
    : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>, tensor<4x16xf32>,
       tensor<4x16x32xf32>, tensor<4x16xf32>, tensor<4x32x16xf32>,
       tensor<4x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// The placement loop records each kept row's weight like its source; the
// gather multiplies the row by it.
// CHECK-LABEL: func.func @dispatch_scale
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, %[[IDS:[^:]+]]: tensor<?x1xi32>, %[[W:[^:]+]]: tensor<?x1xf32>)
// CHECK: %[[SCALES0:[^ ]+]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?xf32>)
// CHECK: %[[PLACED:[^ ]+]]:4 = scf.for {{.*}} iter_args({{.*}}, %[[SCALES:[^ ]+]] = %[[SCALES0]])
// CHECK: %[[KEPT:[^ ]+]] = arith.cmpi eq
// CHECK: %[[OLD:[^ ]+]] = tensor.extract %[[SCALES]][%[[ROW:[^ ]+]]] : tensor<?xf32>
// CHECK: %[[WEIGHT:[^ ]+]] = tensor.extract %[[W]][%{{.*}}, %{{.*}}] : tensor<?x1xf32>
// CHECK: %[[NEW:[^ ]+]] = arith.select %[[KEPT]], %[[WEIGHT]], %[[OLD]] : f32
// CHECK: tensor.insert %[[NEW]] into %[[SCALES]][%[[ROW]]] : tensor<?xf32>
// CHECK: %[[BUF:[^ ]+]] = linalg.generic {{.*}} ins(%[[PLACED]]#2, %[[PLACED]]#3 : tensor<?xi32>, tensor<?xf32>)
// CHECK-NEXT: ^bb0(%{{.*}}: i32, %[[S:[^:]+]]: f32, %{{.*}}: f32):
// CHECK: %[[V:[^ ]+]] = tensor.extract %[[X]]
// CHECK-NEXT: %[[SV:[^ ]+]] = arith.mulf %[[V]], %[[S]] : f32
// CHECK: arith.select %{{.*}}, %[[SV]], %{{.*}} : f32
// CHECK: return %[[BUF]]
func.func @dispatch_scale(%x: tensor<?x32xf32>, %ids: tensor<?x1xi32>, %w: tensor<?x1xf32>) -> tensor<?x32xf32> {
  %buf, %offsets, %r, %src, %d = moe.dispatch %x, %ids scale(%w) {
      capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
    : (tensor<?x32xf32>, tensor<?x1xi32>, tensor<?x1xf32>)
    -> (tensor<?x32xf32>, tensor<5xi32>, tensor<?x1xi32>, tensor<?xi32>,
        tensor<i64>)
  return %buf : tensor<?x32xf32>
}

// A dropped assignment (row < 0) contributes w * x[t] instead of zero.
// CHECK-LABEL: func.func @combine_identity
// CHECK-SAME: (%[[OUT:[^:]+]]: tensor<?x32xf32>, %{{.*}}: tensor<?x1xi32>, %{{.*}}: tensor<?x1xf32>, %[[X:[^:]+]]: tensor<?x32xf32>)
// CHECK: ^bb0(%{{.*}}: i32, %[[WV:[^:]+]]: f32, %[[ACC:[^:]+]]: f32):
// CHECK: %[[KEPT:[^ ]+]] = arith.cmpi sge
// CHECK: %[[D:[^ ]+]] = linalg.index 1 : index
// CHECK: %[[V:[^ ]+]] = tensor.extract %[[OUT]][%{{.*}}, %[[D]]]
// CHECK: %[[T:[^ ]+]] = linalg.index 0 : index
// CHECK: %[[XV:[^ ]+]] = tensor.extract %[[X]][%[[T]], %[[D]]]
// CHECK: %[[PASS:[^ ]+]] = arith.mulf %[[WV]], %[[XV]]
// CHECK: %[[ROUTED:[^ ]+]] = arith.mulf %[[WV]], %[[V]]
// CHECK: %[[C:[^ ]+]] = arith.select %[[KEPT]], %[[ROUTED]], %[[PASS]]
// CHECK: arith.addf %[[ACC]], %[[C]]
func.func @combine_identity(%out: tensor<?x32xf32>, %rows: tensor<?x1xi32>, %w: tensor<?x1xf32>, %x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %c = moe.combine %out, %rows, %w identity(%x)
    : (tensor<?x32xf32>, tensor<?x1xi32>, tensor<?x1xf32>, tensor<?x32xf32>)
    -> tensor<?x32xf32>
  return %c : tensor<?x32xf32>
}

// Statistics: the counts by one loop over the T * k ids (invalid ids not
// counted), per token the log-sum-exp (max, sum of exp, log), its square
// summed and every expert's probability added to a [E] sum; then
// aux = E * sum_e (count_e / T) * (P_e / T) and z = sum / T, both 0 when
// T = 0.
// CHECK-LABEL: func.func @router_statistics
// CHECK-SAME: (%[[LOGITS:[^:]+]]: tensor<?x4xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>)
// CHECK: %[[T:[^ ]+]] = tensor.dim %[[LOGITS]]
// CHECK: %[[COUNTS:[^ ]+]] = scf.for {{.*}} -> (tensor<4xi64>)
// CHECK: %[[ID:[^ ]+]] = tensor.extract %[[IDS]]
// CHECK: %[[VALID:[^ ]+]] = arith.andi
// CHECK: arith.select %[[VALID]], %{{.*}}, %{{.*}} : i64
// CHECK: %[[SUMS:[^ ]+]]:2 = scf.for {{.*}} -> (tensor<4xf32>, f32)
// CHECK: %[[MAX:[^ ]+]] = scf.for
// CHECK: %[[SUMEXP:[^ ]+]] = scf.for
// CHECK: %[[LOG:[^ ]+]] = math.log %[[SUMEXP]]
// CHECK-NEXT: %[[LSE:[^ ]+]] = arith.addf %[[MAX]], %[[LOG]]
// CHECK-NEXT: %[[SQ:[^ ]+]] = arith.mulf %[[LSE]], %[[LSE]]
// CHECK: arith.subf %{{.*}}, %[[LSE]]
// CHECK: %[[AUXSUM:[^ ]+]] = scf.for
// CHECK: tensor.extract %[[COUNTS]]
// CHECK: tensor.extract %[[SUMS]]#0
// CHECK: %[[NONEMPTY:[^ ]+]] = arith.cmpi ugt, %[[T]]
// CHECK: %[[AUX:[^ ]+]] = arith.mulf %{{.*}}, %[[AUXSUM]]
// CHECK: %[[AUXR:[^ ]+]] = arith.select %[[NONEMPTY]], %[[AUX]], %{{.*}}
// CHECK: %[[Z:[^ ]+]] = arith.divf %[[SUMS]]#1
// CHECK: %[[ZR:[^ ]+]] = arith.select %[[NONEMPTY]], %[[Z]], %{{.*}}
// CHECK: %[[AUXT:[^ ]+]] = tensor.from_elements %[[AUXR]]
// CHECK: %[[ZT:[^ ]+]] = tensor.from_elements %[[ZR]]
// CHECK: return %[[COUNTS]], %[[AUXT]], %[[ZT]]
func.func @router_statistics(%logits: tensor<?x4xf32>, %ids: tensor<?x2xi32>) -> (tensor<4xi64>, tensor<f32>, tensor<f32>) {
  %c, %a, %z = moe.router_statistics %logits, %ids
    : (tensor<?x4xf32>, tensor<?x2xi32>) -> (tensor<4xi64>, tensor<f32>, tensor<f32>)
  return %c, %a, %z : tensor<4xi64>, tensor<f32>, tensor<f32>
}

// The probability drop policy: valid assignments counted per expert, the
// starts scanned, the assignments grouped by expert (members), then per
// member a loop over its expert's members counting the heavier ones (or
// equally heavy and earlier); kept when that rank is below the capacity.
// dropped = T * k - kept. NaN weights count as -inf.
// CHECK-LABEL: func.func @dispatch_probability
// CHECK-SAME: %[[W:[^:]+]]: tensor<?x2xf32>)
// CHECK: %[[TOTALS:[^ ]+]] = scf.for {{.*}} -> (tensor<4xi32>)
// CHECK: %[[STARTS:[^ ]+]]:2 = scf.for {{.*}} -> (tensor<4xi32>, i32)
// CHECK: %[[MEMBERS:[^ ]+]]:2 = scf.for {{.*}} -> (tensor<4xi32>, tensor<?xi32>)
// CHECK: %[[KEPT:[^ ]+]]:3 = scf.for {{.*}} -> (tensor<4xi32>, tensor<?xi32>, i64)
// CHECK: %[[WV:[^ ]+]] = tensor.extract %[[W]]
// CHECK: arith.cmpf uno, %[[WV]], %[[WV]]
// CHECK: %[[RANK:[^ ]+]] = scf.for {{.*}} -> (i32)
// CHECK: tensor.extract %[[MEMBERS]]#1
// CHECK: %[[HEAVIER:[^ ]+]] = arith.cmpf ogt
// CHECK: %[[SAME:[^ ]+]] = arith.cmpf oeq
// CHECK: %[[EARLIER:[^ ]+]] = arith.cmpi slt
// CHECK: %[[TIE:[^ ]+]] = arith.andi %[[SAME]], %[[EARLIER]]
// CHECK: arith.ori %[[HEAVIER]], %[[TIE]]
// CHECK: arith.cmpi slt, %[[RANK]], %{{.*}} : i32
// CHECK: %[[ALL:[^ ]+]] = arith.index_castui
// CHECK: %[[DROPPED:[^ ]+]] = arith.subi %[[ALL]], %[[KEPT]]#2 : i64
// CHECK: tensor.from_elements %[[DROPPED]] : tensor<i64>
func.func @dispatch_probability(%x: tensor<?x32xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> (tensor<?x2xi32>, tensor<i64>) {
  %buf, %offsets, %r, %src, %d = moe.dispatch %x, %ids priority(%w) {
      capacity = #moe.capacity<fixed = 3, drop = probability>, num_experts = 4 : i64}
    : (tensor<?x32xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
    -> (tensor<?x32xf32>, tensor<5xi32>, tensor<?x2xi32>, tensor<?xi32>,
        tensor<i64>)
  return %r, %d : tensor<?x2xi32>, tensor<i64>
}
