#!/usr/bin/env python3
"""Run a model in qc (qc-run on PATH) and in onnxruntime on the same random
float inputs (every graph input that is not an initializer) and compare
their first outputs.

Usage: ort_check.py MODEL.onnx ARTIFACT_DIR WORK_DIR [--tol 1e-5] [--seed 0]

Prints "NAME SHAPE: max rel err E -> ok" (or FAIL, exit 1); the error is
max|qc - ort| / max|ort|.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("artifact")
    ap.add_argument("work")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    graph = onnx.load(a.model).graph
    init = {t.name for t in graph.initializer}
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.work, exist_ok=True)
    feeds, paths = {}, []
    for x in graph.input:
        if x.name in init:
            continue
        shape = [d.dim_value for d in x.type.tensor_type.shape.dim]
        feeds[x.name] = rng.standard_normal(shape).astype(np.float32)
        paths.append(os.path.join(a.work, "in%d.npy" % len(paths)))
        np.save(paths[-1], feeds[x.name])
    subprocess.run(["qc-run", a.artifact, *paths, "--output-dir", a.work], check=True,
                   stdout=subprocess.DEVNULL)
    name = graph.output[0].name
    got = np.load(os.path.join(a.work, name + ".npy"))
    want = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"]).run(
        [name], feeds)[0]
    if got.shape != want.shape:
        print("%s: shape %s, onnxruntime %s -> FAIL" % (name, got.shape, want.shape))
        return 1
    err = float(np.abs(got - want).max() / np.abs(want).max())
    ok = err <= a.tol
    print("%s %s: max rel err %.2e -> %s" % (name, list(got.shape), err, "ok" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
