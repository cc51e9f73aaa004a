// RUN: moe-opt %s --moe-cpu-approximate-math | FileCheck %s

// moe-cpu-approximate-math: f32 exp, tanh and erf marked afn become
// polynomial approximations (arith and math.fma, no call); every other math
// op keeps the exact function.

// A vector exp marked afn: range reduction (floor), a polynomial of fmas,
// 2^n built from the exponent bits. No math.exp is left.
// CHECK-LABEL: func.func @exp_vector
// CHECK-NOT:     math.exp
// CHECK:         math.floor {{.*}} : vector<16xf32>
// CHECK:         math.fma {{.*}} : vector<16xf32>
// CHECK:         arith.fptosi {{.*}} : vector<16xf32> to vector<16xi32>
// CHECK:         arith.bitcast {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @exp_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.exp %x fastmath<afn> : vector<16xf32>
  return %y : vector<16xf32>
}

// A scalar exp gets the same operations on f32: a lane of the vector form
// and the scalar form compute the same bits.
// CHECK-LABEL: func.func @exp_scalar
// CHECK-NOT:     math.exp
// CHECK:         math.floor {{.*}} : f32
// CHECK:         math.fma {{.*}} : f32
// CHECK:         arith.fptosi {{.*}} : f32 to i32
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @exp_scalar(%x: f32) -> f32 {
  %y = math.exp %x fastmath<afn> : f32
  return %y : f32
}

// `fast` includes afn.
// CHECK-LABEL: func.func @tanh_and_erf
// CHECK-NOT:     math.tanh
// CHECK-NOT:     math.erf
// CHECK:         return
func.func @tanh_and_erf(%x: vector<16xf32>, %y: f32) -> (vector<16xf32>, f32) {
  %t = math.tanh %x fastmath<fast> : vector<16xf32>
  %e = math.erf %y fastmath<afn> : f32
  return %t, %e : vector<16xf32>, f32
}

// Not marked, another flag only, or not f32: left alone. So is a math
// function the pass does not approximate.
// CHECK-LABEL: func.func @left_alone
// CHECK:         math.exp %{{.*}} : vector<16xf32>
// CHECK:         math.exp %{{.*}} fastmath<nnan> : f32
// CHECK:         math.exp %{{.*}} fastmath<afn> : vector<16xf64>
// CHECK:         math.exp %{{.*}} fastmath<afn> : bf16
// CHECK:         math.log %{{.*}} fastmath<afn> : f32
// CHECK-NOT:     math.fma
// CHECK:         return
func.func @left_alone(%x: vector<16xf32>, %y: f32, %z: vector<16xf64>,
                      %w: bf16) -> (vector<16xf32>, f32, vector<16xf64>, bf16, f32) {
  %a = math.exp %x : vector<16xf32>
  %b = math.exp %y fastmath<nnan> : f32
  %c = math.exp %z fastmath<afn> : vector<16xf64>
  %d = math.exp %w fastmath<afn> : bf16
  %e = math.log %y fastmath<afn> : f32
  return %a, %b, %c, %d, %e : vector<16xf32>, f32, vector<16xf64>, bf16, f32
}
