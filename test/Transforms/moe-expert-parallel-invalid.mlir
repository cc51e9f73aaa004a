// RUN: moe-opt %s --moe-expert-parallel=ranks=4 --split-input-file --verify-diagnostics
// RUN: not moe-opt %s --moe-expert-parallel=ranks=0 2>&1 | FileCheck %s --check-prefix=ZERO

// ZERO: error: moe-expert-parallel: ranks must be at least 1, got 0

// 4 ranks cannot share 6 experts.
func.func @not_a_multiple(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                          %w: tensor<?x1xf32>, %wu: tensor<6x8x16xf32>,
                          %wd: tensor<6x16x8xf32>) -> tensor<?x16xf32> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 6 : i64}
    : (tensor<?x16xf32>, tensor<?x1xi32>) -> (tensor<?x16xf32>, tensor<7xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  // expected-error @+1 {{cannot be spread over 4 ranks: its 6 experts are not a multiple of 4}}
  %out = moe.experts %buf, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<7xi32>, tensor<6x8x16xf32>,
       tensor<6x16x8xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A capacity factor would need every rank's token count.
func.func @capacity_factor(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                    %w: tensor<?x1xf32>, %wu: tensor<8x8x16xf32>,
                    %wd: tensor<8x16x8xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{has a capacity factor (#moe.capacity<factor = 1.250000e+00>), which under expert parallelism would need every rank's token count}}
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<factor = 1.25>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x1xi32>) -> (tensor<?x16xf32>, tensor<9xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// The weights must be arguments, which each rank is given its share of.
func.func @computed_weight(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                           %w: tensor<?x1xf32>, %wu: tensor<8x8x16xf32>,
                           %wd: tensor<8x16x8xf32>) -> tensor<?x16xf32> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x1xi32>) -> (tensor<?x16xf32>, tensor<9xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  %scaled = arith.addf %wu, %wu : tensor<8x8x16xf32>
  // expected-error @+1 {{cannot be sharded: its operand #2 is not an argument of @computed_weight}}
  %out = moe.experts %buf, %offsets up(%scaled) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Another reader of a weight would see only a rank's experts.
func.func @shared_weight(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                         %w: tensor<?x1xf32>, %wu: tensor<8x8x16xf32>,
                         %wd: tensor<8x16x8xf32>)
    -> (tensor<?x16xf32>, tensor<8x16x8xf32>) {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x1xi32>) -> (tensor<?x16xf32>, tensor<9xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  // expected-error @+1 {{cannot be sharded: its operand #3 (argument #4 of @shared_weight) has other users}}
  %out = moe.experts %buf, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x16xf32>
  return %y, %wd : tensor<?x16xf32>, tensor<8x16x8xf32>
}

// -----

// Only a combine reads the rows that come back.
func.func @output_read_elsewhere(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                                 %wu: tensor<8x8x16xf32>,
                                 %wd: tensor<8x16x8xf32>) -> tensor<?x16xf32> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x1xi32>) -> (tensor<?x16xf32>, tensor<9xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  // expected-error @+1 {{cannot be sharded: its output is read by 'func.return'}}
  %out = moe.experts %buf, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  return %out : tensor<?x16xf32>
}

// -----

// A called function's callers would pass every expert.
// expected-error @+1 {{'func.func' op cannot be sharded: it is called in the module}}
func.func @called(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                  %w: tensor<?x1xf32>, %wu: tensor<8x8x16xf32>,
                  %wd: tensor<8x16x8xf32>) -> tensor<?x16xf32> {
  %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
      capacity = #moe.capacity<dropless>, num_experts = 8 : i64}
    : (tensor<?x16xf32>, tensor<?x1xi32>) -> (tensor<?x16xf32>, tensor<9xi32>,
       tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
  %out = moe.experts %buf, %offsets up(%wu) down(%wd) {
      activation = #moe.activation<relu>}
    : (tensor<?x16xf32>, tensor<9xi32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  %y = moe.combine %out, %rows, %w
    : (tensor<?x16xf32>, tensor<?x1xi32>, tensor<?x1xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

func.func @caller(%x: tensor<?x16xf32>, %ids: tensor<?x1xi32>,
                  %w: tensor<?x1xf32>, %wu: tensor<8x8x16xf32>,
                  %wd: tensor<8x16x8xf32>) -> tensor<?x16xf32> {
  %y = func.call @called(%x, %ids, %w, %wu, %wd)
    : (tensor<?x16xf32>, tensor<?x1xi32>, tensor<?x1xf32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Router statistics are over every rank's tokens.
func.func @statistics(%logits: tensor<?x8xf32>, %ids: tensor<?x2xi32>)
    -> (tensor<8xi64>, tensor<f32>, tensor<f32>) {
  // expected-error @+1 {{'moe.router_statistics' op cannot run under expert parallelism}}
  %counts, %aux, %z = moe.router_statistics %logits, %ids
    : (tensor<?x8xf32>, tensor<?x2xi32>)
      -> (tensor<8xi64>, tensor<f32>, tensor<f32>)
  return %counts, %aux, %z : tensor<8xi64>, tensor<f32>, tensor<f32>
}

// -----

// A whole layer is expanded first.
func.func @unexpanded(%x: tensor<?x16xf32>, %wr: tensor<8x16xf32>,
                      %wu: tensor<8x8x16xf32>, %wd: tensor<8x16x8xf32>)
    -> tensor<?x16xf32> {
  // expected-error @+1 {{must be expanded before moe-expert-parallel shards it: run moe-expand-layer first}}
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 2>}
    : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<8x8x16xf32>,
       tensor<8x16x8xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
