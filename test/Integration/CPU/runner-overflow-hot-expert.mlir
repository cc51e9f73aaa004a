// Capacity overflow under a hot expert: a top-2 layer (E = 8, k = 2, sigmoid
// scores, renormalized, gelu_tanh experts with up/down only) with a fixed
// capacity of 4 per expert, lowered by moe-cpu-pipeline and run by upstream
// mlir-runner at T = 1, 5 and 64 on fresh random data. The router bias is
// random, plus 100 on expert 3 (moeAddAt), so every token's first choice is
// expert 3; the second choices spread over the other seven experts. Each run
// is checked against the reference by moeCheckLayer (output and dropped
// count).
//
// Under the position policy expert 3 keeps the first choices of tokens 0..3
// and drops the other T - 4; a second choice is only dropped when more than
// four tokens pick the same second expert. So:
//   - T = 1: nothing is dropped;
//   - T = 5: one first choice dropped, plus at most one second choice;
//   - T = 64: 60 first choices dropped, and at most 7 * 4 = 28 of the 64
//     second choices kept, so at least 96 dropped (at most 124).
//
// Sigmoid scores keep the second choice well conditioned: sigmoid(z + 100)
// is 1 and the others are sigmoid(z) in (0, 1), so the second weight (about
// a third after renormalizing) is checked too. (A softmax router selects on
// the logits, so a 100-logit gap would not create f32 ties there either; but
// its second weights would be about exp(-100), which checks little.)
//
// RUN: moe-opt %s --moe-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK: seed:
// CHECK: moe-check: T=1 {{.*}} dropped 0 (reference 0): PASS
// CHECK: moe-check: T=5 {{.*}} dropped [[D5:[12]]] (reference [[D5]]): PASS
// CHECK: moe-check: T=64 {{.*}} dropped [[D64:9[6-9]|1[01][0-9]|12[0-4]]] (reference [[D64]]): PASS
// CHECK-NOT: FAIL

func.func @layer(%x: tensor<?x24xf32>, %wr: tensor<8x24xf32>,
                 %b: tensor<8xf32>, %wu: tensor<8x40x24xf32>,
                 %wd: tensor<8x24x40xf32>) -> (tensor<?x24xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2, scoring = sigmoid, renormalize = true>,
         capacity = #moe.capacity<fixed = 4>,
         activation = #moe.activation<gelu_tanh>}
       : (tensor<?x24xf32>, tensor<8x24xf32>, tensor<8xf32>,
          tensor<8x40x24xf32>, tensor<8x24x40xf32>) -> (tensor<?x24xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x24xf32>, tensor<i64>
}

// k, scoring, order, renormalize, scale, groups, topk_groups, group_score,
// capacity kind, capacity, factor, activation (see MoERunnerUtils.cpp).
memref.global "private" constant @config : memref<12xf64> =
    dense<[2.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 4.0, 0.0, 3.0]>

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
  %hot = arith.constant 100.0 : f32
  %rbound = arith.constant 0.8 : f32
  %bbound = arith.constant 0.5 : f32
  %ubound = arith.constant 0.2 : f32
  %dbound = arith.constant 0.16 : f32
  %xm = memref.alloc(%T) : memref<?x24xf32>
  %wrm = memref.alloc() : memref<8x24xf32>
  %bm = memref.alloc() : memref<8xf32>
  %wum = memref.alloc() : memref<8x40x24xf32>
  %wdm = memref.alloc() : memref<8x24x40xf32>
  %xu = memref.cast %xm : memref<?x24xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<8x24xf32> to memref<*xf32>
  %bu = memref.cast %bm : memref<8xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<8x40x24xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<8x24x40xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c1, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c3, %ubound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c4, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%bu, %seed, %c5, %bbound) : (memref<*xf32>, i64, i64, f32) -> ()
  // Expert 3 is hot: every token picks it first.
  call @moeAddAt(%bu, %c3, %hot) : (memref<*xf32>, i64, f32) -> ()

  %x = bufferization.to_tensor %xm restrict : memref<?x24xf32> to tensor<?x24xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<8x24xf32> to tensor<8x24xf32>
  %b = bufferization.to_tensor %bm restrict : memref<8xf32> to tensor<8xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<8x40x24xf32> to tensor<8x40x24xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<8x24x40xf32> to tensor<8x24x40xf32>
  %y, %dropped = call @layer(%x, %wr, %b, %wu, %wd)
      : (tensor<?x24xf32>, tensor<8x24xf32>, tensor<8xf32>,
         tensor<8x40x24xf32>, tensor<8x24x40xf32>) -> (tensor<?x24xf32>, tensor<i64>)
  %ym = bufferization.to_buffer %y : tensor<?x24xf32> to memref<?x24xf32>
  %dm = bufferization.to_buffer %dropped : tensor<i64> to memref<i64>

  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<?x24xf32> to memref<*xf32>
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
  %t5 = arith.constant 5 : index
  %t64 = arith.constant 64 : index
  call @run(%t1, %seed) : (index, i64) -> ()
  call @run(%t5, %seed) : (index, i64) -> ()
  call @run(%t64, %seed) : (index, i64) -> ()
  return
}
