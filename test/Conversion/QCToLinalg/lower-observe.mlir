// RUN: qc-opt %s --qc-lower-observe -split-input-file | FileCheck %s

// A tap flattens its value to [M, K], takes a read-only buffer of it and
// calls the runtime's observer with the tap index.
// CHECK: func.func private @qcrt_observe(i64, memref<?x?xf32, strided<[?, ?], offset: ?>>)
// CHECK-LABEL: func.func @tap
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK: %[[BUF:.*]] = bufferization.to_buffer %[[FLAT]] read_only : tensor<6x4xf32> to memref<6x4xf32>
// CHECK: %[[CAST:.*]] = memref.cast %[[BUF]] : memref<6x4xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[TAP:.*]] = arith.constant 7 : i64
// CHECK: call @qcrt_observe(%[[TAP]], %[[CAST]])
// CHECK-NOT: qc.observe
func.func @tap(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  qc.observe %x tap 7 layers ["a"] : tensor<2x3x4xf32>
  return %x : tensor<2x3x4xf32>
}

// -----

// Already two-dimensional: no reshape.
// CHECK-LABEL: func.func @flat
// CHECK-NOT: collapse_shape
// CHECK: bufferization.to_buffer %arg0 read_only
// CHECK: call @qcrt_observe
func.func @flat(%x: tensor<5x4xf32>) -> tensor<5x4xf32> {
  qc.observe %x tap 0 layers ["a"] : tensor<5x4xf32>
  return %x : tensor<5x4xf32>
}
