// Two tokens that tie for expert 2 under the probability policy with one
// slot: the first token takes it as its second choice, the second token as
// its first, with the same gate weight (0.5 each, renormalised). The
// single-rank layer keeps the second token's assignment (first choices
// come first); so must a layer whose two tokens are on two ranks, where
// expert 2's owner receives the first token's row first. write-ties.py
// writes the inputs.
func.func @ties(%x: tensor<?x8xf32>, %wr: tensor<8x8xf32>,
                %wu: tensor<8x8x8xf32>, %wd: tensor<8x8x8xf32>)
    -> (tensor<?x8xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<relu>,
      capacity = #moe.capacity<fixed = 1, drop = probability>,
      router = #moe.router<k = 2, renormalize = true>}
    : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<8x8x8xf32>,
       tensor<8x8x8xf32>) -> (tensor<?x8xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x8xf32>, tensor<i64>
}
