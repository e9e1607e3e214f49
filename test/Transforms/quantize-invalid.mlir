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

// The pass options: each bad value is an error naming it.
// RUN: not qc-opt %s --qc-quantize="algo=adam" 2>&1 | FileCheck %s --check-prefix=ALGO
// ALGO: error: qc-quantize: unknown algo 'adam' (rtn, gptq, boa, turboboa or aespa)
// RUN: not qc-opt %s --qc-quantize="algo=gptq" 2>&1 | FileCheck %s --check-prefix=NOSTATS
// NOSTATS: error: qc-quantize: algo=gptq needs calibration statistics (stats=FILE, from qc-calibrate)
// RUN: not qc-opt %s --qc-quantize="algo=gptq stats=%t.missing.qcstats" 2>&1 | FileCheck %s --check-prefix=STATSFILE
// STATSFILE: error: qc-quantize: cannot open statistics file '{{.*}}.missing.qcstats'
// RUN: not qc-opt %s --qc-quantize="two-stage=true" 2>&1 | FileCheck %s --check-prefix=TWOSTAGE
// TWOSTAGE: error: qc-quantize: two-stage needs algo=gptq, boa, turboboa or aespa
// RUN: not qc-opt %s --qc-quantize="clip=max" 2>&1 | FileCheck %s --check-prefix=CLIP
// CLIP: error: qc-quantize: clip must be mse or minmax, found 'max'
// RUN: not qc-opt %s --qc-quantize="overrides=fc1" 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE: error: qc-quantize: expected LAYER_REGEX=SCHEME, found 'fc1'
// RUN: not qc-opt %s --qc-quantize="overrides=fc1=w4x" 2>&1 | FileCheck %s --check-prefix=OVSCHEME
// OVSCHEME: error: qc-quantize: override 'fc1=w4x': bad scheme 'w4x': unexpected 'x'
// RUN: not qc-opt %s --qc-quantize="exclude=fc[" 2>&1 | FileCheck %s --check-prefix=REGEX
// REGEX: error: qc-quantize: bad layer pattern 'fc[': brackets ([ ]) not balanced
// An exclusion comes first: the override after it has nothing left.
// RUN: not qc-opt %s --qc-quantize="overrides=fc1=w4g4 exclude=fc1" 2>&1 | FileCheck %s --check-prefix=SHADOWED
// SHADOWED: error: qc-quantize: layer pattern 'fc1' matches no layer

func.func @one(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w1 = arith.constant dense<0.5> : tensor<8x4xf32>
  %h = qc.linear %x, %w1 layer "fc1" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  return %h : tensor<2x4xf32>
}
