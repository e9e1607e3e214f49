// One thread: the weights are named in the order the layers are processed.
// RUN: qc-opt %s --mlir-disable-threading --pass-pipeline='builtin.module(func.func(qc-raise-linear{convs=1},qc-im2col-nhwc{min-channels=2}))' | FileCheck %s --check-prefix=FLOAT
// RUN: qc-opt %s --mlir-disable-threading --pass-pipeline='builtin.module(func.func(qc-raise-linear{convs=1}),qc-quantize{scheme=w8 act=int8t overrides=g=w4g32},func.func(qc-im2col-nhwc))' | FileCheck %s --check-prefix=QUANT

// A padded 2x2 convolution of 2 channels: the image (not the padded one) is
// transposed to NHWC, padded there, and the rows are gathered (i, j, c) from
// it; the weight rows w[c, i, j] = 1 + 4c + 2i + j follow: 1, 5, 2, 6, 3, 7,
// 4, 8 (f32 bits in the blob below).
// FLOAT: #[[T:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// FLOAT: #[[READ:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d3, d2 * 2 + d4, d5)>
// FLOAT-LABEL: func.func @padded
// FLOAT: %[[X:.*]] = linalg.generic {indexing_maps = [#[[T]], #{{.*}}]{{.*}} ins(%arg0 : tensor<1x2x3x3xf32>) outs(%{{.*}} : tensor<1x3x3x2xf32>)
// FLOAT: %[[P:.*]] = tensor.pad %[[X]] low[0, 1, 1, 0] high[0, 0, 0, 0]
// FLOAT: } : tensor<1x3x3x2xf32> to tensor<1x4x4x2xf32>
// FLOAT: %[[G:.*]] = linalg.generic {indexing_maps = [#[[READ]], #{{.*}}]{{.*}} ins(%[[P]] : tensor<1x4x4x2xf32>) outs(%{{.*}} : tensor<1x2x2x2x2x2xf32>)
// FLOAT: %[[COLS:.*]] = tensor.collapse_shape %[[G]] {{\[}}[0], [1], [2], [3, 4, 5]] : tensor<1x2x2x2x2x2xf32> into tensor<1x2x2x8xf32>
// FLOAT: %[[W:.*]] = arith.constant dense_resource<c.nhwc> : tensor<8x1xf32>
// FLOAT: qc.linear %[[COLS]], %[[W]] layer "c"
// FLOAT-NOT: tensor<1x2x4x4xf32>
func.func @padded(%x: tensor<1x2x3x3xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]]> : tensor<1x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x2x3x3xf32> to tensor<1x2x4x4xf32>
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%p, %w : tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) outs(%init : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> loc("c")
  return %y : tensor<1x1x2x2xf32>
}

// A pad whose value is a constant inside its region: the NHWC pad yields a
// copy of it.
// FLOAT-LABEL: func.func @inner_constant
// FLOAT: tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// FLOAT: tensor.yield %{{.*}} : f32
// FLOAT: } : tensor<1x3x3x2xf32> to tensor<1x5x5x2xf32>
// The resource blobs come last: @padded's weight rows, permuted.
// FLOAT: c.nhwc: "0x080000000000803F0000A040000000400000C040000040400000E0400000804000000041"
func.func @inner_constant(%x: tensor<1x2x3x3xf32>) -> tensor<1x1x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<1x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    %v = arith.constant 0.5 : f32
    tensor.yield %v : f32
  } : tensor<1x2x3x3xf32> to tensor<1x2x5x5xf32>
  %e = tensor.empty() : tensor<1x1x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x2x5x5xf32>, tensor<1x2x2x2xf32>) outs(%init : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> loc("ic")
  return %y : tensor<1x1x4x4xf32>
}

// Quantized layers: w8 per output channel with int8 per-token activations
// ("q") gathers from NHWC; w4 in groups of 32 rows ("g": the permutation
// would regroup the rows) and a 3-channel input ("rgb": below
// min-channels=16) keep the NCHW gather, (c, i, j) innermost.
// QUANT-DAG: #[[T:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// QUANT-DAG: #[[READ:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>
// QUANT-DAG: #[[NCHW:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 + d4, d2 + d5)>
// QUANT-LABEL: func.func @quantized
// QUANT: %[[X:.*]] = linalg.generic {indexing_maps = [#[[T]], #{{.*}}]{{.*}} ins(%arg0 : tensor<1x16x4x4xf32>) outs(%{{.*}} : tensor<1x4x4x16xf32>)
// QUANT: %[[G:.*]] = linalg.generic {indexing_maps = [#[[READ]], #{{.*}}]{{.*}} ins(%[[X]] : tensor<1x4x4x16xf32>) outs(%{{.*}} : tensor<1x2x2x3x3x16xf32>)
// QUANT: %[[CODES:.*]] = arith.constant dense_resource<q.nhwc> : tensor<144x4xi8>
// QUANT: qc.qlinear %{{.*}}, %[[CODES]], {{.*}} layer "q"
// QUANT: linalg.generic {indexing_maps = [#[[NCHW]], #{{.*}}]{{.*}} ins(%arg0 : tensor<1x16x4x4xf32>) outs(%{{.*}} : tensor<1x2x2x16x3x3xf32>)
// QUANT: qc.qlinear {{.*}} scheme #qc.uniform<bits = 4, group = 32{{.*}} layer "g"
// QUANT: linalg.generic {indexing_maps = [#[[NCHW]], #{{.*}}]{{.*}} ins(%arg1 : tensor<1x3x4x4xf32>) outs(%{{.*}} : tensor<1x2x2x3x3x3xf32>)
// QUANT: qc.qlinear {{.*}} layer "rgb"
func.func @quantized(%x: tensor<1x16x4x4xf32>, %x3: tensor<1x3x4x4xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x16x3x3xf32>
  %w3 = arith.constant dense<0.25> : tensor<4x3x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x16x4x4xf32>, tensor<4x16x3x3xf32>) outs(%init : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> loc("q")
  %y2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x16x4x4xf32>, tensor<4x16x3x3xf32>) outs(%init : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> loc("g")
  %y3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x3, %w3 : tensor<1x3x4x4xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> loc("rgb")
  return %y, %y2, %y3 : tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>
}
