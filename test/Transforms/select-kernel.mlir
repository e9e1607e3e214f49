// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3 remarks}))' -verify-diagnostics -split-input-file | FileCheck %s --check-prefix=V3
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v4-vnni m-tile=2}))' -split-input-file | FileCheck %s --check-prefix=VNNI
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v4-vnni}))' -split-input-file | FileCheck %s --check-prefix=VNNI8
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v4-vbmi}))' -split-input-file | FileCheck %s --check-prefix=VBMI
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=aarch64}))' -split-input-file | FileCheck %s --check-prefix=NEON
// RUN: not qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{m-tile=9}))' -split-input-file 2>&1 | FileCheck %s --check-prefix=BADTILE
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=generic}))' -split-input-file | FileCheck %s --check-prefix=GEN
// RUN: not qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=riscv}))' -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel))' -split-input-file | FileCheck %s --check-prefix=HOST
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3 uniform-lut}))' -split-input-file | FileCheck %s --check-prefix=ULUT
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=aarch64 uniform-lut}))' -split-input-file | FileCheck %s --check-prefix=ULUT-NEON

// BAD: unknown kernel target 'riscv' (expected host, x86-64-v3, x86-64-v4, x86-64-v4-vnni, x86-64-v4-vbmi, aarch64 or generic)
// BADTILE: qc-select-kernel: m-tile must be in [1, 8], or 0 for the target's
// HOST: qc.qlinear {{.*}}kernel = #qc.kernel<kind = dequant_i8, isa = {{avx2|avx512vnni|avx512vbmi|neon|generic}}

// 4-bit, group 128, 6 tokens: dequant_i8, activation blocks of 128, four
// tokens per pass over the weights (two with m-tile=2; AVX-512 VNNI by
// default all six: its tile is 8).
// V3: kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 4, act_block = 128>
// VNNI: kernel = #qc.kernel<kind = dequant_i8, isa = avx512vnni, m_tile = 2, act_block = 128>
// VNNI8: kernel = #qc.kernel<kind = dequant_i8, isa = avx512vnni, m_tile = 6, act_block = 128>
// VBMI: kernel = #qc.kernel<kind = dequant_i8, isa = avx512vbmi, m_tile = 6, act_block = 128>
// NEON: kernel = #qc.kernel<kind = dequant_i8, isa = neon, m_tile = 4, act_block = 128>
// GEN: kernel = #qc.kernel<kind = dequant_i8, isa = generic, m_tile = 4, act_block = 128>
// With uniform-lut, uniform layers get LUT-GEMM (one token per pass) on
// x86 and AArch64.
// ULUT: kernel = #qc.kernel<kind = lut_bcq, isa = avx2, m_tile = 1, act_block = 128>
// ULUT-NEON: kernel = #qc.kernel<kind = lut_bcq, isa = neon, m_tile = 1, act_block = 128>
func.func @w4g128(%x: tensor<2x3x256xf32>) -> tensor<2x3x8xf32> {
  %c = arith.constant dense<1> : tensor<256x8xi8>
  %s = arith.constant dense<1.0> : tensor<2x8xf32>
  // expected-remark @+1 {{layer 'fc': dequant_i8 (avx2, m_tile 4, act_block 128)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "fc" : tensor<2x3x256xf32>, tensor<256x8xi8>, tensor<2x8xf32> -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// Group 96: blocks of gcd(96, 128) = 32 inputs; one token: m_tile 1.
// V3: kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 1, act_block = 32>
// ULUT: kernel = #qc.kernel<kind = lut_bcq, isa = avx2, m_tile = 1, act_block = 32>
func.func @w3g96(%x: tensor<1x192xf32>) -> tensor<1x4xf32> {
  %c = arith.constant dense<1> : tensor<192x4xi8>
  %s = arith.constant dense<1.0> : tensor<2x4xf32>
  // expected-remark @+1 {{layer 'g': dequant_i8 (avx2, m_tile 1, act_block 32)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 3, group = 96, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 32> layer "g" : tensor<1x192xf32>, tensor<192x4xi8>, tensor<2x4xf32> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Layers without a generated kernel keep the reference lowering, and say why.
// V3-LABEL: func.func @reference
// ULUT-LABEL: func.func @reference
// ULUT: layer "a" {kernel = #qc.kernel<kind = reference
// ULUT: layer "c" {kernel = #qc.kernel<kind = reference
// V3: layer "a" {kernel = #qc.kernel<kind = reference
// V3: layer "b" {kernel = #qc.kernel<kind = reference
// V3: layer "c" {kernel = #qc.kernel<kind = reference
// V3: layer "d" {kernel = #qc.kernel<kind = reference
// V3: layer "e" {kernel = #qc.kernel<kind = reference
// 8-bit codes take dequant_i8 where the dot product sums u8 x s8 into i32
// lanes without saturating (VNNI, generic; not AVX2's vpmaddubsw, not
// NEON's signed sdot).
// VNNI8-LABEL: func.func @reference
// VNNI8: layer "b" {kernel = #qc.kernel<kind = dequant_i8, isa = avx512vnni
// GEN-LABEL: func.func @reference
// GEN: layer "b" {kernel = #qc.kernel<kind = dequant_i8, isa = generic
// NEON-LABEL: func.func @reference
// NEON: layer "b" {kernel = #qc.kernel<kind = reference
func.func @reference(%x: tensor<1x64xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) {
  %c = arith.constant dense<1> : tensor<64x4xi8>
  %s = arith.constant dense<1.0> : tensor<4x4xf32>
  %s1 = arith.constant dense<1.0> : tensor<1x4xf32>
  %sic = arith.constant dense<1.0> : tensor<64x1xf32>
  %s8 = arith.constant dense<1.0> : tensor<1x4xf32>
  // expected-remark @+1 {{layer 'a': reference: group is not a multiple of 32}}
  %a = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 16, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "a" : tensor<1x64xf32>, tensor<64x4xi8>, tensor<4x4xf32> -> tensor<1x4xf32>
  // expected-remark @+1 {{layer 'b': reference: 8-bit codes need a u8 x s8 dot product into 32-bit lanes (AVX-512 VNNI or the generic target)}}
  %b = qc.qlinear %x, %c, %s1 scheme #qc.uniform<bits = 8, group = -1, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "b" : tensor<1x64xf32>, tensor<64x4xi8>, tensor<1x4xf32> -> tensor<1x4xf32>
  // expected-remark @+1 {{layer 'c': reference: per-input-channel groups}}
  %d = qc.qlinear %x, %c, %sic scheme #qc.uniform<bits = 4, group = 4, per_ic = true, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "c" : tensor<1x64xf32>, tensor<64x4xi8>, tensor<64x1xf32> -> tensor<1x4xf32>
  // expected-remark @+1 {{layer 'd': reference: no generated kernel for this scheme yet}}
  %e = qc.qlinear %x, %c, %s8 scheme #qc.float<format = fp8e4m3, bits = 8, block = -1> layer "d" : tensor<1x64xf32>, tensor<64x4xi8>, tensor<1x4xf32> -> tensor<1x4xf32>
  // expected-remark @+1 {{layer 'e': reference: code width is not 2, 3, 4 or 8 bits}}
  %f = qc.qlinear %x, %c, %s1 scheme #qc.uniform<bits = 6, group = -1, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "e" : tensor<1x64xf32>, tensor<64x4xi8>, tensor<1x4xf32> -> tensor<1x4xf32>
  return %a, %b, %d, %e, %f : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// BCQ: LUT-GEMM on x86 (vpshufb) and AArch64 (tbl), one token at a time;
// the generic target has no byte lookup: the reference lowering.
// V3: kernel = #qc.kernel<kind = lut_bcq, isa = avx2, m_tile = 1, act_block = 64>
// VNNI: kernel = #qc.kernel<kind = lut_bcq, isa = avx512vnni, m_tile = 1, act_block = 64>
// NEON: kernel = #qc.kernel<kind = lut_bcq, isa = neon, m_tile = 1, act_block = 64>
// GEN: kernel = #qc.kernel<kind = reference
func.func @bcq(%x: tensor<4x128xf32>) -> tensor<4x8xf32> {
  %c = arith.constant dense<1> : tensor<128x8xi8>
  %s = arith.constant dense<1.0> : tensor<3x2x8xf32>
  // expected-remark @+1 {{layer 'h': lut_bcq (avx2, m_tile 1, act_block 64)}}
  %y = qc.qlinear %x, %c, %s scheme #qc.bcq<planes = 3, group = 64, offset = false, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "h" : tensor<4x128xf32>, tensor<128x8xi8>, tensor<3x2x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// The activation scheme decides too. Float activations (no #qc.act) take
// dequant_f32, 8-bit codes on AVX2 included (FMAs, no dot product to
// saturate); int8 in other blocks than the group's take dequant_i8 in those
// blocks where they fit it, a scale per token with whole-column groups
// takes one block of K in whole 32-row blocks (320, not padded to 384),
// with grouped weights the group's blocks (the generator shares the row's
// scale among them); int4, dint4 and
// mxfp4 (blocks of 32) take dequant_i8 as int8 codes, and uint8's codes less
// 128 on its tensor's scale, amxfp4 (a scale per sign) dequant_f32 after
// its quantizer's rounding; the rest keep the
// reference lowering and say why.
// V3-LABEL: func.func @activations
// V3: layer "f1" {kernel = #qc.kernel<kind = dequant_f32, isa = avx2, m_tile = 2, act_block = 128>
// V3: layer "f2" {kernel = #qc.kernel<kind = dequant_f32, isa = avx2, m_tile = 2, act_block = 128>
// V3: layer "i1" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 64>
// V3: layer "i2" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 320>
// V3: layer "r1" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 128>
// V3: layer "r2" {kernel = #qc.kernel<kind = reference
// V3: layer "i3" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 128>
// V3: layer "i4" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 32>
// V3: layer "r5" {kernel = #qc.kernel<kind = reference
// V3: layer "r6" {kernel = #qc.kernel<kind = reference
// V3: layer "d1" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 128>
// V3: layer "a1" {kernel = #qc.kernel<kind = dequant_f32, isa = avx2, m_tile = 2, act_block = 128>
// V3: layer "r7" {kernel = #qc.kernel<kind = reference
// V3: layer "u1" {kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 2, act_block = 128>
func.func @activations(%x: tensor<2x320xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %c = arith.constant dense<1> : tensor<320x8xi8>
  %s = arith.constant dense<1.0> : tensor<3x8xf32>
  %s1 = arith.constant dense<1.0> : tensor<1x8xf32>
  %sb = arith.constant dense<1.0> : tensor<2x3x8xf32>
  // expected-remark @+1 {{layer 'f1': dequant_f32 (avx2, m_tile 2, act_block 128)}}
  %f1 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> layer "f1" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'f2': dequant_f32 (avx2, m_tile 2, act_block 128)}}
  %f2 = qc.qlinear %x, %c, %s1 scheme #qc.uniform<bits = 8, group = -1, per_ic = false, symmetric = true, scale_type = f32> layer "f2" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<1x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'i1': dequant_i8 (avx2, m_tile 2, act_block 64)}}
  %i1 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "i1" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'i2': dequant_i8 (avx2, m_tile 2, act_block 320)}}
  %i2 = qc.qlinear %x, %c, %s1 scheme #qc.uniform<bits = 4, group = -1, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = -1> layer "i2" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<1x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'r1': dequant_i8 (avx2, m_tile 2, act_block 128)}}
  %r1 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = -1> layer "r1" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'r2': reference: no kernel for int8b48 activations with this weight group}}
  %r2 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 48> layer "r2" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'i3': dequant_i8 (avx2, m_tile 2, act_block 128)}}
  %r3 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int4, block = 128> layer "i3" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'i4': dequant_i8 (avx2, m_tile 2, act_block 32)}}
  %r4 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = mxfp4, block = 32> layer "i4" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'r5': reference: LUT-GEMM takes int8 activations in blocks of 128, the layer's are f32}}
  %r5 = qc.qlinear %x, %c, %sb scheme #qc.bcq<planes = 2, group = 128, offset = false, scale_type = f32> layer "r5" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<2x3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'r6': reference: LUT-GEMM takes dynamic int8 activations, the layer's are int4b128}}
  %r6 = qc.qlinear %x, %c, %sb scheme #qc.bcq<planes = 2, group = 128, offset = false, scale_type = f32> act #qc.act<kind = int4, block = 128> layer "r6" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<2x3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'd1': dequant_i8 (avx2, m_tile 2, act_block 128)}}
  %d1 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = dint4, block = -1> layer "d1" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'a1': dequant_f32 (avx2, m_tile 2, act_block 128)}}
  %a1 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = amxfp4, block = 32> layer "a1" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'r7': reference: LUT-GEMM takes dynamic int8 activations, the layer's are amxfp4}}
  %r7 = qc.qlinear %x, %c, %sb scheme #qc.bcq<planes = 2, group = 128, offset = false, scale_type = f32> act #qc.act<kind = amxfp4, block = 32> layer "r7" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<2x3x8xf32> -> tensor<2x8xf32>
  // expected-remark @+1 {{layer 'u1': dequant_i8 (avx2, m_tile 2, act_block 128)}}
  %u1 = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = uint8, block = -1> layer "u1" : tensor<2x320xf32>, tensor<320x8xi8>, tensor<3x8xf32> -> tensor<2x8xf32>
  return %f1, %f2, %i1, %i2, %r1, %r2, %r3, %r4, %r5, %r6, %d1, %a1, %r7, %u1 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}
