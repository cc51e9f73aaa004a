// T = 0: an empty batch (under expert parallelism, a rank that receives no
// tokens) compiles, runs and gives an empty output, a dropped count of 0 and
// zero statistics, for every routing and capacity variant; the .npy files of
// zero rows that --dump writes read back through --inputs and --expect.
//
// RUN: moe-run %s --entry=static_empty --runs=1 | FileCheck %s --check-prefix=STATIC
// RUN: moe-run %S/../../../examples/mixtral.mlir --tokens=0 --runs=1 --dump=%t.dump | FileCheck %s --check-prefixes=CHECK,DUMP
// RUN: moe-run %S/../../../examples/mixtral.mlir --inputs=%t.dump --expect=%t.dump/reference.npy --runs=1 | FileCheck %s --check-prefixes=CHECK,EXPECT
// RUN: moe-run %S/moe-run-probability-drops.mlir --entry=probability --tokens=0 --runs=1 | FileCheck %s --check-prefixes=CHECK,DROPS
// RUN: moe-run %S/moe-run-probability-drops.mlir --entry=expert_choice --tokens=0 --runs=1 | FileCheck %s
// RUN: moe-preset switch-base-8 --scale-down=64 --statistics > %t.switch.mlir
// RUN: moe-run %t.switch.mlir --tokens=0 --runs=1 | FileCheck %s --check-prefixes=CHECK,DROPS,STATS
// RUN: moe-preset deepseek-v3 --scale-down=64 --statistics > %t.dsv3.mlir
// RUN: moe-run %t.dsv3.mlir --tokens=0 --runs=1 | FileCheck %s --check-prefixes=CHECK,STATS
// RUN: moe-preset qwen2-moe --scale-down=64 > %t.qwen2.mlir
// RUN: moe-run %t.qwen2.mlir --tokens=0 --runs=1 | FileCheck %s
// RUN: moe-preset gpt-oss-20b --scale-down=64 > %t.gptoss.mlir
// RUN: moe-run %t.gptoss.mlir --tokens=0 --runs=1 | FileCheck %s
// RUN: moe-preset llama4-scout --scale-down=64 > %t.llama4.mlir
// RUN: moe-run %t.llama4.mlir --tokens=0 --runs=1 | FileCheck %s
// RUN: not moe-run %S/../../../examples/mixtral.mlir --tokens=-1 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// STATIC: @static_empty: T=0 D=32
// STATIC: check: max abs err 0.000e+00, rel err 0.000e+00 (tolerance {{.*}}): PASS
// STATIC: kept assignments per expert (reference): [0, 0, 0]
// DUMP: dump: 5 inputs and the reference
// CHECK: check: max abs err 0.000e+00, rel err 0.000e+00
// DROPS-SAME: dropped 0 (reference 0)
// EXPECT-SAME: compiled rel err 0.000e+00, reference rel err 0.000e+00
// CHECK-SAME: : PASS
// STATS: statistics: expert counts {{\[0, 0, 0, 0, 0, 0, 0, 0\]|\(0 of 256 experts used, at most 0\)}} as the reference, aux loss 0.00000000e+00 (reference 0.00000000e+00), z-loss 0.00000000e+00 (reference 0.00000000e+00): PASS
// NEGATIVE: --tokens must be at least 0

func.func @static_empty(%x: tensor<0x32xf32>, %wr: tensor<3x32xf32>,
                        %wg: tensor<3x48x32xf32>, %wu: tensor<3x48x32xf32>,
                        %wd: tensor<3x32x48xf32>) -> tensor<0x32xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<0x32xf32>, tensor<3x32xf32>, tensor<3x48x32xf32>,
          tensor<3x48x32xf32>, tensor<3x32x48xf32>) -> tensor<0x32xf32>
  return %y : tensor<0x32xf32>
}
