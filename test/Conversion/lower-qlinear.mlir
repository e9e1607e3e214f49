// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-lower-qlinear))' -split-input-file | FileCheck %s

// Uniform per-OC, asymmetric: scales and zero points indexed by k floordiv
// group; then a qc.linear on the dequantized weight.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[GRP:.*]] = affine_map<(d0, d1) -> (d0 floordiv 32, d1)>
// CHECK-LABEL: func.func @uniform
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[GRP]], #[[GRP]], #[[ID]]]
// CHECK:   arith.uitofp
// CHECK:   arith.subf
// CHECK:   arith.mulf
// CHECK: qc.linear %{{.*}}, %[[W]] layer "fc1" : tensor<2x64xf32>, tensor<64x16xf32> -> tensor<2x16xf32>
// CHECK-NOT: qc.qlinear
func.func @uniform(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf16>, %z: tensor<2x16xf16>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<2x16xf16>) scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = false, scale_type = f16> layer "fc1" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf16> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// BCQ: one scale slice per plane, signs from the code bits.
// CHECK-LABEL: func.func @bcq
// CHECK-COUNT-2: tensor.extract_slice %{{.*}}[{{[01]}}, 0, 0] [1, 2, 16] [1, 1, 1] : tensor<2x2x16xf32> to tensor<2x16xf32>
// CHECK: linalg.generic
// CHECK-COUNT-2: arith.shrui
// CHECK: qc.linear
func.func @bcq(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.bcq<planes = 2, group = 32, offset = false, scale_type = f32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// MXFP4: the 16 E2M1 values as a table, scaled per block of 32.
// CHECK-LABEL: func.func @mxfp4
// CHECK: arith.constant dense<[0.000000e+00, 5.000000e-01, 1.000000e+00, 1.500000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 6.000000e+00, -0.000000e+00, -5.000000e-01, -1.000000e+00, -1.500000e+00, -2.000000e+00, -3.000000e+00, -4.000000e+00, -6.000000e+00]> : tensor<16xf32>
// CHECK: tensor.extract
func.func @mxfp4(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.float<format = mxfp4, bits = 4, block = 32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}
