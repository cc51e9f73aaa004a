// Edge shapes: a single expert (E = 1, k = 1), every expert per token
// (k = E), and a static token count.
//
// RUN: moe-run %s --entry=single_expert --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=single_expert --tokens=33 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=29 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=static_tokens --runs=1 | FileCheck %s --check-prefix=STATIC
// The same without the elementwise vector code (scalar loops around the
// kernels): the same result.
// RUN: moe-run %s --entry=single_expert --tokens=33 --runs=1 --pipeline="vectorize-elementwise=false" | FileCheck %s
// RUN: moe-run %s --entry=all_experts --tokens=29 --runs=1 --pipeline="vectorize-elementwise=false" | FileCheck %s
// and bitwise the same output (GELU's erf is a libm call per lane):
// RUN: moe-run %s --entry=all_experts --tokens=29 --seed=3 --runs=1 --output=%t.vector.npy > /dev/null
// RUN: moe-run %s --entry=all_experts --tokens=29 --seed=3 --runs=1 --pipeline="vectorize-elementwise=false" --output=%t.scalar.npy > /dev/null
// RUN: cmp %t.vector.npy %t.scalar.npy
// RUN: moe-run %s --entry=single_expert --tokens=29 --seed=3 --runs=1 --output=%t.vector1.npy > /dev/null
// RUN: moe-run %s --entry=single_expert --tokens=29 --seed=3 --runs=1 --pipeline="vectorize-elementwise=false" --output=%t.scalar1.npy > /dev/null
// RUN: cmp %t.vector1.npy %t.scalar1.npy

// CHECK: check: {{.*}}: PASS
// STATIC: @static_tokens: T=19 D=24
// STATIC: check: {{.*}}: PASS

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

func.func @static_tokens(%x: tensor<19x24xf32>, %wr: tensor<3x24xf32>,
                         %wu: tensor<3x16x24xf32>, %wd: tensor<3x24x16xf32>)
    -> tensor<19x24xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<19x24xf32>, tensor<3x24xf32>, tensor<3x16x24xf32>,
          tensor<3x24x16xf32>) -> tensor<19x24xf32>
  return %y : tensor<19x24xf32>
}
