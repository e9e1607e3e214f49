// RUN: qc-opt %s -split-input-file --qc-drop-state-results -verify-diagnostics | FileCheck %s

// Result 1 is argument 0's buffer (through a cast): it goes; the other
// result stays, and the marker is removed.
// CHECK-LABEL: func.func @updated(%{{.*}}: memref<4xf32>, %{{.*}}: memref<4xf32>) -> memref<4xf32> {
// CHECK: return %{{.*}} : memref<4xf32>
// CHECK-NOT: qc.state_results
func.func @updated(%cache: memref<4xf32>, %x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>)
    attributes {qc.state_results = array<i64: 1, 0>} {
  %c0 = arith.constant 0 : index
  %f = arith.constant 1.0 : f32
  memref.store %f, %cache[%c0] : memref<4xf32>
  %cast = memref.cast %cache : memref<4xf32> to memref<?xf32>
  %back = memref.cast %cast : memref<?xf32> to memref<4xf32>
  return %x, %back : memref<4xf32>, memref<4xf32>
}

// -----

// Bufferization copied the state: its update would be lost.
// expected-error @+1 {{qc-drop-state-results: result 0 is not argument 0 updated in place: the state would be copied}}
func.func @copied(%cache: memref<4xf32>) -> memref<4xf32>
    attributes {qc.state_results = array<i64: 0, 0>} {
  %new = memref.alloc() : memref<4xf32>
  memref.copy %cache, %new : memref<4xf32> to memref<4xf32>
  return %new : memref<4xf32>
}

// -----

// expected-error @+1 {{qc-drop-state-results: no result 2 or argument 0}}
func.func @bad_index(%cache: memref<4xf32>) -> memref<4xf32>
    attributes {qc.state_results = array<i64: 2, 0>} {
  return %cache : memref<4xf32>
}
