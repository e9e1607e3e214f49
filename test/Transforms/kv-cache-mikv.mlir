// RUN: qc-opt %s -split-input-file --qc-kv-cache=format=mikv -verify-diagnostics | FileCheck %s

// MiKV caches (head size 64): an int4 row (48 bytes), the importance and
// the slot (8) and a pool piece (8 f16 values, 16 bytes) = 72 bytes a row;
// the op is marked mixed_precision, the state arguments and results change
// with it.
// CHECK-LABEL: func.func @step
// CHECK-SAME: %{{.*}}: tensor<1x2x16x72xi8>, %{{.*}}: tensor<1x2x16x72xi8>, %{{.*}}: index) -> (tensor<1x4x1x64xf32>, tensor<1x2x16x72xi8>, tensor<1x2x16x72xi8>)
// CHECK: qc.cached_attention {{.*}} scale 1.250000e-01 {mixed_precision} : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x72xi8>
func.func @step(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                %kc: tensor<1x2x16x64xf32>, %vc: tensor<1x2x16x64xf32>, %past: index)
    -> (tensor<1x4x1x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) {
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x64xf32>
  return %o, %kc2, %vc2 : tensor<1x4x1x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>
}

// -----

// The pool needs two slots of 8 positions each.
func.func @short(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                 %kc: tensor<1x2x8x64xf32>, %vc: tensor<1x2x8x64xf32>, %past: index)
    -> (tensor<1x4x1x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>) {
  // expected-error @+1 {{qc-kv-cache: mikv caches hold at least 16 positions, not 8}}
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x8x64xf32>
  return %o, %kc2, %vc2 : tensor<1x4x1x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>
}

// -----

// Head sizes the int4 groups cannot split.
func.func @odd(%q: tensor<1x1x1x48xf32>, %k: tensor<1x1x1x48xf32>, %v: tensor<1x1x1x48xf32>,
               %kc: tensor<1x1x16x48xf32>, %vc: tensor<1x1x16x48xf32>, %past: index)
    -> (tensor<1x1x1x48xf32>, tensor<1x1x16x48xf32>, tensor<1x1x16x48xf32>) {
  // expected-error @+1 {{qc-kv-cache: mikv caches need a head size that is a multiple of 32, not 48}}
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x1x1x48xf32>, tensor<1x1x1x48xf32>, tensor<1x1x16x48xf32>
  return %o, %kc2, %vc2 : tensor<1x1x1x48xf32>, tensor<1x1x16x48xf32>, tensor<1x1x16x48xf32>
}
