#!/usr/bin/env python3
"""Random qc.qlinear cases for the generated dequant_i8 kernel, with two
numpy references written here independently of qc:

  ref_kernel.npy  the kernel's arithmetic: int8 activations per block of A
                  inputs (scale max|x| / 127, round half to even), exact
                  integer dot products per block, f32 scaling;
  ref.npy         plain dequantize-then-matmul in f64 (the reference
                  lowering's result), which the kernel approximates to the
                  int8 rounding of the activations.

Usage: kernel_case.py OUT_DIR M K N BITS GROUP SYM BIAS SEED [bcq|f16|fz]
                      [f32act|rowact|static|int4act|mxact]
GROUP -1 is one group per column; SYM and BIAS are 0 or 1. The layer's
activation scheme is int8 in blocks of A (#qc.act), the kernel's. With `bcq`
the layer is binary-coding with BITS planes (no offsets when SYM is 1), and
ref_kernel.npy models the lut_bcq kernel (same int8 activations, exact
integer plane sums). With `f16` the uniform scales are f16. With `f32act`
the layer has float activations (no #qc.act: the dequant_f32 kernel) and
ref_kernel.npy is ref.npy; with `rowact` int8 activations with one scale
per token (block -1), which the kernel's blocks share; with `static` int8
activations on a given scale and zero point (ref_kernel.npy: the f64
product of the activations so quantized). Writes OUT_DIR/model.mlir, x.npy, ref_kernel.npy,
ref.npy.
"""
import math
import os
import sys

import numpy as np


def dense(a, ty):
    body = np.array2string(a, separator=", ", threshold=1 << 30, max_line_width=1 << 30,
                           formatter={"all": lambda v: repr(float(v)) if a.dtype.kind == "f"
                                      else str(int(v))})
    return "dense<%s> : tensor<%sx%s>" % (body, "x".join(map(str, a.shape)), ty)


def write_case(out, constants, opt, bias, attr, weight_types, x, ref, ref_kernel):
    """Writes OUT/model.mlir: @main(x) -> y with the weight `constants`
    (lines), the bias, and y = qc.qlinear "fc" with the operands `opt`, the
    scheme `attr` (with its activation scheme, if any) and the codes /
    scales types `weight_types`; then x.npy, ref.npy and ref_kernel.npy."""
    (m, k), n = x.shape, ref.shape[1]
    lines = ["func.func @main(%%x: tensor<%dx%dxf32> {qc.name = \"x\", qc.dtype = \"f32\"}) -> "
             "(tensor<%dx%dxf32> {qc.name = \"y\", qc.dtype = \"f32\"}) {" % (m, k, m, n)]
    lines += constants
    if bias is not None:
        lines.append("  %%bias = arith.constant %s" % dense(bias, "f32"))
        opt += " bias(%%bias : tensor<%dxf32>)" % n
    lines.append("  %%y = qc.qlinear %%x, %%codes, %%scales%s scheme %s layer \"fc\" : "
                 "tensor<%dx%dxf32>, %s -> tensor<%dx%dxf32>" % (opt, attr, m, k, weight_types, m, n))
    lines.append("  return %%y : tensor<%dx%dxf32>" % (m, n))
    lines.append("}")
    with open(os.path.join(out, "model.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "ref_kernel.npy"), ref_kernel.astype(np.float32))
    np.save(os.path.join(out, "ref.npy"), ref.astype(np.float32))


def main():
    out = sys.argv[1]
    m, k, n, bits, group, sym, has_bias, seed = map(int, sys.argv[2:10])
    flags = set(sys.argv[10:])
    bcq = "bcq" in flags
    half = "f16" in flags
    # fz: float zero points (as GGUF's Q4_1 imports; @qc_dqi8f*_).
    float_zeros = "fz" in flags
    float_act = "f32act" in flags
    # rowact: int8 activations with one scale per token (#qc.act block -1),
    # the kernel's blocks sharing the row's scale.
    row_act = "rowact" in flags
    # static: int8 activations on one given scale and zero point (#qc.act
    # scale / zero_point, as a QDQ model or calibration gives them).
    static_act = "static" in flags
    # int4act: int4 activations (codes -7 .. 7 on max / 7) in the kernel's
    # blocks; mxact: mxfp4 activations (blocks of 32: twice the E2M1 values
    # on half the block's power-of-two scale).
    int4_act = "int4act" in flags
    mx_act = "mxact" in flags
    # dintact: 4-bit dINT activations (codes twice the levels 0, 1/2, 1 .. 6:
    # -12 .. 12 on max / 12); amxact: AMXFP4 ones, rounded by the float
    # kernel's quantizer (a power-of-two scale per sign and 32 inputs).
    dint_act = "dintact" in flags
    amx_act = "amxact" in flags
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    g = k if group == -1 else group
    groups = -(-k // g)  # the last group may be partial
    x = rng.standard_normal((m, k)).astype(np.float32)
    outlier = rng.integers(0, k)
    if not (static_act or int4_act or mx_act or dint_act or amx_act):  # coarse scales would not survive it
        x[:, outlier] *= 20.0  # an outlier channel
    codes = rng.integers(0, 1 << bits, (k, n))  # unsigned codes (8 bits: to 255)
    scales = (rng.random((groups, n)) * 0.1 + 0.01).astype(np.float32)
    if half:
        scales = scales.astype(np.float16).astype(np.float32)
    zeros = None if sym else rng.integers(0, 1 << bits, (groups, n)).astype(np.float32)
    if float_zeros:
        zeros = rng.uniform(0.3, (1 << bits) - 1.3, (groups, n)).astype(np.float32)
    bias = (rng.standard_normal(n) * 0.5).astype(np.float32) if has_bias else None
    zero = np.full((groups, n), float(1 << (bits - 1)), np.float32) if sym else zeros
    if bcq:
        scales = (rng.random((bits, groups, n)) * 0.1 + 0.01).astype(np.float32)
        zeros = None if sym else (rng.standard_normal((groups, n)) * 0.05).astype(np.float32)
        offs = np.zeros((groups, n)) if zeros is None else zeros.astype(np.float64)
        planes = [((codes.astype(np.int64) >> i) & 1) for i in range(bits)]  # c in {0, 1}

    # Reference 1: dequantize, then matmul (f64).
    if bcq:
        w = np.repeat(offs, g, 0)[:k].copy()
        for i in range(bits):
            w += (2 * planes[i] - 1) * np.repeat(scales[i].astype(np.float64), g, 0)[:k]
    else:
        w = (codes.astype(np.float64) - np.repeat(zero, g, 0)[:k]) * np.repeat(scales, g, 0)[:k]
    ref = x.astype(np.float64) @ w
    if bias is not None:
        ref += bias
    # Reference 2: the kernel's arithmetic. A = gcd(group, 128), 128 for a
    # whole column.
    a_blk = 128 if group == -1 else math.gcd(group, 128)
    if mx_act:
        a_blk = 32
    levels = np.float32(7 if int4_act else 12 if dint_act else 127)
    kp = -(-k // 256) * 256
    xp = np.zeros((m, kp), np.float32)
    xp[:, :k] = x
    xb = xp.reshape(m, kp // a_blk, a_blk)
    maxabs = np.abs(xb).max(axis=2).astype(np.float32)
    if row_act:
        maxabs[:] = maxabs.max(axis=1, keepdims=True)
    inv = np.where(maxabs > 0, levels / np.where(maxabs > 0, maxabs, 1), 0).astype(np.float32)
    xs = (maxabs / levels).astype(np.float32)
    xq = np.rint(xb * inv[:, :, None]).astype(np.int64)  # f32 product, half to even
    if mx_act:
        # p = floor(log2 max) - 2 in [-126, 126]; codes 2 e2m1(x / 2^p).
        p = np.clip(np.frexp(maxabs)[1].astype(np.int64) - 3, -126, 126)
        xs = np.ldexp(np.float32(0.5), p).astype(np.float32)
        v = np.abs(xb * np.ldexp(np.float32(1), -p)[:, :, None].astype(np.float32))
        v = np.minimum(v, np.float32(6))
        code = np.where(v < 2, np.rint(2 * v), np.where(v < 4, 2 * np.rint(v), 4 * np.rint(v / 2)))
        xq = (np.sign(xb) * code).astype(np.int64)
    if dint_act:
        a2 = np.minimum(np.abs(xb * inv[:, :, None]), np.float32(12)).astype(np.float32)
        code = np.where(a2 <= 0.5, 0, np.where(a2 <= 1.5, 1, 2 * np.ceil(a2 * np.float32(0.5) - np.float32(0.5))))
        xq = (np.sign(xb) * code).astype(np.int64)
    gidx = (np.arange(kp // a_blk) * a_blk) // g
    gidx = np.minimum(gidx, groups - 1)
    valid = (np.arange(kp // a_blk) * a_blk) < k
    xsum = np.zeros((m, groups))
    for a in range(kp // a_blk):
        if valid[a]:
            xsum[:, gidx[a]] += xs[:, a] * xq[:, a].sum(axis=1)

    def block_dot(c, s_grp):  # sum_a xs[a] s[g(a)] sum_{k in a} c[k] xq[k]
        cp = np.zeros((kp, n), np.int64)
        cp[:k] = c
        idot = np.einsum("mab,abn->man", xq, cp.reshape(kp // a_blk, a_blk, n))  # exact
        s_blk = np.where(valid[:, None], s_grp[gidx], 0.0)  # [blocks, n]
        return np.einsum("ma,man,an->mn", xs.astype(np.float64), idot.astype(np.float64), s_blk)

    if static_act:
        # q = clamp(roundeven(x / s) + zp, -128, 127), the value (q - zp) s;
        # the scale leaves room for the zero point's shift (no clipping).
        zp = int(rng.integers(-20, 21))
        a_scale = np.float32(np.abs(x).max() / (127 - abs(zp)))
        q = np.clip(np.rint(x / a_scale) + zp, -128, 127)
        ref_k = ((q - zp) * np.float64(a_scale)) @ w
    elif bcq:
        ref_k = xsum @ (offs - scales.astype(np.float64).sum(axis=0))
        for i in range(bits):
            ref_k += block_dot(planes[i], 2.0 * scales[i].astype(np.float64))
    else:
        ref_k = block_dot(codes, scales.astype(np.float64)) - xsum @ (scales.astype(np.float64) * zero)
    if bias is not None:
        ref_k += bias

    sty = "f16" if half else "f32"
    attr = ("#qc.uniform<bits = %d, group = %d, per_ic = false, symmetric = %s, scale_type = %s>"
            % (bits, group, "true" if sym else "false", sty))
    if bcq:
        attr = ("#qc.bcq<planes = %d, group = %d, offset = %s, scale_type = f32>"
                % (bits, group, "false" if sym else "true"))
    if amx_act:
        # Each 32 inputs: the mxfp4 scale of the largest positive value for
        # the values >= 0, of the largest negative magnitude for the others.
        x32 = np.zeros((m, -(-k // 32) * 32), np.float32)
        x32[:, :k] = x
        x32 = x32.reshape(m, -1, 32)

        def side(mx):
            p = np.clip(np.frexp(mx)[1].astype(np.int64) - 3, -126, 126)
            v = np.abs(x32 * np.ldexp(np.float32(1), -p)[:, :, None].astype(np.float32))
            v = np.minimum(v, np.float32(6))
            r = np.where(v < 2, np.rint(2 * v) / 2, np.where(v < 4, np.rint(v), 2 * np.rint(v / 2)))
            return np.sign(x32) * r * np.ldexp(1.0, p)[:, :, None]

        pos = np.maximum(x32, 0).max(axis=2).astype(np.float32)
        neg = np.maximum(-x32, 0).max(axis=2).astype(np.float32)
        xr = np.where(x32 < 0, side(neg), side(pos)).reshape(m, -1)[:, :k]
        ref_k = xr @ w
        if bias is not None:
            ref_k += bias
    if float_act:
        ref_k = ref
    elif static_act:
        attr += (" act #qc.act<kind = int8, block = -1, scale = %r : f32, zero_point = %d>"
                 % (float(a_scale), zp))
    elif amx_act:
        attr += " act #qc.act<kind = amxfp4, block = 32>"
    else:
        kind = "mxfp4" if mx_act else "int4" if int4_act else "dint4" if dint_act else "int8"
        attr += " act #qc.act<kind = %s, block = %d>" % (kind, -1 if row_act else a_blk)
    lines = ["  %%codes = arith.constant %s" % dense(codes.astype(np.uint8).view(np.int8), "i8")]
    lines.append("  %%scales = arith.constant %s" % (dense(scales.astype(np.float16), "f16") if half
                                                    else dense(scales, "f32")))
    opt = ""
    if zeros is not None:
        zty = "f16" if half else "f32"
        lines.append("  %%zeros = arith.constant %s" % dense(zeros.astype(np.float16) if half else zeros, zty))
        opt += " zeros(%%zeros : tensor<%dx%dx%s>)" % (zeros.shape + (zty,))
    if int4_act or mx_act or dint_act or amx_act:  # 15 to 25 levels: ref.npy within 20-30%
        with open(os.path.join(out, "ref_rtol.txt"), "w") as f:
            f.write("0.3\n" if dint_act or amx_act else "0.2\n")
    write_case(out, lines, opt, bias, attr,
               "tensor<%dx%dxi8>, tensor<%sx%s>" % (k, n, "x".join(map(str, scales.shape)), sty),
               x, ref, ref_k)


if __name__ == "__main__":
    main()
