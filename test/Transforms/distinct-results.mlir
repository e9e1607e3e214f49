// RUN: qc-opt %s --qc-distinct-results | FileCheck %s
// RUN: qc-opt %s --qc-distinct-results --buffer-results-to-out-params='hoist-static-allocs modify-public-functions' | FileCheck %s --check-prefix=OUT

// One buffer returned three times (two graph outputs equal after CSE, and
// the graph naming one twice): the repeats are copies in buffers of their
// own; the first stays the buffer itself.
// CHECK-LABEL: func.func @repeats
// CHECK: %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK: %[[C1:.*]] = memref.alloc() : memref<4xf32>
// CHECK: memref.copy %[[A]], %[[C1]]
// CHECK: %[[C2:.*]] = memref.alloc() : memref<4xf32>
// CHECK: memref.copy %[[A]], %[[C2]]
// CHECK: return %[[A]], %arg0, %[[C1]], %[[C2]]
// Then every result moves into an out-parameter of its own.
// OUT-LABEL: func.func @repeats
// OUT-SAME: (%arg0: memref<4xf32>, %[[O0:.*]]: memref<4xf32>, %[[O1:.*]]: memref<4xf32>, %[[O2:.*]]: memref<4xf32>, %[[O3:.*]]: memref<4xf32>)
// OUT: return
func.func @repeats(%arg0: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %arg0, %a : memref<4xf32> to memref<4xf32>
  return %a, %arg0, %a, %a : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
}

// Distinct results are left alone.
// CHECK-LABEL: func.func @distinct
// CHECK-NOT: memref.copy
// CHECK: return %arg0, %arg1
func.func @distinct(%arg0: memref<4xf32>, %arg1: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  return %arg0, %arg1 : memref<4xf32>, memref<4xf32>
}
