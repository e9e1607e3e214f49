// RUN: qc-opt %s --qc-quantize="scheme=w4g4" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 exclude=fc2 overrides=fc1=bcq2g4" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=RULES
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=f32" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=F32
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=int8t" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=TOKEN
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=mxfp4" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=MX
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=amxfp4" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=AMX
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=dint4" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=DINT
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=dint4t" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=DINTT
// RUN: qc-opt %s --qc-quantize="scheme=w4g4 act=uint8" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=UINT8
// RUN: qc-opt %s --qc-quantize="scheme=bcq3g4 min-planes=2 planes=2" -split-input-file -mlir-elide-resource-strings-if-larger=4 | FileCheck %s --check-prefix=ANY
// RUN: not qc-opt %s --qc-quantize="scheme=w4g4 min-planes=2" -split-input-file 2>&1 | FileCheck %s --check-prefix=ANYUNIFORM
// RUN: not qc-opt %s --qc-quantize="scheme=bcq3g4 planes=2" -split-input-file 2>&1 | FileCheck %s --check-prefix=ANYNOMIN
// RUN: not qc-opt %s --qc-quantize="scheme=w4g4 act=int9" -split-input-file 2>&1 | FileCheck %s --check-prefix=BADACT
// RUN: not qc-opt %s --qc-quantize="scheme=w4g4 act=int8b0" -split-input-file 2>&1 | FileCheck %s --check-prefix=BADBLOCK

// The activation scheme: by default int8 in blocks of the weight group
// (above); f32 leaves the activations in float (no #qc.act); int8t is a
// scale per token; mxfp4 and amxfp4 blocks of 32; dint4 the weight group's
// blocks like int8 and int4, dint4t a scale per token; uint8 one dynamic
// scale and zero point per tensor. Each is in the report.
// F32: qc.qlinear {{.*}} scale_type = f16> layer "fc1" {qc.report = {act = "f32",
// TOKEN: qc.qlinear {{.*}} act #qc.act<kind = int8, block = -1> layer "fc1" {qc.report = {act = "int8t",
// MX: qc.qlinear {{.*}} act #qc.act<kind = mxfp4, block = 32> layer "fc1" {qc.report = {act = "mxfp4",
// AMX: qc.qlinear {{.*}} act #qc.act<kind = amxfp4, block = 32> layer "fc1" {qc.report = {act = "amxfp4",
// DINT: qc.qlinear {{.*}} act #qc.act<kind = dint4, block = 4> layer "fc1" {qc.report = {act = "dint4b4",
// UINT8: qc.qlinear {{.*}} act #qc.act<kind = uint8, block = -1> layer "fc1" {qc.report = {act = "uint8",
// DINTT: qc.qlinear {{.*}} act #qc.act<kind = dint4, block = -1> layer "fc1" {qc.report = {act = "dint4t",
// BADACT: error: qc-quantize: unknown activation scheme 'int9' (auto, f32, int8, int8t, int8b<B>, int4, int4t, int4b<B>, dint4, dint4t, dint4b<B>, mxfp4, amxfp4, uint8, int8s)
// BADBLOCK: error: qc-quantize: activation scheme 'int8b0': the block must be a positive integer

// Each constant-weight qc.linear becomes a qc.qlinear whose operands are
// dense_resource blobs named after the layer, with a report attached.
// CHECK-LABEL: func.func @two_layers
// CHECK-DAG: %[[C1:.*]] = arith.constant dense_resource<fc1.codes> : tensor<8x4xi8>
// CHECK-DAG: %[[S1:.*]] = arith.constant dense_resource<fc1.scales> : tensor<2x4xf16>
// CHECK-DAG: %[[Z1:.*]] = arith.constant dense_resource<fc1.zeros> : tensor<2x4xf16>
// CHECK: qc.qlinear %{{.*}}, %[[C1]], %[[S1]] zeros(%[[Z1]] : tensor<2x4xf16>) scheme #qc.uniform<bits = 4, group = 4, per_ic = false, symmetric = false, scale_type = f16> act #qc.act<kind = int8, block = 4> layer "fc1" {qc.report = {act = "int8b4", algo = "rtn", bits_per_weight = 9.000000e+00 : f64, bytes = 36 : i64, output_mse = {{.*}} : f64, scheme = "w4g4", weight_mse = {{.*}} : f64}}
// CHECK: qc.qlinear {{.*}} layer "fc2"
// CHECK-NOT: qc.linear

// AnyBCQ: 2 of the 3 planes of one fit; the codes hold all 3.
// ANY-LABEL: func.func @two_layers
// ANY: qc.qlinear {{.*}} scheme #qc.bcq<planes = 2, group = 4, offset = true, scale_type = f16, stored_planes = 3> {{.*}} layer "fc1" {qc.report = {act = "int8b4", algo = "anybcq"
// ANYUNIFORM: qc-quantize: min-planes (AnyBCQ) is for BCQ layers, and no layer has a BCQ scheme
// ANYNOMIN: AnyBCQ needs 1 <= min-planes <= planes <= 8 (min-planes=0, planes=2)

// RULES-LABEL: func.func @two_layers
// RULES: qc.qlinear {{.*}} scheme #qc.bcq<planes = 2, group = 4, offset = true, scale_type = f16> act #qc.act<kind = int8, block = 4> layer "fc1"
// RULES: qc.linear {{.*}} layer "fc2"
func.func @two_layers(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w1 = arith.constant dense<[[0.1, -0.2, 0.3, 0.4], [0.5, -0.6, 0.7, -0.8], [0.9, 1.0, -1.1, 1.2], [1.3, -1.4, 1.5, 1.6], [-0.1, 0.2, -0.3, 0.4], [0.5, 0.6, -0.7, 0.8], [-0.9, 1.0, 1.1, -1.2], [1.3, 1.4, -1.5, 1.6]]> : tensor<8x4xf32>
  %w2 = arith.constant dense<[[0.25, -0.5, 0.75, 1.0], [-0.25, 0.5, -0.75, 1.0], [0.125, 0.25, 0.375, -0.5], [1.5, -1.25, 1.0, 0.75]]> : tensor<4x4xf32>
  %h = qc.linear %x, %w1 layer "fc1" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  %y = qc.linear %h, %w2 layer "fc2" : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
