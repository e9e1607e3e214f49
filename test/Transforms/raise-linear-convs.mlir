// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-raise-linear{convs}))' | FileCheck %s

// A 2x2 convolution with stride 2 and dilation 1 over a [1, 3, 4, 4] input
// becomes a gather of [1, 2, 2, 3 * 2 * 2] patches (input index
// oh * 2 + i, ow * 2 + j), qc.linear with the filter as [12, 5], and one
// generic adding the init (here the bias) to the transposed result.
// CHECK-DAG:   #[[READ:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 * 2 + d4, d2 * 2 + d5)>
// CHECK-DAG:   #[[NHWC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>
// CHECK-LABEL: func.func @conv
// CHECK:       %[[W:.*]] = arith.constant dense_resource<conv.im2col> : tensor<12x5xf32>
// CHECK:       %[[PATCHES:.*]] = linalg.generic {indexing_maps = [#[[READ]], #{{.*}}]
// CHECK:       %[[COLS:.*]] = tensor.collapse_shape %[[PATCHES]] {{\[}}[0], [1], [2], [3, 4, 5]] : tensor<1x2x2x3x2x2xf32> into tensor<1x2x2x12xf32>
// CHECK:       %[[Y:.*]] = qc.linear %[[COLS]], %[[W]] layer "conv" : tensor<1x2x2x12xf32>, tensor<12x5xf32> -> tensor<1x2x2x5xf32>
// CHECK:       linalg.generic {indexing_maps = [#[[NHWC]], #{{.*}}, #{{.*}}]{{.*}} ins(%[[Y]], %[[INIT:.*]] : tensor<1x2x2x5xf32>, tensor<1x5x2x2xf32>)
// CHECK:         arith.addf
// CHECK-NOT:   linalg.conv_2d_nchw_fchw
func.func @conv(%x: tensor<1x3x4x4xf32>, %init: tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<5x3x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {strides = dense<2> : tensor<2xi64>, dilations = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x3x4x4xf32>, tensor<5x3x2x2xf32>) outs(%init : tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32> loc("conv")
  return %y : tensor<1x5x2x2xf32>
}

// -----

// A filter computed at run time stays a convolution.
// CHECK-LABEL: func.func @dynamic_filter
// CHECK:       linalg.conv_2d_nchw_fchw
// CHECK-NOT:   qc.linear
func.func @dynamic_filter(%x: tensor<1x3x4x4xf32>, %w: tensor<5x3x2x2xf32>, %init: tensor<1x5x3x3xf32>) -> tensor<1x5x3x3xf32> {
  %y = linalg.conv_2d_nchw_fchw {strides = dense<1> : tensor<2xi64>, dilations = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x3x4x4xf32>, tensor<5x3x2x2xf32>) outs(%init : tensor<1x5x3x3xf32>) -> tensor<1x5x3x3xf32>
  return %y : tensor<1x5x3x3xf32>
}

// -----

// A 1-D convolution is the 2-D one of a 1-high image: input and init
// expanded to [N, C, 1, W], patches [2, 1, 3, 3 * 2] (input index
// ow * 2 + j * 2: stride 2, dilation 2), the result collapsed back.
// CHECK-DAG:   #[[READ1:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 + d4, d2 * 2 + d5 * 2)>
// CHECK-LABEL: func.func @conv1d
// CHECK-SAME:  (%[[X:.*]]: tensor<2x3x7xf32>, %[[INIT:.*]]: tensor<2x4x3xf32>)
// CHECK:       %[[X4:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [2, 3, 1, 7]
// CHECK:       %[[I4:.*]] = tensor.expand_shape %[[INIT]] {{\[}}[0], [1], [2, 3]] output_shape [2, 4, 1, 3]
// CHECK:       linalg.generic {indexing_maps = [#[[READ1]], #{{.*}}]{{.*}} ins(%[[X4]] : tensor<2x3x1x7xf32>)
// CHECK:       %[[Y:.*]] = qc.linear %{{.*}}, %{{.*}} layer "c1d" : tensor<2x1x3x6xf32>, tensor<6x4xf32> -> tensor<2x1x3x4xf32>
// CHECK:       %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[Y]], %[[I4]] : tensor<2x1x3x4xf32>, tensor<2x4x1x3xf32>)
// CHECK:       tensor.collapse_shape %[[OUT]] {{\[}}[0], [1], [2, 3]] : tensor<2x4x1x3xf32> into tensor<2x4x3xf32>
// CHECK-NOT:   linalg.conv_1d_ncw_fcw
func.func @conv1d(%x: tensor<2x3x7xf32>, %init: tensor<2x4x3xf32>) -> tensor<2x4x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3x2xf32>
  %y = linalg.conv_1d_ncw_fcw {strides = dense<2> : tensor<1xi64>, dilations = dense<2> : tensor<1xi64>} ins(%x, %w : tensor<2x3x7xf32>, tensor<4x3x2xf32>) outs(%init : tensor<2x4x3xf32>) -> tensor<2x4x3xf32> loc("c1d")
  return %y : tensor<2x4x3xf32>
}
