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

// -----

// An activation scheme rounds the input first: K = 64 in blocks of 24 is
// padded to 72 and split [2, 3, 24]; max |x| per block (a reduction), each
// element rounded to nearest even on the int4 grid (+-7) and scaled back;
// the [2, 64] slice goes into the product.
// CHECK-LABEL: func.func @int4_acts
// CHECK: tensor.pad %{{.*}} low[0, 0] high[0, 8]
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 3, 24] : tensor<2x72xf32> into tensor<2x3x24xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: arith.constant 7.000000e+00 : f32
// CHECK: math.roundeven
// CHECK: tensor.collapse_shape
// CHECK: %[[X:.*]] = tensor.extract_slice %{{.*}}[0, 0] [2, 64] [1, 1] : tensor<2x72xf32> to tensor<2x64xf32>
// CHECK: qc.linear %[[X]]
func.func @int4_acts(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int4, block = 24> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// MXFP4: the scale's exponent read from max |x|'s bits, the E2M1 grid in
// three steps (0.5 below 2, 1 below 4, 2 up to 6).
// CHECK-LABEL: func.func @mxfp4_acts
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.shrui
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: arith.constant 6.000000e+00 : f32
// CHECK: math.copysign
// CHECK: qc.linear
func.func @mxfp4_acts(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = mxfp4, block = 32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// AMXFP4: two block maxima (positive values, negative magnitudes), each
// value rounded on its sign's power-of-two scale.
// CHECK-LABEL: func.func @amxfp4_acts
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: arith.negf
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x2x32xf32>, tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: qc.linear
func.func @amxfp4_acts(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = amxfp4, block = 32> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// dINT: levels 0, 1/2 and ceil(a - 1/2) of a = |x| 6 / max, on max / 6.
// CHECK-LABEL: func.func @dint4_acts
// CHECK: arith.constant 6.000000e+00 : f32
// CHECK: math.ceil
// CHECK-DAG: arith.constant 7.500000e-01 : f32
// CHECK-DAG: arith.constant 2.500000e-01 : f32
// CHECK: math.copysign
// CHECK: qc.linear
func.func @dint4_acts(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = dint4, block = -1> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// Static int8: x / scale rounded to even, the zero point added, clamped to
// [-128, 127], back to (q - zp) * scale, element by element.
// CHECK-LABEL: func.func @static_acts
// CHECK-DAG: %[[S:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[Z:.*]] = arith.constant 5.000000e+00 : f32
// CHECK: linalg.generic
// CHECK: ins(%arg0 : tensor<2x64xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK: %[[D:.*]] = arith.divf %[[IN]], %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[D]] : f32
// CHECK: %[[Q:.*]] = arith.addf %[[R]], %[[Z]] : f32
// CHECK: %[[HI:.*]] = arith.constant 1.270000e+02 : f32
// CHECK: %[[LO:.*]] = arith.constant -1.280000e+02 : f32
// CHECK: %[[A:.*]] = arith.maximumf %[[Q]], %[[LO]] : f32
// CHECK: %[[B:.*]] = arith.minimumf %[[A]], %[[HI]] : f32
// CHECK: %[[C:.*]] = arith.subf %[[B]], %[[Z]] : f32
// CHECK: arith.mulf %[[C]], %[[S]] : f32
// CHECK: qc.linear
func.func @static_acts(%x: tensor<2x64xf32>, %c: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = -1, scale = 0.25 : f32, zero_point = 5> layer "fc" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// uint8 (DynamicQuantizeLinear): min(0, min x) and max(0, max x) over the
// whole tensor in one reduction, the scale (1 for an all-zero tensor) and
// zero point from them, then every element on [0, 255] around it.
// CHECK-LABEL: func.func @uint8_acts
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction"]} ins(%arg0 : tensor<2x3x64xf32>) outs(%{{.*}}, %{{.*}} : tensor<f32>, tensor<f32>)
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: %[[HI:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK: %[[LO:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK: %[[RANGE:.*]] = arith.subf %[[HI]], %[[LO]] : f32
// CHECK: %[[S0:.*]] = arith.divf %[[RANGE]], %{{.*}} : f32
// CHECK: %[[S:.*]] = arith.select %{{.*}}, %[[S0]], %{{.*}} : f32
// CHECK: %[[ZP:.*]] = math.roundeven
// CHECK: linalg.generic
// CHECK: arith.divf %{{.*}}, %[[S]] : f32
// CHECK: arith.addf %{{.*}}, %[[ZP]] : f32
// CHECK: arith.constant 2.550000e+02 : f32
// CHECK: arith.subf %{{.*}}, %[[ZP]] : f32
// CHECK: qc.linear
func.func @uint8_acts(%x: tensor<2x3x64xf32>, %c: tensor<64x16xi8>, %s: tensor<1x16xf32>) -> tensor<2x3x16xf32> {
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 8, group = -1, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = uint8, block = -1> layer "fc" : tensor<2x3x64xf32>, tensor<64x16xi8>, tensor<1x16xf32> -> tensor<2x3x16xf32>
  return %y : tensor<2x3x16xf32>
}
