#!/usr/bin/env python3
"""check_nonfinite.py CASE_DIR TARGET: NaN and Inf activations through a
generated kernel. Compiles the case's model.mlir for TARGET, runs it on
x.npy and on a copy with a NaN in token 1, +Inf in token 2 and -Inf in
token 3 (at least 4 tokens), and exits 1 unless every output of those
tokens is non-finite (as the float matmul's would be: no silently finite
garbage from the int8 quantization of a non-finite activation block) and
token 0's outputs are bit for bit the clean run's."""
import os
import subprocess
import sys

import numpy as np


def run(case, art, x, out):
    np.save(out + ".npy", x)
    subprocess.run(["qc-run", art, out + ".npy", "--output-dir", out], check=True,
                   stdout=subprocess.DEVNULL)
    return np.load(os.path.join(out, "y.npy"))


def main():
    case, target = sys.argv[1:3]
    art = os.path.join(case, "art_nonfinite_" + target)
    subprocess.run(["qc-compile", os.path.join(case, "model.mlir"), "-o", art,
                    "--target", target], check=True, stdout=subprocess.DEVNULL)
    x = np.load(os.path.join(case, "x.npy"))
    assert x.shape[0] >= 4, "needs 4 tokens"
    bad = x.copy()
    bad[1, 7], bad[2, x.shape[1] // 2], bad[3, x.shape[1] - 1] = np.nan, np.inf, -np.inf
    clean = run(case, art, x, os.path.join(case, "clean_" + target))
    got = run(case, art, bad, os.path.join(case, "bad_" + target))
    if not np.array_equal(got[0], clean[0]):
        sys.exit("%s %s: token 0 changed when other tokens were not finite" % (case, target))
    for t, what in ((1, "NaN"), (2, "+Inf"), (3, "-Inf")):
        finite = int(np.isfinite(got[t]).sum())
        if finite:
            sys.exit("%s %s: %d of %d outputs of the token with %s are finite"
                     % (case, target, finite, got.shape[1], what))
    print("%s %s: non-finite tokens stay non-finite, token 0 unchanged"
          % (os.path.basename(case), target))


if __name__ == "__main__":
    main()
