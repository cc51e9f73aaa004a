// A DeepSeek-V3-style layer at small width: E = 16 experts in 4 groups of 4,
// sigmoid scores with a selection bias (which moves the choice, never the
// weights), group-limited routing (the 2 best groups by the sum of their two
// best keys), top-4, renormalized and scaled by 2.5, SwiGLU experts, no
// capacity limit. T is dynamic; lowered by moe-cpu-pipeline and run by
// upstream mlir-runner at T = 1, 7, 64 and 300 on fresh random data. Each run
// is checked against the reference by moeCheckLayer.
//
// The selection bias is drawn from [-0.2, 0.2): about the spread of the
// sigmoid scores (logits have a standard deviation of about 1.3), so that
// both the scores and the bias decide which groups and experts win.
//
// RUN: moe-opt %s --moe-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK: seed:
// CHECK: moe-check: T=1 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=7 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=64 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=300 {{.*}} dropped 0 (reference 0): PASS
// CHECK-NOT: FAIL

func.func @layer(%x: tensor<?x64xf32>, %wr: tensor<16x64xf32>,
                 %sb: tensor<16xf32>, %wg: tensor<16x32x64xf32>,
                 %wu: tensor<16x32x64xf32>, %wd: tensor<16x64x32xf32>)
    -> (tensor<?x64xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) selection_bias(%sb)
         gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 4, scoring = sigmoid, renormalize = true,
                              scale = 2.5, groups = 4, topk_groups = 2,
                              group_score = sum_top2>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>,
          tensor<16x32x64xf32>, tensor<16x32x64xf32>, tensor<16x64x32xf32>)
      -> (tensor<?x64xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x64xf32>, tensor<i64>
}

// k, scoring, order, renormalize, scale, groups, topk_groups, group_score,
// capacity kind, capacity, factor, activation (see MoERunnerUtils.cpp).
memref.global "private" constant @config : memref<12xf64> =
    dense<[4.0, 1.0, 0.0, 1.0, 2.5, 4.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0]>

func.func private @moeTestSeed() -> i64
func.func private @moeFillRandom(memref<*xf32>, i64, i64, f32)
    attributes {llvm.emit_c_interface}
func.func private @moeCheckLayer(memref<*xf64>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xi64>) attributes {llvm.emit_c_interface}

func.func @run(%T: index, %seed: i64) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c3 = arith.constant 3 : i64
  %c4 = arith.constant 4 : i64
  %c6 = arith.constant 6 : i64
  %one = arith.constant 1.0 : f32
  %rbound = arith.constant 0.5 : f32
  %sbound = arith.constant 0.2 : f32
  %gbound = arith.constant 0.125 : f32
  %dbound = arith.constant 0.18 : f32
  %xm = memref.alloc(%T) : memref<?x64xf32>
  %wrm = memref.alloc() : memref<16x64xf32>
  %sbm = memref.alloc() : memref<16xf32>
  %wgm = memref.alloc() : memref<16x32x64xf32>
  %wum = memref.alloc() : memref<16x32x64xf32>
  %wdm = memref.alloc() : memref<16x64x32xf32>
  %xu = memref.cast %xm : memref<?x64xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<16x64xf32> to memref<*xf32>
  %sbu = memref.cast %sbm : memref<16xf32> to memref<*xf32>
  %wgu = memref.cast %wgm : memref<16x32x64xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<16x32x64xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<16x64x32xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c1, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wgu, %seed, %c2, %gbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c3, %gbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c4, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%sbu, %seed, %c6, %sbound) : (memref<*xf32>, i64, i64, f32) -> ()

  %x = bufferization.to_tensor %xm restrict : memref<?x64xf32> to tensor<?x64xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<16x64xf32> to tensor<16x64xf32>
  %sb = bufferization.to_tensor %sbm restrict : memref<16xf32> to tensor<16xf32>
  %wg = bufferization.to_tensor %wgm restrict : memref<16x32x64xf32> to tensor<16x32x64xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<16x32x64xf32> to tensor<16x32x64xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<16x64x32xf32> to tensor<16x64x32xf32>
  %y, %dropped = call @layer(%x, %wr, %sb, %wg, %wu, %wd)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>,
         tensor<16x32x64xf32>, tensor<16x32x64xf32>, tensor<16x64x32xf32>)
      -> (tensor<?x64xf32>, tensor<i64>)
  %ym = bufferization.to_buffer %y : tensor<?x64xf32> to memref<?x64xf32>
  %dm = bufferization.to_buffer %dropped : tensor<i64> to memref<i64>

  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<?x64xf32> to memref<*xf32>
  %du = memref.cast %dm : memref<i64> to memref<*xi64>
  // No router bias; the selection bias is given.
  call @moeCheckLayer(%configu, %xu, %wru, %noneu, %sbu, %wgu, %wuu, %wdu,
                      %yu, %du)
      : (memref<*xf64>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
         memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
         memref<*xf32>, memref<*xi64>) -> ()
  return
}

func.func @main() {
  %seed = call @moeTestSeed() : () -> i64
  %t1 = arith.constant 1 : index
  %t7 = arith.constant 7 : index
  %t64 = arith.constant 64 : index
  %t300 = arith.constant 300 : index
  call @run(%t1, %seed) : (index, i64) -> ()
  call @run(%t7, %seed) : (index, i64) -> ()
  call @run(%t64, %seed) : (index, i64) -> ()
  call @run(%t300, %seed) : (index, i64) -> ()
  return
}
