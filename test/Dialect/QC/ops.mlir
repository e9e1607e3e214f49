// RUN: qc-opt %s | qc-opt | FileCheck %s
// RUN: qc-opt %s --mlir-print-op-generic | qc-opt | FileCheck %s

// CHECK-LABEL: func.func @linear_2d
// CHECK: qc.linear %{{.*}}, %{{.*}} layer "fc1" : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
func.func @linear_2d(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %y = qc.linear %x, %w layer "fc1" : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// CHECK-LABEL: func.func @linear_3d_bias
// CHECK: qc.linear %{{.*}}, %{{.*}} bias %{{.*}} layer "proj" : tensor<2x3x8xf16>, tensor<8x5xf16>, tensor<5xf16> -> tensor<2x3x5xf16>
func.func @linear_3d_bias(%x: tensor<2x3x8xf16>, %w: tensor<8x5xf16>, %b: tensor<5xf16>) -> tensor<2x3x5xf16> {
  %y = qc.linear %x, %w bias %b layer "proj" : tensor<2x3x8xf16>, tensor<8x5xf16>, tensor<5xf16> -> tensor<2x3x5xf16>
  return %y : tensor<2x3x5xf16>
}

// CHECK-LABEL: func.func @linear_panel
// CHECK: qc.linear %{{.*}}, %{{.*}} layer "fc" panel 16 : tensor<4x8xf32>, tensor<2x8x16xf32> -> tensor<4x32xf32>
func.func @linear_panel(%x: tensor<4x8xf32>, %w: tensor<2x8x16xf32>) -> tensor<4x32xf32> {
  %y = qc.linear %x, %w layer "fc" panel 16 : tensor<4x8xf32>, tensor<2x8x16xf32> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// CHECK-LABEL: func.func @observe
// CHECK: qc.observe %arg0 tap 3 layers ["q", "k"] : tensor<1x8x64xf32>
func.func @observe(%x: tensor<1x8x64xf32>) {
  qc.observe %x tap 3 layers ["q", "k"] : tensor<1x8x64xf32>
  return
}

// CHECK-LABEL: func.func @cached_attention
// CHECK: %{{.*}}, %{{.*}}, %{{.*}} = qc.cached_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} scale 1.250000e-01 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x128x64xf32>
func.func @cached_attention(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                            %kc: tensor<1x2x128x64xf32>, %vc: tensor<1x2x128x64xf32>, %past: index)
    -> (tensor<1x4x1x64xf32>, tensor<1x2x128x64xf32>) {
  %o, %k2, %v2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x128x64xf32>
  return %o, %k2 : tensor<1x4x1x64xf32>, tensor<1x2x128x64xf32>
}

// Caches in the int4 format: 64 values in 48 bytes.
// CHECK-LABEL: func.func @cached_attention_int4
// CHECK: qc.cached_attention {{.*}} : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x128x48xi8>
func.func @cached_attention_int4(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                                 %kc: tensor<1x2x128x48xi8>, %vc: tensor<1x2x128x48xi8>, %past: index)
    -> tensor<1x4x1x64xf32> {
  %o, %k2, %v2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x128x48xi8>
  return %o : tensor<1x4x1x64xf32>
}

// MiKV caches: 64 values in 72 bytes (int4 row, importance, slot, pool
// piece), marked on the op.
// CHECK-LABEL: func.func @cached_attention_mikv
// CHECK: qc.cached_attention {{.*}} scale 1.250000e-01 {mixed_precision} : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x128x72xi8>
func.func @cached_attention_mikv(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                                 %kc: tensor<1x2x128x72xi8>, %vc: tensor<1x2x128x72xi8>, %past: index)
    -> tensor<1x4x1x64xf32> {
  %o, %k2, %v2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 {mixed_precision} : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x128x72xi8>
  return %o : tensor<1x4x1x64xf32>
}
