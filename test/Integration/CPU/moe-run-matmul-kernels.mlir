// Layers whose projections exercise every path of moe-cpu-matmul-kernels,
// run by moe-run against the reference with 1 and 2 threads: panels of 64
// columns in two work items (F = 320: blocks of 4 panels, the second
// partial) and two k blocks (the down projection's K = 320: 256 + 64);
// 16-column panels (D = 80); 8-lane panels and a k tail packed by scalar
// copies (F = 328: K = 256 + 72); a router of 4 experts (generic lowering);
// T = 1, a T below one tile of 6 rows, and T that leave 1 to 5 rows past the
// last tile per expert; f32 and bf16 (widened to f32, the dot-product path
// is moe-run-bf16-dot.mlir); and with the weights packed ahead of the calls.
//
// RUN: moe-run %s --entry=wide --tokens=1 --threads=1 --runs=1 | FileCheck %s --check-prefix=T1
// RUN: moe-run %s --entry=wide --tokens=1 --threads=2 --runs=1 | FileCheck %s --check-prefix=T2
// RUN: moe-run %s --entry=wide --tokens=5 --threads=2 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=61 --threads=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=61 --threads=2 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=k_tail --tokens=1 --threads=2 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=k_tail --tokens=43 --threads=2 --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide_bf16 --tokens=1 --threads=1 --bf16-dot=off --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=2 --bf16-dot=off --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=300 --threads=2 --runs=1 | FileCheck %s
//
// The same layers taking their weights packed (pack-weights: packed once,
// read in place by the kernels): the outputs are bitwise those of packing
// on every call.
// RUN: moe-run %s --entry=wide --tokens=1 --threads=1 --runs=1 --output=%t.w1.npy | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=1 --threads=1 --runs=1 --pipeline=pack-weights=1 --output=%t.w1p.npy | FileCheck %s --check-prefixes=CHECK,PACKED3
// RUN: cmp %t.w1.npy %t.w1p.npy
// RUN: moe-run %s --entry=wide --tokens=300 --threads=2 --runs=1 --output=%t.w300.npy | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=300 --threads=2 --runs=1 --pipeline=pack-weights=1 --output=%t.w300p.npy | FileCheck %s --check-prefixes=CHECK,PACKED3
// RUN: cmp %t.w300.npy %t.w300p.npy
// RUN: moe-run %s --entry=k_tail --tokens=43 --threads=2 --runs=1 --output=%t.k.npy | FileCheck %s
// RUN: moe-run %s --entry=k_tail --tokens=43 --threads=2 --runs=1 --pipeline=pack-weights=1 --output=%t.kp.npy | FileCheck %s --check-prefixes=CHECK,PACKED2
// RUN: cmp %t.k.npy %t.kp.npy
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=1 --bf16-dot=off --runs=1 --output=%t.b.npy | FileCheck %s
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=2 --bf16-dot=off --runs=1 --pipeline=pack-weights=1 --output=%t.bp.npy | FileCheck %s --check-prefixes=CHECK,PACKED3
// RUN: cmp %t.b.npy %t.bp.npy

// T1: threads: 1
// T2: threads: 2
// PACKED3: packed weights: 3, packed in
// PACKED2: packed weights: 2, packed in
// CHECK: check: {{.*}}: PASS
// T1: check: {{.*}}: PASS
// T2: check: {{.*}}: PASS

func.func @wide(%x: tensor<?x80xf32>, %wr: tensor<4x80xf32>,
                %wg: tensor<4x320x80xf32>, %wu: tensor<4x320x80xf32>,
                %wd: tensor<4x80x320xf32>) -> tensor<?x80xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x80xf32>, tensor<4x80xf32>, tensor<4x320x80xf32>,
          tensor<4x320x80xf32>, tensor<4x80x320xf32>) -> tensor<?x80xf32>
  return %y : tensor<?x80xf32>
}

func.func @k_tail(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>,
                  %wu: tensor<8x328x64xf32>, %wd: tensor<8x64x328xf32>)
    -> tensor<?x64xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 3>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu>}
       : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x328x64xf32>,
          tensor<8x64x328xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

func.func @wide_bf16(%x: tensor<?x80xbf16>, %wr: tensor<4x80xbf16>,
                     %wg: tensor<4x320x80xbf16>, %wu: tensor<4x320x80xbf16>,
                     %wd: tensor<4x80x320xbf16>) -> tensor<?x80xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x80xbf16>, tensor<4x80xbf16>, tensor<4x320x80xbf16>,
          tensor<4x320x80xbf16>, tensor<4x80x320xbf16>) -> tensor<?x80xbf16>
  return %y : tensor<?x80xbf16>
}
