// A Switch-Transformer-style layer (E = 8, top-1 softmax, ReLU experts with
// up/down only, capacity factor 1.25 under the position drop policy) with a
// dynamic token count, lowered by moe-cpu-pipeline and run by upstream
// mlir-runner at T = 1, 7, 64 and 300 on fresh random data. The capacity is
// computed at run time from the actual T: C = ceil(1.25 * T / 8), i.e. 1, 2,
// 10 and 47. Each run is checked against the reference by moeCheckLayer: the
// output and the dropped count must match.
//
// A router bias (random in [-0.5, 0.5), plus 2.0 on expert 0 with moeAddAt)
// skews the load so that expert 0 overflows at T = 300 whatever the seed
// (without the skew about 1 seed in 40 drops nothing at T = 300; with it the
// fewest drops over 400 seeds was 59), while the other experts still win
// tokens: the routing is neither flat nor saturated.
//
// RUN: moe-opt %s --moe-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK: seed:
// One token: capacity 1, nothing can be dropped.
// CHECK: moe-check: T=1 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=7 {{.*}} dropped [[D7:[0-9]+]] (reference [[D7]]): PASS
// CHECK: moe-check: T=64 {{.*}} dropped [[D64:[0-9]+]] (reference [[D64]]): PASS
// At T = 300 the skewed expert overflows its capacity of 47: drops happen.
// CHECK: moe-check: T=300 {{.*}} dropped [[D300:[1-9][0-9]*]] (reference [[D300]]): PASS
// CHECK-NOT: FAIL

func.func @layer(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                 %b: tensor<8xf32>, %wu: tensor<8x64x32xf32>,
                 %wd: tensor<8x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 1>,
         capacity = #moe.capacity<factor = 1.25>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8xf32>,
          tensor<8x64x32xf32>, tensor<8x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}

// k, scoring, order, renormalize, scale, groups, topk_groups, group_score,
// capacity kind, capacity, factor, activation (see MoERunnerUtils.cpp).
memref.global "private" constant @config : memref<12xf64> =
    dense<[1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 2.0, 0.0, 1.25, 4.0]>

func.func private @moeTestSeed() -> i64
func.func private @moeFillRandom(memref<*xf32>, i64, i64, f32)
    attributes {llvm.emit_c_interface}
func.func private @moeAddAt(memref<*xf32>, i64, f32)
    attributes {llvm.emit_c_interface}
func.func private @moeCheckLayer(memref<*xf64>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xi64>) attributes {llvm.emit_c_interface}

func.func @run(%T: index, %seed: i64) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c3 = arith.constant 3 : i64
  %c4 = arith.constant 4 : i64
  %c5 = arith.constant 5 : i64
  %one = arith.constant 1.0 : f32
  %skew = arith.constant 2.0 : f32
  %rbound = arith.constant 0.7 : f32
  %bbound = arith.constant 0.5 : f32
  %ubound = arith.constant 0.18 : f32
  %dbound = arith.constant 0.125 : f32
  %xm = memref.alloc(%T) : memref<?x32xf32>
  %wrm = memref.alloc() : memref<8x32xf32>
  %bm = memref.alloc() : memref<8xf32>
  %wum = memref.alloc() : memref<8x64x32xf32>
  %wdm = memref.alloc() : memref<8x32x64xf32>
  %xu = memref.cast %xm : memref<?x32xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<8x32xf32> to memref<*xf32>
  %bu = memref.cast %bm : memref<8xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<8x64x32xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<8x32x64xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c1, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c3, %ubound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c4, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%bu, %seed, %c5, %bbound) : (memref<*xf32>, i64, i64, f32) -> ()
  // Skew the load towards expert 0.
  call @moeAddAt(%bu, %c0, %skew) : (memref<*xf32>, i64, f32) -> ()

  %x = bufferization.to_tensor %xm restrict : memref<?x32xf32> to tensor<?x32xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<8x32xf32> to tensor<8x32xf32>
  %b = bufferization.to_tensor %bm restrict : memref<8xf32> to tensor<8xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<8x64x32xf32> to tensor<8x64x32xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<8x32x64xf32> to tensor<8x32x64xf32>
  %y, %dropped = call @layer(%x, %wr, %b, %wu, %wd)
      : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8xf32>,
         tensor<8x64x32xf32>, tensor<8x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  %ym = bufferization.to_buffer %y : tensor<?x32xf32> to memref<?x32xf32>
  %dm = bufferization.to_buffer %dropped : tensor<i64> to memref<i64>

  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<?x32xf32> to memref<*xf32>
  %du = memref.cast %dm : memref<i64> to memref<*xi64>
  // Ungated: no gate weight; no selection bias.
  call @moeCheckLayer(%configu, %xu, %wru, %bu, %noneu, %noneu, %wuu, %wdu,
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
