// moe-cpu-pipeline with and without moe-fuse-gating (moe.gate lowered one
// tile of 16 tokens at a time) on the router variants and the shapes that
// stress the tiles: a single token, no token, T a multiple of the tile and
// T not one, one expert (E = 1), every expert per token (k = E), sigmoid
// scores with a selection bias and groups, a router bias with infinite or
// NaN logits, bf16 tokens, router statistics (nothing fused) and expert choice
// (a route of all E experts). moe-run checks each against the reference.
//
// DEFINE: %{off} = --pipeline="fuse-gating=false"
// DEFINE: %{on} = --pipeline="fuse-gating=true"
//
// RUN: moe-run %s --entry=mixtral --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=mixtral --tokens=16 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=mixtral --tokens=37 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=mixtral --tokens=37 --runs=1 %{off} | FileCheck %s
// RUN: moe-run %s --entry=mixtral --tokens=0 --runs=1 %{on} | FileCheck %s --check-prefix=EMPTY
//
// RUN: moe-run %s --entry=deepseek --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=deepseek --tokens=50 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=deepseek --tokens=50 --runs=1 %{off} | FileCheck %s
//
// RUN: moe-run %s --entry=softmax_bias --tokens=33 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=softmax_bias --tokens=33 --runs=1 %{off} | FileCheck %s
// RUN: moe-run %s --entry=softmax_bias --hot-expert=1 --hot-bias=inf --tokens=19 --runs=1 %{on} | FileCheck %s --check-prefix=INF
// RUN: moe-run %s --entry=softmax_bias --hot-expert=1 --hot-bias=inf --tokens=19 --runs=1 %{off} | FileCheck %s --check-prefix=INF
// RUN: moe-run %s --entry=softmax_bias --hot-expert=0 --hot-bias=-inf --tokens=19 --runs=1 %{on} | FileCheck %s --check-prefix=NEGINF
// RUN: moe-run %s --entry=softmax_bias --hot-expert=2 --hot-bias=nan --tokens=19 --runs=1 %{on} | FileCheck %s --check-prefix=NAN
// RUN: moe-run %s --entry=softmax_bias --hot-expert=2 --hot-bias=nan --tokens=19 --runs=1 %{off} | FileCheck %s --check-prefix=NAN
//
// RUN: moe-run %s --entry=single_expert --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=21 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=21 --runs=1 %{off} | FileCheck %s
//
// RUN: moe-run %s --entry=all_experts --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=47 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=47 --runs=1 %{off} | FileCheck %s
//
// RUN: moe-run %s --entry=bf16 --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=bf16 --tokens=45 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=bf16 --tokens=45 --runs=1 %{off} | FileCheck %s
//
// RUN: moe-run %s --entry=statistics --tokens=29 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=expert_choice --tokens=24 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=expert_choice --tokens=24 --runs=1 %{off} | FileCheck %s

// CHECK: check: {{.*}}: PASS
// EMPTY: check: {{.*}}: PASS
// INF: check: {{.*}}: PASS
// INF-NEXT: kept assignments per expert (reference): [{{[0-9]+}}, 19, {{[0-9]+}}, {{[0-9]+}}]
// NEGINF: check: {{.*}}: PASS
// NEGINF-NEXT: kept assignments per expert (reference): [0, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}]
// A NaN logit is never picked; the softmax over all experts makes every
// weight NaN, as the reference does.
// NAN: check: {{.*}} non-finite outputs in 19 of 19 tokens (where the reference has them): PASS
// NAN-NEXT: kept assignments per expert (reference): [{{[0-9]+}}, {{[0-9]+}}, 0, {{[0-9]+}}]

// Mixtral: softmax over the top k.
func.func @mixtral(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                   %wg: tensor<8x48x32xf32>, %wu: tensor<8x48x32xf32>,
                   %wd: tensor<8x32x48xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2, order = topk_softmax, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x48x32xf32>,
          tensor<8x48x32xf32>, tensor<8x32x48xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// DeepSeek-V3: sigmoid scores, a selection bias, group-limited selection.
func.func @deepseek(%x: tensor<?x32xf32>, %wr: tensor<16x32xf32>,
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

// Softmax over all experts, then the top k, with a router bias.
func.func @softmax_bias(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                        %b: tensor<4xf32>, %wu: tensor<4x24x16xf32>,
                        %wd: tensor<4x16x24xf32>) -> tensor<?x16xf32> {
  %y = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>,
          tensor<4x24x16xf32>, tensor<4x16x24xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

func.func @single_expert(%x: tensor<?x32xf32>, %wr: tensor<1x32xf32>,
                         %wu: tensor<1x64x32xf32>, %wd: tensor<1x32x64xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu>}
       : (tensor<?x32xf32>, tensor<1x32xf32>, tensor<1x64x32xf32>,
          tensor<1x32x64xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @all_experts(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                       %wg: tensor<4x40x32xf32>, %wu: tensor<4x40x32xf32>,
                       %wd: tensor<4x32x40xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 4, order = topk_softmax>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<geglu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x40x32xf32>,
          tensor<4x40x32xf32>, tensor<4x32x40xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @bf16(%x: tensor<?x32xbf16>, %wr: tensor<8x32xbf16>,
                %wg: tensor<8x48x32xbf16>, %wu: tensor<8x48x32xbf16>,
                %wd: tensor<8x32x48xbf16>) -> tensor<?x32xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2, order = topk_softmax, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xbf16>, tensor<8x32xbf16>, tensor<8x48x32xbf16>,
          tensor<8x48x32xbf16>, tensor<8x32x48xbf16>) -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}

// The statistics read the whole logits: the route stays unfused.
func.func @statistics(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                      %wu: tensor<8x48x32xf32>, %wd: tensor<8x32x48xf32>)
    -> (tensor<?x32xf32>, tensor<8xi64>, tensor<f32>, tensor<f32>) {
  %y, %counts, %aux, %z = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x48x32xf32>,
          tensor<8x32x48xf32>)
       -> (tensor<?x32xf32>, tensor<8xi64>, tensor<f32>, tensor<f32>)
  return %y, %counts, %aux, %z
      : tensor<?x32xf32>, tensor<8xi64>, tensor<f32>, tensor<f32>
}

// Expert choice: a gate of all E experts, then a dispatch that keeps each
// expert's best tokens.
func.func @expert_choice(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                         %wu: tensor<4x48x32xf32>, %wd: tensor<4x32x48xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 2, choice = expert>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>,
          tensor<4x32x48xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
