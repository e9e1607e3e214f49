#!/usr/bin/env python3
"""Write small ONNX models with block-quantized weights for the lit tests.

Usage:
    make_quant_model.py NAME OUT [--npy DIR]
    make_quant_model.py --list

NAME selects the model (see MODELS below); OUT is the .onnx file.

--npy DIR  also write the input (in_0.npy) and onnxruntime's output
           (out_<i>.npy) of a good model, for e2e tests (needs onnxruntime).

The models:
  - com.microsoft::MatMulNBits, with B packed the way onnxruntime's
    quantizer packs it: for each output column n and block b, the codes of
    rows b*block_size .. along K, 8/bits codes a byte, the first in the low
    bits; zero points packed the same way along the blocks of a column
    (each column padded to whole bytes);
  - ONNX DequantizeLinear (opset 21, int4 / uint4 / int8 data, block_size
    along K = axis 0 of a [K, N] weight) feeding the B input of a MatMul.
Everything is deterministic (fixed numpy seeds, fixed names).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 21
IR_VERSION = 10  # opset 21 (onnx 1.16)


def _model(graph, ms_domain=False):
    opsets = [helper.make_opsetid("", OPSET)]
    if ms_domain:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    m = helper.make_model(graph, opset_imports=opsets,
                          producer_name="qc-make-quant-model",
                          producer_version="1")
    m.ir_version = IR_VERSION
    return m


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def _pack_along_last(codes, bits):
    """Packs integer codes [..., L] into bytes [..., ceil(L * bits / 8)],
    8 / bits codes a byte, the first in the low bits."""
    per = 8 // bits
    length = codes.shape[-1]
    padded = -(-length // per) * per
    c = np.zeros(codes.shape[:-1] + (padded,), dtype=np.uint8)
    c[..., :length] = codes
    c = c.reshape(codes.shape[:-1] + (padded // per, per))
    out = np.zeros(c.shape[:-1], dtype=np.uint8)
    for e in range(per):
        out |= (c[..., e] << (bits * e)).astype(np.uint8)
    return out


# ------------------------------------------------------------- MatMulNBits


def matmul_nbits(seed, a_shape, k, n, bits, block, zero_points="packed",
                 bias=False, g_idx=None, k_attr=None, name="mmnb",
                 accuracy_level=None):
    """A MatMulNBits model. zero_points: None, "packed" (uint8) or "float".
    g_idx: None, "trivial" or "permuted". k_attr overrides the K attribute
    (for the inconsistent-attribute error case); accuracy_level is set when
    given (4: onnxruntime's int8 activations)."""
    rng = np.random.default_rng(seed)
    k_blocks = -(-k // block)
    blob = block * bits // 8
    levels = 1 << bits
    # codes[n, k] along K per column, padded to whole blocks.
    codes = rng.integers(0, levels, size=(n, k_blocks * block), dtype=np.uint8)
    codes[:, k:] = 0
    if 8 % bits == 0:
        packed = _pack_along_last(codes.reshape(n, k_blocks, block), bits)
    else:  # no packing to follow (error cases only): random bytes
        packed = rng.integers(0, 256, size=(n, k_blocks, blob), dtype=np.uint8)
    assert packed.shape == (n, k_blocks, blob)
    scales = rng.uniform(0.01, 0.1, size=(n, k_blocks)).astype(np.float32)
    inits = [numpy_helper.from_array(packed, "B"),
             numpy_helper.from_array(scales.reshape(-1), "scales")]
    inputs = ["A", "B", "scales"]
    if zero_points is None:
        inputs.append("")
    else:
        zp = rng.integers(0, levels, size=(n, k_blocks), dtype=np.uint8)
        if zero_points == "packed":
            zpt = _pack_along_last(zp, bits).reshape(-1)
        else:
            zpt = zp.astype(np.float32)
        inits.append(numpy_helper.from_array(zpt, "zero_points"))
        inputs.append("zero_points")
    if g_idx is None:
        inputs.append("")
    else:
        g = (np.arange(k) // block).astype(np.int32)
        if g_idx == "permuted":
            g[[0, block]] = g[[block, 0]]
        inits.append(numpy_helper.from_array(g, "g_idx"))
        inputs.append("g_idx")
    if bias:
        inits.append(numpy_helper.from_array(
            rng.standard_normal(n).astype(np.float32), "bias"))
        inputs.append("bias")
    while inputs[-1] == "":
        inputs.pop()
    attrs = {} if accuracy_level is None else {"accuracy_level": accuracy_level}
    node = helper.make_node(
        "MatMulNBits", inputs, ["Y"], name=name, domain="com.microsoft",
        K=k if k_attr is None else k_attr, N=n, bits=bits, block_size=block,
        **attrs)
    a_shape = list(a_shape[:-1]) + [k if k_attr is None else k_attr]
    g = helper.make_graph(
        [node], name, [_vi("A", TensorProto.FLOAT, a_shape)],
        [_vi("Y", TensorProto.FLOAT, list(a_shape[:-1]) + [n])], inits)
    return _model(g, ms_domain=True)


# -------------------------------------------------------- DequantizeLinear


def _qdata(rng, dtype, shape):
    lo, hi, elem = {
        "int4": (-8, 8, TensorProto.INT4),
        "uint4": (0, 16, TensorProto.UINT4),
        "int8": (-128, 128, TensorProto.INT8),
        "uint8": (0, 256, TensorProto.UINT8),
    }[dtype]
    return rng.integers(lo, hi, size=shape), elem


def _qtensor(name, values, elem):
    """An int tensor of ONNX type elem; 4-bit values packed two a byte,
    low nibble first, in raw_data."""
    flat = np.asarray(values).reshape(-1)
    if elem in (TensorProto.INT4, TensorProto.UINT4):
        raw = _pack_along_last((flat & 0xF).astype(np.uint8), 4).tobytes()
        return helper.make_tensor(name, elem, list(values.shape), raw, raw=True)
    np_type = np.int8 if elem == TensorProto.INT8 else np.uint8
    return numpy_helper.from_array(values.astype(np_type), name)


def dq_matmul(seed, a_shape, k, n, dtype, block, zero_point=True,
              also_output_weight=False, name="dq"):
    """x [.., K] @ DequantizeLinear(w [K, N] blocked along K)."""
    rng = np.random.default_rng(seed)
    w, elem = _qdata(rng, dtype, (k, n))
    blocks = -(-k // block)  # the last block may be partial
    scales = rng.uniform(0.01, 0.1, size=(blocks, n)).astype(np.float32)
    inits = [_qtensor("w_q", w, elem),
             numpy_helper.from_array(scales, "w_scale")]
    dq_in = ["w_q", "w_scale"]
    if zero_point:
        z, _ = _qdata(rng, dtype, (blocks, n))
        inits.append(_qtensor("w_zp", z, elem))
        dq_in.append("w_zp")
    nodes = [
        helper.make_node("DequantizeLinear", dq_in, ["w"], name=name + "_dq",
                         axis=0, block_size=block),
        helper.make_node("MatMul", ["x", "w"], ["y"], name=name + "_matmul"),
    ]
    outputs = [_vi("y", TensorProto.FLOAT, list(a_shape[:-1]) + [n])]
    if also_output_weight:
        outputs.append(_vi("w", TensorProto.FLOAT, [k, n]))
    g = helper.make_graph(nodes, name, [_vi("x", TensorProto.FLOAT, a_shape)],
                          outputs, inits)
    return _model(g)


def dq_float_paths():
    """DequantizeLinear forms that stay float dequantizations: per-axis int8,
    uint4 blocked along N (axis 1), and per-tensor uint8."""
    rng = np.random.default_rng(41)
    k, n = 32, 16
    w1, e1 = _qdata(rng, "int8", (k, n))
    s1 = rng.uniform(0.01, 0.1, size=(n,)).astype(np.float32)
    z1, _ = _qdata(rng, "int8", (n,))
    w2, e2 = _qdata(rng, "uint4", (n, k))
    s2 = rng.uniform(0.01, 0.1, size=(n, k // 16)).astype(np.float32)
    z2, _ = _qdata(rng, "uint4", (n, k // 16))
    w3, e3 = _qdata(rng, "uint8", (k, 8))
    inits = [
        _qtensor("w1_q", w1, e1), numpy_helper.from_array(s1, "w1_s"),
        _qtensor("w1_z", z1, e1),
        _qtensor("w2_q", w2, e2), numpy_helper.from_array(s2, "w2_s"),
        _qtensor("w2_z", z2, e2),
        _qtensor("w3_q", w3, e3),
        numpy_helper.from_array(np.array(0.05, dtype=np.float32), "w3_s"),
        numpy_helper.from_array(np.array(128, dtype=np.uint8), "w3_z"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w1_q", "w1_s", "w1_z"], ["w1"],
                         name="dq_axis", axis=1),
        helper.make_node("DequantizeLinear", ["w2_q", "w2_s", "w2_z"], ["w2"],
                         name="dq_block_n", axis=1, block_size=16),
        helper.make_node("DequantizeLinear", ["w3_q", "w3_s", "w3_z"], ["w3"],
                         name="dq_tensor"),
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
        helper.make_node("MatMul", ["h", "w2"], ["h2"], name="mm2"),
        helper.make_node("MatMul", ["h2", "w3"], ["y"], name="mm3"),
    ]
    g = helper.make_graph(nodes, "dq_float_paths",
                          [_vi("x", TensorProto.FLOAT, [3, k])],
                          [_vi("y", TensorProto.FLOAT, [3, 8])], inits)
    return _model(g)


def ms_other_op():
    """A com.microsoft op other than MatMulNBits."""
    rng = np.random.default_rng(31)
    node = helper.make_node("FusedMatMul", ["x", "w"], ["y"], name="fused",
                            domain="com.microsoft", alpha=1.0)
    g = helper.make_graph(
        [node], "ms_other_op", [_vi("x", TensorProto.FLOAT, [2, 8])],
        [_vi("y", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32),
                                 "w")])
    return _model(g, ms_domain=True)


def int4_reshape():
    """An int4 initializer reshaped before its DequantizeLinear."""
    rng = np.random.default_rng(32)
    w, elem = _qdata(rng, "int4", (4, 8))
    nodes = [
        helper.make_node("Reshape", ["w_q", "shape"], ["w_r"], name="reshape"),
        helper.make_node("DequantizeLinear", ["w_r", "w_s"], ["w"], name="dq",
                         axis=0, block_size=16),
        helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
    ]
    inits = [_qtensor("w_q", w, elem),
             numpy_helper.from_array(np.array([32, 1], dtype=np.int64), "shape"),
             numpy_helper.from_array(np.full((2, 1), 0.1, np.float32), "w_s")]
    g = helper.make_graph(nodes, "int4_reshape",
                          [_vi("x", TensorProto.FLOAT, [2, 32])],
                          [_vi("y", TensorProto.FLOAT, [2, 1])], inits)
    return _model(g)


# ----------------------------------------------------------------- driver

GOOD = {
    # MatMulNBits, 4 bits.
    "nbits_g32_zp": lambda: matmul_nbits(1, [2, 3, 0], 64, 24, 4, 32),
    "nbits_g16_zp_odd_blocks": lambda: matmul_nbits(2, [3, 0], 48, 8, 4, 16),
    "nbits_g32_sym_bias": lambda: matmul_nbits(3, [2, 5, 0], 64, 16, 4, 32,
                                               zero_points=None, bias=True),
    "nbits_g128_zp_bias": lambda: matmul_nbits(4, [4, 0], 256, 12, 4, 128,
                                               bias=True),
    "nbits_g32_float_zp": lambda: matmul_nbits(5, [2, 0], 64, 8, 4, 32,
                                               zero_points="float"),
    # onnxruntime's CPU g_idx path ignores packed uint8 zero points (it
    # computes them, then dequantizes with 8); float ones it applies.
    "nbits_g16_trivial_gidx": lambda: matmul_nbits(6, [2, 0], 32, 8, 4, 16,
                                                   zero_points="float",
                                                   g_idx="trivial"),
    "nbits_vector": lambda: matmul_nbits(7, [0], 64, 8, 4, 32),
    # K = 40 with blocks of 16: a partial last block (8 rows + padding).
    "nbits_partial_block": lambda: matmul_nbits(13, [2, 0], 40, 8, 4, 16),
    # K = 24 < block_size = 32: one partial block.
    "nbits_k_lt_block": lambda: matmul_nbits(15, [3, 0], 24, 8, 4, 32,
                                             bias=True),
    # MatMulNBits, 2 and 8 bits.
    "nbits_b2_g32_zp": lambda: matmul_nbits(8, [2, 0], 64, 8, 2, 32),
    "nbits_b8_g16_zp": lambda: matmul_nbits(9, [2, 0], 64, 8, 8, 16),
    "nbits_b8_g32_sym": lambda: matmul_nbits(10, [2, 0], 64, 8, 8, 32,
                                             zero_points=None),
    # accuracy_level 4: int8 activations per block of block_size.
    "nbits_acc4_g32_zp": lambda: matmul_nbits(16, [5, 0], 256, 40, 4, 32,
                                              accuracy_level=4),
    "nbits_acc4_g128_sym": lambda: matmul_nbits(17, [3, 0], 512, 24, 4, 128,
                                                zero_points=None,
                                                accuracy_level=4),
    "nbits_acc4_g64_bias": lambda: matmul_nbits(18, [1, 0], 320, 16, 4, 64,
                                                bias=True, accuracy_level=4),
    # The same weights with float activations.
    "nbits_acc0_g32_zp": lambda: matmul_nbits(16, [5, 0], 256, 40, 4, 32),
    # accuracy_level 1: float activations, said explicitly.
    "nbits_acc1_g32_zp": lambda: matmul_nbits(19, [2, 0], 128, 16, 4, 32,
                                              accuracy_level=1),
    # DequantizeLinear -> MatMul.
    "dq_int4_g32_zp": lambda: dq_matmul(21, [2, 3, 64], 64, 16, "int4", 32),
    "dq_int4_g16_sym": lambda: dq_matmul(22, [4, 32], 32, 8, "int4", 16,
                                         zero_point=False),
    "dq_uint4_g32_zp": lambda: dq_matmul(23, [2, 64], 64, 8, "uint4", 32),
    "dq_uint4_g16_nozp": lambda: dq_matmul(24, [2, 32], 32, 8, "uint4", 16,
                                           zero_point=False),
    "dq_int8_g32_zp": lambda: dq_matmul(25, [2, 64], 64, 8, "int8", 32),
    "dq_int4_partial": lambda: dq_matmul(27, [2, 40], 40, 8, "int4", 16),
    "dq_int4_shared": lambda: dq_matmul(26, [2, 32], 32, 8, "int4", 16,
                                        also_output_weight=True),
    "dq_float_paths": dq_float_paths,
    # onnxruntime has no int4 Reshape: its outputs come from ONNX's
    # reference evaluator (REFERENCE_EVALUATOR).
    "int4_reshape": int4_reshape,
}
REFERENCE_EVALUATOR = {"int4_reshape"}
BAD = {
    # The K attribute disagrees with B's [N, k_blocks, blob_size].
    "nbits_bad_k": lambda: matmul_nbits(11, [2, 0], 64, 8, 4, 32, k_attr=80),
    # An act-order g_idx (rows 0 and 32 swapped between groups).
    "nbits_bad_gidx": lambda: matmul_nbits(12, [2, 0], 64, 8, 4, 32,
                                           g_idx="permuted"),
    # 3 bits: not a width onnxruntime packs.
    "nbits_b3": lambda: matmul_nbits(14, [2, 0], 64, 8, 3, 64,
                                     zero_points=None),
    "nbits_bad_level": lambda: matmul_nbits(20, [2, 0], 64, 8, 4, 32,
                                            accuracy_level=5),
    "ms_other_op": ms_other_op,
}
MODELS = dict(GOOD, **BAD)


def write_npy(out, npy_dir, reference=False):
    import onnxruntime as ort

    os.makedirs(npy_dir, exist_ok=True)
    if reference:
        from onnx.reference import ReferenceEvaluator
        model = onnx.load(out)
        rng = np.random.default_rng(100)
        feeds = {}
        for i, vi in enumerate(model.graph.input):
            shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            feeds[vi.name] = rng.standard_normal(shape).astype(np.float32)
            np.save(os.path.join(npy_dir, "in_%d.npy" % i), feeds[vi.name])
        for i, o in enumerate(ReferenceEvaluator(model).run(None, feeds)):
            np.save(os.path.join(npy_dir, "out_%d.npy" % i), o)
        return
    # onnxruntime's own kernels without its graph rewrites: by default it
    # fuses DequantizeLinear + MatMul into MatMulNBits with accuracy_level 4,
    # which quantizes A to int8 (about 1e-2 off the exact result).
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(100)
    feeds = {}
    for i, inp in enumerate(sess.get_inputs()):
        arr = rng.standard_normal(inp.shape).astype(np.float32)
        feeds[inp.name] = arr
        np.save(os.path.join(npy_dir, "in_%d.npy" % i), arr)
    for i, o in enumerate(sess.run(None, feeds)):
        np.save(os.path.join(npy_dir, "out_%d.npy" % i), o)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?", choices=sorted(MODELS))
    ap.add_argument("out", nargs="?")
    ap.add_argument("--npy", metavar="DIR")
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
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(a.out, "wb") as f:
        f.write(MODELS[a.name]().SerializeToString())
    if a.npy:
        if a.name not in GOOD:
            ap.error("--npy needs a good model")
        write_npy(a.out, a.npy, a.name in REFERENCE_EVALUATOR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
