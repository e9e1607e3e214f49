// Planted sensitivities: the three layers have the same weights, but their
// inputs differ in scale (H = 1000 I, 1 I, 0.001 I), so an extra bit is worth
// most on fc_a, then fc_b. w2g8 costs 4.25 bits per weight on these 8 x 4
// layers (2-bit codes, an f16 scale and a 2-bit zero point per column),
// w4g8 costs 6.5: one upgrade makes 5.0 bits per weight, two 5.75.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import sys, numpy as np; sys.path.insert(0, '%S/../Calibrate/Inputs'); from qcstats import write; write('%t/s.qcstats', [dict(layers=[n], H=s * np.eye(8), rows=10) for n, s in (('fc_a', 1000.0), ('fc_b', 1.0), ('fc_c', 0.001))])"
// RUN: qc-opt %s --qc-assign-precision="budget=5.2 candidates=w2g8,w4g8 stats=%t/s.qcstats recipe=%t/r.json" | FileCheck %s --check-prefix=ONE
// RUN: FileCheck %s --check-prefix=RECIPE < %t/r.json
// RUN: qc-opt %s --qc-assign-precision="budget=5.9 candidates=w2g8,w4g8 stats=%t/s.qcstats" | FileCheck %s --check-prefix=TWO
// RUN: qc-opt %s --qc-assign-precision="budget=7 candidates=w2g8,w4g8 stats=%t/s.qcstats" | FileCheck %s --check-prefix=ALL
// RUN: qc-opt %s --qc-assign-precision="budget=5.2 candidates=w2g8,w4g8 stats=%t/s.qcstats" --qc-quantize | FileCheck %s --check-prefix=QUANT
// RUN: not qc-opt %s --qc-assign-precision="budget=4 candidates=w2g8,w4g8 stats=%t/s.qcstats" 2>&1 | FileCheck %s --check-prefix=LOW
// RUN: not qc-opt %s --qc-assign-precision="budget=6.7" 2>&1 | FileCheck %s --check-prefix=NOSTATS
// RUN: %python -c "import sys, numpy as np; sys.path.insert(0, '%S/../Calibrate/Inputs'); from qcstats import write; write('%t/partial.qcstats', [dict(layers=['fc_a'], H=np.eye(8), rows=10)])"
// RUN: not qc-opt %s --qc-assign-precision="budget=6.7 stats=%t/partial.qcstats" 2>&1 | FileCheck %s --check-prefix=MISSING

// ONE: module attributes {qc.assigned_bits_per_weight = 5.000000e+00 : f64}
// ONE: layer "fc_a" {qc.scheme = "w4g8"}
// ONE: layer "fc_b" {qc.scheme = "w2g8"}
// ONE: layer "fc_c" {qc.scheme = "w2g8"}
// RECIPE: "overrides": {
// RECIPE-DAG: "fc_a": "w4g8"
// RECIPE-DAG: "fc_b": "w2g8"
// RECIPE-DAG: "fc_c": "w2g8"
// RECIPE: "scheme": "w2g8"
// TWO: layer "fc_a" {qc.scheme = "w4g8"}
// TWO: layer "fc_b" {qc.scheme = "w4g8"}
// TWO: layer "fc_c" {qc.scheme = "w2g8"}
// ALL-COUNT-3: {qc.scheme = "w4g8"}
// QUANT: scheme #qc.uniform<bits = 4, group = 8, {{.*}} layer "fc_a"
// QUANT: scheme #qc.uniform<bits = 2, group = 8, {{.*}} layer "fc_b"
// QUANT: scheme #qc.uniform<bits = 2, group = 8, {{.*}} layer "fc_c"
// LOW: error: qc-assign-precision: budget 4.000 bits per weight is below the cheapest candidates' 4.250
// NOSTATS: error: qc-assign-precision: needs calibration statistics (stats=FILE, from qc-calibrate)
// MISSING: error: qc-assign-precision: no usable calibration statistics for layer 'fc_b'
func.func @three(%x: tensor<2x8xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %w = arith.constant dense<[[0.11, -0.42, 0.33, 0.94], [0.51, -0.16, 0.77, -0.28], [0.19, 1.0, -0.71, 0.12], [0.13, -0.84, 0.25, 0.66], [-0.91, 0.27, -0.35, 0.44], [0.58, 0.62, -0.17, 0.83], [-0.39, 0.05, 0.61, -0.22], [0.73, 0.48, -0.55, 0.36]]> : tensor<8x4xf32>
  %a = qc.linear %x, %w layer "fc_a" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  %b = qc.linear %x, %w layer "fc_b" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  %c = qc.linear %x, %w layer "fc_c" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  return %a, %b, %c : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
