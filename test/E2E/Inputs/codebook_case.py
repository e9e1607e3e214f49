#!/usr/bin/env python3
"""A random codebook qc.qlinear for the CodeGEMM kernel test, with numpy
references written here: ref.npy decodes the weight and multiplies in f64;
ref_kernel.npy models the table kernel of codebooks of at most 16 entries
(int16 psumbook entries per block of 32 chunks).

Usage: codebook_case.py OUT_DIR M K N BOOKS V ENTRIES BIAS SEED
Writes OUT_DIR/model.mlir, x.npy, ref.npy, ref_kernel.npy.
"""
import os
import sys

import numpy as np

from kernel_case import dense, write_case


def main():
    out = sys.argv[1]
    m, k, n, books, v, entries, has_bias, seed = map(int, sys.argv[2:10])
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(np.float32)
    codes = rng.integers(0, entries, (books, k // v, n)).astype(np.int32)
    book = (rng.standard_normal((books, entries, v)) * 0.1).astype(np.float32)
    scales = (rng.random(n) + 0.5).astype(np.float32)
    bias = (rng.standard_normal(n) * 0.5).astype(np.float32) if has_bias else None
    w = np.zeros((k, n))
    for b in range(books):
        # w[j v + t, n] += book[b, codes[b, j, n], t]
        w += book[b][codes[b]].transpose(0, 2, 1).reshape(k, n)
    w *= scales
    ref = x.astype(np.float64) @ w
    if bias is not None:
        ref += bias
    # The table kernel's arithmetic (codebooks of <= 16 entries on targets
    # with byte lookups): per token and block of 32 (book, slot) chunks,
    # the psumbook rows as integers round(P / ps), ps = max |P| / 1023.
    psum = np.einsum("bet,mjt->mbje", book.astype(np.float64),
                     x.astype(np.float64).reshape(m, k // v, v)).astype(np.float32)
    psum = psum.reshape(m, books * (k // v), entries)
    flat_codes = codes.reshape(books * (k // v), n)
    ref_k = np.zeros((m, n))
    for c0 in range(0, books * (k // v), 32):
        blk = psum[:, c0:c0 + 32]
        top = np.abs(blk).max(axis=(1, 2)).astype(np.float32)
        inv = np.where(top > 0, np.float32(1023) / np.where(top > 0, top, 1), 0).astype(np.float32)
        tq = np.rint(blk * inv[:, None, None])
        for c in range(blk.shape[1]):
            ref_k += (top / np.float32(1023)).astype(np.float64)[:, None] * \
                tq[:, c, flat_codes[c0 + c]]
    ref_k *= scales
    if bias is not None:
        ref_k += bias
    attr = "#qc.codebook<vector_size = %d, entries = %d, books = %d, scale_type = f32>" % (v, entries, books)
    lines = ["  %%codes = arith.constant %s" % dense(codes, "i32")]
    lines.append("  %%scales = arith.constant %s" % dense(scales, "f32"))
    lines.append("  %%book = arith.constant %s" % dense(book, "f32"))
    opt = " codebook(%%book : tensor<%dx%dx%dxf32>)" % book.shape
    write_case(out, lines, opt, bias, attr,
               "tensor<%dx%dx%dxi32>, tensor<%dxf32>" % (books, k // v, n, n), x, ref, ref_k)


if __name__ == "__main__":
    main()
