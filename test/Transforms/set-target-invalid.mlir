// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel))' -verify-diagnostics

// A module target that names no registered kernel target.
// expected-error @+1 {{qc-select-kernel: qc.target names an unknown kernel target 'avx3'}}
module attributes {qc.target = #qc.target<isa = avx3, features = "", vector_bits = 256, threads = 0>} {
  func.func @f(%x: tensor<6x256xf32>) -> tensor<6x8xf32> {
    %c = arith.constant dense<1> : tensor<256x8xi8>
    %s = arith.constant dense<1.0> : tensor<2x8xf32>
    %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> layer "fc" : tensor<6x256xf32>, tensor<256x8xi8>, tensor<2x8xf32> -> tensor<6x8xf32>
    return %y : tensor<6x8xf32>
  }
}
