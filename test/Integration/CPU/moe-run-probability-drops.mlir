// The `probability` drop policy: an over-full expert keeps the assignments
// with the largest gate weights, not the first ones. With k = 2 and a
// capacity of 3, the experts overflow under random routing; with a hot
// expert (router bias +100), all T first choices go to one expert, which
// keeps its three heaviest (every weight differs). Output, dropped count and
// per-expert load match the reference, which ranks the same f32 weights.
// The position-policy layer on the same data keeps different assignments:
// its reference differs, so a lowering that ignored the policy would fail.
//
// RUN: moe-run %s --entry=probability --tokens=24 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=probability --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=probability --tokens=24 --hot-expert=2 --runs=1 | FileCheck %s --check-prefix=HOT
// RUN: moe-run %s --entry=probability_factor --tokens=37 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=probability --tokens=24 --hot-expert=2 --runs=1 --seed=5 --dump=%t.prob > /dev/null
// RUN: moe-run %s --entry=position --tokens=24 --hot-expert=2 --runs=1 --seed=5 --dump=%t.pos > /dev/null
// RUN: not cmp -s %t.prob/reference.npy %t.pos/reference.npy

// CHECK: check: {{.*}}, dropped {{[0-9]+}} (reference {{[0-9]+}}): PASS
// The hot expert keeps 3 of its 24 first choices: 21 dropped at least.
// HOT: check: {{.*}}, dropped {{[2-9][0-9]}} (reference {{[0-9]+}}): PASS
// HOT-NEXT: kept assignments per expert (reference): [{{[0-3]}}, {{[0-3]}}, 3, {{[0-3]}}]

func.func @probability(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                       %br: tensor<4xf32>, %wu: tensor<4x16x32xf32>,
                       %wd: tensor<4x32x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) bias(%br) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 3, drop = probability>,
         router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x16x32xf32>, tensor<4x32x16xf32>)
       -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

func.func @position(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                    %br: tensor<4xf32>, %wu: tensor<4x16x32xf32>,
                    %wd: tensor<4x32x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) bias(%br) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 3>, router = #moe.router<k = 2>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x16x32xf32>, tensor<4x32x16xf32>)
       -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

func.func @probability_factor(%x: tensor<?x32xf32>, %wr: tensor<6x32xf32>,
                              %wg: tensor<6x16x32xf32>,
                              %wu: tensor<6x16x32xf32>,
                              %wd: tensor<6x32x16xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<factor = 0.75, drop = probability>,
         router = #moe.router<k = 3, order = topk_softmax>}
       : (tensor<?x32xf32>, tensor<6x32xf32>, tensor<6x16x32xf32>,
          tensor<6x16x32xf32>, tensor<6x32x16xf32>)
       -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

// Expert choice runs on the same machinery (probability policy over all E
// experts per token); the reference computes it on its own.
// RUN: moe-run %s --entry=expert_choice --tokens=1 --runs=1 | FileCheck %s --check-prefix=EC
// RUN: moe-run %s --entry=expert_choice --tokens=29 --runs=1 | FileCheck %s --check-prefix=EC
// EC: check: {{.*}}: PASS
// Each of the 6 experts takes ceil(3 * 29 / 6) = 15 of the 29 tokens.
// EC29: kept assignments per expert (reference): [15, 15, 15, 15, 15, 15]
// RUN: moe-run %s --entry=expert_choice --tokens=29 --runs=1 | FileCheck %s --check-prefix=EC29
func.func @expert_choice(%x: tensor<?x32xf32>, %wr: tensor<6x32xf32>,
                         %wg: tensor<6x16x32xf32>, %wu: tensor<6x16x32xf32>,
                         %wd: tensor<6x32x16xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 3, choice = expert>}
       : (tensor<?x32xf32>, tensor<6x32xf32>, tensor<6x16x32xf32>,
          tensor<6x16x32xf32>, tensor<6x32x16xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
