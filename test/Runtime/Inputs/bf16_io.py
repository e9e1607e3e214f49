"""Writes the model and inputs of bf16-io.test (OUT), or checks the outputs
(OUT check DIR...) against numpy's bfloat16 arithmetic written here."""
import os
import sys

import numpy as np

X = np.array([1.0, 1.00390625, 1.01171875, -3.3, 1e-3, 300.5], np.float32)
W = np.array([0.1, -2.0, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, 65504.0, -1e-5],
             np.float32)


def bf16_bits(a):
    """Round to nearest even (no NaNs here)."""
    u = a.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


out = sys.argv[1]
if len(sys.argv) > 2:
    x = f32(bf16_bits(X))
    y = f32(bf16_bits(x * x))  # the product of two bf16 is exact in f32
    z = f32(bf16_bits(W))
    for d in sys.argv[3:]:
        for name, want in (("y", y), ("z", z)):
            got = np.load(os.path.join(d, name + ".npy"))
            if got.dtype != np.float32 or not np.array_equal(got, want):
                sys.exit("%s/%s: %s, expected %s" % (d, name, got, want))
    sys.exit(0)

from onnx import TensorProto, helper, save  # noqa: E402

g = helper.make_graph(
    [helper.make_node("Mul", ["x", "x"], ["y"]),
     helper.make_node("Cast", ["w"], ["z"], to=TensorProto.BFLOAT16)],
    "bf16_io",
    [helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [6]),
     helper.make_tensor_value_info("w", TensorProto.FLOAT, [6])],
    [helper.make_tensor_value_info("y", TensorProto.BFLOAT16, [6]),
     helper.make_tensor_value_info("z", TensorProto.BFLOAT16, [6])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]),
     os.path.join(out, "m.onnx"))
np.save(os.path.join(out, "x_f32.npy"), X)
np.save(os.path.join(out, "x_bits.npy"), bf16_bits(X))
np.save(os.path.join(out, "x_i32.npy"), X.astype(np.int32))
np.save(os.path.join(out, "w.npy"), W)
