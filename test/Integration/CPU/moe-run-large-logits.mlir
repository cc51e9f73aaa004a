// Softmax stability: one expert's logit is 10^4 above the others (router
// bias), far past where exp overflows in f32. Both softmax orders subtract
// their max first, so the hot expert's weight is exactly 1 or the weights
// of the picks stay finite, and the output matches the reference.
//
// RUN: moe-run %s --entry=softmax_topk --hot-expert=2 --hot-bias=1e4 --tokens=17 --runs=1 | FileCheck %s --check-prefix=HOT
// RUN: moe-run %s --entry=topk_softmax --hot-expert=0 --hot-bias=1e4 --tokens=17 --runs=1 | FileCheck %s --check-prefix=HOT0
// RUN: moe-run %s --entry=topk_softmax --hot-expert=3 --hot-bias=-1e4 --tokens=17 --runs=1 | FileCheck %s --check-prefix=COLD
//
// Infinite logits (docs/Semantics.md): a +inf logit takes the whole weight
// (softmax over all experts or over the picks: inf - inf is never formed),
// a -inf one is never picked; the outputs stay finite and match.
// RUN: moe-run %s --entry=softmax_topk --hot-expert=1 --hot-bias=inf --tokens=9 --runs=1 | FileCheck %s --check-prefix=INF1
// RUN: moe-run %s --entry=topk_softmax --hot-expert=2 --hot-bias=inf --tokens=9 --runs=1 | FileCheck %s --check-prefix=INF2
// RUN: moe-run %s --entry=softmax_topk --hot-expert=0 --hot-bias=-inf --tokens=9 --runs=1 | FileCheck %s --check-prefix=NEGINF

// HOT: check: {{.*}}: PASS
// HOT-NEXT: kept assignments per expert (reference): [{{[0-9]+}}, {{[0-9]+}}, 17, {{[0-9]+}}]
// HOT0: check: {{.*}}: PASS
// HOT0-NEXT: kept assignments per expert (reference): [17, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}]
// A logit 10^4 below the others is never picked.
// COLD: check: {{.*}}: PASS
// COLD-NEXT: kept assignments per expert (reference): [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, 0]
// INF1: check: {{.*}}: PASS
// INF1-NEXT: kept assignments per expert (reference): [{{[0-9]+}}, 9, {{[0-9]+}}, {{[0-9]+}}]
// INF2: check: {{.*}}: PASS
// INF2-NEXT: kept assignments per expert (reference): [{{[0-9]+}}, {{[0-9]+}}, 9, {{[0-9]+}}]
// NEGINF: check: {{.*}}: PASS
// NEGINF-NEXT: kept assignments per expert (reference): [0, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}]

func.func @softmax_topk(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                        %b: tensor<4xf32>, %wu: tensor<4x24x16xf32>,
                        %wd: tensor<4x16x24xf32>) -> tensor<?x16xf32> {
  %y = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>,
          tensor<4x24x16xf32>, tensor<4x16x24xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

func.func @topk_softmax(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                        %b: tensor<4xf32>, %wu: tensor<4x24x16xf32>,
                        %wd: tensor<4x16x24xf32>) -> tensor<?x16xf32> {
  %y = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2, order = topk_softmax, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<silu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>,
          tensor<4x24x16xf32>, tensor<4x16x24xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
