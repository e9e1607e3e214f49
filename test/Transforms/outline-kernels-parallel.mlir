// RUN: qc-opt %s -split-input-file --qc-outline-kernels | FileCheck %s

// A top-level loop marked qc.parallel_loop becomes a qc.parallel kernel over
// its iterations: two trailing index arguments [begin, end) in iterations,
// the loop running lb + begin * step to min(ub, lb + end * step), and the
// call passing the whole range [0, trip count).
// CHECK-LABEL: func.func private @main_kernel0
// CHECK-SAME: %[[B:[a-z0-9]+]]: index, %[[E:[a-z0-9]+]]: index)
// CHECK-SAME: qc.parallel = 1 : i64
// CHECK: %[[UB:.*]] = arith.muli %[[E]], %c3
// CHECK: %[[UB2:.*]] = arith.addi %c2, %[[UB]]
// CHECK: %[[UB3:.*]] = arith.minsi %c12, %[[UB2]]
// CHECK: %[[LB:.*]] = arith.muli %[[B]], %c3
// CHECK: %[[LB2:.*]] = arith.addi %c2, %[[LB]]
// CHECK: scf.for %{{.*}} = %[[LB2]] to %[[UB3]] step %c3 {
// CHECK-NOT: qc.parallel_loop
// CHECK-LABEL: func.func @main
// CHECK-DAG: %[[Z:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[N:.*]] = arith.constant 4 : index
// CHECK: call @main_kernel0({{.*}}, %[[Z]], %[[N]])
func.func @main(%a: memref<12xf32>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c12 = arith.constant 12 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c2 to %c12 step %c3 {
    memref.store %one, %a[%i] : memref<12xf32>
  } {qc.parallel_loop}
  return
}

// -----

// One iteration: nothing to split, the kernel stays sequential.
// CHECK-LABEL: func.func private @main_kernel0
// CHECK-NOT: qc.parallel
// CHECK: scf.for
// CHECK-NOT: qc.parallel
func.func @main(%a: memref<12xf32>) {
  %c0 = arith.constant 0 : index
  %c12 = arith.constant 12 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c12 step %c12 {
    memref.store %one, %a[%i] : memref<12xf32>
  } {qc.parallel_loop}
  return
}
