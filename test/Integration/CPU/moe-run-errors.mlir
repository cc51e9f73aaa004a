// moe-run says what is wrong, with a non-zero exit and no crash.
//
// RUN: not moe-run %s --runs=1 2>&1 | FileCheck %s --check-prefix=SEVERAL
// RUN: not moe-run %s --entry=missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not moe-run %s --entry=static --tokens=5 2>&1 | FileCheck %s --check-prefix=TOKENS
// RUN: not moe-run %s --entry=static --target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not moe-run %s --entry=static --seed=abc 2>&1 | FileCheck %s --check-prefix=SEED
// RUN: not moe-run %s --entry=computed 2>&1 | FileCheck %s --check-prefix=COMPUTED
// RUN: not moe-run %s --entry=static --hot-expert=1 2>&1 | FileCheck %s --check-prefix=HOT
// RUN: not moe-run %S/missing-file.mlir 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not moe-run %s --entry=static --rtol=0 --runs=1 | FileCheck %s --check-prefix=MISMATCH

// SEVERAL: error: several moe.layer ops: choose one function with --entry=NAME
// MISSING: error: no function 'missing' computing a moe.layer
// TOKENS: error: --tokens=5 but the layer's T is 9
// TARGET: error: --target=tpu is not supported (supported: cpu)
// SEED: error: --seed must be an unsigned integer, got 'abc'
// COMPUTED: error: moe-run needs every argument of @computed to be an operand of its moe.layer
// HOT: error: --hot-expert needs a layer with a router bias
// NOFILE: error: cannot open input file
// A zero tolerance cannot be met by f32 against the f64 reference.
// MISMATCH: check: {{.*}}: FAIL

func.func @static(%x: tensor<9x16xf32>, %wr: tensor<2x16xf32>,
                  %wu: tensor<2x8x16xf32>, %wd: tensor<2x16x8xf32>)
    -> tensor<9x16xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<9x16xf32>, tensor<2x16xf32>, tensor<2x8x16xf32>,
          tensor<2x16x8xf32>) -> tensor<9x16xf32>
  return %y : tensor<9x16xf32>
}

func.func @computed(%x: tensor<9x16xf32>, %wr: tensor<2x16xf32>,
                    %wu: tensor<2x8x16xf32>, %wd: tensor<2x16x8xf32>,
                    %scale: f32) -> tensor<9x16xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<9x16xf32>, tensor<2x16xf32>, tensor<2x8x16xf32>,
          tensor<2x16x8xf32>) -> tensor<9x16xf32>
  return %y : tensor<9x16xf32>
}
