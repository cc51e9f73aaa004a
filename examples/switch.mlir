// A Switch-Transformer-style MoE layer (switch-base-8 at half width): 8
// experts, top-1 softmax routing, capacity factor 1.25 with GShard's
// position drop policy, ReLU experts (the T5 FFN: wi, wo). switch-base-8
// itself has D = 768 and F = 3072; here D = 384 and F = 1536. Dropped
// assignments contribute zero and are returned as a count. T is dynamic.
//
//   moe-run examples/switch.mlir --tokens=64

func.func @switch_moe(%tokens: tensor<?x384xf32>,
                      %router: tensor<8x384xf32>,
                      %w_in: tensor<8x1536x384xf32>,
                      %w_out: tensor<8x384x1536xf32>)
    -> (tensor<?x384xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %tokens router(%router)
         up(%w_in) down(%w_out) {
         router = #moe.router<k = 1>,
         capacity = #moe.capacity<factor = 1.25>,
         activation = #moe.activation<relu>}
       : (tensor<?x384xf32>, tensor<8x384xf32>, tensor<8x1536x384xf32>,
          tensor<8x384x1536xf32>) -> (tensor<?x384xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x384xf32>, tensor<i64>
}
