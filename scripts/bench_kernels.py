#!/usr/bin/env python3
"""Speed of qc's generated kernels against onnxruntime's MatMulNBits, in the
same run: runs build/bin/qc-bench (JSON) on the given shapes / bits / token
counts / thread counts, then onnxruntime (PyPI) on a graph of the same
number of distinct MatMulNBits layers with the same shapes, bits and group
(accuracy_level 4: int8 activations, like qc's kernel), and prints one table:
us per layer for both, their ratio, and qc's fraction of the same-run STREAM
read. Configurations onnxruntime does not support are marked n/a.

Usage: scripts/bench_kernels.py [--shapes 4096x4096,...] [--bits 2,3,4]
       [--batches 1,4,8,16] [--threads 1,2] [--group 128] [--min-mb 128]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ort_layer_us(k, n, m, bits, group, threads, layers, repeat=20):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    blocks = k // group
    rng = np.random.default_rng(0)
    nodes, inits, outs = [], [], []
    for l in range(layers):
        b = rng.integers(0, 256, (n, blocks, group * bits // 8), dtype=np.uint8)
        s = (rng.random(n * blocks) * 0.01).astype(np.float32)
        z = rng.integers(0, 256, (n * ((blocks * bits + 7) // 8),), dtype=np.uint8)
        inits += [helper.make_tensor("B%d" % l, TensorProto.UINT8, b.shape, b.tobytes(), raw=True),
                  helper.make_tensor("S%d" % l, TensorProto.FLOAT, s.shape, s.tobytes(), raw=True),
                  helper.make_tensor("Z%d" % l, TensorProto.UINT8, z.shape, z.tobytes(), raw=True)]
        nodes.append(helper.make_node("MatMulNBits", ["x", "B%d" % l, "S%d" % l, "Z%d" % l], ["y%d" % l],
                                      domain="com.microsoft", K=k, N=n, bits=bits,
                                      block_size=group, accuracy_level=4))
        outs.append(helper.make_tensor_value_info("y%d" % l, TensorProto.FLOAT, [m, n]))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                              outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                     helper.make_opsetid("com.microsoft", 1)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    x = rng.standard_normal((m, k)).astype(np.float32)
    sess.run(None, {"x": x})
    best = 1e30
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            sess.run(None, {"x": x})
        best = min(best, (time.perf_counter() - t0) / repeat)
    return best / layers * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="4096x4096,4096x11008,11008x4096")
    ap.add_argument("--bits", default="w2,w3,w4,bcq2,bcq3,bcq4,cb2")
    ap.add_argument("--batches", default="1,4,8,16")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--group", type=int, default=128)
    ap.add_argument("--min-mb", type=int, default=128)
    ap.add_argument("--repetitions", type=int, default=3,
                    help="qc-bench repetitions; the median is reported")
    ap.add_argument("--qc-build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    cmd = [os.path.join(a.qc_build, "bin", "qc-bench"), "--shapes", a.shapes, "--bits", a.bits,
           "--batches", a.batches, "--num-threads", a.threads, "--quant-group", str(a.group),
           "--min-mb", str(a.min_mb), "--benchmark_format=json",
           "--benchmark_repetitions=%d" % a.repetitions, "--benchmark_report_aggregates_only=true"]
    print("$ " + " ".join(cmd), file=sys.stderr)
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print("%-12s %6s %3s %3s %10s %10s %7s %8s %8s %8s" % ("shape", "scheme", "m", "thr", "qc us", "ort us",
                                                             "ort/qc", "qc GB/s", "STREAM", "frac"))
    for b in res["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b["name"]  # k4096_n4096_w4_m1_generated/threads:2/..._median
        parts = name.split("/")[0].split("_")
        k, n, m = int(parts[0][1:]), int(parts[1][1:]), int(parts[3][1:])
        scheme = parts[2]
        bits = int(scheme.lstrip("lwbcqs"))
        thr = int(name.split("threads:")[1].split("/")[0])
        layers = int(b["layers"])
        try:
            if not scheme.lstrip("l").startswith("w"):
                raise ValueError("no onnxruntime peer for %s" % scheme)
            ort_us = ort_layer_us(k, n, m, bits, a.group, thr, min(layers, 8))
            ratio = "%.2f" % (ort_us / b["us/layer"])
            ort_s = "%.0f" % ort_us
        except Exception as e:  # onnxruntime rejects this bit width
            ort_s, ratio = "n/a", "n/a"
            print("onnxruntime (%s): %s" % (scheme, str(e).splitlines()[0][:120]), file=sys.stderr)
        print("%-12s %6s %3d %3d %10.0f %10s %7s %8.1f %8.1f %8.2f" % (
            "%dx%d" % (k, n), scheme, m, thr, b["us/layer"], ort_s, ratio, b["GB/s"],
            b["stream_GB/s"], b["frac"]), flush=True)


if __name__ == "__main__":
    main()
