// Routing skew and capacity. --hot-expert adds 100 to one expert's router
// bias, so every token picks it first:
//   - dropless: all tokens to one expert, nothing dropped;
//   - a fixed capacity of 3 overflows: the hot expert keeps its first three
//     first choices, everything else sent to it is dropped (and counted);
//   - a capacity factor under random routing.
// Dropped assignments contribute zero; the output and the count match the
// reference.
//
// RUN: moe-run %s --entry=dropless --hot-expert=2 --tokens=40 --runs=1 | FileCheck %s --check-prefix=ONE
// RUN: moe-run %s --entry=fixed --hot-expert=1 --tokens=40 --runs=1 | FileCheck %s --check-prefix=OVERFLOW
// RUN: moe-run %s --entry=fixed --hot-expert=1 --tokens=1 --runs=1 | FileCheck %s --check-prefix=ONETOKEN
// RUN: moe-run %s --entry=factor --tokens=64 --runs=1 | FileCheck %s --check-prefix=FACTOR
// RUN: moe-run %s --entry=factor --tokens=5 --runs=1 | FileCheck %s --check-prefix=FACTOR
// RUN: moe-run %s --entry=fixed_one --tokens=64 --runs=1 | FileCheck %s --check-prefix=ONE_EACH

// ONE: check: {{.*}}, dropped 0 (reference 0): PASS
// ONE-NEXT: kept assignments per expert (reference): [0, 0, 40, 0]
// With k = 2 and 40 tokens the hot expert gets 40 first choices and keeps 3;
// the second choices go to the other experts (capacity 3 each).
// OVERFLOW: check: {{.*}}, dropped [[N:[1-9][0-9]*]] (reference [[N]]): PASS
// OVERFLOW-NEXT: kept assignments per expert (reference): [{{[0-3]}}, 3, {{[0-3]}}, {{[0-3]}}]
// ONETOKEN: check: {{.*}}, dropped 0 (reference 0): PASS
// FACTOR: check: {{.*}}, dropped [[N:[0-9]+]] (reference [[N]]): PASS
// A capacity of 1: each expert keeps its first token; of 64 tokens at least
// 60 are dropped (4 experts), and each kept count is 0 or 1.
// ONE_EACH: check: {{.*}}, dropped [[N:6[0-4]]] (reference [[N]]): PASS
// ONE_EACH-NEXT: kept assignments per expert (reference): [{{[01]}}, {{[01]}}, {{[01]}}, {{[01]}}]

func.func @dropless(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                    %b: tensor<4xf32>, %wu: tensor<4x48x32xf32>,
                    %wd: tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %d = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x48x32xf32>, tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %d : tensor<?x32xf32>, tensor<i64>
}

func.func @fixed(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                 %b: tensor<4xf32>, %wu: tensor<4x48x32xf32>,
                 %wd: tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %d = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<fixed = 3>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4xf32>,
          tensor<4x48x32xf32>, tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %d : tensor<?x32xf32>, tensor<i64>
}

func.func @factor(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                  %wu: tensor<8x48x32xf32>, %wd: tensor<8x32x48xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %d = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<factor = 1.0>,
         activation = #moe.activation<gelu_tanh>}
       : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x48x32xf32>,
          tensor<8x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %d : tensor<?x32xf32>, tensor<i64>
}

func.func @fixed_one(%x: tensor<?x32xf32>, %wr: tensor<4x32xf32>,
                     %wu: tensor<4x48x32xf32>, %wd: tensor<4x32x48xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %d = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<fixed = 1>,
         activation = #moe.activation<relu>}
       : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>,
          tensor<4x32x48xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %d : tensor<?x32xf32>, tensor<i64>
}
