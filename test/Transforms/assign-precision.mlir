// Planted sensitivities (H = I for all three; the error counts relative to
// the layer's output energy): fc_a's weights are 8 evenly spaced values per
// column in [-2, 1], which a 2-bit grid fits badly; fc_b's lie within 0.3 of
// the 2-bit grid of that range, {-2, -1, 0, 1} (scale 1, zero point 2);
// fc_c's lie on it exactly, so more bits buy it nothing and it stays at 2
// bits whatever the budget. w2g8 costs 4.25 bits per weight on these 8 x 4
// layers (2-bit codes, an f16 scale and a 2-bit zero point per column),
// w4g8 costs 6.5: one upgrade makes 5.0 bits per weight, two 5.75.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import sys, numpy as np; sys.path.insert(0, '%S/../Calibrate/Inputs'); from qcstats import write; write('%t/s.qcstats', [dict(layers=[n], H=s * np.eye(8), rows=10) for n, s in (('fc_a', 1.0), ('fc_b', 1.0), ('fc_c', 1.0))])"
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
// ALL: layer "fc_a" {qc.scheme = "w4g8"}
// ALL: layer "fc_b" {qc.scheme = "w4g8"}
// ALL: layer "fc_c" {qc.scheme = "w2g8"}
// QUANT: scheme #qc.uniform<bits = 4, group = 8, {{.*}} layer "fc_a"
// QUANT: scheme #qc.uniform<bits = 2, group = 8, {{.*}} layer "fc_b"
// QUANT: scheme #qc.uniform<bits = 2, group = 8, {{.*}} layer "fc_c"
// LOW: error: qc-assign-precision: budget 4.000 bits per weight is below the cheapest candidates' 4.250
// NOSTATS: error: qc-assign-precision: needs calibration statistics (stats=FILE, from qc-calibrate)
// MISSING: error: qc-assign-precision: no usable calibration statistics for layer 'fc_b'
func.func @three(%x: tensor<2x8xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %wa = arith.constant dense<[[0.5714, 0.5714, -0.2857, -0.2857], [1.0000, -2.0000, -1.1429, 0.1429], [-1.1429, -0.2857, 0.5714, -0.7143], [-1.5714, -1.5714, 1.0000, 1.0000], [-0.2857, 0.1429, -0.7143, 0.5714], [0.1429, -1.1429, 0.1429, -1.1429], [-0.7143, -0.7143, -2.0000, -1.5714], [-2.0000, 1.0000, -1.5714, -2.0000]]> : tensor<8x4xf32>
  %wb = arith.constant dense<[[-2.0000, -1.0636, -2.0000, -0.0122], [-0.2122, 0.1191, -2.0000, -0.1248], [-2.0000, -2.0000, -2.0000, -2.0000], [1.0000, -2.0000, 0.2227, -2.0000], [-0.1348, -0.9629, -0.0602, 1.0000], [-0.9323, 1.0000, 1.0000, 1.0000], [1.0000, -2.0000, 1.0000, -2.0000], [1.0000, 1.0000, 1.0000, 1.0000]]> : tensor<8x4xf32>
  %wc = arith.constant dense<[[-2.0000, -1.0000, -2.0000, 0.0000], [0.0000, 0.0000, -2.0000, 0.0000], [-2.0000, -2.0000, -2.0000, -2.0000], [1.0000, -2.0000, 0.0000, -2.0000], [0.0000, -1.0000, 0.0000, 1.0000], [-1.0000, 1.0000, 1.0000, 1.0000], [1.0000, -2.0000, 1.0000, -2.0000], [1.0000, 1.0000, 1.0000, 1.0000]]> : tensor<8x4xf32>
  %a = qc.linear %x, %wa layer "fc_a" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  %b = qc.linear %x, %wb layer "fc_b" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  %c = qc.linear %x, %wc layer "fc_c" : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  return %a, %b, %c : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
