// RUN: moe-opt %s --moe-cpu-matmul-kernels="pack-weights=true" --split-input-file --verify-diagnostics
// RUN: not moe-opt %s --pass-pipeline="builtin.module(func.func(moe-cpu-matmul-kernels{pack-weights=true}))" --split-input-file 2>&1 | FileCheck %s --check-prefix=NESTED

#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// The packing function's name is taken.
// NESTED: error: moe-cpu-matmul-kernels: pack-weights runs on a module (it adds a packing function per weight)
func.func @taken_pack_arg1() {
  return
}
// expected-error @+1 {{moe-cpu-matmul-kernels: pack-weights would define @taken_pack_arg1, which the module already has}}
func.func @taken(%a: memref<?x64xf32>, %w: memref<4x128x64xf32>,
                 %c: memref<?x128xf32>, %e: index) {
  %b = memref.subview %w[%e, 0, 0] [1, 128, 64] [1, 1, 1]
      : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
  linalg.matmul indexing_maps = [#a, #bt, #c]
      ins(%a, %b : memref<?x64xf32>, memref<128x64xf32, strided<[64, 1], offset: ?>>)
      outs(%c : memref<?x128xf32>)
  return
}
