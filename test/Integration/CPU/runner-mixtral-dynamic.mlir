// A Mixtral-style layer (topk_softmax top-2, renormalized, SwiGLU, dropless)
// with a dynamic token count, lowered by moe-cpu-pipeline and run by
// upstream mlir-runner at T = 1, 7, 64 and 300 on fresh random data. Each run
// is checked against the reference by moeCheckLayer.
//
// RUN: moe-opt %s --moe-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK: seed:
// CHECK: moe-check: T=1 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=7 {{.*}}: PASS
// CHECK: moe-check: T=64 {{.*}}: PASS
// CHECK: moe-check: T=300 {{.*}}: PASS
// CHECK-NOT: FAIL

func.func @layer(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                 %wg: tensor<4x48x32xf32>, %wu: tensor<4x48x32xf32>,
                 %wd: tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2, order = topk_softmax, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>,
          tensor<4x48x32xf32>, tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

// k, scoring, order, renormalize, scale, groups, topk_groups, group_score,
// capacity kind, capacity, factor, activation (see MoERunnerUtils.cpp).
memref.global "private" constant @config : memref<12xf64> =
    dense<[2.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]>

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
  %one = arith.constant 1.0 : f32
  %rbound = arith.constant 0.7 : f32
  %gbound = arith.constant 0.18 : f32
  %dbound = arith.constant 0.14 : f32
  %xm = memref.alloc(%T) : memref<?x32xf32>
  %wrm = memref.alloc() : memref<4x32xf32>
  %wgm = memref.alloc() : memref<4x48x32xf32>
  %wum = memref.alloc() : memref<4x48x32xf32>
  %wdm = memref.alloc() : memref<4x32x48xf32>
  %xu = memref.cast %xm : memref<?x32xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<4x32xf32> to memref<*xf32>
  %wgu = memref.cast %wgm : memref<4x48x32xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<4x48x32xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<4x32x48xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c1, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wgu, %seed, %c2, %gbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c3, %gbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c4, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()

  %x = bufferization.to_tensor %xm restrict : memref<?x32xf32> to tensor<?x32xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<4x32xf32> to tensor<4x32xf32>
  %wg = bufferization.to_tensor %wgm restrict : memref<4x48x32xf32> to tensor<4x48x32xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<4x48x32xf32> to tensor<4x48x32xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<4x32x48xf32> to tensor<4x32x48xf32>
  %y, %dropped = call @layer(%x, %wr, %wg, %wu, %wd)
      : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>,
         tensor<4x48x32xf32>, tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  %ym = bufferization.to_buffer %y : tensor<?x32xf32> to memref<?x32xf32>
  %dm = bufferization.to_buffer %dropped : tensor<i64> to memref<i64>

  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<?x32xf32> to memref<*xf32>
  %du = memref.cast %dm : memref<i64> to memref<*xi64>
  call @moeCheckLayer(%configu, %xu, %wru, %noneu, %noneu, %wgu, %wuu, %wdu,
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
