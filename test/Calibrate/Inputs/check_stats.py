"""Checks qc-calibrate's statistics of the wide_mlp test model against numpy.

  check_stats.py STATS MODEL.onnx CALIB.npy

fc1 reads the model input x; fc2 reads relu(x @ w1 + b1). H = sum x^T x over
all samples and rows, absmax / meanabs per channel, rows = samples * 4.
"""

import sys

import numpy as np
import onnx
from onnx import numpy_helper

from qcstats import read

stats, model, calib = sys.argv[1:4]
inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(model).graph.initializer}
x = np.load(calib).astype(np.float64).reshape(-1, 64)
h = np.maximum(x @ inits["w1"].astype(np.float64) + inits["b1"], 0)
taps = {t["layers"][0]: t for t in read(stats)}
assert sorted(taps) == ["fc1", "fc2"], sorted(taps)
for name, inp in (("fc1", x), ("fc2", h)):
    t = taps[name]
    assert t["rows"] == inp.shape[0], (name, t["rows"])
    H = inp.T @ inp
    err = np.abs(t["H"] - H).max() / np.abs(H).max()
    assert err < 1e-5, (name, "H", err)
    assert np.allclose(t["absmax"], np.abs(inp).max(0), rtol=1e-5, atol=1e-6), name
    assert np.allclose(t["meanabs"], np.abs(inp).mean(0), rtol=1e-4, atol=1e-6), name
    print("%s: rows %d, H rel err %.1e" % (name, t["rows"], err))
print("stats ok")
