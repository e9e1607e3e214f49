"""Writes the recurrent models of recurrent.test (OUT/<name>.onnx), their
input (OUT/<name>_x.npy) and onnxruntime's outputs (OUT/<name>_<output>.npy):
what the ONNX node tests leave out: both directions, clip, peepholes with
initial states, GRU's linear_before_reset both ways, a reverse Relu RNN."""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)
S, B, I, H = 5, 2, 6, 4


def f32(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def model(name, op, gates, dirs, extra_inits=(), **attrs):
    inits = [numpy_helper.from_array(f32(dirs, gates * H, I), "W"),
             numpy_helper.from_array(f32(dirs, gates * H, H), "R"),
             numpy_helper.from_array(f32(dirs, 2 * gates * H), "B")]
    inputs = ["x", "W", "R", "B"]
    for n, arr in extra_inits:  # sequence_lens, initial_h, initial_c, P
        inits.append(numpy_helper.from_array(arr, n) if n else None)
    inputs += [n for n, _ in extra_inits]
    inits = [i for i in inits if i is not None]
    outs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    g = helper.make_graph(
        [helper.make_node(op, inputs, outs, hidden_size=H, **attrs)], name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [S, B, I])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
        inits)
    path = os.path.join(out, name + ".onnx")
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), path)
    x = f32(S, B, I, scale=1.0)
    np.save(os.path.join(out, name + "_x.npy"), x)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for o, v in zip(outs, sess.run(None, {"x": x})):
        np.save(os.path.join(out, "%s_%s.npy" % (name, o)), v)


model("lstm_bi", "LSTM", 4, 2,
      [("", None), ("h0", f32(2, B, H)), ("c0", f32(2, B, H)), ("P", f32(2, 3 * H))],
      direction="bidirectional", clip=1.5)
model("gru_lbr", "GRU", 3, 2, direction="bidirectional", linear_before_reset=1)
model("gru", "GRU", 3, 1, direction="reverse")
model("rnn_relu", "RNN", 1, 1, direction="reverse", activations=["Relu"])
