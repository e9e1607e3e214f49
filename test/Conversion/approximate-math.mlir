// RUN: qc-opt %s --qc-approximate-math | FileCheck %s
// RUN: qc-opt %s --qc-approximate-math | FileCheck %s --check-prefix=FMA

// f32 erf / exp / tanh become inline arithmetic; other functions and types
// keep the math op (and so their libm call later).

// No math.erf / exp / tanh from the label to @hot's return (no positive
// check in between, so the CHECK-NOT covers the whole body).
// CHECK-LABEL: func.func @hot
// CHECK-NOT: math.{{erf|exp|tanh}}
// CHECK: return
// FMA-LABEL: func.func @hot
// FMA: math.fma
// FMA: return
func.func @hot(%x: f32, %v: vector<8xf32>) -> (f32, vector<8xf32>, f32) {
  %e = math.erf %x : f32
  %t = math.tanh %v : vector<8xf32>
  %x2 = math.exp %x : f32
  return %e, %t, %x2 : f32, vector<8xf32>, f32
}

// CHECK-LABEL: func.func @kept
// CHECK: math.exp %{{.*}} : f64
// CHECK: math.cos %{{.*}} : f32
func.func @kept(%x: f64, %y: f32) -> (f64, f32) {
  %e = math.exp %x : f64
  %c = math.cos %y : f32
  return %e, %c : f64, f32
}
