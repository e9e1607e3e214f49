// RUN: qc-opt %s --qc-set-activations=act=int8 -verify-diagnostics

// A layer whose kernel is chosen already is refused: the kernel computes the
// scheme it was chosen for.
func.func @chosen(%x: tensor<1x64xf32>, %c: tensor<64x8xi8>, %s: tensor<2x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{qc-set-activations: layer 'k' already has a kernel for its activations}}
  %a = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> layer "k" {kernel = #qc.kernel<kind = reference, isa = generic, m_tile = 1, act_block = 0>} : tensor<1x64xf32>, tensor<64x8xi8>, tensor<2x8xf32> -> tensor<1x8xf32>
  return %a : tensor<1x8xf32>
}
