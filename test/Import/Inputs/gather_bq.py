#!/usr/bin/env python3
"""com.microsoft::GatherBlockQuantized models for qc's importer test.

    gather_bq.py make OUT.onnx IDS.npy --bits B --block N [--zero] [--f16]
        a [64, 96] table of random codes (uint8; two 4-bit codes a byte for
        B = 4) with random block scales (and zero points), gathered by
        [2, 5] random indices, written to IDS.npy
    gather_bq.py check OUT.onnx IDS.npy QC.npy
        onnxruntime's output for the same indices against qc's
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP, helper, numpy_helper

ROWS, K = 64, 96


def make(path, ids_path, bits, block, zero, f16):
    rng = np.random.default_rng(bits * 100 + block + zero)
    packed = K * bits // 8
    data = rng.integers(0, 256, (ROWS, packed), dtype=np.uint8)
    ftype = np.float16 if f16 else np.float32
    scales = (rng.random((ROWS, K // block)) * 0.1 + 0.01).astype(ftype)
    inits = [numpy_helper.from_array(data, "table"), numpy_helper.from_array(scales, "scales")]
    inputs = ["table", "ids", "scales"]
    if zero:
        zcols = (K // block + 1) // 2 if bits == 4 else K // block
        inits.append(numpy_helper.from_array(
            rng.integers(0, 256, (ROWS, zcols), dtype=np.uint8), "zeros"))
        inputs.append("zeros")
    node = helper.make_node("GatherBlockQuantized", inputs, ["y"], domain="com.microsoft",
                            bits=bits, block_size=block, gather_axis=0, quantize_axis=1)
    et = TP.FLOAT16 if f16 else TP.FLOAT
    g = helper.make_graph([node], "gbq", [helper.make_tensor_value_info("ids", TP.INT64, [2, 5])],
                          [helper.make_tensor_value_info("y", et, [2, 5, K])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21),
                                            helper.make_opsetid("com.microsoft", 1)])
    onnx.save(m, path)
    np.save(ids_path, rng.integers(0, ROWS, (2, 5)).astype(np.int64))


def check(path, ids_path, qc_path):
    import onnxruntime as ort
    ref = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
        None, {"ids": np.load(ids_path)})[0].astype(np.float64)
    got = np.load(qc_path).astype(np.float64)
    err = float(np.abs(ref - got).max() / max(np.abs(ref).max(), 1e-30))
    ok = ref.shape == got.shape and err <= 1e-6
    print(f"GatherBlockQuantized {list(got.shape)}: max rel err {err:.2e} -> {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("ids")
    m.add_argument("--bits", type=int, default=4)
    m.add_argument("--block", type=int, default=32)
    m.add_argument("--zero", action="store_true")
    m.add_argument("--f16", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("model")
    c.add_argument("ids")
    c.add_argument("qc")
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.out, a.ids, a.bits, a.block, a.zero, a.f16)
        return 0
    return check(a.model, a.ids, a.qc)


if __name__ == "__main__":
    sys.exit(main())
