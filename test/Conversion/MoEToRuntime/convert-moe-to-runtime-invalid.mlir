// RUN: moe-opt %s --convert-moe-to-runtime --split-input-file --verify-diagnostics

// The runtime moves whole bytes.
func.func @bits(%flags: tensor<?xi1>, %counts: tensor<2xi64>) -> tensor<?xi1> {
  // expected-error @+1 {{cannot be lowered: the runtime moves whole bytes, and 'i1' is not a type of whole bytes}}
  %r, %c = moe.all_to_all %flags, %counts
    : (tensor<?xi1>, tensor<2xi64>) -> (tensor<?xi1>, tensor<2xi64>)
  return %r : tensor<?xi1>
}

// -----

// A function of the runtime's name with another type.
func.func private @moe_rt_layer_exchange_counts(i32)

func.func @clash(%rows: tensor<?x4xf32>, %counts: tensor<2xi64>)
    -> tensor<?x4xf32> {
  // expected-error @+1 {{cannot be lowered: the module already has a @moe_rt_layer_exchange_counts of type '(i32) -> ()', the runtime's is '(i64, i64, i64) -> ()'}}
  %r, %c = moe.all_to_all %rows, %counts
    : (tensor<?x4xf32>, tensor<2xi64>) -> (tensor<?x4xf32>, tensor<2xi64>)
  return %r : tensor<?x4xf32>
}
