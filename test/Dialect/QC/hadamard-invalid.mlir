// RUN: qc-opt %s -split-input-file -verify-diagnostics

func.func @signs(%x: tensor<2x24xf32>, %s: tensor<12xf32>, %m: tensor<3x3xf32>) -> tensor<2x24xf32> {
  // expected-error @+1 {{'qc.hadamard' op expects 24 signs, found 'tensor<12xf32>'}}
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<2x24xf32>, tensor<12xf32>, tensor<3x3xf32>
  return %y : tensor<2x24xf32>
}

// -----

func.func @mix(%x: tensor<2x24xf32>, %s: tensor<24xf32>, %m: tensor<3x2xf32>) -> tensor<2x24xf32> {
  // expected-error @+1 {{'qc.hadamard' op expects a square mix [M, M], found 'tensor<3x2xf32>'}}
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<2x24xf32>, tensor<24xf32>, tensor<3x2xf32>
  return %y : tensor<2x24xf32>
}

// -----

func.func @pow2(%x: tensor<2x24xf32>, %s: tensor<24xf32>, %m: tensor<2x2xf32>) -> tensor<2x24xf32> {
  // expected-error @+1 {{'qc.hadamard' op expects K = 24 to be the mix's order 2 times a power of two}}
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<2x24xf32>, tensor<24xf32>, tensor<2x2xf32>
  return %y : tensor<2x24xf32>
}

// -----

func.func @dynamic(%x: tensor<2x?xf32>, %s: tensor<24xf32>, %m: tensor<3x3xf32>) -> tensor<2x?xf32> {
  // expected-error @+1 {{'qc.hadamard' op expects an input of rank >= 1 with a static last dimension}}
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<2x?xf32>, tensor<24xf32>, tensor<3x3xf32>
  return %y : tensor<2x?xf32>
}
