"""Writes the If models of if.test and their inputs and onnxruntime's outputs
(OUT): if.onnx takes a run-time condition; its branches read the outer x,
compute different things and each hold a nested If on a shape test (known
at import time). bound.onnx is the same graph with the condition an input
to bind with --bind-input."""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, save

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def nested(tag, op):
    """y = op(x), through an If on rank(x) == 2 (always true here)."""
    inner_then = helper.make_graph(
        [helper.make_node(op, ["x"], [tag + "_t"])], tag + "_then", [],
        [helper.make_tensor_value_info(tag + "_t", TensorProto.FLOAT, [2, 8])])
    inner_else = helper.make_graph(
        [helper.make_node("Identity", ["x"], [tag + "_e"])], tag + "_else", [],
        [helper.make_tensor_value_info(tag + "_e", TensorProto.FLOAT, [2, 8])])
    return [
        helper.make_node("Shape", ["x"], [tag + "_shape"]),
        helper.make_node("Size", [tag + "_shape"], [tag + "_rank"]),
        helper.make_node("Equal", [tag + "_rank", "two"], [tag + "_is2"]),
        helper.make_node("If", [tag + "_is2"], [tag + "_y"],
                         then_branch=inner_then, else_branch=inner_else),
    ]


then_g = helper.make_graph(
    nested("a", "Relu") + [helper.make_node("Mul", ["a_y", "w"], ["ty"])],
    "then", [], [helper.make_tensor_value_info("ty", TensorProto.FLOAT, [2, 8])])
else_g = helper.make_graph(
    nested("b", "Neg") + [helper.make_node("Sub", ["b_y", "w"], ["ey"])],
    "else", [], [helper.make_tensor_value_info("ey", TensorProto.FLOAT, [2, 8])])
inits = [helper.make_tensor("two", TensorProto.INT64, [], [2]),
         helper.make_tensor("w", TensorProto.FLOAT, [8],
                            np.linspace(-1, 2, 8).astype(np.float32))]
g = helper.make_graph(
    [helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)],
    "if_case",
    [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
     helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
save(m, os.path.join(out, "if.onnx"))

x = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
np.save(os.path.join(out, "x.npy"), x)
sess = ort.InferenceSession(os.path.join(out, "if.onnx"),
                            providers=["CPUExecutionProvider"])
for flag in (True, False):
    c = np.array(flag)
    np.save(os.path.join(out, "cond_%d.npy" % flag), c)
    np.save(os.path.join(out, "y_%d.npy" % flag), sess.run(None, {"cond": c, "x": x})[0])
