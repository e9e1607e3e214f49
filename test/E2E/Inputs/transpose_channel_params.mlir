// A per-channel normalization (batch norm and SiLU, as PP-OCRv4's
// recognizer has it) of an image of height 1 read transposed: [1, 1, 40, 120]
// (pixels, channels) -> [1, 120, 1, 40]. Its parameters are [120, 1, 1],
// read (c, h, 0) with h a loop of one iteration. Used by
// test/E2E/transpose-channel-params.test.
#x = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>
#p = affine_map<(d0, d1, d2, d3) -> (d1, d2, 0)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @main(%x: tensor<1x1x40x120xf32> {qc.name = "x", qc.dtype = "f32"}, %s: tensor<120x1x1xf32> {qc.name = "s", qc.dtype = "f32"}, %b: tensor<120x1x1xf32> {qc.name = "b", qc.dtype = "f32"}, %m: tensor<120x1x1xf32> {qc.name = "m", qc.dtype = "f32"}, %v: tensor<120x1x1xf32> {qc.name = "v", qc.dtype = "f32"}) -> (tensor<1x120x1x40xf32> {qc.name = "y", qc.dtype = "f32"}) {
  %c0 = arith.constant 0.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x120x1x40xf32>
  %r = linalg.generic {indexing_maps = [#x, #p, #p, #p, #p, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %s, %b, %m, %v : tensor<1x1x40x120xf32>, tensor<120x1x1xf32>, tensor<120x1x1xf32>, tensor<120x1x1xf32>, tensor<120x1x1xf32>) outs(%e : tensor<1x120x1x40xf32>) {
  ^bb0(%in: f32, %in_1011: f32, %in_1012: f32, %in_1013: f32, %in_1014: f32, %out: f32):
    %378 = arith.addf %in, %c0 : f32
    %379 = arith.addf %in_1014, %eps : f32
    %380 = math.sqrt %379 : f32
    %381 = arith.subf %378, %in_1013 : f32
    %382 = arith.divf %381, %380 : f32
    %383 = arith.mulf %382, %in_1011 : f32
    %384 = arith.addf %383, %in_1012 : f32
    %385 = arith.negf %384 : f32
    %386 = math.exp %385 : f32
    %387 = arith.addf %386, %one : f32
    %388 = arith.divf %one, %387 : f32
    %389 = arith.mulf %384, %388 : f32
    linalg.yield %389 : f32
  } -> tensor<1x120x1x40xf32>
  return %r : tensor<1x120x1x40xf32>
}
