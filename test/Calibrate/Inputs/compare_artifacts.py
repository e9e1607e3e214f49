#!/usr/bin/env python3
"""Runs quantized artifacts of the wide_mlp test model on calibration
samples and compares their outputs with the float model computed in numpy.

  compare_artifacts.py MODEL.onnx CALIB.npy BOUND NAME=ART...

For each artifact: qc-run on every sample of CALIB.npy ([S, 4, 64]); the
error is ||y - y_float|| / ||y_float|| over all samples. Prints
"NAME: rel err E" and exits 1 if an error exceeds BOUND or is not finite,
or if an artifact after the first is not closer to the float model than
the first (the first is the baseline, e.g. RTN against GPTQ).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    model, calib, bound = sys.argv[1], sys.argv[2], float(sys.argv[3])
    inits = {i.name: numpy_helper.to_array(i).astype(np.float64)
             for i in onnx.load(model).graph.initializer}
    xs = np.load(calib)
    ok = True
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        for spec in sys.argv[4:]:
            name, art = spec.split("=", 1)
            num = den = 0.0
            for s, x in enumerate(xs):
                inp = os.path.join(tmp, "x%d.npy" % s)
                np.save(inp, x.astype(np.float32))
                out = os.path.join(tmp, "%s_%d" % (name, s))
                subprocess.run(["qc-run", art, "--input", "x=" + inp, "--output-dir", out],
                               check=True, stdout=subprocess.DEVNULL)
                got = np.load(os.path.join(out, "y.npy")).astype(np.float64)
                h = np.maximum(x.astype(np.float64) @ inits["w1"] + inits["b1"], 0)
                want = h @ inits["w2"]
                num += float(np.sum((got - want) ** 2))
                den += float(np.sum(want ** 2))
            err = (num / den) ** 0.5
            print("%s: rel err %.4f" % (name, err))
            if not err <= bound:  # NaN fails too
                print("%s: above the bound %g" % (name, bound))
                ok = False
            if first is None:
                first = (name, err)
            elif not err < first[1]:
                print("%s: not closer to the float model than %s" % (name, first[0]))
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
