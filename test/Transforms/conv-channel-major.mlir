// One thread: the functions' weights are named in the order they are
// processed (conv_0.im2col, conv_0.im2col_1), which threads would race for.
// RUN: qc-opt %s --mlir-disable-threading --pass-pipeline='builtin.module(func.func(qc-raise-linear{convs=1},qc-conv-channel-major{min-pixels=16}))' | FileCheck %s
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-raise-linear{convs=1},qc-conv-channel-major))' | FileCheck %s --check-prefix=DEFAULT

// A padded-input 3x3 convolution with 16 output pixels: the gather's loops
// become (n, c, i, j, oh, ow), the filter [F, C * 3 * 3] multiplies it from
// the left, accumulating into the init collapsed to [F, OH * OW], and the
// product is the NCHW result (no transposing generic, no qc.linear left).
// The gather reads x[n, c, oh + i, ow + j]: loops (n, c, i, j, oh, ow).
// CHECK: #[[READ:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
// CHECK-LABEL: func.func @conv3x3
// CHECK-NOT: qc.linear
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[READ]], #{{.*}}]{{.*}} ins(%arg0 : tensor<1x2x6x6xf32>) outs(%{{.*}} : tensor<1x2x3x3x4x4xf32>)
// CHECK: %[[COLS:.*]] = tensor.collapse_shape %[[G]] {{\[}}[0, 1, 2, 3], [4, 5]] : tensor<1x2x3x3x4x4xf32> into tensor<18x16xf32>
// CHECK: %[[ROWS:.*]] = arith.constant dense_resource<c.rows> : tensor<4x18xf32>
// CHECK: %[[ACC:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2, 3]] : tensor<1x4x4x4xf32> into tensor<4x16xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[ROWS]], %[[COLS]] : tensor<4x18xf32>, tensor<18x16xf32>) outs(%[[ACC]] : tensor<4x16xf32>)
// CHECK: %[[OUT:.*]] = tensor.expand_shape %[[P]] {{\[}}[0, 1], [2, 3]] output_shape [1, 4, 4, 4] : tensor<4x16xf32> into tensor<1x4x4x4xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[OUT]]
// Below the default threshold (128 pixels) the layer stays pixel-major.
// DEFAULT-LABEL: func.func @conv3x3
// DEFAULT: qc.linear
func.func @conv3x3(%x: tensor<1x2x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.5, 2.5, 3.5], [4.5, 5.5, 6.5], [7.5, 8.5, 9.5]]], [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], [[1.1, 1.2, 1.3], [1.4, 1.5, 1.6], [1.7, 1.8, 1.9]]], [[[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0], [-7.0, -8.0, -9.0]], [[2.0, 0.0, 2.0], [0.0, 2.0, 0.0], [2.0, 0.0, 2.0]]], [[[3.0, 3.0, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [[0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [0.125, 0.125, 0.125]]]]> : tensor<4x2x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%init : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> loc("c")
  return %y : tensor<1x4x4x4xf32>
}

// A 1x1 convolution with unit strides reads its input as the columns.
// CHECK-LABEL: func.func @conv1x1
// CHECK-NOT: linalg.generic
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2, 3]] : tensor<1x3x4x4xf32> into tensor<3x16xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %[[X]] : tensor<2x3xf32>, tensor<3x16xf32>)
func.func @conv1x1(%x: tensor<1x3x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]]], [[[-1.0]], [[0.5]], [[0.25]]]]> : tensor<2x3x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>) outs(%init : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// A strided 1x1 convolution gathers (every other pixel), and a batch of two
// stays pixel-major.
// CHECK-LABEL: func.func @strided_and_batched
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<1x3x8x8xf32>) outs(%{{.*}} : tensor<1x3x1x1x4x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x16xf32>)
// CHECK: qc.linear
func.func @strided_and_batched(%x: tensor<1x3x8x8xf32>, %x2: tensor<2x3x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<2x2x4x4xf32>) {
  %w = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]]], [[[-1.0]], [[0.5]], [[0.25]]]]> : tensor<2x3x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x3x8x8xf32>, tensor<2x3x1x1xf32>) outs(%init : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e2 = tensor.empty() : tensor<2x2x4x4xf32>
  %init2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %y2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x2, %w : tensor<2x3x4x4xf32>, tensor<2x3x1x1xf32>) outs(%init2 : tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  return %y, %y2 : tensor<1x2x4x4xf32>, tensor<2x2x4x4xf32>
}

// A per-channel bias (the importer's broadcast of [F, 1, 1] into the NCHW
// init) is broadcast straight into the [F, P] accumulator, which register
// tiles can compute a tile of (qc-tile-and-vectorize); the NCHW broadcast
// goes.
// CHECK-LABEL: func.func @conv_bias
// CHECK-NOT: linalg.generic
// CHECK: %[[B:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : tensor<2x1x1xf32> into tensor<2xf32>
// CHECK: %[[ACC:.*]] = linalg.broadcast ins(%[[B]] : tensor<2xf32>) outs(%{{.*}} : tensor<2x16xf32>) dimensions = [1]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x16xf32>) outs(%[[ACC]] : tensor<2x16xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @conv_bias(%x: tensor<1x3x4x4xf32>, %b: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]]], [[[-1.0]], [[0.5]], [[0.25]]]]> : tensor<2x3x1x1xf32>
  %bb = tensor.expand_shape %b [[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bb : tensor<2x1x1xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>) outs(%init : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// The [K, F] weights of the rewritten layers are gone, not outlined unused.
// CHECK: dialect_resources
// CHECK-NOT: c.im2col
// CHECK-NOT: conv_0.im2col:
