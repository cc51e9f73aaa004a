// moe.gate's results are bitwise those of the router matmul, bias add and
// moe.route it fuses: both are compiled here side by side (the pipeline
// runs without moe-fuse-gating, so the explicit matmul and route stay as
// they are), run on the same random tokens and weights, and every weight
// (compared as bits) and expert id is compared. T = 1, one less than the
// tile (15), the tile (16), and T past it and not a multiple of it (T = 0
// runs in moe-run-fused-gating.mlir); a softmax router with a router bias, and a
// sigmoid router with a selection bias and groups.
//
// RUN: moe-opt %s --moe-cpu-pipeline="fuse-gating=false" \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_c_runner_utils,%moe_runner_utils,%libomp \
// RUN: | FileCheck %s

// CHECK-COUNT-10: mismatches: 0
// CHECK-NOT: mismatches

#x_map = affine_map<(t, e, d) -> (t, d)>
#w_map = affine_map<(t, e, d) -> (e, d)>
#out_map = affine_map<(t, e, d) -> (t, e)>
#bias_map = affine_map<(t, e) -> (e)>
#id_map = affine_map<(t, e) -> (t, e)>

func.func private @moeFillRandom(memref<*xf32>, i64, i64, f32)
    attributes {llvm.emit_c_interface}

func.func @logits(%x: tensor<?x64xf32>, %wr: tensor<16x64xf32>,
                  %rb: tensor<16xf32>) -> tensor<?x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %t = tensor.dim %x, %c0 : tensor<?x64xf32>
  %empty = tensor.empty(%t) : tensor<?x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x16xf32>) -> tensor<?x16xf32>
  %mm = linalg.matmul indexing_maps = [#x_map, #w_map, #out_map]
      ins(%x, %wr : tensor<?x64xf32>, tensor<16x64xf32>)
      outs(%init : tensor<?x16xf32>) -> tensor<?x16xf32>
  %logits = linalg.generic {indexing_maps = [#bias_map, #id_map],
                            iterator_types = ["parallel", "parallel"]}
      ins(%rb : tensor<16xf32>) outs(%mm : tensor<?x16xf32>) {
  ^bb0(%b: f32, %l: f32):
    %sum = arith.addf %l, %b : f32
    linalg.yield %sum : f32
  } -> tensor<?x16xf32>
  return %logits : tensor<?x16xf32>
}

func.func @softmax_unfused(%x: tensor<?x64xf32>, %wr: tensor<16x64xf32>,
                           %rb: tensor<16xf32>, %sb: tensor<16xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %logits = call @logits(%x, %wr, %rb)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %w, %ids = moe.route %logits {router = #moe.router<k = 4, renormalize = true>}
    : (tensor<?x16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>)
  return %w, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}

func.func @softmax_fused(%x: tensor<?x64xf32>, %wr: tensor<16x64xf32>,
                         %rb: tensor<16xf32>, %sb: tensor<16xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %w, %ids = moe.gate %x router(%wr) bias(%rb) {
      router = #moe.router<k = 4, renormalize = true>}
    : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>)
      -> (tensor<?x4xf32>, tensor<?x4xi32>)
  return %w, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}

func.func @sigmoid_unfused(%x: tensor<?x64xf32>, %wr: tensor<16x64xf32>,
                           %rb: tensor<16xf32>, %sb: tensor<16xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %logits = call @logits(%x, %wr, %rb)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %w, %ids = moe.route %logits selection_bias(%sb) {
      router = #moe.router<k = 4, scoring = sigmoid, renormalize = true,
                           scale = 2.5, groups = 4, topk_groups = 2,
                           group_score = sum_top2>}
    : (tensor<?x16xf32>, tensor<16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>)
  return %w, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}

func.func @sigmoid_fused(%x: tensor<?x64xf32>, %wr: tensor<16x64xf32>,
                         %rb: tensor<16xf32>, %sb: tensor<16xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %w, %ids = moe.gate %x router(%wr) bias(%rb) selection_bias(%sb) {
      router = #moe.router<k = 4, scoring = sigmoid, renormalize = true,
                           scale = 2.5, groups = 4, topk_groups = 2,
                           group_score = sum_top2>}
    : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<?x4xf32>, tensor<?x4xi32>)
  return %w, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}

// The number of (token, slot) pairs whose weight bits or id differ.
func.func @mismatches(%w0: tensor<?x4xf32>, %i0: tensor<?x4xi32>,
                      %w1: tensor<?x4xf32>, %i1: tensor<?x4xi32>) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %t = tensor.dim %w0, %c0 : tensor<?x4xf32>
  %count = scf.for %i = %c0 to %t step %c1 iter_args(%acc = %zero) -> (i64) {
    %row = scf.for %j = %c0 to %c4 step %c1 iter_args(%a = %acc) -> (i64) {
      %a0 = tensor.extract %w0[%i, %j] : tensor<?x4xf32>
      %a1 = tensor.extract %w1[%i, %j] : tensor<?x4xf32>
      %b0 = arith.bitcast %a0 : f32 to i32
      %b1 = arith.bitcast %a1 : f32 to i32
      %d0 = tensor.extract %i0[%i, %j] : tensor<?x4xi32>
      %d1 = tensor.extract %i1[%i, %j] : tensor<?x4xi32>
      %wdiff = arith.cmpi ne, %b0, %b1 : i32
      %idiff = arith.cmpi ne, %d0, %d1 : i32
      %diff = arith.ori %wdiff, %idiff : i1
      %inc = arith.select %diff, %one, %zero : i64
      %next = arith.addi %a, %inc : i64
      scf.yield %next : i64
    }
    scf.yield %row : i64
  }
  return %count : i64
}

func.func @run(%T: index, %seed: i64) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c3 = arith.constant 3 : i64
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %xm = memref.alloc(%T) : memref<?x64xf32>
  %wrm = memref.alloc() : memref<16x64xf32>
  %rbm = memref.alloc() : memref<16xf32>
  %sbm = memref.alloc() : memref<16xf32>
  %xu = memref.cast %xm : memref<?x64xf32> to memref<*xf32>
  %wru = memref.cast %wrm : memref<16x64xf32> to memref<*xf32>
  %rbu = memref.cast %rbm : memref<16xf32> to memref<*xf32>
  %sbu = memref.cast %sbm : memref<16xf32> to memref<*xf32>
  call @moeFillRandom(%xu, %seed, %c0, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%wru, %seed, %c1, %one) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%rbu, %seed, %c2, %half) : (memref<*xf32>, i64, i64, f32) -> ()
  call @moeFillRandom(%sbu, %seed, %c3, %half) : (memref<*xf32>, i64, i64, f32) -> ()
  %x = bufferization.to_tensor %xm restrict : memref<?x64xf32> to tensor<?x64xf32>
  %wr = bufferization.to_tensor %wrm restrict : memref<16x64xf32> to tensor<16x64xf32>
  %rb = bufferization.to_tensor %rbm restrict : memref<16xf32> to tensor<16xf32>
  %sb = bufferization.to_tensor %sbm restrict : memref<16xf32> to tensor<16xf32>

  %w0, %i0 = call @softmax_unfused(%x, %wr, %rb, %sb)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %w1, %i1 = call @softmax_fused(%x, %wr, %rb, %sb)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %n0 = call @mismatches(%w0, %i0, %w1, %i1)
      : (tensor<?x4xf32>, tensor<?x4xi32>, tensor<?x4xf32>, tensor<?x4xi32>) -> i64
  vector.print str "softmax mismatches: "
  vector.print %n0 : i64

  %w2, %i2 = call @sigmoid_unfused(%x, %wr, %rb, %sb)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %w3, %i3 = call @sigmoid_fused(%x, %wr, %rb, %sb)
      : (tensor<?x64xf32>, tensor<16x64xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %n1 = call @mismatches(%w2, %i2, %w3, %i3)
      : (tensor<?x4xf32>, tensor<?x4xi32>, tensor<?x4xf32>, tensor<?x4xi32>) -> i64
  vector.print str "sigmoid mismatches: "
  vector.print %n1 : i64
  return
}

func.func @main() {
  %seed = arith.constant 11 : i64
  %t15 = arith.constant 15 : index
  %t1 = arith.constant 1 : index
  %t16 = arith.constant 16 : index
  %t37 = arith.constant 37 : index
  %t200 = arith.constant 200 : index
  call @run(%t15, %seed) : (index, i64) -> ()
  call @run(%t1, %seed) : (index, i64) -> ()
  call @run(%t16, %seed) : (index, i64) -> ()
  call @run(%t37, %seed) : (index, i64) -> ()
  call @run(%t200, %seed) : (index, i64) -> ()
  return
}
