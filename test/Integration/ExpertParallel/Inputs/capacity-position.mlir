// A top-2 layer with a fixed capacity of 3 per expert under the position
// policy: at T = 24 on 2 or 4 ranks most experts overflow, and which
// assignments an expert keeps depends on every rank's tokens (all first
// choices in global token order, then the second choices).
func.func @position(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>,
                    %wg: tensor<8x64x32xf32>, %wu: tensor<8x64x32xf32>,
                    %wd: tensor<8x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>) {
  %y, %dropped = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
      activation = #moe.activation<swiglu>,
      capacity = #moe.capacity<fixed = 3>,
      router = #moe.router<k = 2, order = topk_softmax>}
    : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x64x32xf32>,
       tensor<8x64x32xf32>, tensor<8x32x64xf32>) -> (tensor<?x32xf32>, tensor<i64>)
  return %y, %dropped : tensor<?x32xf32>, tensor<i64>
}
