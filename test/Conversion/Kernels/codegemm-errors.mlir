// RUN: qc-opt %s --pass-pipeline='builtin.module(qc-gen-codegemm)' -split-input-file -verify-diagnostics

// The CodeGEMM generator's preconditions: a layer it cannot lower is an
// error naming the layer and the reason, never a wrong kernel.
// A code that names no entry of the book.
func.func @code_too_large(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[[0, 1], [2, 4]]]> : tensor<1x2x2xi32>
  %b = arith.constant dense<0.5> : tensor<1x4x2xf32>
  %s = arith.constant dense<1.0> : tensor<2xf32>
  // expected-error @+1 {{qc-gen-codegemm: layer 'fc': code 4 is not below entries = 4}}
  %y = qc.qlinear %x, %c, %s codebook(%b : tensor<1x4x2xf32>) scheme #qc.codebook<vector_size = 2, entries = 4, books = 1, scale_type = f32> layer "fc" {kernel = #qc.kernel<kind = codegemm, isa = avx2, m_tile = 1, act_block = 4>} : tensor<1x4xf32>, tensor<1x2x2xi32>, tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Codes that are not constants.
func.func @codes_not_constant(%x: tensor<1x4xf32>, %c: tensor<1x2x2xi32>) -> tensor<1x2xf32> {
  %b = arith.constant dense<0.5> : tensor<1x4x2xf32>
  %s = arith.constant dense<1.0> : tensor<2xf32>
  // expected-error @+1 {{qc-gen-codegemm: layer 'fc': codes must be an integer constant [books, K / v, N]}}
  %y = qc.qlinear %x, %c, %s codebook(%b : tensor<1x4x2xf32>) scheme #qc.codebook<vector_size = 2, entries = 4, books = 1, scale_type = f32> layer "fc" {kernel = #qc.kernel<kind = codegemm, isa = avx2, m_tile = 1, act_block = 4>} : tensor<1x4xf32>, tensor<1x2x2xi32>, tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A codebook that is not a constant.
func.func @book_not_constant(%x: tensor<1x4xf32>, %b: tensor<1x4x2xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[[0, 1], [2, 3]]]> : tensor<1x2x2xi32>
  %s = arith.constant dense<1.0> : tensor<2xf32>
  // expected-error @+1 {{qc-gen-codegemm: layer 'fc': codebook and scales must be constants of the scheme's shape}}
  %y = qc.qlinear %x, %c, %s codebook(%b : tensor<1x4x2xf32>) scheme #qc.codebook<vector_size = 2, entries = 4, books = 1, scale_type = f32> layer "fc" {kernel = #qc.kernel<kind = codegemm, isa = avx2, m_tile = 1, act_block = 4>} : tensor<1x4xf32>, tensor<1x2x2xi32>, tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
