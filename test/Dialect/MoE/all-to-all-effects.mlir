// RUN: moe-opt %s --canonicalize --cse | FileCheck %s

// An exchange is a collective: the other ranks take part whether or not
// this one uses the result, so canonicalization and CSE neither drop an
// unused one nor merge two identical ones. With one rank it is the
// identity and folds away.

// CHECK-LABEL: func.func @kept
// CHECK-COUNT-2: moe.all_to_all
// CHECK-NOT: moe.all_to_all
func.func @kept(%rows: tensor<?x8xf32>, %c: tensor<2xi64>) {
  %a, %ac = moe.all_to_all %rows, %c
    : (tensor<?x8xf32>, tensor<2xi64>) -> (tensor<?x8xf32>, tensor<2xi64>)
  %b, %bc = moe.all_to_all %rows, %c
    : (tensor<?x8xf32>, tensor<2xi64>) -> (tensor<?x8xf32>, tensor<2xi64>)
  return
}

// CHECK-LABEL: func.func @one_rank
// CHECK-SAME: (%[[ROWS:.*]]: tensor<?x8xf32>, %[[C:.*]]: tensor<1xi64>)
// CHECK-NOT: moe.all_to_all
// CHECK: return %[[ROWS]], %[[C]]
func.func @one_rank(%rows: tensor<?x8xf32>, %c: tensor<1xi64>)
    -> (tensor<?x8xf32>, tensor<1xi64>) {
  %a, %ac = moe.all_to_all %rows, %c
    : (tensor<?x8xf32>, tensor<1xi64>) -> (tensor<?x8xf32>, tensor<1xi64>)
  return %a, %ac : tensor<?x8xf32>, tensor<1xi64>
}

// A static row count that the exchange changes to a dynamic one stays.
// CHECK-LABEL: func.func @one_rank_retyped
// CHECK: moe.all_to_all
func.func @one_rank_retyped(%rows: tensor<3x8xf32>, %c: tensor<1xi64>)
    -> tensor<?x8xf32> {
  %a, %ac = moe.all_to_all %rows, %c
    : (tensor<3x8xf32>, tensor<1xi64>) -> (tensor<?x8xf32>, tensor<1xi64>)
  return %a : tensor<?x8xf32>
}
