// bf16 and f16 layers: moe-run rounds the random inputs to the layer's type,
// and the reference rounds where the compiled layer does (the hidden state,
// each expert's output rows, the routed sum before the shared experts, the
// output), so the check is within a few units in the last place (default
// tolerance 1e-2 for bf16, 2e-3 for f16). Model families with shared experts
// (and Qwen2's sigmoid gate), expert biases and the clamped SwiGLU, input-side
// weights and capacity drops.
//
// RUN: moe-run %s --entry=small_bf16 --tokens=1 --runs=1 | FileCheck %s --check-prefix=BF16
// RUN: moe-run %s --entry=small_bf16 --tokens=37 --runs=1 | FileCheck %s --check-prefix=BF16
// RUN: moe-run %s --entry=small_f16 --tokens=29 --runs=1 | FileCheck %s --check-prefix=F16
// RUN: moe-preset deepseek-v3 --scale-down=64 --dtype=bf16 > %t.dsv3.mlir
// RUN: moe-run %t.dsv3.mlir --tokens=37 --runs=1 | FileCheck %s --check-prefix=BF16
// RUN: moe-preset qwen2-moe --scale-down=64 --dtype=f16 > %t.qwen2.mlir
// RUN: moe-run %t.qwen2.mlir --tokens=37 --runs=1 | FileCheck %s --check-prefix=F16
// RUN: moe-preset gpt-oss-20b --scale-down=64 --dtype=bf16 > %t.gptoss.mlir
// RUN: moe-run %t.gptoss.mlir --tokens=13 --runs=1 | FileCheck %s --check-prefix=BF16
// RUN: moe-preset llama4-scout --scale-down=64 --dtype=f16 > %t.llama4.mlir
// RUN: moe-run %t.llama4.mlir --tokens=13 --runs=1 | FileCheck %s --check-prefix=F16
// RUN: moe-preset switch-base-8 --scale-down=64 --dtype=bf16 --tokens=40 > %t.switch.mlir
// RUN: moe-run %t.switch.mlir --runs=1 | FileCheck %s --check-prefixes=BF16,DROPS
//
// Overflow in the activation: tokens scaled up until silu(g) * u passes the
// type's largest value (65504 for f16, about 3.39e38 for bf16) for some
// tokens. The hidden state rounds to inf there, those tokens' outputs are
// non-finite in the compiled layer exactly where they are in the reference,
// and every other token stays finite and matches: nothing leaks between
// tokens.
// The scales keep some tokens finite and some not on every seed: measured
// over 50 seeds, 17 to 29 of 37 tokens overflow at f16 x370 (x300 left
// none on 2 of 60 seeds), 8 to 20 over 40 seeds at bf16 x2.5e19.
// RUN: moe-preset mixtral-8x7b --scale-down=64 --dtype=f16 > %t.mixtral16.mlir
// RUN: moe-run %t.mixtral16.mlir --tokens=37 --token-scale=370 --runs=1 | FileCheck %s --check-prefixes=F16,OVERFLOW
// RUN: moe-preset mixtral-8x7b --scale-down=64 --dtype=bf16 > %t.mixtralbf.mlir
// RUN: moe-run %t.mixtralbf.mlir --tokens=37 --token-scale=2.5e19 --runs=1 | FileCheck %s --check-prefixes=BF16,OVERFLOW

// BF16: T={{[0-9]+}} D={{[0-9]+}} F={{[0-9]+}} E={{[0-9]+}} k={{[0-9]+}} bf16, seed=
// BF16: check: {{.*}} (tolerance 1.0e-02)
// F16: T={{[0-9]+}} D={{[0-9]+}} F={{[0-9]+}} E={{[0-9]+}} k={{[0-9]+}} f16, seed=
// F16: check: {{.*}} (tolerance 2.0e-03)
// DROPS-SAME: dropped {{[0-9]+}} (reference {{[0-9]+}})
// OVERFLOW-SAME: non-finite outputs in {{([1-9]|[12][0-9]|3[0-6])}} of 37 tokens (where the reference has them)
// BF16-SAME: : PASS
// F16-SAME: : PASS

func.func @small_bf16(%x: tensor<?x48xbf16>, %wr: tensor<6x48xbf16>,
                      %wg: tensor<6x40x48xbf16>, %wu: tensor<6x40x48xbf16>,
                      %wd: tensor<6x48x40xbf16>) -> tensor<?x48xbf16> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x48xbf16>, tensor<6x48xbf16>, tensor<6x40x48xbf16>,
          tensor<6x40x48xbf16>, tensor<6x48x40xbf16>) -> tensor<?x48xbf16>
  return %y : tensor<?x48xbf16>
}

func.func @small_f16(%x: tensor<?x48xf16>, %wr: tensor<6x48xf16>,
                     %wu: tensor<6x40x48xf16>, %wd: tensor<6x48x40xf16>)
    -> tensor<?x48xf16> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 3>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<gelu>}
       : (tensor<?x48xf16>, tensor<6x48xf16>, tensor<6x40x48xf16>,
          tensor<6x48x40xf16>) -> tensor<?x48xf16>
  return %y : tensor<?x48xf16>
}
