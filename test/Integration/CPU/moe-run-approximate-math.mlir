// The activations' exp, erf and tanh as polynomial approximations
// (moe-cpu-approximate-math, on by default) against the reference's libm
// functions, for every activation that calls one, f32 and bf16, and with
// the approximation off (libm calls). The vector and scalar forms of the
// approximation give the same bits: the layer's output with the
// elementwise code vectorised (default) and as scalar loops is identical.
//
// RUN: moe-run %s --entry=swiglu --tokens=37 --seed=5 --runs=1 --output=%t.vector.npy | FileCheck %s
// RUN: moe-run %s --entry=swiglu --tokens=37 --seed=5 --runs=1 --pipeline=vectorize-elementwise=0 --output=%t.scalar.npy | FileCheck %s
// RUN: cmp %t.vector.npy %t.scalar.npy
// RUN: moe-run %s --entry=gelu --tokens=21 --seed=11 --runs=1 --output=%t.gelu.vector.npy | FileCheck %s
// RUN: moe-run %s --entry=gelu --tokens=21 --seed=11 --runs=1 --pipeline=vectorize-elementwise=0 --output=%t.gelu.scalar.npy | FileCheck %s
// RUN: cmp %t.gelu.vector.npy %t.gelu.scalar.npy
// RUN: moe-run %s --entry=gelu_tanh --tokens=50 --seed=12 --runs=1 --output=%t.tanh.vector.npy | FileCheck %s
// RUN: moe-run %s --entry=gelu_tanh --tokens=50 --seed=12 --runs=1 --pipeline=vectorize-elementwise=0 --output=%t.tanh.scalar.npy | FileCheck %s
// RUN: cmp %t.tanh.vector.npy %t.tanh.scalar.npy
// RUN: moe-run %s --entry=silu --tokens=64 --seed=6 --threads=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=clamped_swiglu --tokens=33 --seed=9 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=swiglu_bf16 --tokens=45 --seed=10 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=swiglu --tokens=37 --seed=5 --runs=1 --pipeline=approximate-math=0 | FileCheck %s

// CHECK: check: {{.*}}: PASS

func.func @swiglu(%x: tensor<?x48xf32>, %wr: tensor<4x48xf32>,
                  %wg: tensor<4x96x48xf32>, %wu: tensor<4x96x48xf32>,
                  %wd: tensor<4x48x96xf32>) -> tensor<?x48xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x48xf32>, tensor<4x48xf32>, tensor<4x96x48xf32>,
          tensor<4x96x48xf32>, tensor<4x48x96xf32>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

func.func @silu(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                %wu: tensor<8x64x32xf32>,
                %wd: tensor<8x32x64xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 3>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x64x32xf32>,
          tensor<8x32x64xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @gelu(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                %wu: tensor<4x80x32xf32>,
                %wd: tensor<4x32x80xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x80x32xf32>,
          tensor<4x32x80xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @gelu_tanh(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                     %wu: tensor<4x64x32xf32>,
                     %wd: tensor<4x32x64xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu_tanh>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x64x32xf32>,
          tensor<4x32x64xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @clamped_swiglu(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                          %wg: tensor<4x64x32xf32>, %wu: tensor<4x64x32xf32>,
                          %wd: tensor<4x32x64xf32>) -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<clamped_swiglu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x64x32xf32>,
          tensor<4x64x32xf32>, tensor<4x32x64xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

func.func @swiglu_bf16(%x: tensor<?x64xbf16>, %wr: tensor<4x64xbf16>,
                       %wg: tensor<4x128x64xbf16>, %wu: tensor<4x128x64xbf16>,
                       %wd: tensor<4x64x128xbf16>) -> tensor<?x64xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x64xbf16>, tensor<4x64xbf16>, tensor<4x128x64xbf16>,
          tensor<4x128x64xbf16>, tensor<4x64x128xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
