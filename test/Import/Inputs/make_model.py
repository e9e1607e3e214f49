#!/usr/bin/env python3
"""Write small hand-made ONNX models for the importer's lit tests.

Usage:
    make_model.py NAME OUT [--npy DIR] [--with-target]
    make_model.py --list

NAME selects the model (see MODELS below); OUT is the path of the .onnx file.
Models that use external data write their data file beside OUT.

--npy DIR      also write the inputs (in_<i>.npy, graph input order) and the
               onnxruntime outputs (out_<i>.npy) of the model, for e2e tests
               (good models only; symbolic dims get 3; needs onnxruntime).
--with-target  for external_escape_dotdot: also write the escape target
               ("../w.bin" relative to OUT's folder) so that an importer that
               does not check the location would succeed. Only use it when
               OUT's folder is a subfolder of the test's own temp folder.

Everything is deterministic: fixed numpy seeds, fixed names, opset 17
(IR version 8) unless an op needs more.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # matches opset 17 (onnx 1.12)


def _model(graph, opset=OPSET, ir_version=IR_VERSION):
    m = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="qc-make-model",
        producer_version="1",
    )
    m.ir_version = ir_version
    return m


def _init(name, arr):
    return numpy_helper.from_array(np.array(arr, order="C"), name)  # keeps 0-d arrays 0-d


def _f32(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


# ----------------------------------------------------------------- good models


def mlp():
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="matmul_0"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="add_0"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu_0"),
        helper.make_node("MatMul", ["h2", "w2"], ["y"], name="matmul_1"),
    ]
    inits = [
        _init("w1", _f32(rng, 8, 16)),
        _init("b1", _f32(rng, 16)),
        _init("w2", _f32(rng, 16, 4)),
    ]
    g = helper.make_graph(
        nodes, "mlp",
        [_vi("x", TensorProto.FLOAT, [2, 8])],
        [_vi("y", TensorProto.FLOAT, [2, 4])],
        inits,
    )
    return _model(g)


def wide_mlp():
    """mlp with K = 64 and 32: room for quantization groups of 16 / 32."""
    rng = np.random.default_rng(11)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="fc1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu"),
        helper.make_node("MatMul", ["h2", "w2"], ["y"], name="fc2"),
    ]
    inits = [
        _init("w1", _f32(rng, 64, 32)),
        _init("b1", _f32(rng, 32)),
        _init("w2", _f32(rng, 32, 16)),
    ]
    g = helper.make_graph(
        nodes, "wide_mlp",
        [_vi("x", TensorProto.FLOAT, [4, 64])],
        [_vi("y", TensorProto.FLOAT, [4, 16])],
        inits,
    )
    return _model(g)


def gemm_transb():
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("Gemm", ["a", "b", "c"], ["y"], name="gemm_0",
                         transB=1, alpha=1.0, beta=1.0),
    ]
    inits = [_init("b", _f32(rng, 4, 8)), _init("c", _f32(rng, 4))]
    g = helper.make_graph(
        nodes, "gemm_transb",
        [_vi("a", TensorProto.FLOAT, [2, 8])],
        [_vi("y", TensorProto.FLOAT, [2, 4])],
        inits,
    )
    return _model(g)


def symbolic_batch():
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="matmul_0"),
        helper.make_node("Relu", ["h"], ["y"], name="relu_0"),
    ]
    g = helper.make_graph(
        nodes, "symbolic_batch",
        [_vi("x", TensorProto.FLOAT, ["batch", 8])],
        [_vi("y", TensorProto.FLOAT, ["batch", 4])],
        [_init("w", _f32(rng, 8, 4))],
    )
    return _model(g)


def attention():
    """One pre-LN self-attention block, the way PyTorch exports it:
    LayerNormalization -> Q/K/V MatMul+Add -> Reshape/Transpose to heads ->
    MatMul -> Div sqrt(dh) -> Softmax -> MatMul -> Transpose/Reshape ->
    MatMul+Add -> residual Add."""
    rng = np.random.default_rng(4)
    S, D, H = 4, 16, 2
    dh = D // H
    inits = [
        _init("ln_scale", (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32)),
        _init("ln_bias", _f32(rng, D, scale=0.1)),
        _init("wq", _f32(rng, D, D, scale=0.3)), _init("bq", _f32(rng, D, scale=0.1)),
        _init("wk", _f32(rng, D, D, scale=0.3)), _init("bk", _f32(rng, D, scale=0.1)),
        _init("wv", _f32(rng, D, D, scale=0.3)), _init("bv", _f32(rng, D, scale=0.1)),
        _init("wo", _f32(rng, D, D, scale=0.3)), _init("bo", _f32(rng, D, scale=0.1)),
        _init("heads_shape", np.array([1, S, H, dh], np.int64)),
        _init("merge_shape", np.array([1, S, D], np.int64)),
        _init("scale", np.array(np.sqrt(dh), np.float32)),
    ]
    n = []
    n.append(helper.make_node("LayerNormalization", ["x", "ln_scale", "ln_bias"],
                              ["ln"], name="ln_0", axis=-1, epsilon=1e-5))
    for p in "qkv":
        n.append(helper.make_node("MatMul", ["ln", "w" + p], [p + "_mm"], name=p + "_matmul"))
        n.append(helper.make_node("Add", [p + "_mm", "b" + p], [p + "_lin"], name=p + "_add"))
        n.append(helper.make_node("Reshape", [p + "_lin", "heads_shape"], [p + "_heads"],
                                  name=p + "_reshape"))
    n.append(helper.make_node("Transpose", ["q_heads"], ["q_t"], name="q_transpose", perm=[0, 2, 1, 3]))
    n.append(helper.make_node("Transpose", ["k_heads"], ["k_t"], name="k_transpose", perm=[0, 2, 3, 1]))
    n.append(helper.make_node("Transpose", ["v_heads"], ["v_t"], name="v_transpose", perm=[0, 2, 1, 3]))
    n.append(helper.make_node("MatMul", ["q_t", "k_t"], ["scores"], name="qk_matmul"))
    n.append(helper.make_node("Div", ["scores", "scale"], ["scores_s"], name="qk_div"))
    n.append(helper.make_node("Softmax", ["scores_s"], ["probs"], name="softmax_0", axis=-1))
    n.append(helper.make_node("MatMul", ["probs", "v_t"], ["ctx"], name="pv_matmul"))
    n.append(helper.make_node("Transpose", ["ctx"], ["ctx_t"], name="ctx_transpose", perm=[0, 2, 1, 3]))
    n.append(helper.make_node("Reshape", ["ctx_t", "merge_shape"], ["ctx_m"], name="ctx_reshape"))
    n.append(helper.make_node("MatMul", ["ctx_m", "wo"], ["o_mm"], name="o_matmul"))
    n.append(helper.make_node("Add", ["o_mm", "bo"], ["o"], name="o_add"))
    n.append(helper.make_node("Add", ["x", "o"], ["y"], name="residual_add"))
    g = helper.make_graph(
        n, "attention",
        [_vi("x", TensorProto.FLOAT, [1, S, D])],
        [_vi("y", TensorProto.FLOAT, [1, S, D])],
        inits,
    )
    return _model(g)


def shape_ops():
    """x[2,4,8] -> flatten via Shape->Gather->Unsqueeze->Concat->Reshape
    (the chain torch.onnx emits for x.view(x.size(0), -1)) -> MatMul."""
    rng = np.random.default_rng(5)
    inits = [
        _init("idx0", np.array(0, np.int64)),
        _init("axes0", np.array([0], np.int64)),
        _init("minus1", np.array([-1], np.int64)),
        _init("w", _f32(rng, 32, 4)),
    ]
    n = [
        helper.make_node("Shape", ["x"], ["x_shape"], name="shape_0"),
        helper.make_node("Gather", ["x_shape", "idx0"], ["batch"], name="gather_0", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch_1d"], name="unsqueeze_0"),
        helper.make_node("Concat", ["batch_1d", "minus1"], ["new_shape"], name="concat_0", axis=0),
        helper.make_node("Reshape", ["x", "new_shape"], ["flat"], name="reshape_0"),
        helper.make_node("MatMul", ["flat", "w"], ["y"], name="matmul_0"),
    ]
    g = helper.make_graph(
        n, "shape_ops",
        [_vi("x", TensorProto.FLOAT, [2, 4, 8])],
        [_vi("y", TensorProto.FLOAT, [2, 4])],
        inits,
    )
    return _model(g)


def external_data():
    """mlp with every initializer in one external file beside the model."""
    return mlp()


def missing_shape():
    """An input with a symbolic dim ("seq") that the test does not bind."""
    n = [helper.make_node("Relu", ["x"], ["y"], name="relu_0")]
    g = helper.make_graph(
        n, "missing_shape",
        [_vi("x", TensorProto.FLOAT, ["seq", 8])],
        [_vi("y", TensorProto.FLOAT, ["seq", 8])],
    )
    return _model(g)


# ------------------------------------------------------------------ bad models


def unsupported_op():
    """A NonMaxSuppression node named nms_0."""
    rng = np.random.default_rng(6)
    boxes = np.sort(rng.uniform(0, 1, (1, 6, 4)).astype(np.float32), axis=-1)
    inits = [
        _init("boxes", boxes),
        _init("max_boxes", np.array([3], np.int64)),
        _init("iou_threshold", np.array([0.5], np.float32)),
        _init("score_threshold", np.array([0.0], np.float32)),
    ]
    n = [helper.make_node(
        "NonMaxSuppression",
        ["boxes", "scores", "max_boxes", "iou_threshold", "score_threshold"],
        ["selected"], name="nms_0")]
    g = helper.make_graph(
        n, "unsupported_op",
        [_vi("scores", TensorProto.FLOAT, [1, 1, 6])],
        [_vi("selected", TensorProto.INT64, ["num_selected", 3])],
        inits,
    )
    return _model(g)


def _external_tensor(name, dims, location, length):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(length))):
        e = t.external_data.add()
        e.key = k
        e.value = v
    return t


def _external_escape(location):
    n = [helper.make_node("Add", ["x", "w"], ["y"], name="add_0")]
    g = helper.make_graph(
        n, "external_escape",
        [_vi("x", TensorProto.FLOAT, [4])],
        [_vi("y", TensorProto.FLOAT, [4])],
        [_external_tensor("w", [4], location, 16)],
    )
    return _model(g)


def external_escape_dotdot():
    return _external_escape("../w.bin")


def external_escape_abs():
    return _external_escape("/etc/passwd")


def data_size_mismatch():
    """Initializer w: dims [4,4] float (64 bytes) but raw_data is 10 bytes."""
    w = TensorProto()
    w.name = "w"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([4, 4])
    w.raw_data = bytes(range(10))
    n = [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul_0")]
    g = helper.make_graph(
        n, "data_size_mismatch",
        [_vi("x", TensorProto.FLOAT, [2, 4])],
        [_vi("y", TensorProto.FLOAT, [2, 4])],
        [w],
    )
    return _model(g)


def prenorm():
    """A pre-norm block: LayerNorm whose gamma has two outlier channels (as
    LLM norm weights do), read by two linear layers only; a residual around
    the MLP; a post-norm LayerNorm read by a linear layer and the residual
    (not smoothable)."""
    rng = np.random.default_rng(21)
    gamma = (1.0 + 0.1 * rng.standard_normal(64)).astype(np.float32)
    gamma[[5, 40]] = [30.0, -25.0]
    nodes = [
        helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["n"],
                         name="ln", axis=-1),
        helper.make_node("MatMul", ["n", "w1"], ["h0"], name="fc1"),
        helper.make_node("Relu", ["h0"], ["h1"], name="relu"),
        helper.make_node("MatMul", ["h1", "w2"], ["h2"], name="fc2"),
        helper.make_node("MatMul", ["n", "w3"], ["z"], name="side"),
        helper.make_node("Add", ["x", "h2"], ["r"], name="residual"),
        helper.make_node("LayerNormalization", ["r", "gamma2", "beta"], ["p"],
                         name="ln2", axis=-1),
        helper.make_node("MatMul", ["p", "w4"], ["q"], name="fc3"),
        helper.make_node("Add", ["p", "q"], ["y"], name="residual2"),
    ]
    inits = [
        _init("gamma", gamma),
        _init("beta", _f32(rng, 64, scale=0.1)),
        _init("gamma2", gamma[::-1].copy()),
        _init("w1", _f32(rng, 64, 128, scale=0.1)),
        _init("w2", _f32(rng, 128, 64, scale=0.1)),
        _init("w3", _f32(rng, 64, 32, scale=0.1)),
        _init("w4", _f32(rng, 64, 64, scale=0.1)),
    ]
    g = helper.make_graph(
        nodes, "prenorm",
        [_vi("x", TensorProto.FLOAT, [1, 16, 64])],
        [_vi("y", TensorProto.FLOAT, [1, 16, 64]),
         _vi("z", TensorProto.FLOAT, [1, 16, 32])],
        inits,
    )
    return _model(g)


def swiglu():
    """A SwiGLU MLP (down(SiLU(gate(n)) * up(n)) after a LayerNorm) whose up
    projection has two outlier output columns, so that down's input has
    outlier channels too."""
    rng = np.random.default_rng(22)
    w_up = _f32(rng, 64, 96, scale=0.1)
    w_up[:, [7, 50]] *= 40.0
    nodes = [
        helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["n"],
                         name="ln", axis=-1),
        helper.make_node("MatMul", ["n", "w_gate"], ["g"], name="gate"),
        helper.make_node("MatMul", ["n", "w_up"], ["u"], name="up"),
        helper.make_node("Sigmoid", ["g"], ["sg"], name="sigmoid"),
        helper.make_node("Mul", ["g", "sg"], ["silu"], name="silu"),
        helper.make_node("Mul", ["silu", "u"], ["h"], name="product"),
        helper.make_node("MatMul", ["h", "w_down"], ["y"], name="down"),
    ]
    inits = [
        _init("gamma", (1.0 + 0.1 * rng.standard_normal(64)).astype(np.float32)),
        _init("beta", _f32(rng, 64, scale=0.1)),
        _init("w_gate", _f32(rng, 64, 96, scale=0.1)),
        _init("w_up", w_up),
        _init("w_down", _f32(rng, 96, 64, scale=0.1)),
    ]
    g = helper.make_graph(
        nodes, "swiglu",
        [_vi("x", TensorProto.FLOAT, [1, 16, 64])],
        [_vi("y", TensorProto.FLOAT, [1, 16, 64])],
        inits,
    )
    return _model(g)


def _rmsnorm(nodes, x, gamma, out):
    """RMSNorm as the SmolLM2 export writes it: Pow 2 -> ReduceMean ->
    Add eps -> Sqrt -> Div -> Mul gamma."""
    p = out + "_"
    nodes += [
        helper.make_node("Pow", [x, "two"], [p + "sq"]),
        helper.make_node("ReduceMean", [p + "sq", "last_axis"], [p + "ms"],
                         keepdims=1),
        helper.make_node("Add", [p + "ms", "eps"], [p + "mse"]),
        helper.make_node("Sqrt", [p + "mse"], [p + "rms"]),
        helper.make_node("Div", [x, p + "rms"], [p + "unit"]),
        helper.make_node("Mul", [gamma, p + "unit"], [out]),
    ]


def tinylm():
    """A pre-norm (RMSNorm) decoder block as an LLM has them, for rotation:
    token embedding [50, 48]; an attention stand-in tanh(n Wv) * sigmoid(n
    Wq) -> o_proj added to the stream; a SwiGLU MLP (48 -> 80 -> 48) added
    to the stream; a final norm and the output layer. The norm weights have
    outlier channels, as LLMs' do. Widths 48 = 12 x 4 and 80 = 20 x 4 take
    Paley Hadamard factors."""
    rng = np.random.default_rng(23)
    nodes = [helper.make_node("Gather", ["embed", "ids"], ["x0"], name="embed")]

    def gamma(name):
        g = (1.0 + 0.1 * rng.standard_normal(48)).astype(np.float32)
        g[[3, 30]] = [12.0, -9.0]
        return _init(name, g)

    _rmsnorm(nodes, "x0", "g1", "n1")
    nodes += [
        helper.make_node("MatMul", ["n1", "wq"], ["q"], name="q_proj"),
        helper.make_node("MatMul", ["n1", "wv"], ["v"], name="v_proj"),
        helper.make_node("Tanh", ["v"], ["tv"]),
        helper.make_node("Sigmoid", ["q"], ["sq"]),
        helper.make_node("Mul", ["tv", "sq"], ["attn"]),
        helper.make_node("MatMul", ["attn", "wo"], ["o"], name="o_proj"),
        helper.make_node("Add", ["x0", "o"], ["x1"], name="residual1"),
    ]
    _rmsnorm(nodes, "x1", "g2", "n2")
    nodes += [
        helper.make_node("MatMul", ["n2", "wg"], ["g"], name="gate_proj"),
        helper.make_node("MatMul", ["n2", "wu"], ["u"], name="up_proj"),
        helper.make_node("Sigmoid", ["g"], ["sg"]),
        helper.make_node("Mul", ["g", "sg"], ["silu"]),
        helper.make_node("Mul", ["silu", "u"], ["h"]),
        helper.make_node("MatMul", ["h", "wd"], ["d"], name="down_proj"),
        helper.make_node("Add", ["x1", "d"], ["x2"], name="residual2"),
    ]
    _rmsnorm(nodes, "x2", "g3", "n3")
    nodes.append(helper.make_node("MatMul", ["n3", "wl"], ["logits"],
                                  name="lm_head"))
    inits = [
        _init("embed", _f32(rng, 50, 48, scale=1.0)),
        _init("two", np.array(2.0, np.float32)),
        _init("eps", np.array(1e-5, np.float32)),
        _init("last_axis", np.array([-1], np.int64)),
        gamma("g1"), gamma("g2"), gamma("g3"),
        _init("wq", _f32(rng, 48, 48, scale=0.2)),
        _init("wv", _f32(rng, 48, 48, scale=0.2)),
        _init("wo", _f32(rng, 48, 48, scale=0.2)),
        _init("wg", _f32(rng, 48, 80, scale=0.2)),
        _init("wu", _f32(rng, 48, 80, scale=0.2)),
        _init("wd", _f32(rng, 80, 48, scale=0.2)),
        _init("wl", _f32(rng, 48, 50, scale=0.2)),
    ]
    g = helper.make_graph(
        nodes, "tinylm",
        [_vi("ids", TensorProto.INT64, [1, 16])],
        [_vi("logits", TensorProto.FLOAT, [1, 16, 50])],
        inits,
    )
    return _model(g, opset=18)


def tinyllama():
    """Two Llama decoder layers as scripts/build_smollm2_onnx.py exports
    SmolLM2 (RMSNorm, rotate-half RoPE from Range positions, grouped-query
    attention with 4 query and 2 key/value heads of 8, a causal mask,
    SwiGLU, tied output layer), random weights: width 32, 16 positions."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "..", "scripts"))
    from build_smollm2_onnx import build

    rng = np.random.default_rng(29)
    cfg = {"d": 32, "n_head": 4, "n_kv": 2, "eps": 1e-5, "rope_base": 100.0,
           "vocab": 50}
    W = {"embed": _f32(rng, 50, 32, scale=1.0),
         "norm": (1.0 + 0.1 * rng.standard_normal(32)).astype(np.float32)}
    shapes = {"q": (32, 32), "k": (16, 32), "v": (16, 32), "o": (32, 32),
              "gate": (64, 32), "up": (64, 32), "down": (32, 64)}
    for i in range(2):
        for name, shape in shapes.items():
            W["%d.%s" % (i, name)] = _f32(rng, *shape, scale=0.3)
        for name in ("attn_norm", "ffn_norm"):
            W["%d.%s" % (i, name)] = (
                1.0 + 0.1 * rng.standard_normal(32)).astype(np.float32)
    return build(W, cfg, 16, 2)


def cnn(size=16, residual=False, twin=False):
    """A small convolutional classifier on a size x size image: 3x3 (padded,
    bias), 1x1, 3x3 stride 2, a depthwise 3x3 (group 32), a dilated 3x3
    without bias, global average pooling and a Gemm classifier. `residual`:
    the 1x1's ReLU is a ReLU6 (Clip), followed by a residual block (a 1x1
    with bias added to its input), and the depthwise one has a ReLU6.
    `twin`: a 3x3 stride 1 after the stride-2 one, a layer of the same
    shape (rows, inputs, outputs) reading a smaller image."""
    rng = np.random.default_rng(24)

    def conv(name, x, y, cin, cout, k, bias=True, **attrs):
        inputs = [x, name + "_w"] + ([name + "_b"] if bias else [])
        group = attrs.get("group", 1)
        inits.append(_init(name + "_w",
                           _f32(rng, cout, cin // group, k, k, scale=0.3)))
        if bias:
            inits.append(_init(name + "_b", _f32(rng, cout, scale=0.1)))
        nodes.append(helper.make_node("Conv", inputs, [y], name=name,
                                      kernel_shape=[k, k], **attrs))

    nodes, inits = [], []
    conv("c1", "x", "h1", 3, 16, 3, pads=[1, 1, 1, 1])
    nodes.append(helper.make_node("Relu", ["h1"], ["r1"]))
    conv("c2", "r1", "h2", 16, 32, 1)
    if residual:
        inits.extend([_init("lo", np.array(0.0, np.float32)),
                      _init("hi", np.array(6.0, np.float32))])
        nodes.append(helper.make_node("Clip", ["h2", "lo", "hi"], ["c2r"]))
        conv("c2b", "c2r", "h2b", 32, 32, 1)
        nodes.append(helper.make_node("Add", ["h2b", "c2r"], ["r2"]))
    else:
        nodes.append(helper.make_node("Relu", ["h2"], ["r2"]))
    conv("c3", "r2", "h3", 32, 32, 3, strides=[2, 2], pads=[1, 1, 1, 1])
    nodes.append(helper.make_node("Relu", ["h3"], ["r3" + ("t" if twin else "")]))
    if twin:
        conv("c3t", "r3t", "h3t", 32, 32, 3, pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Relu", ["h3t"], ["r3"]))
    conv("dw", "r3", "h4" + ("d" if residual else ""), 32, 32, 3, group=32,
         pads=[1, 1, 1, 1])
    if residual:
        nodes.append(helper.make_node("Clip", ["h4d", "lo", "hi"], ["h4"]))
    conv("c4", "h4", "h5", 32, 16, 3, bias=False, dilations=[2, 2],
         pads=[2, 2, 2, 2])
    nodes += [
        helper.make_node("GlobalAveragePool", ["h5"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc"),
    ]
    inits += [_init("fc_w", _f32(rng, 16, 10, scale=0.3)),
              _init("fc_b", _f32(rng, 10, scale=0.1))]
    g = helper.make_graph(
        nodes, "cnn",
        [_vi("x", TensorProto.FLOAT, [1, 3, size, size])],
        [_vi("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return _model(g)


def conv1d(batch, length):
    """1-D convolutions on [batch, 4, length]: a 16-wide window with stride 8
    (an STFT-like front end, no padding), ReLU, a padded 3-wide one with
    bias, a dilated one without bias and a strided one."""
    rng = np.random.default_rng(27)
    nodes, inits = [], []

    def conv(name, x, y, cin, cout, k, bias=True, **attrs):
        inputs = [x, name + "_w"] + ([name + "_b"] if bias else [])
        inits.append(_init(name + "_w", _f32(rng, cout, cin, k, scale=0.3)))
        if bias:
            inits.append(_init(name + "_b", _f32(rng, cout, scale=0.1)))
        nodes.append(helper.make_node("Conv", inputs, [y], name=name,
                                      kernel_shape=[k], **attrs))

    conv("s1", "x", "h1", 4, 12, 16, strides=[8])
    nodes.append(helper.make_node("Relu", ["h1"], ["r1"]))
    conv("c1", "r1", "h2", 12, 16, 3, pads=[1, 1])
    conv("c2", "h2", "h3", 16, 16, 3, bias=False, dilations=[2], pads=[2, 2])
    conv("c3", "h3", "y", 16, 8, 3, strides=[2], pads=[1, 1])
    out = (length - 16) // 8 + 1
    g = helper.make_graph(
        nodes, "conv1d",
        [_vi("x", TensorProto.FLOAT, [batch, 4, length])],
        [_vi("y", TensorProto.FLOAT, [batch, 8, (out - 1) // 2 + 1])],
        inits,
    )
    return _model(g)


def twin_se():
    """Two squeeze-excitation blocks of one shape (pool, 1x1 88 -> 22,
    ReLU, 1x1 22 -> 88, sigmoid, scale), as in PP-OCR's classifier: both
    22 -> 88 layers accumulate into one shared zero fill, so the first is
    bufferized out of place, and its matmul's first column tile writes 16
    of 88 columns at [0, 0]."""
    rng = np.random.default_rng(26)
    nodes, inits = [], []

    def se(x, tag):
        for name, cin, cout in ((tag + "c1", 88, 22), (tag + "c2", 22, 88)):
            inits.append(_init(name + "_w", _f32(rng, cout, cin, 1, 1, scale=0.3)))
        nodes.extend([
            helper.make_node("GlobalAveragePool", [x], [tag + "p"]),
            helper.make_node("Conv", [tag + "p", tag + "c1_w"], [tag + "a"],
                             name=tag + "c1", kernel_shape=[1, 1]),
            helper.make_node("Relu", [tag + "a"], [tag + "r"]),
            helper.make_node("Conv", [tag + "r", tag + "c2_w"], [tag + "b"],
                             name=tag + "c2", kernel_shape=[1, 1]),
            helper.make_node("Sigmoid", [tag + "b"], [tag + "s"]),
            helper.make_node("Mul", [x, tag + "s"], [tag + "o"]),
        ])
        return tag + "o"

    g = helper.make_graph(
        nodes[:0], "twin_se",
        [_vi("x", TensorProto.FLOAT, [1, 88, 3, 8])],
        [_vi("y", TensorProto.FLOAT, [1, 88, 3, 8])], [])
    y = se(se("x", "A"), "B")
    nodes.append(helper.make_node("Identity", [y], ["y"]))
    g = helper.make_graph(nodes, "twin_se", list(g.input), list(g.output), inits)
    return _model(g)


def twin_outputs():
    """Two graph outputs that compute the same thing (relu(x) twice, one
    value after CSE) and one that is the input itself."""
    g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y1"]),
         helper.make_node("Relu", ["x"], ["y2"]),
         helper.make_node("Identity", ["x"], ["z"])],
        "twin_outputs",
        [_vi("x", TensorProto.FLOAT, [2, 8])],
        [_vi("y1", TensorProto.FLOAT, [2, 8]), _vi("y2", TensorProto.FLOAT, [2, 8]),
         _vi("z", TensorProto.FLOAT, [2, 8])])
    return _model(g)


def shared_input():
    """Two linear layers reading one value (relu(x)) with a float-only
    layer computed between them (b, on a's output): quantize a and c, leave
    b, and c's kernel must still read relu(x), not a buffer reused for b's
    input."""
    rng = np.random.default_rng(25)
    nodes = [
        helper.make_node("Relu", ["x"], ["p"]),
        helper.make_node("MatMul", ["p", "wa"], ["ya"], name="a"),
        helper.make_node("Relu", ["ya"], ["ra"]),
        helper.make_node("MatMul", ["ra", "wb"], ["yb"], name="b"),
        helper.make_node("MatMul", ["p", "wc"], ["yc"], name="c"),
    ]
    inits = [_init("wa", _f32(rng, 64, 64, scale=0.1)),
             _init("wb", _f32(rng, 64, 96, scale=0.1)),
             _init("wc", _f32(rng, 64, 96, scale=0.1))]
    g = helper.make_graph(
        nodes, "shared_input",
        [_vi("x", TensorProto.FLOAT, [1, 32, 64])],
        [_vi("yb", TensorProto.FLOAT, [1, 32, 96]),
         _vi("yc", TensorProto.FLOAT, [1, 32, 96])],
        inits,
    )
    return _model(g)


# ---------------------------------------------------------------------- driver

GOOD = {
    "mlp": mlp,
    "gemm_transb": gemm_transb,
    "wide_mlp": wide_mlp,
    "symbolic_batch": symbolic_batch,
    "attention": attention,
    "external_data": external_data,
    "shape_ops": shape_ops,
    "missing_shape": missing_shape,
    "prenorm": prenorm,
    "swiglu": swiglu,
    "tinylm": tinylm,
    "tinyllama": tinyllama,
    "cnn": cnn,
    # Every convolution with >= 576 output pixels (qc-conv-channel-major's
    # default threshold is 128).
    "cnn48": lambda: cnn(48),
    # ReLU6 and a residual add after channel-major convolutions (their
    # register tiles' epilogues).
    "cnn48_residual": lambda: cnn(48, residual=True),
    # Two static int8 layers of one kernel shape reading images of 18 x 18
    # and 10 x 10 pixels (the kernel that gathers rows takes either).
    "cnn_twin": lambda: cnn(twin=True),
    # Batch 1 with 129 output positions (channel-major but the last),
    # batch 3 (pixel-major).
    "conv1d": lambda: conv1d(1, 1040),
    "conv1d_b3": lambda: conv1d(3, 1040),
    "twin_se": twin_se,
    "twin_outputs": twin_outputs,
    "shared_input": shared_input,
}


def _one_node(op, node_name, inputs, outputs, opset, **attrs):
    """A graph of one `op` node; inputs / outputs are (name, type, shape)."""
    n = [helper.make_node(op, [i[0] for i in inputs], [o[0] for o in outputs],
                          name=node_name, **attrs)]
    g = helper.make_graph(n, node_name, [_vi(*i) for i in inputs],
                          [_vi(*o) for o in outputs])
    return _model(g, opset=opset)


def old_dangling_output():
    """Opset 7 (converted on import) with a graph output no node produces:
    libonnx's converter crashed on it (found by scripts/fuzz.sh onnx)."""
    m = _one_node("Xor", "xor_0", [("x", TensorProto.BOOL, [4]),
                                   ("y", TensorProto.BOOL, [4])],
                  [("xor", TensorProto.BOOL, [4])], opset=7)
    m.graph.output[0].name = "xop"  # nothing produces it
    return m


def minus_one_dim():
    """An input whose batch dimension is written -1 (as PaddlePaddle's
    exporter does), which ONNX's shape inference carries to the outputs: an
    unknown size, not a size of -1."""
    return _one_node("Relu", "relu_0", [("x", TensorProto.FLOAT, [-1, 4])],
                     [("y", TensorProto.FLOAT, [-1, 4])], opset=13)


def matmul_one_input():
    """A MatMul with one input at opset 21, newer than libonnx's checker
    knows: its handler read the missing input (found by scripts/fuzz.sh)."""
    return _one_node("MatMul", "matmul_0", [("x", TensorProto.FLOAT, [2, 4])],
                     [("y", TensorProto.FLOAT, [2, 4])], opset=21)


def mixed_types():
    """Less of int16 and float inputs, which libonnx 1.12's checker passes;
    the importer built an invalid arith.cmpi (found by scripts/fuzz.sh)."""
    return _one_node("Less", "less_0", [("x", TensorProto.INT16, [3]),
                                        ("y", TensorProto.FLOAT, [3])],
                     [("z", TensorProto.BOOL, [3])], opset=16)


def int4_add():
    """Add of two int4 inputs: qc holds an int4 a byte, so only casts,
    (de)quantization and data movement may take one."""
    return _one_node("Add", "add_0", [("x", 22, [4]), ("y", 22, [4])],
                     [("z", 22, [4])], opset=21)


def scan_missing_output():
    """A Scan whose body lists an output no node produces (found by
    scripts/fuzz.sh onnx: the importer read the missing value)."""
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "a_t"], ["s_out"])], "body",
        [_vi("s_in", TensorProto.FLOAT, [3]), _vi("a_t", TensorProto.FLOAT, [3])],
        [_vi("s_out", TensorProto.FLOAT, [3]), _vi("y_t", TensorProto.FLOAT, [3])])
    g = helper.make_graph(
        [helper.make_node("Scan", ["s0", "a"], ["s", "y"], name="scan_0",
                          body=body, num_scan_inputs=1)],
        "scan_missing_output",
        [_vi("s0", TensorProto.FLOAT, [3]), _vi("a", TensorProto.FLOAT, [4, 3])],
        [_vi("s", TensorProto.FLOAT, [3]), _vi("y", TensorProto.FLOAT, [4, 3])])
    return _model(g, opset=16)


def layernorm_bad_axis():
    """LayerNormalization with an axis far out of range: libonnx 1.12's shape
    inference indexed the input's dimensions by it (found by
    scripts/fuzz.sh onnx)."""
    return _one_node("LayerNormalization", "ln_0",
                     [("x", TensorProto.FLOAT, [3, 4]),
                      ("w", TensorProto.FLOAT, [4]), ("b", TensorProto.FLOAT, [4])],
                     [("y", TensorProto.FLOAT, [3, 4])], opset=17, axis=-1048578)


BAD = {
    "truncated": None,
    "garbage": None,
    "unsupported_op": unsupported_op,
    "external_escape_dotdot": external_escape_dotdot,
    "external_escape_abs": external_escape_abs,
    "data_size_mismatch": data_size_mismatch,
    "old_dangling_output": old_dangling_output,
    "matmul_one_input": matmul_one_input,
    "minus_one_dim": minus_one_dim,
    "mixed_types": mixed_types,
    "layernorm_bad_axis": layernorm_bad_axis,
    "int4_add": int4_add,
    "scan_missing_output": scan_missing_output,
}
MODELS = dict(GOOD, **BAD)


def write(name, out, with_target=False):
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    if name == "truncated":
        data = mlp().SerializeToString()
        with open(out, "wb") as f:
            f.write(data[: len(data) // 2])
        return
    if name == "garbage":
        rng = np.random.default_rng(7)
        data = bytearray(rng.integers(0, 256, 256, dtype=np.uint8).tobytes())
        data[0] = 0x07  # field number 0 / wire type 7: never a valid protobuf
        with open(out, "wb") as f:
            f.write(bytes(data))
        return
    model = MODELS[name]()
    if name == "external_data":
        location = os.path.basename(out) + ".data"
        data_path = os.path.join(out_dir, location)
        if os.path.exists(data_path):
            os.remove(data_path)  # onnx appends to an existing file
        onnx.save_model(model, out, save_as_external_data=True,
                        all_tensors_to_one_file=True, location=location,
                        size_threshold=0, convert_attribute=False)
        return
    if name == "external_escape_dotdot" and with_target:
        target = os.path.normpath(os.path.join(out_dir, "..", "w.bin"))
        with open(target, "wb") as f:
            f.write(np.arange(4, dtype=np.float32).tobytes())
    with open(out, "wb") as f:
        f.write(model.SerializeToString())


def write_npy(name, out, npy_dir):
    import onnxruntime as ort

    os.makedirs(npy_dir, exist_ok=True)
    sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(100)
    feeds = {}
    for i, inp in enumerate(sess.get_inputs()):
        shape = [d if isinstance(d, int) else 3 for d in inp.shape]
        if inp.type == "tensor(int64)":  # token ids of the tiny LMs
            arr = rng.integers(0, 50, shape).astype(np.int64)
        else:
            arr = rng.standard_normal(shape).astype(np.float32)
        feeds[inp.name] = arr
        np.save(os.path.join(npy_dir, "in_%d.npy" % i), arr)
    for i, o in enumerate(sess.run(None, feeds)):
        np.save(os.path.join(npy_dir, "out_%d.npy" % i), o)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?", choices=sorted(MODELS))
    ap.add_argument("out", nargs="?")
    ap.add_argument("--npy", metavar="DIR")
    ap.add_argument("--with-target", action="store_true")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for k in GOOD:
            print(k, "good")
        for k in BAD:
            print(k, "bad")
        return 0
    if not a.name or not a.out:
        ap.error("NAME and OUT are required")
    write(a.name, a.out, a.with_target)
    if a.npy:
        if a.name not in GOOD:
            ap.error("--npy needs a good model")
        write_npy(a.name, a.out, a.npy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
