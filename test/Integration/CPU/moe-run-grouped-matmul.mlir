// moe-cpu-pipeline with and without moe-experts-to-grouped-matmul, and with
// each of its fusions turned off in turn, on the shapes that stress the
// grouped products: a single token, T not a multiple of any tile, one
// expert (E = 1), every expert per token (k = E), a capacity that drops
// (with every bias, so the concatenated gate/up bias is read), dropped
// tokens passed through (no scale fusion), and bf16 (no scale fusion, f32
// products rounded once). moe-run checks each against the reference.
//
// DEFINE: %{off} = --pipeline="grouped-matmul=false"
// DEFINE: %{on} = --pipeline="grouped-matmul=true"
// DEFINE: %{noact} = --pipeline="grouped-matmul=true fuse-activation=false"
// DEFINE: %{nogather} = --pipeline="grouped-matmul=true fuse-gather=false"
// DEFINE: %{noscale} = --pipeline="grouped-matmul=true fuse-scale=false"
//
// RUN: moe-run %s --entry=capacity_biases --tokens=37 --runs=1 %{off} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=capacity_biases --tokens=37 --runs=1 %{on} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=capacity_biases --tokens=37 --runs=1 %{noact} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=capacity_biases --tokens=37 --runs=1 %{nogather} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=capacity_biases --tokens=37 --runs=1 %{noscale} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=capacity_biases --tokens=1 --runs=1 %{on} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=capacity_biases --tokens=1 --runs=1 %{noact} | FileCheck %s --check-prefix=DROPS
//
// RUN: moe-run %s --entry=single_expert --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=33 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=33 --runs=1 %{noact} | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=33 --runs=1 %{nogather} | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=33 --runs=1 %{noscale} | FileCheck %s
//
// RUN: moe-run %s --entry=all_experts --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=29 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=29 --runs=1 %{noact} | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=29 --runs=1 %{nogather} | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=29 --runs=1 %{noscale} | FileCheck %s
//
// RUN: moe-run %s --entry=identity_drops --tokens=23 --runs=1 %{on} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=identity_drops --tokens=23 --runs=1 %{noact} | FileCheck %s --check-prefix=DROPS
// RUN: moe-run %s --entry=identity_drops --tokens=23 --runs=1 %{nogather} | FileCheck %s --check-prefix=DROPS
//
// RUN: moe-run %s --entry=bf16 --tokens=1 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=bf16 --tokens=45 --runs=1 %{on} | FileCheck %s
// RUN: moe-run %s --entry=bf16 --tokens=45 --runs=1 %{noact} | FileCheck %s
// RUN: moe-run %s --entry=bf16 --tokens=45 --runs=1 %{nogather} | FileCheck %s

// CHECK: check: {{.*}}: PASS
// DROPS: check: {{.*}}, dropped [[N:[0-9]+]] (reference [[N]]): PASS

// GPT-OSS-like: clamped SwiGLU with every expert bias, a fixed capacity of
// 3 per expert (T = 37 drops many assignments; T = 1 drops none).
func.func @capacity_biases(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                           %wg: tensor<4x48x32xf32>, %bg: tensor<4x48xf32>,
                           %wu: tensor<4x48x32xf32>, %bu: tensor<4x48xf32>,
                           %wd: tensor<4x32x48xf32>, %bd: tensor<4x32xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) gate(%wg) gate_bias(%bg) up(%wu)
         up_bias(%bu) down(%wd) down_bias(%bd) {
         router = #moe.router<k = 2, order = topk_softmax>,
         capacity = #moe.capacity<fixed = 3>,
         activation = #moe.activation<clamped_swiglu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>,
          tensor<4x48xf32>, tensor<4x48x32xf32>, tensor<4x48xf32>,
          tensor<4x32x48xf32>, tensor<4x32xf32>)
       -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
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
         router = #moe.router<k = 4>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<geglu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x40x32xf32>,
          tensor<4x40x32xf32>, tensor<4x32x40xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// Switch-style: capacity 2 with dropped tokens passed through, scaled by
// their gate weight in the combine.
func.func @identity_drops(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                          %wu: tensor<4x64x32xf32>, %wd: tensor<4x32x64xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>,
         capacity = #moe.capacity<fixed = 2, dropped = identity>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x64x32xf32>,
          tensor<4x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
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
