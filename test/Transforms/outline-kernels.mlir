// RUN: qc-opt %s --qc-outline-kernels | FileCheck %s
// RUN: qc-opt %s --qc-outline-kernels=entry=other | FileCheck %s --check-prefix=OTHER

// Each loop nest of @main becomes a noinline private function; allocations
// and views stay in @main, which calls the kernels in order.

// CHECK: func.func private @main_kernel0({{.*}}) attributes {passthrough = ["noinline"]}
// CHECK-NEXT: linalg.generic
// CHECK: func.func private @main_kernel1({{.*}}) attributes {passthrough = ["noinline"]}
// CHECK: scf.for
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>
// CHECK: %[[T:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK-NEXT: call @main_kernel0(%[[A]], %[[T]])
// CHECK: call @main_kernel1(%[[T]], %[[B]]
// CHECK-NOT: linalg.generic
// CHECK-NOT: scf.for
// CHECK: memref.dealloc %[[T]]
// CHECK-NEXT: return

// OTHER-NOT: call
// OTHER-NOT: kernel

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%a: memref<4x8xf32>, %b: memref<4x8xf32>) {
  %t = memref.alloc() : memref<4x8xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%t : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %row = memref.subview %t[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    %dst = memref.subview %b[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    memref.copy %row, %dst : memref<1x8xf32, strided<[8, 1], offset: ?>> to memref<1x8xf32, strided<[8, 1], offset: ?>>
  }
  memref.dealloc %t : memref<4x8xf32>
  return
}
