// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-layout))' | FileCheck %s

// 4-bit codes of an 8 x 2 weight become 2 columns of 4 bytes, low nibble
// first along K: column 0 holds 1, 3, ..., 15 -> 31 75 B9 FD and column 1
// holds 2, 4, ..., 14, 0 -> 42 86 CA 0E.
// CHECK-LABEL: func.func @w4
// CHECK: %[[P:.*]] = arith.constant dense_resource<fc.packed> : tensor<2x4xi8>
// CHECK: qc.qlinear packed %{{.*}}, %[[P]], %{{.*}} scheme #qc.uniform<bits = 4
func.func @w4(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 0]]> : tensor<8x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = -1, per_ic = false, symmetric = true, scale_type = f32> layer "fc" : tensor<1x8xf32>, tensor<8x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// 3-bit codes have no packed layout yet: unchanged.
// CHECK-LABEL: func.func @w3
// CHECK: qc.qlinear %{{.*}}, %{{.*}}, %{{.*}} scheme #qc.uniform<bits = 3
func.func @w3(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<1> : tensor<8x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 3, group = -1, per_ic = false, symmetric = true, scale_type = f32> layer "g" : tensor<1x8xf32>, tensor<8x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// BCQ codes become bit-planes [K/8, planes, N]: codes 0 1 2 3 0 1 2 3 give
// plane 0 = 0b10101010 (AA) and plane 1 = 0b11001100 (CC).
// CHECK-LABEL: func.func @bcq
// CHECK: %[[B:.*]] = arith.constant dense_resource<h.planes> : tensor<1x2x1xi8>
// CHECK: qc.qlinear bitplanes %{{.*}}, %[[B]], %{{.*}} scheme #qc.bcq<planes = 2
func.func @bcq(%x: tensor<1x8xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[[0], [1], [2], [3], [0], [1], [2], [3]]> : tensor<8x1xi8>
  %s = arith.constant dense<1.0> : tensor<2x1x1xf32>
  %y = qc.qlinear %x, %c, %s scheme #qc.bcq<planes = 2, group = -1, offset = false, scale_type = f32> layer "h" : tensor<1x8xf32>, tensor<8x1xi8>, tensor<2x1x1xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// The packed blobs (after the 4-byte alignment header).
// CHECK-DAG: fc.packed: "0x080000003175B9FD4286CA0E"
// CHECK-DAG: h.planes: "0x08000000AACC"
