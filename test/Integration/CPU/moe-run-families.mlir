// The model-family variants, compiled and run on fresh random data and
// checked against the reference: GPT-OSS (router bias, biased expert
// linears, clamped swiglu, with a limit small enough to clamp), Qwen2-MoE
// (shared expert with a sigmoid gate), DeepSeek (two shared experts as one
// FFN, grouped sigmoid routing with a selection bias, E not a power of
// two), Llama-4 (top-1 sigmoid weight applied to the expert input, shared
// expert), Hugging Face Switch (dropped tokens passed through).
//
// RUN: moe-run %s --entry=gpt_oss --tokens=37 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=gpt_oss --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=gpt_oss_tight_clamp --tokens=29 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=qwen2 --tokens=41 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=deepseek --tokens=19 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=llama4 --tokens=33 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=llama4 --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=switch_identity --tokens=40 --runs=1 | FileCheck %s --check-prefix=DROPS

// CHECK: check: {{.*}}: PASS
// 40 tokens, 4 experts, capacity 6: at least 16 assignments are dropped
// and pass through.
// DROPS: check: {{.*}}, dropped {{[1-9][0-9]+}} (reference {{[0-9]+}}): PASS

func.func @gpt_oss(%x: tensor<?x32xf32>, %wr: tensor<6x32xf32>,
                   %br: tensor<6xf32>, %wg: tensor<6x24x32xf32>,
                   %bg: tensor<6x24xf32>, %wu: tensor<6x24x32xf32>,
                   %bu: tensor<6x24xf32>, %wd: tensor<6x32x24xf32>,
                   %bd: tensor<6x32xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) bias(%br) gate(%wg) gate_bias(%bg) up(%wu)
         up_bias(%bu) down(%wd) down_bias(%bd) {
         activation = #moe.activation<clamped_swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, order = topk_softmax>}
       : (tensor<?x32xf32>, tensor<6x32xf32>, tensor<6xf32>,
          tensor<6x24x32xf32>, tensor<6x24xf32>, tensor<6x24x32xf32>,
          tensor<6x24xf32>, tensor<6x32x24xf32>, tensor<6x32xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @gpt_oss_tight_clamp(%x: tensor<?x32xf32>, %wr: tensor<6x32xf32>,
                               %wg: tensor<6x24x32xf32>,
                               %wu: tensor<6x24x32xf32>,
                               %bu: tensor<6x24xf32>,
                               %wd: tensor<6x32x24xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) up_bias(%bu) down(%wd) {
         activation = #moe.activation<clamped_swiglu, alpha = 2.0, limit = 0.4>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 3, order = topk_softmax>}
       : (tensor<?x32xf32>, tensor<6x32xf32>, tensor<6x24x32xf32>,
          tensor<6x24x32xf32>, tensor<6x24xf32>, tensor<6x32x24xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @qwen2(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                 %wg: tensor<8x16x32xf32>, %wu: tensor<8x16x32xf32>,
                 %wd: tensor<8x32x16xf32>, %sg: tensor<40x32xf32>,
                 %su: tensor<40x32xf32>, %sd: tensor<32x40xf32>,
                 %sgate: tensor<1x32xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) shared_gate(%sg)
         shared_up(%su) shared_down(%sd) shared_sigmoid_gate(%sgate) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 4>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x16x32xf32>,
          tensor<8x16x32xf32>, tensor<8x32x16xf32>, tensor<40x32xf32>,
          tensor<40x32xf32>, tensor<32x40xf32>, tensor<1x32xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @deepseek(%x: tensor<?x32xf32>, %wr: tensor<20x32xf32>,
                    %sb: tensor<20xf32>, %wg: tensor<20x8x32xf32>,
                    %wu: tensor<20x8x32xf32>, %wd: tensor<20x32x8xf32>,
                    %sg: tensor<16x32xf32>, %su: tensor<16x32xf32>,
                    %sd: tensor<32x16xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) selection_bias(%sb) gate(%wg) up(%wu)
         down(%wd) shared_gate(%sg) shared_up(%su) shared_down(%sd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 6, scoring = sigmoid, renormalize = true,
                              scale = 2.5, groups = 5, topk_groups = 3,
                              group_score = sum_top2>}
       : (tensor<?x32xf32>, tensor<20x32xf32>, tensor<20xf32>,
          tensor<20x8x32xf32>, tensor<20x8x32xf32>, tensor<20x32x8xf32>,
          tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x16xf32>)
       -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @llama4(%x: tensor<?x32xf32>, %wr: tensor<6x32xf32>,
                  %wg: tensor<6x24x32xf32>, %wu: tensor<6x24x32xf32>,
                  %wd: tensor<6x32x24xf32>, %sg: tensor<24x32xf32>,
                  %su: tensor<24x32xf32>, %sd: tensor<32x24xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) shared_gate(%sg)
         shared_up(%su) shared_down(%sd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 1, scoring = sigmoid, weights_on = input>}
       : (tensor<?x32xf32>, tensor<6x32xf32>, tensor<6x24x32xf32>,
          tensor<6x24x32xf32>, tensor<6x32x24xf32>, tensor<24x32xf32>,
          tensor<24x32xf32>, tensor<32x24xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @switch_identity(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                           %wu: tensor<4x48x32xf32>, %wd: tensor<4x32x48xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<relu>,
         capacity = #moe.capacity<fixed = 6, dropped = identity>,
         router = #moe.router<k = 1>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>,
          tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}
