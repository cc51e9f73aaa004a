// A top-2 layer with a fixed capacity of 3 per expert under the probability
// policy (the largest gate weights stay, ties in the global position
// order), dropped assignments passed through (the token times its weight).
func.func @probability(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                       %wu: tensor<8x64x32xf32>, %wd: tensor<8x32x64xf32>)
    -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) up(%wu) down(%wd) {
      activation = #moe.activation<gelu>,
      capacity = #moe.capacity<fixed = 3, drop = probability, dropped = identity>,
      router = #moe.router<k = 2, renormalize = true>}
    : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x64x32xf32>,
       tensor<8x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}
