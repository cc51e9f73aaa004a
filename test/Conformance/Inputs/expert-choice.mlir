// Expert-choice routing (Zhou et al. 2022), for hf_conformance.py
// expert-choice: E = 16 experts, k = 2 experts per token on average (each
// expert takes ceil(2 T / 16) tokens), SwiGLU experts, D = 48, F = 32.
func.func @expert_choice(%x: tensor<?x48xf32>, %wr: tensor<16x48xf32>,
                         %wg: tensor<16x32x48xf32>, %wu: tensor<16x32x48xf32>,
                         %wd: tensor<16x48x32xf32>) -> tensor<?x48xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 2, choice = expert>}
       : (tensor<?x48xf32>, tensor<16x48xf32>, tensor<16x32x48xf32>,
          tensor<16x32x48xf32>, tensor<16x48x32xf32>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}
