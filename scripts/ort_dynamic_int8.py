#!/usr/bin/env python3
"""Benchmark (not a test): onnxruntime's own dynamic int8 quantization of an
ONNX model as a peer for qc's W8A8.

  ort_dynamic_int8.py MODEL.onnx INPUT.npy [--out QUANT.onnx] [--runs 20]

Quantizes MODEL with onnxruntime.quantization.quantize_dynamic (int8
weights, dynamic int8 activations), then times the float and the quantized
model (2 threads, medians of --runs after 3 warm-ups) on INPUT (the model's
only input) and prints the cosine of the quantized model's first output to
the float one's.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic


def bench(path, feed, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feeds = {sess.get_inputs()[0].name: feed}
    for _ in range(3):
        sess.run(None, feeds)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = sess.run(None, feeds)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3, out[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("--out")
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    out = a.out or os.path.join(tempfile.mkdtemp(), "dynamic_int8.onnx")
    t0 = time.time()
    quantize_dynamic(a.model, out, weight_type=QuantType.QInt8,
                     use_external_data_format=True)
    print("quantize_dynamic: %.1f s" % (time.time() - t0))
    feed = np.load(a.input)
    fp, ref = bench(a.model, feed, a.runs)
    q, y = bench(out, feed, a.runs)
    cos = float(np.dot(ref.ravel(), y.ravel()) / np.linalg.norm(ref) / np.linalg.norm(y))
    print("onnxruntime fp32 median %.1f ms, dynamic int8 median %.1f ms, cosine %.6f"
          % (fp, q, cos))


if __name__ == "__main__":
    main()
