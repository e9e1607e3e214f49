// RUN: qc-opt %s | qc-opt | FileCheck %s

// Every scheme parses and prints back, on a qc.qlinear whose operands have
// the scheme's canonical shapes.

// CHECK-LABEL: func.func @uniform_oc
// CHECK: qc.qlinear %{{.*}}, %{{.*}}, %{{.*}} zeros(%{{.*}} : tensor<2x16xf16>) scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = false, scale_type = f16> layer "fc1"
func.func @uniform_oc(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>, %z: tensor<2x16xf16>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<2x16xf16>) scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = false, scale_type = f16> layer "fc1" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// A group that does not divide K leaves a shorter last group: 48 = 32 + 16.
// CHECK-LABEL: func.func @partial_group
// CHECK: qc.qlinear {{.*}} group = 32
func.func @partial_group(%x: tensor<2x48xf32>, %c: tensor<48x16xi8>, %s: tensor<2x16xf16>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> layer "fc" : tensor<2x48xf32>, tensor<48x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// CHECK-LABEL: func.func @uniform_ic
// CHECK: #qc.uniform<bits = 3, group = 8, per_ic = true, symmetric = true, scale_type = f32>
func.func @uniform_ic(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<64x2xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 3, group = 8, per_ic = true, symmetric = true, scale_type = f32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<64x2xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// CHECK-LABEL: func.func @bcq
// CHECK: #qc.bcq<planes = 3, group = 32, offset = true, scale_type = f16>
func.func @bcq(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<3x2x16xf16>, %o: tensor<2x16xf16>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s zeros(%o : tensor<2x16xf16>) scheme #qc.bcq<planes = 3, group = 32, offset = true, scale_type = f16> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<3x2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// AnyBCQ: 2 of the 4 planes the codes hold (the default, 0, is not printed).
// CHECK-LABEL: func.func @anybcq
// CHECK: #qc.bcq<planes = 2, group = 32, offset = true, scale_type = f16, stored_planes = 4>
func.func @anybcq(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x2x16xf16>, %o: tensor<2x16xf16>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s zeros(%o : tensor<2x16xf16>) scheme #qc.bcq<planes = 2, group = 32, offset = true, scale_type = f16, stored_planes = 4> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// CHECK-LABEL: func.func @codebook
// CHECK: codebook(%{{.*}} : tensor<2x256x8xf16>) scheme #qc.codebook<vector_size = 8, entries = 256, books = 2, scale_type = f16>
func.func @codebook(%x: tensor<2x64xf32>, %c: tensor<2x8x16xi32>, %s: tensor<16xf16>, %cb: tensor<2x256x8xf16>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s codebook(%cb : tensor<2x256x8xf16>) scheme #qc.codebook<vector_size = 8, entries = 256, books = 2, scale_type = f16> layer "fc" : tensor<2x64xf32>, tensor<2x8x16xi32>, tensor<16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// CHECK-LABEL: func.func @floats
// CHECK: #qc.float<format = mxfp4, bits = 4, block = 32>
// CHECK: #qc.float<format = amxfp4, bits = 4, block = 32>
// CHECK: #qc.float<format = fp8e4m3, bits = 8, block = -1>
// CHECK: #qc.float<format = dint, bits = 4, block = 16>
func.func @floats(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>, %s2: tensor<2x2x16xf32>, %s8: tensor<1x16xf32>, %s4: tensor<4x16xf32>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) {
  %a = qc.qlinear %x, %c, %s scheme #qc.float<format = mxfp4, bits = 4, block = 32> layer "a" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  %b = qc.qlinear %x, %c, %s2 scheme #qc.float<format = amxfp4, bits = 4, block = 32> layer "b" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x2x16xf32> -> tensor<2x16xf32>
  %d = qc.qlinear %x, %c, %s8 scheme #qc.float<format = fp8e4m3, bits = 8, block = -1> layer "c" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<1x16xf32> -> tensor<2x16xf32>
  %e = qc.qlinear %x, %c, %s4 scheme #qc.float<format = dint, bits = 4, block = 16> layer "d" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<4x16xf32> -> tensor<2x16xf32>
  return %a, %b, %d, %e : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

// Activation schemes print back in full after the weight scheme.
// CHECK-LABEL: func.func @activations
// CHECK: scale_type = f16> act #qc.act<kind = int8, block = 128> layer "a"
// CHECK: scale_type = f16> act #qc.act<kind = int4, block = -1> layer "b"
// CHECK: scale_type = f16> act #qc.act<kind = mxfp4, block = 32> layer "c"
// CHECK: scale_type = f16> layer "d"
// CHECK: scale_type = f16> act #qc.act<kind = amxfp4, block = 32> layer "e"
// CHECK: scale_type = f16> act #qc.act<kind = dint4, block = 32> layer "f"
func.func @activations(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) {
  %a = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = 128> layer "a" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  %b = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int4, block = -1> layer "b" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  %d = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = mxfp4, block = 32> layer "c" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  %e = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> layer "d" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  %f = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = amxfp4, block = 32> layer "e" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  %g = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = dint4, block = 32> layer "f" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %a, %b, %d, %e, %f, %g : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

// Static int8 activations: the scale (f32) and the zero point, which is
// printed only when not 0.
// CHECK-LABEL: func.func @static_activations
// CHECK: act #qc.act<kind = int8, block = -1, scale = 2.500000e-02 : f32, zero_point = -128> layer "a"
// CHECK: act #qc.act<kind = int8, block = -1, scale = 5.000000e-01 : f32> layer "b"
func.func @static_activations(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>) -> (tensor<2x16xf32>, tensor<2x16xf32>) {
  %a = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = -1, scale = 0.025 : f32, zero_point = -128> layer "a" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  %b = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f16> act #qc.act<kind = int8, block = -1, scale = 0.5 : f32, zero_point = 0> layer "b" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %a, %b : tensor<2x16xf32>, tensor<2x16xf32>
}
