// RUN: qc-opt %s --qc-set-activations=act=f32 | FileCheck %s --check-prefix=F32
// RUN: qc-opt %s --qc-set-activations=act=int8 | FileCheck %s --check-prefix=INT8
// RUN: qc-opt %s --qc-set-activations=act=int4t | FileCheck %s --check-prefix=INT4T
// RUN: qc-opt %s --qc-set-activations | FileCheck %s --check-prefix=AUTO
// RUN: not qc-opt %s --qc-set-activations=act=fp16 2>&1 | FileCheck %s --check-prefix=BAD

// Every layer takes the named scheme, replacing its own: f32 removes it,
// int8 blocks follow each weight group (gcd with 128; 128 for codebooks),
// auto is int8 for uniform weights and float for codebooks.
// F32-LABEL: func.func @layers
// F32: scale_type = f32> layer "a"
// F32: scale_type = f32> layer "b"
// INT8: act #qc.act<kind = int8, block = 32> layer "a"
// INT8: act #qc.act<kind = int8, block = 128> layer "b"
// INT4T: act #qc.act<kind = int4, block = -1> layer "a"
// INT4T: act #qc.act<kind = int4, block = -1> layer "b"
// AUTO: act #qc.act<kind = int8, block = 32> layer "a"
// AUTO: scale_type = f32> layer "b"
// BAD: error: qc-set-activations: unknown activation scheme 'fp16'
func.func @layers(%x: tensor<1x64xf32>, %c: tensor<64x8xi8>, %s: tensor<2x8xf32>, %cc: tensor<1x32x8xi8>, %cs: tensor<8xf32>, %cb: tensor<1x16x2xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %a = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = mxfp4, block = 32> layer "a" : tensor<1x64xf32>, tensor<64x8xi8>, tensor<2x8xf32> -> tensor<1x8xf32>
  %b = qc.qlinear %x, %cc, %cs codebook(%cb : tensor<1x16x2xf32>) scheme #qc.codebook<vector_size = 2, entries = 16, books = 1, scale_type = f32> layer "b" : tensor<1x64xf32>, tensor<1x32x8xi8>, tensor<8xf32> -> tensor<1x8xf32>
  return %a, %b : tensor<1x8xf32>, tensor<1x8xf32>
}
