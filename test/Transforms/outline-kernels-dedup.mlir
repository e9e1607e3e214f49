// RUN: qc-opt %s --qc-outline-kernels | FileCheck %s

// Loop nests with the same code (as the layers of every block of a model)
// share one kernel: the second exp is a call to @main_kernel0; the log, of
// the same shape but other code, and the exp on another shape are kernels of
// their own.
// CHECK: func.func private @main_kernel0(
// CHECK: math.exp
// CHECK: func.func private @main_kernel2(
// CHECK: math.log
// CHECK: func.func private @main_kernel3(
// CHECK: math.exp
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @main(
// CHECK: call @main_kernel0(%arg0, %[[T:[a-z0-9_]+]])
// CHECK-NEXT: call @main_kernel0(%[[T]], %arg1)
// CHECK-NEXT: call @main_kernel2(%arg1, %[[T]])
// CHECK-NEXT: call @main_kernel3(%arg2, %arg3)
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<2x8xf32>, %d: memref<2x8xf32>) {
  %t = memref.alloc() : memref<4x8xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%t : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b : memref<4x8xf32>) outs(%t : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %e = math.log %x : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<2x8xf32>) outs(%d : memref<2x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  memref.dealloc %t : memref<4x8xf32>
  return
}
