// RUN: qc-opt %s --pass-pipeline='builtin.module(qc-gen-lut-gemm)' -split-input-file -verify-diagnostics

// A code wider than the scheme's bits is an error, not silently dropped.
func.func @wide_code(%x: tensor<1x32xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9]]> : tensor<32x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-lut-gemm: layer 'fc': code 9 at row 0, column 1 does not fit in 2 bits}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 2, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 32> layer "fc" {kernel = #qc.kernel<kind = lut_bcq, isa = avx2, m_tile = 1, act_block = 32>} : tensor<1x32xf32>, tensor<32x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// The generic target has no byte lookups.
func.func @generic(%x: tensor<1x32xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<32x2xi8>
  %s = arith.constant dense<1.0> : tensor<1x2xf32>
  // expected-error @+1 {{qc-gen-lut-gemm: layer 'fc': lut_bcq needs byte table lookups (an x86 or AArch64 target), not isa = generic}}
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 2, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 32> layer "fc" {kernel = #qc.kernel<kind = lut_bcq, isa = generic, m_tile = 1, act_block = 32>} : tensor<1x32xf32>, tensor<32x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
