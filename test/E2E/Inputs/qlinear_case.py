#!/usr/bin/env python3
"""Write a qc.qlinear module for one scheme with random canonical operands,
an input .npy and the numpy reference output (dequantize written here,
independently of qc), for the lit e2e test of the reference lowering.

Usage: qlinear_case.py SCHEME OUT_DIR [ACT]
SCHEME: uniform_oc | uniform_ic_sym | bcq | codebook | fp8 | mxfp4 | amxfp4 | dint4
ACT: an activation scheme for the layer (#qc.act), int8:B, int4:B, dint4:B
(B inputs per scale, -1 a scale per token), mxfp4 or amxfp4, whose rounding
of the input the
numpy model here reproduces (ActivationAttr's formulas).
Writes OUT_DIR/model.mlir, OUT_DIR/x.npy, OUT_DIR/ref.npy and, with ACT,
OUT_DIR/ref_float.npy (the float-activation result, which ref.npy must
differ from).
"""
import os
import sys

import numpy as np

M, K, N = 3, 64, 16


def dense(a, mlir_type):
    flat = ", ".join(repr(float(v)) if a.dtype.kind == "f" else str(int(v))
                     for v in a.reshape(-1))
    shape = "x".join(str(d) for d in a.shape)
    return "dense<[%s]> : tensor<%sx%s>" % (flat, shape, mlir_type) if a.ndim == 1 else \
        "dense<%s> : tensor<%sx%s>" % (np.array2string(a, separator=", ", threshold=1 << 30,
                                                      max_line_width=1 << 30,
                                                      formatter={"all": lambda v: repr(float(v)) if a.dtype.kind == "f" else str(int(v))}),
                                      shape, mlir_type)


def fp8_e4m3_value(c):
    c = int(c)
    s = -1.0 if c & 0x80 else 1.0
    e = (c >> 3) & 0xF
    m = c & 0x7
    if e == 0xF and m == 0x7:
        return float("nan")
    if e == 0:
        return s * (m / 8.0) * 2.0 ** -6
    return s * (1 + m / 8.0) * 2.0 ** (e - 7)


def e2m1_value(c):
    c = int(c)
    s = -1.0 if c & 0x8 else 1.0
    mag = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0][c & 0x7]
    return s * mag


def blocks_of(x, block):
    """x [M, K] as [M, blocks, block] (zero-padded) and the block."""
    m, k = x.shape
    b = k if block == -1 else min(block, k)
    nb = -(-k // b)
    xp = np.zeros((m, nb * b), np.float32)
    xp[:, :k] = x
    return xp.reshape(m, nb, b), b


def quantize_acts(x, act):
    """The input rounded by activation scheme ACT, in f32 as qc does."""
    kind, _, block = act.partition(":")
    block = 32 if kind in ("mxfp4", "amxfp4") else int(block)
    xb, _ = blocks_of(x, block)
    amax = np.abs(xb).max(axis=2).astype(np.float32)

    def e2m1_round(xb, amax):  # mxfp4 on the power-of-two scale of amax
        e = ((amax.view(np.uint32) >> 23) & 0xFF).astype(np.int64) - 129
        e = np.clip(e, -126, 126)
        scale = np.ldexp(np.float32(1), e).astype(np.float32)[:, :, None]
        inv = np.ldexp(np.float32(1), -e).astype(np.float32)[:, :, None]
        a = np.minimum(np.abs(xb * inv), np.float32(6)).astype(np.float32)
        r = np.where(a < 2, np.rint(a * 2) * np.float32(0.5),
                     np.where(a < 4, np.rint(a), np.rint(a * np.float32(0.5)) * 2))
        v = (np.copysign(r, xb) * scale).astype(np.float32)
        return np.where((amax <= 0)[:, :, None], np.float32(0), v)

    if kind in ("int8", "int4"):
        limit = np.float32(127 if kind == "int8" else 7)
        inv = np.where(amax > 1e-30, limit / np.where(amax > 0, amax, 1), 0).astype(np.float32)
        q = np.clip(np.rint(xb * inv[:, :, None]), -limit, limit).astype(np.float32)
        v = q * (amax / limit).astype(np.float32)[:, :, None]
    elif kind == "dint4":
        # levels 0, 1/2, 1 .. 6 on max / 6: a <= 1/4 -> 0, <= 3/4 -> 1/2,
        # else the nearer integer, the smaller on a tie.
        inv = np.where(amax > 1e-30, np.float32(6) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
        a = np.minimum(np.abs(xb * inv[:, :, None]), np.float32(6)).astype(np.float32)
        level = np.where(a <= 0.25, 0.0, np.where(a <= 0.75, 0.5, np.ceil(a - np.float32(0.5))))
        v = (np.copysign(level.astype(np.float32), xb) *
             (amax / np.float32(6)).astype(np.float32)[:, :, None]).astype(np.float32)
    elif kind == "mxfp4":
        v = e2m1_round(xb, amax)
    elif kind == "amxfp4":
        pos = np.maximum(xb, 0).max(axis=2).astype(np.float32)
        neg = np.maximum(-xb, 0).max(axis=2).astype(np.float32)
        v = np.where(xb < 0, e2m1_round(xb, neg), e2m1_round(xb, pos))
    else:
        sys.exit("unknown activation scheme " + act)
    m, k = x.shape
    return v.reshape(m, -1)[:, :k].astype(np.float32)


def act_attr(act):
    kind, _, block = act.partition(":")
    return "#qc.act<kind = %s, block = %s>" % (kind, 32 if kind in ("mxfp4", "amxfp4") else block)


def main():
    scheme, out = sys.argv[1], sys.argv[2]
    act = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((M, K)).astype(np.float32)
    if act:  # an all-zero block and an outlier
        x[1, :32] = 0
        x[2, 5] *= 30
    operands = []  # (name, array, mlir element type)
    if scheme == "uniform_oc":
        g = 16
        codes = rng.integers(0, 16, (K, N)).astype(np.int8)
        scales = (rng.random((K // g, N)) * 0.1 + 0.01).astype(np.float32)
        zeros = rng.integers(0, 16, (K // g, N)).astype(np.float32)
        w = (codes.astype(np.float32) - np.repeat(zeros, g, 0)) * np.repeat(scales, g, 0)
        attr = "#qc.uniform<bits = 4, group = 16, per_ic = false, symmetric = false, scale_type = f32>"
        operands = [("codes", codes, "i8"), ("scales", scales, "f32"), ("zeros", zeros, "f32")]
    elif scheme == "uniform_ic_sym":
        g = 8
        codes = rng.integers(0, 8, (K, N)).astype(np.int8)
        scales = (rng.random((K, N // g)) * 0.1 + 0.01).astype(np.float32)
        w = (codes.astype(np.float32) - 4.0) * np.repeat(scales, g, 1)
        attr = "#qc.uniform<bits = 3, group = 8, per_ic = true, symmetric = true, scale_type = f32>"
        operands = [("codes", codes, "i8"), ("scales", scales, "f32")]
    elif scheme == "bcq":
        g, q = 32, 3
        codes = rng.integers(0, 1 << q, (K, N)).astype(np.int8)
        alphas = (rng.random((q, K // g, N)) * 0.2).astype(np.float32)
        offs = (rng.standard_normal((K // g, N)) * 0.1).astype(np.float32)
        w = np.repeat(offs, g, 0).copy()
        for i in range(q):
            bits = ((codes.astype(np.int32) >> i) & 1) * 2 - 1
            w += bits * np.repeat(alphas[i], g, 0)
        attr = "#qc.bcq<planes = 3, group = 32, offset = true, scale_type = f32>"
        operands = [("codes", codes, "i8"), ("scales", alphas, "f32"), ("zeros", offs, "f32")]
    elif scheme == "codebook":
        v, e, m = 4, 16, 2
        codes = rng.integers(0, e, (m, K // v, N)).astype(np.int32)
        book = rng.standard_normal((m, e, v)).astype(np.float32)
        scales = (rng.random(N) + 0.5).astype(np.float32)
        w = np.zeros((K, N), np.float32)
        for kk in range(K):
            for nn in range(N):
                w[kk, nn] = sum(book[b, codes[b, kk // v, nn], kk % v] for b in range(m)) * scales[nn]
        attr = "#qc.codebook<vector_size = 4, entries = 16, books = 2, scale_type = f32>"
        operands = [("codes", codes, "i32"), ("scales", scales, "f32"), ("codebook", book, "f32")]
    elif scheme == "fp8":
        codes = rng.integers(0, 256, (K, N)).astype(np.uint8)
        codes[codes == 0x7F] = 0x7E  # keep NaN codes out of the reference
        codes[codes == 0xFF] = 0xFE
        scales = (rng.random((1, N)) + 0.5).astype(np.float32)
        w = np.vectorize(fp8_e4m3_value)(codes).astype(np.float32) * scales
        codes = codes.view(np.int8)
        attr = "#qc.float<format = fp8e4m3, bits = 8, block = -1>"
        operands = [("codes", codes, "i8"), ("scales", scales, "f32")]
    elif scheme == "mxfp4":
        codes = rng.integers(0, 16, (K, N)).astype(np.int8)
        scales = (2.0 ** rng.integers(-4, 3, (K // 32, N))).astype(np.float32)
        w = np.vectorize(e2m1_value)(codes).astype(np.float32) * np.repeat(scales, 32, 0)
        attr = "#qc.float<format = mxfp4, bits = 4, block = 32>"
        operands = [("codes", codes, "i8"), ("scales", scales, "f32")]
    elif scheme == "amxfp4":
        codes = rng.integers(0, 16, (K, N)).astype(np.int8)
        pos = (2.0 ** rng.integers(-4, 3, (K // 32, N))).astype(np.float32)
        neg = (2.0 ** rng.integers(-4, 3, (K // 32, N))).astype(np.float32)
        scale = np.where(codes >= 8, np.repeat(neg, 32, 0), np.repeat(pos, 32, 0))
        w = np.vectorize(e2m1_value)(codes).astype(np.float32) * scale
        attr = "#qc.float<format = amxfp4, bits = 4, block = 32>"
        operands = [("codes", codes, "i8"), ("scales", np.stack([pos, neg]), "f32")]
    elif scheme == "dint4":
        codes = rng.integers(0, 16, (K, N)).astype(np.int8)
        scales = (rng.random((K // 16, N)) * 0.1 + 0.01).astype(np.float32)
        v = codes.astype(np.int32) - 8
        level = np.where(np.abs(v) == 1, np.sign(v) * 0.5, np.sign(v) * (np.abs(v) - 1))
        level[codes == 0] = 0.0
        w = (level * np.repeat(scales, 16, 0)).astype(np.float32)
        attr = "#qc.float<format = dint, bits = 4, block = 16>"
        operands = [("codes", codes, "i8"), ("scales", scales, "f32")]
    else:
        sys.exit("unknown scheme " + scheme)

    lines = ["func.func @main(%%x: tensor<%dx%dxf32> {qc.name = \"x\", qc.dtype = \"f32\"}) -> "
             "(tensor<%dx%dxf32> {qc.name = \"y\", qc.dtype = \"f32\"}) {" % (M, K, M, N)]
    names = {}
    for name, arr, ty in operands:
        lines.append("  %%%s = arith.constant %s" % (name, dense(arr, ty)))
        names[name] = "tensor<%sx%s>" % ("x".join(str(d) for d in arr.shape), ty)
    opt = ""
    for kw in ("zeros", "codebook"):
        if kw in names:
            opt += " %s(%%%s : %s)" % (kw, kw, names[kw])
    if act:
        attr += " act " + act_attr(act)
    lines.append("  %%y = qc.qlinear %%x, %%codes, %%scales%s scheme %s layer \"fc\" : "
                 "tensor<%dx%dxf32>, %s, %s -> tensor<%dx%dxf32>" % (
                     opt, attr, M, K, names["codes"], names["scales"], M, N))
    lines.append("  return %%y : tensor<%dx%dxf32>" % (M, N))
    lines.append("}")
    with open(os.path.join(out, "model.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    np.save(os.path.join(out, "x.npy"), x)
    ref = (x.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
    if act:
        np.save(os.path.join(out, "ref_float.npy"), ref)
        xq = quantize_acts(x, act)
        ref = (xq.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
    np.save(os.path.join(out, "ref.npy"), ref)


if __name__ == "__main__":
    main()
