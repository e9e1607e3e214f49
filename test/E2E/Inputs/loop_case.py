"""Writes loop.onnx for loop.test (OUT), its input and onnxruntime's outputs:
a Loop of 4 steps (trip count an initializer, condition constant true and
passed on) carrying y, adding the iteration number times x each step and
emitting a per-step scan output; and a Loop whose body recomputes its
condition from data (must be refused)."""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
f = TensorProto.FLOAT


def model(name, cond_node):
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["fi"], to=f),
         helper.make_node("Mul", ["x", "fi"], ["ix"]),
         helper.make_node("Add", ["y_in", "ix"], ["y_out"]),
         helper.make_node("Relu", ["y_out"], ["scan_t"]),
         cond_node],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_in", f, [3])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_out", f, [3]),
         helper.make_tensor_value_info("scan_t", f, [3])])
    g = helper.make_graph(
        [helper.make_node("Loop", ["M", "cond", "y0"], ["y", "ys"], body=body)],
        name, [helper.make_tensor_value_info("x", f, [3])],
        [helper.make_tensor_value_info("y", f, [3]),
         helper.make_tensor_value_info("ys", f, [4, 3])],
        [numpy_helper.from_array(np.array(4, np.int64), "M"),
         numpy_helper.from_array(np.array(True), "cond"),
         numpy_helper.from_array(np.array([-1.0, 0.5, 2.0], np.float32), "y0"),
         numpy_helper.from_array(np.array(2, np.int64), "two")])
    path = os.path.join(out, name + ".onnx")
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)]), path)
    return path


path = model("loop", helper.make_node("Identity", ["c_in"], ["c_out"]))
model("early_exit", helper.make_node("Greater", ["i", "two"], ["c_out"]))
x = np.array([0.3, -0.7, 0.1], np.float32)
np.save(os.path.join(out, "x.npy"), x)
sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
for name, v in zip(("y", "ys"), sess.run(None, {"x": x})):
    np.save(os.path.join(out, "want_%s.npy" % name), v)
