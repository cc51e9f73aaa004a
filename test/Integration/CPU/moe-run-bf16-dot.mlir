// bf16 layers through AVX512-BF16 dot products (vdpbf16ps), on a host that
// has them, with 1 and 2 threads: T = 1, T not a multiple of the 6-row tile,
// a single expert (E = 1) and every expert per token (k = E). The rounding
// to bf16 after the f32 accumulation is the reference's.
//
// REQUIRES: avx512bf16
// RUN: moe-run %s --entry=wide_bf16 --tokens=1 --threads=1 --bf16-dot=on --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=2 --bf16-dot=on --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=1 --bf16-dot=on --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=single_expert_bf16 --tokens=13 --threads=2 --bf16-dot=on --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=all_experts_bf16 --tokens=29 --threads=2 --bf16-dot=on --runs=1 | FileCheck %s
// Weights packed once as k pairs (pack-weights): the same bits.
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=2 --bf16-dot=on --runs=1 --output=%t.npy | FileCheck %s
// RUN: moe-run %s --entry=wide_bf16 --tokens=61 --threads=2 --bf16-dot=on --runs=1 --pipeline=pack-weights=1 --output=%t.packed.npy | FileCheck %s --check-prefixes=CHECK,PACKED
// RUN: cmp %t.npy %t.packed.npy
// RUN: moe-run %s --entry=single_expert_bf16 --tokens=1 --threads=1 --bf16-dot=on --runs=1 --output=%t.one.npy | FileCheck %s
// RUN: moe-run %s --entry=single_expert_bf16 --tokens=1 --threads=1 --bf16-dot=on --runs=1 --pipeline=pack-weights=1 --output=%t.one-packed.npy | FileCheck %s --check-prefixes=CHECK,PACKED
// RUN: cmp %t.one.npy %t.one-packed.npy

// CHECK: bf16
// PACKED: packed weights: {{[0-9]+}}, packed in
// CHECK: check: {{.*}}: PASS

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

func.func @single_expert_bf16(%x: tensor<?x64xbf16>, %wr: tensor<1x64xbf16>,
                              %wu: tensor<1x128x64xbf16>,
                              %wd: tensor<1x64x128xbf16>) -> tensor<?x64xbf16> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu>}
       : (tensor<?x64xbf16>, tensor<1x64xbf16>, tensor<1x128x64xbf16>,
          tensor<1x64x128xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

func.func @all_experts_bf16(%x: tensor<?x32xbf16>, %wr: tensor<4x32xbf16>,
                            %wg: tensor<4x48x32xbf16>, %wu: tensor<4x48x32xbf16>,
                            %wd: tensor<4x32x48xbf16>) -> tensor<?x32xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 4>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xbf16>, tensor<4x32xbf16>, tensor<4x48x32xbf16>,
          tensor<4x48x32xbf16>, tensor<4x32x48xbf16>) -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}
