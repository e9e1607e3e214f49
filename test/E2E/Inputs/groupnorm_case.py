#!/usr/bin/env python3
"""groupnorm_case.py DIR: GroupNormalization at opset 21 (scale and bias per
channel) and 18 (per group), 6 channels in 3 groups, with inputs whose
groups have distinct means and scales; writes g<opset>.onnx, in_<i>.npy
and onnxruntime's outputs want<opset>.npy."""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

out = sys.argv[1]
rng = np.random.default_rng(21)
x = (rng.standard_normal((2, 6, 4, 5)) * np.arange(1, 7).reshape(1, 6, 1, 1)
     + np.arange(6).reshape(1, 6, 1, 1)).astype(np.float32)
np.save(os.path.join(out, "in_0.npy"), x)
for opset, n in ((21, 6), (18, 3)):
    s = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    np.save(os.path.join(out, "s%d.npy" % opset), s)
    np.save(os.path.join(out, "b%d.npy" % opset), b)
    g = helper.make_graph(
        [helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"],
                          num_groups=3, epsilon=1e-3)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6, 4, 5]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [n]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6, 4, 5])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    path = os.path.join(out, "g%d.onnx" % opset)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    y = ort.InferenceSession(path).run(None, {"x": x, "s": s, "b": b})[0]
    np.save(os.path.join(out, "want%d.npy" % opset), y)
