// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-raise-linear))' | FileCheck %s

// A constant weight behind a flatten / matmul / unflatten becomes one
// qc.linear on the original input, named after the node.
// CHECK-LABEL: func.func @raise_3d
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x8xf32>)
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<8x20xf32>
// CHECK-NOT: linalg.matmul
// CHECK: %[[Y:.*]] = qc.linear %[[X]], %[[W]] layer "fc1" : tensor<2x5x8xf32>, tensor<8x20xf32> -> tensor<2x5x20xf32>
// CHECK: return %[[Y]]
func.func @raise_3d(%x: tensor<2x5x8xf32>) -> tensor<2x5x20xf32> {
  %w = arith.constant dense<0.25> : tensor<8x20xf32>
  %c0 = arith.constant 0.0 : f32
  %x2 = tensor.collapse_shape %x [[0,1],[2]] : tensor<2x5x8xf32> into tensor<10x8xf32>
  %e = tensor.empty() : tensor<10x20xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<10x20xf32>) -> tensor<10x20xf32>
  %m = linalg.matmul ins(%x2, %w : tensor<10x8xf32>, tensor<8x20xf32>) outs(%f : tensor<10x20xf32>) -> tensor<10x20xf32> loc(#loc_fc1)
  %y = tensor.expand_shape %m [[0,1],[2]] output_shape [2,5,20] : tensor<10x20xf32> into tensor<2x5x20xf32>
  return %y : tensor<2x5x20xf32>
}
#loc_fc1 = loc("fc1")

// -----

// CHECK-LABEL: func.func @raise_2d
// CHECK: qc.linear %{{.*}}, %{{.*}} layer "linear_0" : tensor<3x4xf32>, tensor<4x6xf32> -> tensor<3x6xf32>
func.func @raise_2d(%x: tensor<3x4xf32>) -> tensor<3x6xf32> {
  %w = arith.constant dense<0.5> : tensor<4x6xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x6xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<3x6xf32>) -> tensor<3x6xf32>
  %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x6xf32>) outs(%f : tensor<3x6xf32>) -> tensor<3x6xf32>
  return %m : tensor<3x6xf32>
}

// -----

// A weight computed at run time is not a layer to quantize.
// CHECK-LABEL: func.func @runtime_weight
// CHECK-NOT: qc.linear
// CHECK: linalg.matmul
func.func @runtime_weight(%x: tensor<3x4xf32>, %w: tensor<4x6xf32>) -> tensor<3x6xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x6xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<3x6xf32>) -> tensor<3x6xf32>
  %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x6xf32>) outs(%f : tensor<3x6xf32>) -> tensor<3x6xf32>
  return %m : tensor<3x6xf32>
}

// -----

// Accumulating into something other than zero is not a plain linear layer.
// CHECK-LABEL: func.func @nonzero_init
// CHECK-NOT: qc.linear
func.func @nonzero_init(%x: tensor<3x4xf32>, %acc: tensor<3x6xf32>) -> tensor<3x6xf32> {
  %w = arith.constant dense<0.5> : tensor<4x6xf32>
  %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x6xf32>) outs(%acc : tensor<3x6xf32>) -> tensor<3x6xf32>
  return %m : tensor<3x6xf32>
}

// -----

// The flattened result used elsewhere too: keep the flat form, still raise.
// CHECK-LABEL: func.func @flat_result_shared
// CHECK: %[[L:.*]] = qc.linear %{{.*}}, %{{.*}} layer "linear_0" : tensor<10x8xf32>, tensor<8x20xf32> -> tensor<10x20xf32>
// CHECK: tensor.expand_shape %[[L]]
func.func @flat_result_shared(%x: tensor<2x5x8xf32>) -> (tensor<2x5x20xf32>, tensor<10x20xf32>) {
  %w = arith.constant dense<1.0> : tensor<8x20xf32>
  %c0 = arith.constant 0.0 : f32
  %x2 = tensor.collapse_shape %x [[0,1],[2]] : tensor<2x5x8xf32> into tensor<10x8xf32>
  %e = tensor.empty() : tensor<10x20xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<10x20xf32>) -> tensor<10x20xf32>
  %m = linalg.matmul ins(%x2, %w : tensor<10x8xf32>, tensor<8x20xf32>) outs(%f : tensor<10x20xf32>) -> tensor<10x20xf32>
  %y = tensor.expand_shape %m [[0,1],[2]] output_shape [2,5,20] : tensor<10x20xf32> into tensor<2x5x20xf32>
  return %y, %m : tensor<2x5x20xf32>, tensor<10x20xf32>
}

