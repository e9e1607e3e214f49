#!/usr/bin/env python3
"""Benchmark (not a test): a CNN quantized by qc against onnxruntime's static
QDQ int8 quantization of the same model, in one run.

  bench_cnn.py [--depth 18|34|50] [--eval 32] [--calib 16] [--runs 10]
               [--qc-build build] [--work DIR]

Builds a ResNet with random weights (scripts/build_resnet_onnx.py), then:
  - qc: float (convolutions raised to im2col linear layers), W8A8 (`--quant
    w8 --act int8t`: int8 per output channel, int8 per output pixel),
    W8A8 static (`--act int8s`: one int8 scale per layer input, calibrated
    on the --calib inputs), and onnxruntime's QDQ model compiled by qc
    (`qdq`: its own int8 codes and static activation scales);
  - onnxruntime: float, and quantize_static (QDQ, int8 per-channel weights,
    uint8 activations, MinMax calibration on --calib inputs), the peer of
    every quantized qc row.
Inputs are N(0, 1) images (calibration and evaluation drawn separately).
Prints, per variant, the median latency (2 threads, --runs after a warm-up;
qc-run's own timer, onnxruntime timed around session.run), the top-1
agreement with onnxruntime's float model over --eval inputs and the mean
cosine of the logits. qc and onnxruntime are timed alternately, variant by
variant, so that machine noise hits both.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

from ort_quantize import quantize_static_qdq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_time(sess, x, runs):
    sess.run(None, {"x": x})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, {"x": x})
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def qc_run(build, art, path, out, runs=0):
    cmd = [os.path.join(build, "bin", "qc-run"), art, path, "--output-dir", out]
    if runs:
        cmd += ["--repeat", str(runs)]
    text = subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).stdout.decode()
    m = re.search(r"time: median ([0-9.eE+-]+) ms", text)
    return float(m.group(1)) if m else None


def agreement(ref, got):
    top = float(np.mean([r.argmax() == g.argmax() for r, g in zip(ref, got)]))
    cos = float(np.mean([np.dot(r.ravel(), g.ravel()) / np.linalg.norm(r) /
                         np.linalg.norm(g) for r, g in zip(ref, got)]))
    return top, cos


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=18)
    ap.add_argument("--eval", type=int, default=32)
    ap.add_argument("--calib", type=int, default=16)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--qc-build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="qc-cnn-")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "resnet%d.onnx" % a.depth)
    if not os.path.exists(model):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "build_resnet_onnx.py"),
                        model, "--depth", str(a.depth)], check=True)
    rng = np.random.default_rng(1)
    calib = [rng.standard_normal((1, 3, 224, 224)).astype(np.float32) for _ in range(a.calib)]
    images = [rng.standard_normal((1, 3, 224, 224)).astype(np.float32) for _ in range(a.eval)]
    paths = []
    for i, x in enumerate(images):
        paths.append(os.path.join(work, "in_%d.npy" % i))
        np.save(paths[-1], x)

    qdq = os.path.join(work, "resnet%d_qdq.onnx" % a.depth)
    t0 = time.time()
    quantize_static_qdq(model, qdq, calib)
    print("onnxruntime quantize_static: %.1f s" % (time.time() - t0))
    calib_npy = os.path.join(work, "calib.npy")
    np.save(calib_npy, np.stack(calib))
    # name: (model compiled, qc-compile flags)
    variants = {
        "fp32": (model, []),
        "w8a8": (model, ["--quant", "w8", "--act", "int8t"]),
        "w8a8s": (model, ["--quant", "w8", "--act", "int8s", "--calib-data",
                          calib_npy, "--calib-mode", "all"]),
        "qdq": (qdq, []),
    }
    for name, (src, flags) in variants.items():
        t0 = time.time()
        subprocess.run([os.path.join(a.qc_build, "bin", "qc-compile"), src, "-o",
                        os.path.join(work, name)] + flags, check=True,
                       stdout=subprocess.DEVNULL)
        print("qc-compile %s: %.1f s" % (name, time.time() - t0))

    fp = session(model)
    ref = [fp.run(None, {"x": x})[0] for x in images]
    rows = []
    ort_qdq = session(qdq)
    for name, sess in (("fp32", fp), ("w8a8", ort_qdq), ("w8a8s", ort_qdq),
                       ("qdq", ort_qdq)):
        art = os.path.join(work, name)
        out = os.path.join(art, "out")
        got = []
        for p in paths:
            qc_run(a.qc_build, art, p, out)
            got.append(np.load(os.path.join(out, "logits.npy")))
        ort_got = [sess.run(None, {"x": x})[0] for x in images]
        qc_ms = qc_run(a.qc_build, art, paths[0], out, a.runs)
        ort_ms = ort_time(sess, images[0], a.runs)
        rows.append((name, qc_ms, ort_ms) + agreement(ref, got) + agreement(ref, ort_got))
    print("\n%-6s %10s %10s %8s %12s %10s %12s %10s" % (
        "", "qc ms", "ort ms", "qc/ort", "qc top-1", "qc cos", "ort top-1", "ort cos"))
    for name, q, o, qt, qcos, ot, ocos in rows:
        print("%-6s %10.1f %10.1f %7.2fx %12.3f %10.5f %12.3f %10.5f" % (
            name, q, o, q / o, qt, qcos, ot, ocos))
    fp_ort = rows[0][2]
    for name, q, *_ in rows[1:]:
        print("qc %s / onnxruntime fp32 (same run): %.2fx" % (name, q / fp_ort))


if __name__ == "__main__":
    main()
