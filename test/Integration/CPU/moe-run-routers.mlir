// Router variants: sigmoid scores with a selection bias, group-limited top-k
// (sum of the two best, DeepSeek-V3 style; best one, DeepSeek-V2 style),
// renormalization and a routed scaling factor; softmax then top-k without
// renormalization (OLMoE style).
//
// RUN: moe-run %s --entry=grouped_sigmoid --tokens=50 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=grouped_sigmoid --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=grouped_max --tokens=23 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=softmax_no_renorm --tokens=31 --runs=1 | FileCheck %s

// CHECK: check: {{.*}}: PASS

func.func @grouped_sigmoid(%x: tensor<?x32xf32>, %wr: tensor<16x32xf32>,
                           %sb: tensor<16xf32>, %wg: tensor<16x24x32xf32>,
                           %wu: tensor<16x24x32xf32>, %wd: tensor<16x32x24xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) selection_bias(%sb)
         gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 4, scoring = sigmoid, renormalize = true,
                              scale = 2.5, groups = 4, topk_groups = 2,
                              group_score = sum_top2>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xf32>, tensor<16x32xf32>, tensor<16xf32>,
          tensor<16x24x32xf32>, tensor<16x24x32xf32>, tensor<16x32x24xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @grouped_max(%x: tensor<?x32xf32>, %wr: tensor<12x32xf32>,
                       %wg: tensor<12x24x32xf32>, %wu: tensor<12x24x32xf32>,
                       %wd: tensor<12x32x24xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 3, groups = 3, topk_groups = 2,
                              scale = 16.0>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xf32>, tensor<12x32xf32>, tensor<12x24x32xf32>,
          tensor<12x24x32xf32>, tensor<12x32x24xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @softmax_no_renorm(%x: tensor<?x32xf32>, %wr: tensor<10x32xf32>,
                             %wg: tensor<10x24x32xf32>, %wu: tensor<10x24x32xf32>,
                             %wd: tensor<10x32x24xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 3>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xf32>, tensor<10x32xf32>, tensor<10x24x32xf32>,
          tensor<10x24x32xf32>, tensor<10x32x24xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
