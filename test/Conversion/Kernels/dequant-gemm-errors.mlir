// RUN: qc-opt %s --pass-pipeline='builtin.module(qc-gen-dequant-gemm)' -split-input-file -verify-diagnostics
// The dequant_i8 generator's preconditions: a layer it cannot lower is an
// error naming the layer and the reason, never a wrong kernel.
// 6-bit codes have no dequant_i8 kernel.
func.func @six_bits(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-dequant-gemm: layer 'fc': dequant_i8 needs canonical uniform per-output-channel codes of 2, 3, 4 or 8 bits}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 6, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// 8-bit codes on AVX2: vpmaddubsw would saturate its pair sums.
func.func @eight_bits_avx2(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-dequant-gemm: layer 'fc': 8-bit codes need a u8 x s8 dot product into 32-bit lanes, which target 'avx2' does not have}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 8, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Per-input-channel groups neither.
func.func @per_ic(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<64x1xf32>
  // expected-error @+1 {{qc-gen-dequant-gemm: layer 'fc': dequant_i8 needs canonical uniform per-output-channel codes of 2, 3, 4 or 8 bits}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 2, per_ic = true, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<64x1xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// An activation block that does not divide the group.
func.func @act_block(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{dequant_i8: layer 'fc': act_block 128 must be a multiple of 32 that divides the padded K 128 and the group 64}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 128>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Codes that are not constants cannot be repacked at compile time.
func.func @codes_not_constant(%x: tensor<1x64xf32>, %c: tensor<64x2xi8>) -> tensor<1x2xf32> {
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{dequant_i8: layer 'fc': codes (i8, one per weight) and scales must be constants}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A kernel target that is not registered.
func.func @unknown_target(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{dequant_i8: layer 'fc': unknown kernel target 'avx3'}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx3, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A dequant_i8 kernel on a layer with float activations is refused: it
// would round them to int8.
func.func @float_acts(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<1> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-dequant-gemm: layer 'fc': dequant_i8 computes on int8 activations in blocks of 64, the layer's are f32}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 64, per_ic = false, symmetric = true, scale_type = f32> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Nor one whose blocks differ from the layer's scheme.
func.func @other_block(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<1> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-dequant-gemm: layer 'fc': dequant_i8 computes on int8 activations in blocks of 64, the layer's are int8b32}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 32> layer "fc" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A dequant_f32 kernel on a layer with int8 activations neither.
func.func @int_acts(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<1> : tensor<64x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-dequant-gemm: layer 'fc': dequant_f32 computes on float activations, the layer's are int8b64}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 64, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" {kernel = #qc.kernel<kind = dequant_f32, isa = avx2, m_tile = 1, act_block = 64>} : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
