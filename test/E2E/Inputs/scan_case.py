"""Writes scan.onnx for scan.test (OUT), its inputs and onnxruntime's outputs:
a Scan with two states (a running sum and a running max), two scan inputs
(one scanned along axis 1 and in reverse), and two scan outputs (one
stacked along axis 1, one in reverse); the body also reads an outer value."""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
L, N = 5, 3
f = TensorProto.FLOAT
body = helper.make_graph(
    [helper.make_node("Add", ["s_in", "a_t"], ["s_sum"]),
     helper.make_node("Mul", ["s_sum", "w"], ["s_out"]),
     helper.make_node("Max", ["m_in", "b_t"], ["m_out"]),
     helper.make_node("Sub", ["s_out", "b_t"], ["y1_t"]),
     helper.make_node("Identity", ["m_out"], ["y2_t"])],
    "body",
    [helper.make_tensor_value_info(n, f, [N]) for n in ("s_in", "m_in", "a_t", "b_t")],
    [helper.make_tensor_value_info(n, f, [N]) for n in ("s_out", "m_out", "y1_t", "y2_t")])
g = helper.make_graph(
    [helper.make_node("Scan", ["s0", "m0", "a", "b"], ["s", "m", "y1", "y2"],
                      body=body, num_scan_inputs=2, scan_input_axes=[0, 1],
                      scan_input_directions=[0, 1], scan_output_axes=[1, 0],
                      scan_output_directions=[0, 1])],
    "scan_case",
    [helper.make_tensor_value_info("s0", f, [N]), helper.make_tensor_value_info("m0", f, [N]),
     helper.make_tensor_value_info("a", f, [L, N]), helper.make_tensor_value_info("b", f, [N, L])],
    [helper.make_tensor_value_info(n, f, None) for n in ("s", "m", "y1", "y2")],
    [numpy_helper.from_array(np.array([0.9, 1.0, 1.1], np.float32), "w")])
path = os.path.join(out, "scan.onnx")
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)]), path)
rng = np.random.default_rng(5)
feeds = {"s0": rng.standard_normal(N), "m0": rng.standard_normal(N),
         "a": rng.standard_normal((L, N)), "b": rng.standard_normal((N, L))}
feeds = {k: v.astype(np.float32) for k, v in feeds.items()}
for i, k in enumerate(("s0", "m0", "a", "b")):
    np.save(os.path.join(out, "in_%d.npy" % i), feeds[k])
sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
for name, v in zip(("s", "m", "y1", "y2"), sess.run(None, feeds)):
    np.save(os.path.join(out, "want_%s.npy" % name), v)
