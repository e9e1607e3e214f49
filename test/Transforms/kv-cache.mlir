// RUN: qc-opt %s -split-input-file --qc-kv-cache=format=int4 -verify-diagnostics | FileCheck %s
// RUN: qc-opt %s -split-input-file --qc-kv-cache=format=int8 -verify-diagnostics | FileCheck %s --check-prefix=INT8
// RUN: not qc-opt %s -split-input-file --qc-kv-cache=format=int3 2>&1 | FileCheck %s --check-prefix=BAD

// A decode step's caches (head size 64) become the format's rows: int4
// 32 code bytes + 2 groups x 8 parameter bytes = 48 bytes, int8 64 + 16 =
// 80; the function's state arguments and results with them.
// CHECK-LABEL: func.func @step
// CHECK-SAME: %{{.*}}: tensor<1x2x16x48xi8>, %{{.*}}: tensor<1x2x16x48xi8>, %{{.*}}: index) -> (tensor<1x4x1x64xf32>, tensor<1x2x16x48xi8>, tensor<1x2x16x48xi8>)
// CHECK: qc.cached_attention {{.*}} : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x48xi8>
// INT8-LABEL: func.func @step
// INT8-SAME: %{{.*}}: tensor<1x2x16x80xi8>, %{{.*}}: tensor<1x2x16x80xi8>, %{{.*}}: index) -> (tensor<1x4x1x64xf32>, tensor<1x2x16x80xi8>, tensor<1x2x16x80xi8>)
// INT8: qc.cached_attention {{.*}} : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x80xi8>
// BAD: qc-kv-cache: unknown format 'int3' (f32, f16, int8, int4 or mikv)
func.func @step(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                %kc: tensor<1x2x16x64xf32>, %vc: tensor<1x2x16x64xf32>, %past: index)
    -> (tensor<1x4x1x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) {
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x64xf32>
  return %o, %kc2, %vc2 : tensor<1x4x1x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>
}

// -----

// A cache made inside the function is no state whose format may change.
func.func @inner(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                 %past: index) -> tensor<1x4x1x64xf32> {
  %c = tensor.empty() : tensor<1x2x16x64xf32>
  // expected-error @+1 {{qc-kv-cache: the caches must be arguments of @inner read by this attention alone, and its updated caches results of @inner}}
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %c, %c, %past scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x64xf32>
  return %o : tensor<1x4x1x64xf32>
}

// -----

// The int formats group 32 values of a head.
func.func @odd(%q: tensor<1x1x1x48xf32>, %k: tensor<1x1x1x48xf32>, %v: tensor<1x1x1x48xf32>,
               %kc: tensor<1x1x8x48xf32>, %vc: tensor<1x1x8x48xf32>, %past: index)
    -> (tensor<1x1x1x48xf32>, tensor<1x1x8x48xf32>, tensor<1x1x8x48xf32>) {
  // expected-error @+1 {{caches need a head size that is a multiple of 32, not 48}}
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x1x1x48xf32>, tensor<1x1x1x48xf32>, tensor<1x1x8x48xf32>
  return %o, %kc2, %vc2 : tensor<1x1x1x48xf32>, tensor<1x1x8x48xf32>, tensor<1x1x8x48xf32>
}

// -----

// A called function would leave its callers with the caches' old types.
// expected-error @+1 {{qc-kv-cache: @called is called: its callers would keep the caches' old types}}
func.func @called(%q: tensor<1x1x1x64xf32>, %k: tensor<1x1x1x64xf32>, %v: tensor<1x1x1x64xf32>,
                  %kc: tensor<1x1x8x64xf32>, %vc: tensor<1x1x8x64xf32>, %past: index)
    -> (tensor<1x1x1x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>) {
  %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>, tensor<1x1x8x64xf32>
  return %o, %kc2, %vc2 : tensor<1x1x1x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>
}
func.func @caller(%q: tensor<1x1x1x64xf32>, %k: tensor<1x1x1x64xf32>, %v: tensor<1x1x1x64xf32>,
                  %kc: tensor<1x1x8x64xf32>, %vc: tensor<1x1x8x64xf32>, %past: index) -> tensor<1x1x1x64xf32> {
  %o, %kc2, %vc2 = call @called(%q, %k, %v, %kc, %vc, %past) : (tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>, index) -> (tensor<1x1x1x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>)
  return %o : tensor<1x1x1x64xf32>
}
