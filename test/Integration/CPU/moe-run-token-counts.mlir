// A dynamic-T layer at T = 1, 7, 64 and 300 (not a multiple of any tile),
// each on fresh random data, against the reference at rel err < 1e-5.
//
// RUN: moe-run %s --tokens=1 --runs=1 | FileCheck %s
// RUN: moe-run %s --tokens=7 --runs=1 | FileCheck %s
// RUN: moe-run %s --tokens=64 --runs=1 | FileCheck %s
// RUN: moe-run %s --tokens=300 --runs=1 | FileCheck %s

// CHECK: @layer: T={{1|7|64|300}} D=48 F=80 E=6 k=2
// CHECK: check: {{.*}}(tolerance 1.0e-05): PASS

func.func @layer(%x: tensor<?x48xf32>, %wr: tensor<6x48xf32>,
                 %wg: tensor<6x80x48xf32>, %wu: tensor<6x80x48xf32>,
                 %wd: tensor<6x48x80xf32>) -> tensor<?x48xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x48xf32>, tensor<6x48xf32>, tensor<6x80x48xf32>,
          tensor<6x80x48xf32>, tensor<6x48x80xf32>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}
