#!/usr/bin/env python3
"""Prefill and decode steps of com.microsoft::GroupQueryAttention, qc vs
onnxruntime.

Usage:
    gqa_steps.py make OUT S [ATTR=VALUE ...] [--heads H --kv-heads KV]
    gqa_steps.py run DIR [ATTR=VALUE ...] [--heads H --kv-heads KV]
                 [--steps 3,1,1,2]

`make` writes one GroupQueryAttention node in its shared-buffer form:
query [1, S, H*D], key / value [1, S, KV*D], past / present caches
[1, KV, T, D] (T = 16, D = 16), seqlens_k, total_sequence_length and, with
do_rotary, cos / sin caches. `run` compiles it with qc-compile for each
step length, then runs the steps one after another: onnxruntime and qc-run
each carry their own caches from step to step, fed the same random
queries, keys and values. Each step prints the largest absolute
difference of the output and of both caches, and `-> ok` when all are
below 1e-5 (else `-> FAIL`, exit 1).
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP, helper, numpy_helper

T, D = 16, 16


def options(args):
    attrs, heads, kv, steps = {}, 4, 2, [3, 1, 1, 2]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--heads", "--kv-heads", "--steps"):
            v = args[i + 1]
            if a == "--heads":
                heads = int(v)
            elif a == "--kv-heads":
                kv = int(v)
            else:
                steps = [int(s) for s in v.split(",")]
            i += 2
            continue
        k, v = a.split("=", 1)
        attrs[k] = float(v) if "." in v else int(v)
        i += 1
    return attrs, heads, kv, steps


def make(path, s, attrs, heads, kv):
    names = ["q", "k", "v", "past_k", "past_v", "seqlens_k", "total_len"]
    inits = []
    if attrs.get("do_rotary"):
        pos = np.arange(T, dtype=np.float64)[:, None]
        freq = 10000.0 ** (-np.arange(D // 2) * 2.0 / D)
        inits = [numpy_helper.from_array(np.cos(pos * freq).astype(np.float32), "cos"),
                 numpy_helper.from_array(np.sin(pos * freq).astype(np.float32), "sin")]
        names += ["cos", "sin"]
    node = helper.make_node("GroupQueryAttention", names,
                            ["out", "present_k", "present_v"], domain="com.microsoft",
                            num_heads=heads, kv_num_heads=kv, **attrs)
    f = TP.FLOAT
    graph = helper.make_graph(
        [node], "gqa",
        [helper.make_tensor_value_info("q", f, [1, s, heads * D]),
         helper.make_tensor_value_info("k", f, [1, s, kv * D]),
         helper.make_tensor_value_info("v", f, [1, s, kv * D]),
         helper.make_tensor_value_info("past_k", f, [1, kv, T, D]),
         helper.make_tensor_value_info("past_v", f, [1, kv, T, D]),
         helper.make_tensor_value_info("seqlens_k", TP.INT32, [1]),
         helper.make_tensor_value_info("total_len", TP.INT32, [])],
        [helper.make_tensor_value_info("out", f, [1, s, heads * D]),
         helper.make_tensor_value_info("present_k", f, [1, kv, T, D]),
         helper.make_tensor_value_info("present_v", f, [1, kv, T, D])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def run(work, attrs, heads, kv, steps):
    import onnxruntime as ort
    os.makedirs(work, exist_ok=True)
    sessions, arts = {}, {}
    for s in sorted(set(steps)):
        path = os.path.join(work, f"gqa{s}.onnx")
        make(path, s, attrs, heads, kv)
        arts[s] = os.path.join(work, f"art{s}")
        subprocess.run(["qc-compile", path, "-o", arts[s]], check=True,
                       stdout=subprocess.DEVNULL)
        sessions[s] = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    zeros = np.zeros((1, kv, T, D), np.float32)
    ort_cache, qc_cache = (zeros, zeros), (zeros, zeros)
    past, ok = 0, True
    for n, s in enumerate(steps):
        feeds = {"q": rng.standard_normal((1, s, heads * D), np.float32),
                 "k": rng.standard_normal((1, s, kv * D), np.float32),
                 "v": rng.standard_normal((1, s, kv * D), np.float32),
                 "seqlens_k": np.array([past + s - 1], np.int32),
                 "total_len": np.array(past + s, np.int32)}
        ref = sessions[s].run(None, {**feeds, "past_k": ort_cache[0], "past_v": ort_cache[1]})
        args = []
        for name, value in {**feeds, "past_k": qc_cache[0], "past_v": qc_cache[1]}.items():
            f = os.path.join(work, f"in_{name}.npy")
            np.save(f, value)
            args += ["--input", f"{name}={f}"]
        out = os.path.join(work, f"out{n}")
        subprocess.run(["qc-run", arts[s], *args, "--output-dir", out], check=True,
                       stdout=subprocess.DEVNULL)
        got = [np.load(os.path.join(out, f"{x}.npy")) for x in ("out", "present_k", "present_v")]
        errs = [float(np.abs(a - b).max()) for a, b in zip(ref, got)]
        good = max(errs) < 1e-5
        ok &= good
        print(f"step {n} S={s} past={past}: out {errs[0]:.2e} present_k {errs[1]:.2e} "
              f"present_v {errs[2]:.2e} -> {'ok' if good else 'FAIL'}")
        ort_cache, qc_cache = (ref[1], ref[2]), (got[1], got[2])
        past += s
    return 0 if ok else 1


def main():
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "make":
        attrs, heads, kv, _ = options(rest[2:])
        make(rest[0], int(rest[1]), attrs, heads, kv)
        return 0
    if mode == "run":
        attrs, heads, kv, steps = options(rest[1:])
        return run(rest[0], attrs, heads, kv, steps)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
