// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-full-rank-transfer-writes))' | FileCheck %s

// A 16-lane write at [0, 0] of a 1x88 tensor covers 16 of 88 columns, but
// one-shot bufferization's zip of the leading sizes compares 1 with 16 and
// takes it for a full overwrite: it becomes a 1x16 write, which it reads
// right.
// CHECK-LABEL: func.func @partial
// CHECK: %[[V:.*]] = vector.shape_cast %arg1 : vector<16xf32> to vector<1x16xf32>
// CHECK: vector.transfer_write %[[V]], %arg0[%c0, %c0] {in_bounds = [true, true]} : vector<1x16xf32>, tensor<1x88xf32>
func.func @partial(%t: tensor<1x88xf32>, %v: vector<16xf32>) -> tensor<1x88xf32> {
  %c0 = arith.constant 0 : index
  %w = vector.transfer_write %v, %t[%c0, %c0] {in_bounds = [true]} : vector<16xf32>, tensor<1x88xf32>
  return %w : tensor<1x88xf32>
}

// Left alone: a write that does cover the tensor, one at another offset, one
// the zip already sees as partial, and one into a buffer.
// CHECK-LABEL: func.func @others
// CHECK-NOT: vector.shape_cast
// CHECK: vector.transfer_write %arg1, %arg0[%c0, %c0] {{.*}} : vector<88xf32>, tensor<1x88xf32>
// CHECK: vector.transfer_write %arg2, %{{.*}}[%c0, %c16] {{.*}} : vector<16xf32>, tensor<1x88xf32>
// CHECK: vector.transfer_write %arg2, %arg3[%c0, %c0] {{.*}} : vector<16xf32>, tensor<32x88xf32>
// CHECK: vector.transfer_write %arg2, %arg4[%c0, %c0] {{.*}} : vector<16xf32>, memref<1x88xf32>
func.func @others(%t: tensor<1x88xf32>, %full: vector<88xf32>, %v: vector<16xf32>, %tall: tensor<32x88xf32>, %m: memref<1x88xf32>) -> (tensor<1x88xf32>, tensor<32x88xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %a = vector.transfer_write %full, %t[%c0, %c0] {in_bounds = [true]} : vector<88xf32>, tensor<1x88xf32>
  %b = vector.transfer_write %v, %a[%c0, %c16] {in_bounds = [true]} : vector<16xf32>, tensor<1x88xf32>
  %c = vector.transfer_write %v, %tall[%c0, %c0] {in_bounds = [true]} : vector<16xf32>, tensor<32x88xf32>
  vector.transfer_write %v, %m[%c0, %c0] {in_bounds = [true]} : vector<16xf32>, memref<1x88xf32>
  return %b, %c : tensor<1x88xf32>, tensor<32x88xf32>
}
