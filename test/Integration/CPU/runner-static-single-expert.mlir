// Degenerate expert counts with static shapes, lowered by moe-cpu-pipeline
// and run by upstream mlir-runner on fresh random data, each checked against
// the reference by moeCheckLayer:
//   - @single: one expert, k = 1 (softmax over one logit: weight 1), SiLU
//     experts (up/down only), T = 9 static. The layer has no dropped result
//     (dropless may leave it out), so main passes a count of 0 to the check.
//   - @all: k = E = 4 (every expert gets every token, weighted by the full
//     softmax), GEGLU experts, T = 33 static, with the dropped result.
//
// RUN: moe-opt %s --moe-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK: seed:
// CHECK: moe-check: T=9 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=33 {{.*}} dropped 0 (reference 0): PASS
// CHECK-NOT: FAIL

func.func @single(%x: tensor<9x20xf32>, %wr: tensor<1x20xf32>,
                  %wu: tensor<1x36x20xf32>, %wd: tensor<1x20x36xf32>)
    -> tensor<9x20xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<9x20xf32>, tensor<1x20xf32>, tensor<1x36x20xf32>,
          tensor<1x20x36xf32>) -> tensor<9x20xf32>
  return %y : tensor<9x20xf32>
}

func.func @all(%x: tensor<33x32xf32>, %wr: tensor<4x32xf32>,
               %wg: tensor<4x24x32xf32>, %wu: tensor<4x24x32xf32>,
               %wd: tensor<4x32x24xf32>) -> (tensor<33x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 4>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<geglu>}
       : (tensor<33x32xf32>, tensor<4x32xf32>, tensor<4x24x32xf32>,
          tensor<4x24x32xf32>, tensor<4x32x24xf32>) -> (tensor<33x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<33x32xf32>, tensor<i64>
}

// k, scoring, order, renormalize, scale, groups, topk_groups, group_score,
// capacity kind, capacity, factor, activation (see MoERunnerUtils.cpp).
memref.global "private" constant @config_single : memref<12xf64> =
    dense<[1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 5.0]>
memref.global "private" constant @config_all : memref<12xf64> =
    dense<[4.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]>

func.func private @moeTestSeed() -> i64
func.func private @moeFillRandom(memref<*xf32>, i64, i64, f32)
    attributes {llvm.emit_c_interface}
func.func private @moeCheckLayer(memref<*xf64>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xi64>) attributes {llvm.emit_c_interface}

func.func @run_single(%seed: i64) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c3 = arith.constant 3 : i64
  %c4 = arith.constant 4 : i64
  %one = arith.constant 1.0 : f32
  %rbound = arith.constant 0.9 : f32
  %ubound = arith.constant 0.22 : f32
  %dbound = arith.constant 0.17 : f32
  %xm = memref.alloc() : memref<9x20xf32>
  %wrm = memref.alloc() : memref<1x20xf32>
  %wum = memref.alloc() : memref<1x36x20xf32>
  %wdm = memref.alloc() : memref<1x20x36xf32>
  %xu = memref.cast %xm : memref<9x20xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<1x20xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<1x36x20xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<1x20x36xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c1, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c3, %ubound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c4, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()

  %x = bufferization.to_tensor %xm restrict : memref<9x20xf32> to tensor<9x20xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<1x20xf32> to tensor<1x20xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<1x36x20xf32> to tensor<1x36x20xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<1x20x36xf32> to tensor<1x20x36xf32>
  %y = call @single(%x, %wr, %wu, %wd)
      : (tensor<9x20xf32>, tensor<1x20xf32>, tensor<1x36x20xf32>,
         tensor<1x20x36xf32>) -> tensor<9x20xf32>
  %ym = bufferization.to_buffer %y : tensor<9x20xf32> to memref<9x20xf32>

  // The layer returns no count: a dropless layer drops nothing.
  %dm = memref.alloc() : memref<i64>
  memref.store %c0, %dm[] : memref<i64>
  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config_single : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<9x20xf32> to memref<*xf32>
  %du = memref.cast %dm : memref<i64> to memref<*xi64>
  call @moeCheckLayer(%configu, %xu, %wru, %noneu, %noneu, %noneu, %wuu, %wdu,
                      %yu, %du)
      : (memref<*xf64>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
         memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
         memref<*xf32>, memref<*xi64>) -> ()
  return
}

func.func @run_all(%seed: i64) {
  // Streams 10.. so that @all's inputs are not @single's.
  %c10 = arith.constant 10 : i64
  %c11 = arith.constant 11 : i64
  %c12 = arith.constant 12 : i64
  %c13 = arith.constant 13 : i64
  %c14 = arith.constant 14 : i64
  %one = arith.constant 1.0 : f32
  %rbound = arith.constant 0.7 : f32
  %gbound = arith.constant 0.18 : f32
  %dbound = arith.constant 0.2 : f32
  %xm = memref.alloc() : memref<33x32xf32>
  %wrm = memref.alloc() : memref<4x32xf32>
  %wgm = memref.alloc() : memref<4x24x32xf32>
  %wum = memref.alloc() : memref<4x24x32xf32>
  %wdm = memref.alloc() : memref<4x32x24xf32>
  %xu = memref.cast %xm : memref<33x32xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<4x32xf32> to memref<*xf32>
  %wgu = memref.cast %wgm : memref<4x24x32xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<4x24x32xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<4x32x24xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c10, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c11, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wgu, %seed, %c12, %gbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c13, %gbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c14, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()

  %x = bufferization.to_tensor %xm restrict : memref<33x32xf32> to tensor<33x32xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<4x32xf32> to tensor<4x32xf32>
  %wg = bufferization.to_tensor %wgm restrict : memref<4x24x32xf32> to tensor<4x24x32xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<4x24x32xf32> to tensor<4x24x32xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<4x32x24xf32> to tensor<4x32x24xf32>
  %y, %dropped = call @all(%x, %wr, %wg, %wu, %wd)
      : (tensor<33x32xf32>, tensor<4x32xf32>, tensor<4x24x32xf32>,
         tensor<4x24x32xf32>, tensor<4x32x24xf32>) -> (tensor<33x32xf32>, tensor<i64>)
  %ym = bufferization.to_buffer %y : tensor<33x32xf32> to memref<33x32xf32>
  %dm = bufferization.to_buffer %dropped : tensor<i64> to memref<i64>

  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config_all : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<33x32xf32> to memref<*xf32>
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
  call @run_single(%seed) : (i64) -> ()
  call @run_all(%seed) : (i64) -> ()
  return
}
