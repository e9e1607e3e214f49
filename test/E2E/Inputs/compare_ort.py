#!/usr/bin/env python3
"""Compare qc-run's outputs with onnxruntime's for the lit e2e tests.

Usage: compare_ort.py MODEL.onnx NPY_DIR QC_OUT_DIR [--rtol R] [--atol A]

NPY_DIR holds onnxruntime's outputs out_<i>.npy (make_model.py --npy);
QC_OUT_DIR holds qc-run's <output name>.npy. Prints one line per output
("OUTPUT name: max abs err E") and exits 1 on a mismatch.
"""
import argparse
import os
import sys

import numpy as np
import onnx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("npy_dir")
    ap.add_argument("qc_dir")
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--atol", type=float, default=1e-5)
    a = ap.parse_args()
    graph = onnx.load(a.model, load_external_data=False).graph
    ok = True
    for i, out in enumerate(graph.output):
        want = np.load(os.path.join(a.npy_dir, "out_%d.npy" % i))
        got = np.load(os.path.join(a.qc_dir, out.name.replace("/", "%2F") + ".npy"))
        if got.shape != want.shape or got.dtype != want.dtype:
            print("OUTPUT %s: got %s %s, expected %s %s" % (
                out.name, got.dtype, list(got.shape), want.dtype, list(want.shape)))
            ok = False
            continue
        err = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
        close = np.allclose(got, want, rtol=a.rtol, atol=a.atol)
        print("OUTPUT %s: max abs err %.3g %s" % (out.name, err, "ok" if close else "MISMATCH"))
        ok = ok and close
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
