// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-hoist-vector-transfers))' | FileCheck %s

// The accumulator of a reduction loop over bufferized memrefs: its
// transfer_read / transfer_write pair at a loop-invariant index moves out
// of the loop and the vector becomes a loop-carried value.
// CHECK-LABEL: func.func @accumulate
// CHECK-SAME: (%[[A:.*]]: memref<16x8xf32>, %[[C:.*]]: memref<8xf32>)
// CHECK: %[[INIT:.*]] = vector.transfer_read %[[C]]
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (vector<8xf32>)
// CHECK-NEXT: %[[ROW:.*]] = vector.transfer_read %[[A]]
// CHECK-NEXT: %[[NEXT:.*]] = arith.addf %[[ROW]], %[[ACC]]
// CHECK-NEXT: scf.yield %[[NEXT]]
// CHECK: vector.transfer_write %[[SUM]], %[[C]]
// CHECK-NEXT: return
func.func @accumulate(%a: memref<16x8xf32>, %c: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c16 step %c1 {
    %row = vector.transfer_read %a[%i, %c0], %pad {in_bounds = [true]} : memref<16x8xf32>, vector<8xf32>
    %acc = vector.transfer_read %c[%c0], %pad {in_bounds = [true]} : memref<8xf32>, vector<8xf32>
    %sum = arith.addf %row, %acc : vector<8xf32>
    vector.transfer_write %sum, %c[%c0] {in_bounds = [true]} : vector<8xf32>, memref<8xf32>
  }
  return
}

// A write that another access in the loop may alias stays in the loop.
// CHECK-LABEL: func.func @aliased
// CHECK: scf.for %{{[^ ]*}} = %c0 to %c4 step %c1 {
// CHECK-NEXT: vector.transfer_read %{{.*}}[%c0]
// CHECK-NEXT: arith.addf
// CHECK-NEXT: vector.transfer_write
func.func @aliased(%c: memref<8xf32>, %j: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    %acc = vector.transfer_read %c[%c0], %pad {in_bounds = [true]} : memref<8xf32>, vector<4xf32>
    %two = arith.addf %acc, %acc : vector<4xf32>
    vector.transfer_write %two, %c[%c0] {in_bounds = [true]} : vector<4xf32>, memref<8xf32>
    %other = vector.transfer_read %c[%j], %pad {in_bounds = [true]} : memref<8xf32>, vector<4xf32>
    vector.transfer_write %other, %c[%c4] {in_bounds = [true]} : vector<4xf32>, memref<8xf32>
  }
  return
}
