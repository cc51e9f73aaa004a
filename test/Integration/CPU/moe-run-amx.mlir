// bf16 layers through AMX tile products (tdpbf16ps), on a host that has
// them, with 1 and 2 threads: T = 1, T around the 32-row block (31, 32, 33)
// and past several blocks with a tail (100); n a multiple of 32 but not of
// 64 (a 32-column panel); k = 320, which the 256 k block does not divide (k
// blocks of 160); and matmuls AMX leaves to the widened f32 kernel (k = 48,
// not a multiple of 32) in the same layer. Compared with the reference, and
// bitwise with themselves alone and inside batches.
//
// REQUIRES: amx
// RUN: moe-run %s --entry=wide --tokens=1 --threads=1 --pipeline="amx=on" --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=31 --threads=2 --pipeline="amx=on" --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=32 --threads=1 --pipeline="amx=on" --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=33 --threads=2 --pipeline="amx=on" --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=wide --tokens=100 --threads=2 --pipeline="amx=on" --runs=1 --batch-invariance=1,7,64 | FileCheck %s --check-prefixes=CHECK,INVARIANT
// RUN: moe-run %s --entry=narrow_panel --tokens=45 --threads=2 --pipeline="amx=on" --runs=1 | FileCheck %s
// RUN: moe-run %s --entry=mixed --tokens=70 --threads=2 --pipeline="amx=on" --runs=1 | FileCheck %s
// RUN: moe-opt %s --moe-cpu-pipeline="amx=on" | FileCheck %s --check-prefix=LOWERED

// CHECK: bf16
// CHECK: check: {{.*}}: PASS
// INVARIANT: batch invariance: {{.*}}: bitwise identical: PASS
// LOWERED: llvm.x86.tdpbf16ps.internal

func.func @wide(%x: tensor<?x320xbf16>, %wr: tensor<4x320xbf16>,
                %wg: tensor<4x128x320xbf16>, %wu: tensor<4x128x320xbf16>,
                %wd: tensor<4x320x128xbf16>) -> tensor<?x320xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x320xbf16>, tensor<4x320xbf16>, tensor<4x128x320xbf16>,
          tensor<4x128x320xbf16>, tensor<4x320x128xbf16>) -> tensor<?x320xbf16>
  return %y : tensor<?x320xbf16>
}

func.func @narrow_panel(%x: tensor<?x96xbf16>, %wr: tensor<8x96xbf16>,
                        %wu: tensor<8x160x96xbf16>,
                        %wd: tensor<8x96x160xbf16>) -> tensor<?x96xbf16> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 3>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu>}
       : (tensor<?x96xbf16>, tensor<8x96xbf16>, tensor<8x160x96xbf16>,
          tensor<8x96x160xbf16>) -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}

func.func @mixed(%x: tensor<?x64xbf16>, %wr: tensor<4x64xbf16>,
                 %wg: tensor<4x48x64xbf16>, %wu: tensor<4x48x64xbf16>,
                 %wd: tensor<4x64x48xbf16>) -> tensor<?x64xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x64xbf16>, tensor<4x64xbf16>, tensor<4x48x64xbf16>,
          tensor<4x48x64xbf16>, tensor<4x64x48xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
