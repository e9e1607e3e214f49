#!/usr/bin/env python3
"""matmul_integer.py OUT.onnx IN.npy REF.npy: a MatMulInteger of a uint8
input (zero point 3) and a constant int8 [16, 5] weight with one zero point
per column, its input and onnxruntime's int32 output (saved as float:
qc-run writes float outputs exactly for these magnitudes)."""
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(5)
w = rng.integers(-128, 128, (16, 5)).astype(np.int8)
wz = rng.integers(-10, 11, 5).astype(np.int8)
node = helper.make_node("MatMulInteger", ["x", "w", "xz", "wz"], ["y"])
graph = helper.make_graph(
    [node], "mi", [helper.make_tensor_value_info("x", TensorProto.UINT8, [3, 16])],
    [helper.make_tensor_value_info("y", TensorProto.INT32, [3, 5])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(wz, "wz"),
     numpy_helper.from_array(np.array(3, np.uint8), "xz")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, sys.argv[1])
x = rng.integers(0, 256, (3, 16)).astype(np.uint8)
np.save(sys.argv[2], x)
sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
np.save(sys.argv[3], sess.run(None, {"x": x})[0].astype(np.float32))
