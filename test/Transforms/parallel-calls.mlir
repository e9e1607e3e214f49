// RUN: qc-opt %s --qc-parallel-calls -split-input-file -verify-diagnostics | FileCheck %s

// The call of a qc.parallel kernel goes through the runtime: its leading
// arguments are stored in a struct on the caller's stack, the trampoline
// reloads them and calls the kernel on the range it is given.
// CHECK-LABEL: llvm.func @main
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[CTX:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(ptr, f32)>
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[CTX]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, f32)>
// CHECK: llvm.store %arg0, %[[P0]]
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: llvm.store %arg1, %[[P1]]
// CHECK: %[[FN:.*]] = llvm.mlir.addressof @kernel.task : !llvm.ptr
// CHECK: %[[ALIGN:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK: llvm.call @qcrt_parallel_for(%[[FN]], %[[CTX]], %arg2, %arg3, %[[ALIGN]])
// CHECK-NOT: llvm.call @kernel(
// CHECK: llvm.func @qcrt_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64, i64)
// CHECK: llvm.func internal @kernel.task(%[[C:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[A0:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[A1:.*]] = llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK: llvm.call @kernel(%[[A0]], %[[A1]], %[[B]], %[[E]])
llvm.func @kernel(%p: !llvm.ptr, %s: f32, %b: i64, %e: i64) attributes {qc.parallel = 4 : i64} {
  llvm.return
}
llvm.func @main(%p: !llvm.ptr, %s: f32, %b: i64, %e: i64) {
  llvm.call @kernel(%p, %s, %b, %e) : (!llvm.ptr, f32, i64, i64) -> ()
  llvm.return
}

// -----

// expected-error @+1 {{qc-parallel-calls: a qc.parallel kernel returns nothing and ends in (i64 begin, i64 end)}}
llvm.func @bad(%p: !llvm.ptr, %b: i32) attributes {qc.parallel = 1 : i64} {
  llvm.return
}
