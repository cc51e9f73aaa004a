// A fine-grained MoE layer (many small experts, as in DeepSeek or Qwen3-MoE)
// at 1/4 width: 64 experts of width 256, top-6, SwiGLU.
func.func @fine_grained(%x: tensor<?x512xf32>, %wr: tensor<64x512xf32>,
                        %wg: tensor<64x256x512xf32>, %wu: tensor<64x256x512xf32>,
                        %wd: tensor<64x512x256xf32>) -> tensor<?x512xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 6, order = topk_softmax, renormalize = true>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x512xf32>, tensor<64x512xf32>, tensor<64x256x512xf32>,
          tensor<64x256x512xf32>, tensor<64x512x256xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}
