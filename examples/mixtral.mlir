// A Mixtral-8x7B-style MoE layer at 1/8 width: 8 experts, top-2 of the
// router logits with a softmax over the two (topk_softmax), renormalized,
// SwiGLU experts, no capacity limit. Mixtral-8x7B itself has D = 4096 and
// F = 14336; here D = 512 and F = 1792. T is dynamic.
//
//   moe-run examples/mixtral.mlir --tokens=64

func.func @mixtral_moe(%tokens: tensor<?x512xf32>,
                       %router: tensor<8x512xf32>,
                       %w_gate: tensor<8x1792x512xf32>,
                       %w_up: tensor<8x1792x512xf32>,
                       %w_down: tensor<8x512x1792xf32>) -> tensor<?x512xf32> {
  %y = moe.layer %tokens router(%router)
         gate(%w_gate) up(%w_up) down(%w_down) {
         router = #moe.router<k = 2, order = topk_softmax, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x512xf32>, tensor<8x512xf32>, tensor<8x1792x512xf32>,
          tensor<8x1792x512xf32>, tensor<8x512x1792xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}
