// RUN: qc-opt %s --qc-outline-kernels | FileCheck %s

// A vector constant the loop uses from the entry is materialized in the
// kernel (not passed as a vector by value); a scalar one stays an argument,
// so kernels that differ only in it can still share code.
// CHECK-LABEL: func.func private @main_kernel0(
// CHECK-SAME:  {{^[^v]*}}) attributes
// CHECK:       arith.constant dense<2.000000e+00> : vector<8xf32>
// CHECK:       arith.mulf
// CHECK:       arith.addf %{{.*}}, %arg{{[0-9]+}} : f32
// CHECK-LABEL: func.func @main(
// CHECK:       call @main_kernel0({{[^v]*}}) : ({{[^v]*}}) -> ()
func.func @main(%a: memref<4x8xf32>) {
  %two = arith.constant dense<2.0> : vector<8xf32>
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pad = ub.poison : f32
  scf.for %i = %c0 to %c4 step %c1 {
    %v = vector.transfer_read %a[%i, %c0], %pad {in_bounds = [true]} : memref<4x8xf32>, vector<8xf32>
    %m = arith.mulf %v, %two : vector<8xf32>
    %e = vector.extract %m[0] : f32 from vector<8xf32>
    %s = arith.addf %e, %one : f32
    %w = vector.broadcast %s : f32 to vector<8xf32>
    vector.transfer_write %w, %a[%i, %c0] {in_bounds = [true]} : vector<8xf32>, memref<4x8xf32>
  }
  return
}
