// RUN: moe-opt %s --moe-cpu-pipeline | FileCheck %s \
// RUN:   --implicit-check-not=moe. --implicit-check-not=linalg. \
// RUN:   --implicit-check-not=scf. --implicit-check-not=tensor. \
// RUN:   --implicit-check-not=memref. --implicit-check-not=bufferization. \
// RUN:   --implicit-check-not='{{[^#]}}arith.' \
// RUN:   --implicit-check-not='{{[^#]}}math.' \
// RUN:   --implicit-check-not='{{[^#]}}cf.' --implicit-check-not=func.func \
// RUN:   --implicit-check-not=unrealized_conversion_cast
// RUN: moe-opt %s --moe-cpu-pipeline=approximate-math=0 \
// RUN:   | FileCheck %s --check-prefix=LIBM

// A whole layer goes all the way to the LLVM dialect: nothing of moe, linalg,
// scf, tensor, memref (or any other dialect on the way) is left, between or
// around any of the checks below. Each public function gets a C interface.
// (arith, math and cf are checked as ops only: `llvm.fpext` keeps the
// `#arith.fastmath` attribute of the arith.extf it came from.)

// erf has no LLVM intrinsic. geglu's erf (marked afn) becomes a vector
// polynomial (moe-cpu-approximate-math), no libm call; with
// approximate-math=0 it calls libm's erff.
// CHECK-NOT: @erff
// LIBM: llvm.func @erff(f32) -> f32
// LIBM: llvm.call @erff

// Dynamic T, f32, gated geglu, topk_softmax and a capacity factor: the
// result is the output memref [T, D] and the dropped count memref [].
// CHECK-LABEL: llvm.func @small_layer(
// CHECK-SAME: -> !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64)>)>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// Router (exp), dispatch capacity (ceil), experts (erf: fmas over vectors
// of the host's width), in that order.
// CHECK: llvm.intr.exp
// CHECK: llvm.intr.ceil
// CHECK: llvm.intr.fma({{.*}}) : (vector<[[W:[0-9]+]]xf32>, vector<[[W]]xf32>, vector<[[W]]xf32>) -> vector<[[W]]xf32>
// CHECK-NOT: @erff
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_small_layer(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.call @small_layer(
// CHECK: llvm.return
func.func @small_layer(%x: tensor<?x8xf32>, %wr: tensor<4x8xf32>,
                       %wg: tensor<4x16x8xf32>, %wu: tensor<4x16x8xf32>,
                       %wd: tensor<4x8x16xf32>)
    -> (tensor<?x8xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<geglu>,
         capacity = #moe.capacity<factor = 1.25>,
         router = #moe.router<k = 2, order = topk_softmax>}
       : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<4x16x8xf32>,
          tensor<4x16x8xf32>, tensor<4x8x16xf32>)
       -> (tensor<?x8xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x8xf32>, tensor<i64>
}

// Static T, bf16, ungated silu, dropless: bf16 is widened to f32 for the
// accumulation and rounded back, both as integer operations on the bits
// (arith-expand): a bf16 fptrunc would call __truncsfbf2, which Debian 12's
// libgcc lacks. Widening shifts the bits up by 16; rounding adds 0x7FFF plus
// the lowest kept bit (nearest even) and keeps the upper half.
// CHECK-LABEL: llvm.func @small_layer_bf16(
// CHECK-SAME: -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK-NOT: llvm.fptrunc {{.*}} to bf16
// CHECK-NOT: llvm.fpext {{.*}} : bf16 to f32
// CHECK: llvm.bitcast %{{.*}} : bf16 to i16
// CHECK: llvm.shl
// CHECK: llvm.bitcast %{{.*}} : i32 to f32
// CHECK: llvm.bitcast %{{.*}} : i16 to bf16
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_small_layer_bf16(
// CHECK: llvm.call @small_layer_bf16(
func.func @small_layer_bf16(%x: tensor<4x8xbf16>, %wr: tensor<4x8xbf16>,
                            %wu: tensor<4x16x8xbf16>, %wd: tensor<4x8x16xbf16>)
    -> tensor<4x8xbf16> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         activation = #moe.activation<silu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 2>}
       : (tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x16x8xbf16>,
          tensor<4x8x16xbf16>) -> tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}
