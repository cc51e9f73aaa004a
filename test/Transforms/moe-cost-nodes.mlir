// RUN: moe-opt %s --moe-cost="ep-ranks=8 ranks-per-node=2 node-limit=2 tokens=10" -o /dev/null | FileCheck %s --check-prefix=LIMIT
// RUN: moe-opt %s --moe-cost="ep-ranks=8 ranks-per-node=2 tokens=10" -o /dev/null | FileCheck %s --check-prefix=FREE
// RUN: moe-opt %s --moe-cost="format=json ep-ranks=8 ranks-per-node=2 node-limit=2" -o /dev/null | FileCheck %s --check-prefix=JSON
// RUN: moe-opt %s --moe-cost -o /dev/null | FileCheck %s --check-prefix=NONE
// RUN: not moe-opt %s --moe-cost="ep-ranks=8 ranks-per-node=3" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not moe-opt %s --moe-cost="node-limit=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEEDS

// The All-to-All between nodes: E = 16 experts, k = 4, D = 8 f32 (a row is
// 32 bytes) on 8 ranks, 2 per node: 4 nodes of 4 experts.
// With each token on at most 2 nodes: a chosen node is unused when all 4
// experts fall on the other (C(4, 4) / C(8, 4) = 1/70), so 2 * 69/70 =
// 1.971 nodes per token; 3/4 of them remote (1.479), each crossed once:
// 47.314 bytes each way, 946.286 for 10 tokens.
// LIMIT: between nodes (4 nodes of 2 ranks, each token on at most 2 nodes, one copy per remote node):
// LIMIT-NEXT: nodes per token: 1.971 (1.479 remote)
// LIMIT-NEXT: dispatch bytes per token: 47.314
// LIMIT-NEXT: bytes per token: 94.629
// LIMIT-NEXT: bytes for tokens=10: 946.286
// Without the limit, over all 4 nodes: 4 * (1 - C(12, 4) / C(16, 4)) =
// 2.912 nodes, 2.184 remote.
// FREE: between nodes (4 nodes of 2 ranks, one copy per remote node):
// FREE-NEXT: nodes per token: 2.912 (2.184 remote)
// JSON: "between_nodes": {
// JSON-NEXT: "ranks_per_node": 2,
// JSON-NEXT: "nodes": 4,
// JSON-NEXT: "node_limit": 2,
// JSON-NEXT: "nodes_per_token": 1.971,
// JSON-NEXT: "remote_nodes_per_token": 1.479,
// JSON-NEXT: "dispatch_bytes_per_token": 47.314,
// NONE-NOT: between nodes
// DIVIDE: error: moe-cost: ranks-per-node must divide ep-ranks (8), got 3
// NEEDS: error: moe-cost: node-limit (2) needs ranks-per-node
func.func @layer(%x: tensor<?x8xf32>, %wr: tensor<16x8xf32>,
                 %wu: tensor<16x4x8xf32>, %wd: tensor<16x8x4xf32>)
    -> tensor<?x8xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 4>}
    : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16x4x8xf32>,
       tensor<16x8x4xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
