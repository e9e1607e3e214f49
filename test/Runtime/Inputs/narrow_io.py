"""Writes the models and inputs of narrow-io.test (OUT), or checks qc-run's
outputs (OUT check DIR) against ml_dtypes' conversions and ONNX's reference
E8M0 rounding, bit for bit.

decode.onnx: every code of each float8 / float4 / E8M0 type and every value
of int4 / uint4 / int2 / uint2, Cast to f32 (and the ints to int8 / uint8).
encode.onnx: one f32 vector (every representable value of the formats, the
midpoints between neighbours and the floats either side of them, overflows,
tiny values, infinities, NaNs, random values) Cast to each float format with
saturate on and off, to E8M0 with each round_mode, and integer-valued floats
Cast to the sub-byte integers (which wrap)."""
import os
import sys

import ml_dtypes as md
import numpy as np

FLOATS = [  # ONNX type, ml_dtypes type, largest finite value
    (17, md.float8_e4m3fn, 448.0),
    (18, md.float8_e4m3fnuz, 240.0),
    (19, md.float8_e5m2, 57344.0),
    (20, md.float8_e5m2fnuz, 57344.0),
    (23, md.float4_e2m1fn, 6.0),
]
INTS = [(22, md.int4, np.int8, 16), (21, md.uint4, np.uint8, 16),
        (26, md.int2, np.int8, 4), (25, md.uint2, np.uint8, 4)]
E8M0 = 24
ROUNDINGS = ["up", "down", "nearest"]


def codes(t):
    n = 16 if t is md.float4_e2m1fn else 256
    return np.arange(n, dtype=np.uint8)


def int_values(t, n):
    lo = -n // 2 if np.dtype(t).name.startswith("int") else 0
    return np.arange(lo, lo + n)


def encode_inputs():
    rng = np.random.default_rng(7)
    parts = [np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e30, -1e30,
                       1e-30, -1e-30, 1e-45, 3.4e38, 2.0 ** -127, 1.1, 0.124],
                      np.float32)]
    for _, t, _ in FLOATS:
        v = codes(t).view(t).astype(np.float32)
        v = np.unique(v[np.isfinite(v)])
        mid = (v[1:] + v[:-1]) / 2
        parts += [v, -v, mid, -mid, np.nextafter(mid, np.float32(np.inf)),
                  np.nextafter(mid, np.float32(-np.inf)), v * np.float32(1.01)]
    parts.append(rng.standard_normal(4000).astype(np.float32) *
                 np.float32(10.0) ** rng.integers(-12, 8, 4000).astype(np.float32))
    parts.append(np.arange(-20, 21, dtype=np.float32))
    return np.concatenate(parts).astype(np.float32)


def e8m0(x, saturate, rounding):
    from onnx import numpy_helper
    return numpy_helper.to_float8e8m0(x, saturate, rounding).astype(np.float32)


def encode_expected(x):
    """name -> expected f32 (floats) / int8 / uint8 (ints) output."""
    want = {}
    for code, t, top in FLOATS:
        for sat in (1, 0):
            # ONNX's saturate: clip, then round (ml_dtypes' astype).
            xs = np.clip(x, -top, top) if sat else x
            want["f%d_s%d" % (code, sat)] = xs.astype(t).astype(np.float32)
    for r in ROUNDINGS:
        for sat in (1, 0):
            want["e8m0_%s_s%d" % (r, sat)] = e8m0(x, bool(sat), r)
    ints = np.arange(-20, 21, dtype=np.float32)
    for code, t, store, _ in INTS:
        want["i%d" % code] = ints.astype(np.int32).astype(t).astype(store)
    return want


def save_models(out):
    from onnx import TensorProto, helper, save
    nodes, ins, outs = [], [], []
    for code, t, _ in FLOATS + [(E8M0, md.float8_e8m0fnu, 0)]:
        n = len(codes(t))
        ins.append(helper.make_tensor_value_info("c%d" % code, code, [n]))
        outs.append(helper.make_tensor_value_info("d%d" % code, TensorProto.FLOAT, [n]))
        nodes.append(helper.make_node("Cast", ["c%d" % code], ["d%d" % code],
                                      to=TensorProto.FLOAT))
    for code, t, store, n in INTS:
        to = TensorProto.INT8 if store is np.int8 else TensorProto.UINT8
        ins.append(helper.make_tensor_value_info("c%d" % code, code, [n]))
        outs.append(helper.make_tensor_value_info("d%d" % code, to, [n]))
        nodes.append(helper.make_node("Cast", ["c%d" % code], ["d%d" % code], to=to))
    opset = [helper.make_opsetid("", 25)]
    save(helper.make_model(helper.make_graph(nodes, "decode", ins, outs),
                           opset_imports=opset), os.path.join(out, "decode.onnx"))

    x = encode_inputs()
    nodes, outs = [], []
    for code, _, _ in FLOATS:
        for sat in (1, 0):
            name = "f%d_s%d" % (code, sat)
            nodes.append(helper.make_node("Cast", ["x"], [name], to=code, saturate=sat))
            outs.append(helper.make_tensor_value_info(name, code, [len(x)]))
    for r in ROUNDINGS:
        for sat in (1, 0):
            name = "e8m0_%s_s%d" % (r, sat)
            nodes.append(helper.make_node("Cast", ["x"], [name], to=E8M0,
                                          saturate=sat, round_mode=r))
            outs.append(helper.make_tensor_value_info(name, E8M0, [len(x)]))
    nodes.append(helper.make_node("Slice", ["x", "lo", "hi"], ["ints"]))
    for code, _, _, _ in INTS:
        nodes.append(helper.make_node("Cast", ["ints"], ["i%d" % code], to=code))
        outs.append(helper.make_tensor_value_info("i%d" % code, code, [41]))
    inits = [helper.make_tensor("lo", TensorProto.INT64, [1], [len(x) - 41]),
             helper.make_tensor("hi", TensorProto.INT64, [1], [len(x)])]
    g = helper.make_graph(nodes, "encode",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [len(x)])],
                          outs, inits)
    save(helper.make_model(g, opset_imports=opset), os.path.join(out, "encode.onnx"))
    np.save(os.path.join(out, "x.npy"), x)

    for code, t, _ in FLOATS + [(E8M0, md.float8_e8m0fnu, 0)]:
        np.save(os.path.join(out, "c%d.npy" % code), codes(t))
        # The same values as f32, for qc-run's own rounding into the type.
        v = codes(t).view(t).astype(np.float32)
        np.save(os.path.join(out, "v%d.npy" % code), v)
    for code, t, store, n in INTS:
        np.save(os.path.join(out, "c%d.npy" % code), int_values(t, n).astype(store))
    np.save(os.path.join(out, "i4_out_of_range.npy"), np.arange(-9, 7, dtype=np.int8))


def same(got, want):
    """Bit-exact for floats: equal values with equal signs (0 vs -0), or
    both NaN."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    if got.dtype.kind != "f":
        return np.array_equal(got, want)
    nan = np.isnan(want)
    return (np.array_equal(nan, np.isnan(got)) and
            np.array_equal(got[~nan], want[~nan]) and
            np.array_equal(np.signbit(got[~nan]), np.signbit(want[~nan])))


def check(out, kind, d):
    bad = []
    def expect(name, want):
        got = np.load(os.path.join(d, name + ".npy"))
        if not same(got, want):
            diff = np.nonzero(~((got == want) | (np.isnan(got) & np.isnan(want))))[0]
            bad.append("%s: %d of %d differ, first at %s: %r, expected %r" % (
                name, len(diff), want.size, diff[:3],
                got.ravel()[diff[:3]], want.ravel()[diff[:3]]))
    if kind == "decode":
        for code, t, _ in FLOATS + [(E8M0, md.float8_e8m0fnu, 0)]:
            expect("d%d" % code, codes(t).view(t).astype(np.float32))
        for code, t, store, n in INTS:
            expect("d%d" % code, int_values(t, n).astype(store))
    else:
        x = np.load(os.path.join(out, "x.npy"))
        for name, want in encode_expected(x).items():
            expect(name, want)
    if bad:
        sys.exit("\n".join(bad))


if __name__ == "__main__":
    if len(sys.argv) > 2:
        check(sys.argv[1], sys.argv[3], sys.argv[4])
    else:
        save_models(sys.argv[1])
