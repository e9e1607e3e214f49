// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-lower-linear))' | FileCheck %s

// CHECK-LABEL: func.func @lower_3d
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x8xf32>, %[[W:.*]]: tensor<8x20xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x5x8xf32> into tensor<10x8xf32>
// CHECK: %[[ACC:.*]] = linalg.fill
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[FLAT]], %[[W]] : tensor<10x8xf32>, tensor<8x20xf32>) outs(%[[ACC]] : tensor<10x20xf32>)
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]] output_shape [2, 5, 20]
// CHECK-NOT: qc.
// CHECK: return %[[Y]]
func.func @lower_3d(%x: tensor<2x5x8xf32>, %w: tensor<8x20xf32>) -> tensor<2x5x20xf32> {
  %y = qc.linear %x, %w layer "l" : tensor<2x5x8xf32>, tensor<8x20xf32> -> tensor<2x5x20xf32>
  return %y : tensor<2x5x20xf32>
}

// -----

// CHECK-LABEL: func.func @lower_bias
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}} ins(%[[MM]], %{{.*}} : tensor<3x6xf32>, tensor<6xf32>)
// CHECK: arith.addf
func.func @lower_bias(%x: tensor<3x4xf32>, %w: tensor<4x6xf32>, %b: tensor<6xf32>) -> tensor<3x6xf32> {
  %y = qc.linear %x, %w bias %b layer "l" : tensor<3x4xf32>, tensor<4x6xf32>, tensor<6xf32> -> tensor<3x6xf32>
  return %y : tensor<3x6xf32>
}

// -----

// CHECK-LABEL: func.func @lower_vector
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
// CHECK: linalg.matmul
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<1x6xf32> into tensor<6xf32>
func.func @lower_vector(%x: tensor<4xf32>, %w: tensor<4x6xf32>) -> tensor<6xf32> {
  %y = qc.linear %x, %w layer "l" : tensor<4xf32>, tensor<4x6xf32> -> tensor<6xf32>
  return %y : tensor<6xf32>
}

// -----

// A panel weight [N / P, K, P]: a linalg.contract into [M, N / P, P] (the
// maps qc-tile-and-vectorize recognises), collapsed to [M, N].
// CHECK-LABEL: func.func @lower_panel
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[W:.*]]: tensor<2x4x8xf32>)
// CHECK: %[[ACC:.*]] = linalg.fill {{.*}} -> tensor<3x2x8xf32>
// CHECK: %[[P:.*]] = linalg.contract indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%[[X]], %[[W]] : tensor<3x4xf32>, tensor<2x4x8xf32>) outs(%[[ACC]] : tensor<3x2x8xf32>)
// CHECK: %[[Y:.*]] = tensor.collapse_shape %[[P]] {{\[}}[0], [1, 2]] : tensor<3x2x8xf32> into tensor<3x16xf32>
// CHECK: return %[[Y]]
func.func @lower_panel(%x: tensor<3x4xf32>, %w: tensor<2x4x8xf32>) -> tensor<3x16xf32> {
  %y = qc.linear %x, %w layer "l" panel 8 : tensor<3x4xf32>, tensor<2x4x8xf32> -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}
