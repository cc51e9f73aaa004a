// A top-1 layer with a router bias, so that --hot-expert can send every
// token to one expert: under expert parallelism every other rank's tokens
// all go elsewhere, and all but one expert get no token at all.
func.func @top1(%x: tensor<?x32xf32>, %wr: tensor<8x32xf32>, %br: tensor<8xf32>,
                %wu: tensor<8x64x32xf32>, %wd: tensor<8x32x64xf32>)
    -> tensor<?x32xf32> {
  %y = moe.layer %x router(%wr) bias(%br) up(%wu) down(%wd) {
      activation = #moe.activation<gelu>, capacity = #moe.capacity<dropless>,
      router = #moe.router<k = 1>}
    : (tensor<?x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8x64x32xf32>,
       tensor<8x32x64xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
