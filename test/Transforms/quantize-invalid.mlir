// RUN: not qc-opt %s --qc-quantize="scheme=w4g16" 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: qc-quantize: layer 'fc1' [8 x 4], scheme w4g16: group 16 is larger than K = 8

// RUN: not qc-opt %s --qc-quantize="scheme=w4g4 overrides=nope=w3g4" 2>&1 | FileCheck %s --check-prefix=NOMATCH
// NOMATCH: error: qc-quantize: layer pattern 'nope' matches no layer

// RUN: not qc-opt %s --qc-quantize="scheme=w9g4" 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: qc-quantize: bad scheme 'w9g4': parameters out of range

// RUN: not qc-opt %s --qc-quantize="scheme=q4" 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: qc-quantize: bad scheme 'q4': expected w<bits>g<group>

// RUN: not qc-opt %s --qc-quantize="scheme=mxfp4" 2>&1 | FileCheck %s --check-prefix=MX
// MX: error: qc-quantize: layer 'fc1' [8 x 4], scheme mxfp4: group 32 is larger than K = 8

func.func @one(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w1 = arith.constant dense<0.5> : tensor<8x4xf32>
  %h = qc.linear %x, %w1 layer "fc1" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  return %h : tensor<2x4xf32>
}
