#!/usr/bin/env python3
"""hadamard_case.py OUT_DIR ROWS K M SEED: a module computing qc.hadamard of
a [ROWS, K] input with random signs and a random M x M mix, its input and
numpy's x diag(signs) kron(mix, H_P) (H_P Sylvester's, P = K / M) in f64."""
import os
import sys

import numpy as np


def sylvester(p):
    h = np.ones((1, 1))
    while h.shape[0] < p:
        h = np.block([[h, h], [h, -h]])
    return h


def dense(a):
    return "dense<%s> : tensor<%sxf32>" % (
        np.array2string(a, separator=", ", threshold=1 << 30, max_line_width=1 << 30,
                        formatter={"all": lambda v: repr(float(v))}),
        "x".join(map(str, a.shape)))


def main():
    out = sys.argv[1]
    rows, k, m, seed = map(int, sys.argv[2:6])
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, k)).astype(np.float32)
    signs = (rng.choice([-1.0, 1.0], k) / np.sqrt(k)).astype(np.float32)
    mix = rng.standard_normal((m, m)).astype(np.float32)
    t = np.diag(signs.astype(np.float64)) @ np.kron(mix.astype(np.float64), sylvester(k // m))
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "ref.npy"), (x.astype(np.float64) @ t).astype(np.float32))
    ty = "tensor<%dx%dxf32>" % (rows, k)
    with open(os.path.join(out, "model.mlir"), "w") as f:
        f.write('func.func @main(%%x: %s {qc.name = "x", qc.dtype = "f32"}) -> '
                '(%s {qc.name = "y", qc.dtype = "f32"}) {\n' % (ty, ty))
        f.write("  %%s = arith.constant %s\n" % dense(signs))
        f.write("  %%m = arith.constant %s\n" % dense(mix))
        f.write('  %%y = qc.hadamard %%x, %%s, %%m layer "rot" : %s, tensor<%dxf32>, '
                'tensor<%dx%dxf32>\n' % (ty, k, m, m))
        f.write("  return %%y : %s\n}\n" % ty)


if __name__ == "__main__":
    main()
