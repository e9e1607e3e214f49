// RUN: qc-opt %s -split-input-file -verify-diagnostics

func.func @weight_rank(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects a rank-2 weight [K, N], found rank 1}}
  %y = qc.linear %x, %w layer "l" : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @k_mismatch(%x: tensor<4x7xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{input has 7 features but the weight expects K = 8}}
  %y = qc.linear %x, %w layer "l" : tensor<4x7xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @n_mismatch(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x15xf32> {
  // expected-error @+1 {{result has 15 features but the weight gives N = 16}}
  %y = qc.linear %x, %w layer "l" : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x15xf32>
  return %y : tensor<4x15xf32>
}

// -----

func.func @batch_mismatch(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>) -> tensor<3x4x16xf32> {
  // expected-error @+1 {{result dimension 0 is 3 but the input's is 2}}
  %y = qc.linear %x, %w layer "l" : tensor<2x4x8xf32>, tensor<8x16xf32> -> tensor<3x4x16xf32>
  return %y : tensor<3x4x16xf32>
}

// -----

func.func @element_type(%x: tensor<4x8xf32>, %w: tensor<8x16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expects input, weight and result of one element type}}
  %y = qc.linear %x, %w layer "l" : tensor<4x8xf32>, tensor<8x16xf16> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @integer(%x: tensor<4x8xi32>, %w: tensor<8x16xi32>) -> tensor<4x16xi32> {
  // expected-error @+1 {{expects a floating-point input}}
  %y = qc.linear %x, %w layer "l" : tensor<4x8xi32>, tensor<8x16xi32> -> tensor<4x16xi32>
  return %y : tensor<4x16xi32>
}

// -----

func.func @bias_shape(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expects a bias of type 'tensor<16xf32>', found 'tensor<8xf32>'}}
  %y = qc.linear %x, %w bias %b layer "l" : tensor<4x8xf32>, tensor<8x16xf32>, tensor<8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @observe_i32(%x: tensor<2x4xi32>) {
  // expected-error @+1 {{'qc.observe' op expects an f32 tensor of rank >= 1, found 'tensor<2x4xi32>'}}
  qc.observe %x tap 0 layers ["a"] : tensor<2x4xi32>
  return
}

// -----

func.func @observe_no_layer(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'qc.observe' op names no layer}}
  qc.observe %x tap 0 layers [] : tensor<2x4xf32>
  return
}

// -----

func.func @panel_shape(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{with panel 8 expects a weight [N / 8, K, 8], found 'tensor<8x16xf32>'}}
  %y = qc.linear %x, %w layer "l" panel 8 : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @panel_k(%x: tensor<4x7xf32>, %w: tensor<2x8x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{input has 7 features but the weight expects K = 8}}
  %y = qc.linear %x, %w layer "l" panel 8 : tensor<4x7xf32>, tensor<2x8x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @attention_heads(%q: tensor<1x3x1x8xf32>, %k: tensor<1x2x1x8xf32>, %c: tensor<1x2x4x8xf32>, %p: index) {
  // expected-error @+1 {{query heads 3 must be a positive multiple of the key heads 2}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 : tensor<1x3x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_key_shape(%q: tensor<1x4x2x8xf32>, %k: tensor<1x2x1x8xf32>, %c: tensor<1x2x4x8xf32>, %p: index) {
  // expected-error @+1 {{expects key and value of shape [1, 2, 2, 8], found 'tensor<1x2x1x8xf32>'}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 : tensor<1x4x2x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_cache_shape(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %c: tensor<1x2x4x16xf32>, %p: index) {
  // expected-error @+1 {{caches 'tensor<1x2x4x16xf32>' store rows of 8 values in no known format: f32 or f16 [.., 8] (int8 and int4 need a head size that is a multiple of 32)}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x4x16xf32>
  return
}

// -----

func.func @attention_cache_heads(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %c: tensor<1x3x4x8xf32>, %p: index) {
  // expected-error @+1 {{expects caches of shape [1, 2, T, W], found 'tensor<1x3x4x8xf32>'}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x3x4x8xf32>
  return
}

// -----

// An i8 cache row of 64 values is 80 bytes (int8) or 48 (int4).
func.func @attention_int_width(%q: tensor<1x2x1x64xf32>, %k: tensor<1x2x1x64xf32>, %c: tensor<1x2x4x64xi8>, %p: index) {
  // expected-error @+1 {{store rows of 64 values in no known format: f32 or f16 [.., 64], i8 [.., 80] (int8) or [.., 48] (int4)}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 : tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x4x64xi8>
  return
}

// -----

func.func @attention_capacity(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %c: tensor<1x2x4x8xf32>, %p: index) {
  // expected-error @+1 {{the cache length 4 must hold the step's 8 positions}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

// MiKV caches (mixed_precision) of head size 64 are i8 rows of 72 bytes.
func.func @attention_mixed_width(%q: tensor<1x2x1x64xf32>, %k: tensor<1x2x1x64xf32>, %c: tensor<1x2x16x48xi8>, %p: index) {
  // expected-error @+1 {{mixed-precision caches of head size 64 are i8 [.., 72], found 'tensor<1x2x16x48xi8>'}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 {mixed_precision} : tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x16x48xi8>
  return
}

// -----

// Their pool needs two slots: 16 positions at least.
func.func @attention_mixed_length(%q: tensor<1x2x1x64xf32>, %k: tensor<1x2x1x64xf32>, %c: tensor<1x2x8x72xi8>, %p: index) {
  // expected-error @+1 {{mixed-precision caches hold at least 16 positions and the step's 1, not 8}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 {mixed_precision} : tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x8x72xi8>
  return
}

// -----

func.func @attention_mixed_head(%q: tensor<1x2x1x48xf32>, %k: tensor<1x2x1x48xf32>, %c: tensor<1x2x16x56xi8>, %p: index) {
  // expected-error @+1 {{mixed-precision caches need a head size that is a multiple of 32, not 48}}
  %o, %k2, %v2 = qc.cached_attention %q, %k, %k, %c, %c, %p scale 0.5 {mixed_precision} : tensor<1x2x1x48xf32>, tensor<1x2x1x48xf32>, tensor<1x2x16x56xi8>
  return
}
