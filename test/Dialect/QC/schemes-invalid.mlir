// RUN: qc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{uniform bits must be in [2, 8], found 0}}
func.func private @f() attributes {s = #qc.uniform<bits = 0, group = 128, per_ic = false, symmetric = false, scale_type = f16>}

// -----

// expected-error @+1 {{group must be positive or -1 (the whole axis), found 0}}
func.func private @f() attributes {s = #qc.uniform<bits = 4, group = 0, per_ic = false, symmetric = false, scale_type = f16>}

// -----

// expected-error @+1 {{scale_type must be f16, bf16 or f32, found 'i32'}}
func.func private @f() attributes {s = #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = false, scale_type = i32>}

// -----

// expected-error @+1 {{bcq planes must be in [1, 8], found 9}}
func.func private @f() attributes {s = #qc.bcq<planes = 9, group = 128, offset = true, scale_type = f16>}

// -----

// AnyBCQ: the codes hold at least the planes computed with.
// expected-error @+1 {{bcq stored_planes must be in [planes, 8] = [3, 8], found 2}}
func.func private @f() attributes {s = #qc.bcq<planes = 3, group = 128, offset = true, scale_type = f16, stored_planes = 2>}

// -----

// expected-error @+1 {{codebook entries must be in [2, 65536] (a 16-bit index at most), found 131072}}
func.func private @f() attributes {s = #qc.codebook<vector_size = 8, entries = 131072, books = 1, scale_type = f16>}

// -----

// expected-error @+1 {{mxfp4 shares one scale per block of 32, found 16}}
func.func private @f() attributes {s = #qc.float<format = mxfp4, bits = 4, block = 16>}

// -----

func.func @group_too_large(%x: tensor<2x24xf32>, %c: tensor<24x16xi8>, %s: tensor<1x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{'qc.qlinear' op group 32 is larger than K = 24}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> layer "fc" : tensor<2x24xf32>, tensor<24x16xi8>, tensor<1x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @wrong_scales(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<4x16xf16>, %z: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{'qc.qlinear' op scales must have shape [2, 16] for K = 64, N = 16, found 'tensor<4x16xf16>'}}
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<2x16xf16>) scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = false, scale_type = f16> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<4x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @missing_zeros(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{needs a zeros operand}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = false, scale_type = f16> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @extra_codebook(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>, %cb: tensor<1x4x8xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{takes no codebook operand}}
  %y = qc.qlinear %x, %c, %s codebook(%cb : tensor<1x4x8xf16>) scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @float_codes(%x: tensor<2x64xf32>, %c: tensor<64x16xf32>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expects integer codes, found 'f32'}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> layer "fc" : tensor<2x64xf32>, tensor<64x16xf32>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_block(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{activation block must be positive or -1 (the whole row), found 0}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = 0> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_mx_block(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{mxfp4 activations share their scales per block of 32, found 16}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = mxfp4, block = 16> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_amx_block(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{amxfp4 activations share their scales per block of 32, found -1}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = amxfp4, block = -1> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_dint_static(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{a static activation scale needs int8 activations with one block per tensor (block = -1)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = dint4, block = -1, scale = 1.0 : f32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_kind(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+2 {{expected ::qc::ActKind to be one of: int8, int4, mxfp4}}
  // expected-error @+1 {{failed to parse QC_ActivationAttr parameter 'kind'}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int2, block = 32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_static_block(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{a static activation scale needs int8 activations with one block per tensor (block = -1)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = 128, scale = 1.0 : f32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_static_kind(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{a static activation scale needs int8 activations with one block per tensor (block = -1)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int4, block = -1, scale = 1.0 : f32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_static_negative(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{a static activation scale must be a positive, normal f32, found -2.500000e+00}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = -1, scale = -2.5 : f32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_static_f64(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{a static activation scale must be a positive, normal f32, found 5.000000e-01}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = -1, scale = 0.5 : f64> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_zero_range(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{activation zero point 128 is not in [-128, 127]}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = -1, scale = 0.5 : f32, zero_point = 128> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_zero_dynamic(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{an activation zero point needs a static scale}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = -1, zero_point = 3> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

func.func @act_uint8_block(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{uint8 activations take one dynamic scale per tensor (block = -1, no scale)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = uint8, block = 32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}
