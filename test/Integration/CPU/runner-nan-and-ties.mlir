// Numerical edge cases of routing, run by upstream mlir-runner and checked
// against the reference (which also requires a finite output):
//   - a NaN router bias on expert 1: every token's logit for expert 1 is NaN,
//     which never wins a selection; with topk_softmax the weights are a
//     softmax over the picked logits only, so no NaN reaches any token (a
//     NaN anywhere in the output fails the check);
//   - exact ties: a zero router weight and bias make every logit 0, so each
//     token takes experts 0 and 1 (ties go to the lower id) with weight 1/2
//     each after renormalization (topk_softmax).
//
// RUN: moe-opt %s --moe-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK: seed:
// CHECK: moe-check: T=9 {{.*}}: PASS
// CHECK: moe-check: T=64 {{.*}}: PASS
// CHECK: moe-check: T=9 {{.*}}: PASS
// CHECK: moe-check: T=64 {{.*}}: PASS
// CHECK-NOT: FAIL

func.func @nan_bias(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                    %b: tensor<4xf32>, %wu: tensor<4x24x16xf32>,
                    %wd: tensor<4x16x24xf32>) -> (tensor<?x16xf32>, tensor<i64>) {
  %y, %d = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2, order = topk_softmax>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>,
          tensor<4x24x16xf32>, tensor<4x16x24xf32>) -> (tensor<?x16xf32>, tensor<i64>)
  return %y, %d : tensor<?x16xf32>, tensor<i64>
}

// k, scoring, order, renormalize, scale, groups, topk_groups, group_score,
// capacity kind, capacity, factor, activation (see MoERunnerUtils.cpp).
memref.global "private" constant @config : memref<12xf64> =
    dense<[2.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 5.0]>

func.func private @moeTestSeed() -> i64
func.func private @moeFillRandom(memref<*xf32>, i64, i64, f32)
    attributes {llvm.emit_c_interface}
func.func private @moeAddAt(memref<*xf32>, i64, f32)
    attributes {llvm.emit_c_interface}
func.func private @moeCheckLayer(memref<*xf64>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
    memref<*xf32>, memref<*xi64>) attributes {llvm.emit_c_interface}

// %ties: zero router weight and bias instead of random ones and a NaN.
func.func @run(%T: index, %seed: i64, %ties: i1) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c3 = arith.constant 3 : i64
  %c4 = arith.constant 4 : i64
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %nan = arith.constant 0x7FC00000 : f32
  %rbound = arith.constant 1.0 : f32
  %bbound = arith.constant 0.5 : f32
  %ubound = arith.constant 0.25 : f32
  %dbound = arith.constant 0.2 : f32
  %xm = memref.alloc(%T) : memref<?x16xf32>
  %wrm = memref.alloc() : memref<4x16xf32>
  %bm = memref.alloc() : memref<4xf32>
  %wum = memref.alloc() : memref<4x24x16xf32>
  %wdm = memref.alloc() : memref<4x16x24xf32>
  %xu = memref.cast %xm : memref<?x16xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<4x16xf32> to memref<*xf32>
  %bu = memref.cast %bm : memref<4xf32> to memref<*xf32>
  %wuu = memref.cast %wum : memref<4x24x16xf32> to memref<*xf32>
  %wdu = memref.cast %wdm : memref<4x16x24xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wuu, %seed, %c3, %ubound) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wdu, %seed, %c4, %dbound) : (memref<*xf32>, i64, i64, f32) -> ()
  scf.if %ties {
    linalg.fill ins(%zero : f32) outs(%wrm : memref<4x16xf32>)
    linalg.fill ins(%zero : f32) outs(%bm : memref<4xf32>)
  } else {
    func.call @moeFillRandom(%wru, %seed, %c1, %rbound) : (memref<*xf32>, i64, i64, f32) -> ()
    func.call @moeFillRandom(%bu, %seed, %c2, %bbound) : (memref<*xf32>, i64, i64, f32) -> ()
    func.call @moeAddAt(%bu, %c1, %nan) : (memref<*xf32>, i64, f32) -> ()
  }

  %x = bufferization.to_tensor %xm restrict : memref<?x16xf32> to tensor<?x16xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<4x16xf32> to tensor<4x16xf32>
  %b = bufferization.to_tensor %bm restrict : memref<4xf32> to tensor<4xf32>
  %wu = bufferization.to_tensor %wum restrict : memref<4x24x16xf32> to tensor<4x24x16xf32>
  %wd = bufferization.to_tensor %wdm restrict : memref<4x16x24xf32> to tensor<4x16x24xf32>
  %y, %dropped = call @nan_bias(%x, %wr, %b, %wu, %wd)
      : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>,
         tensor<4x24x16xf32>, tensor<4x16x24xf32>) -> (tensor<?x16xf32>, tensor<i64>)
  %ym = bufferization.to_buffer %y : tensor<?x16xf32> to memref<?x16xf32>
  %dm = bufferization.to_buffer %dropped : tensor<i64> to memref<i64>

  %none = memref.alloc() : memref<0xf32>
  %noneu = memref.cast %none : memref<0xf32> to memref<*xf32>
  %config = memref.get_global @config : memref<12xf64>
  %configu = memref.cast %config : memref<12xf64> to memref<*xf64>
  %yu = memref.cast %ym : memref<?x16xf32> to memref<*xf32>
  %du = memref.cast %dm : memref<i64> to memref<*xi64>
  call @moeCheckLayer(%configu, %xu, %wru, %bu, %noneu, %noneu, %wuu, %wdu,
                      %yu, %du)
      : (memref<*xf64>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
         memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>,
         memref<*xf32>, memref<*xi64>) -> ()
  return
}

func.func @main() {
  %seed = call @moeTestSeed() : () -> i64
  %t9 = arith.constant 9 : index
  %t64 = arith.constant 64 : index
  %false = arith.constant false
  %true = arith.constant true
  call @run(%t9, %seed, %false) : (index, i64, i1) -> ()
  call @run(%t64, %seed, %false) : (index, i64, i1) -> ()
  call @run(%t9, %seed, %true) : (index, i64, i1) -> ()
  call @run(%t64, %seed, %true) : (index, i64, i1) -> ()
  return
}
