#!/usr/bin/env python3
"""run_hadamard_cases.py DIR CASE...: for each folder written by
hadamard_case.py, compile model.mlir with the generated kernel (default)
and with --kernels=reference, run both on x.npy, and require each to be
within 1e-5 (of max |ref|) of numpy's ref.npy and the two to be equal.
Exits 1 on the first mismatch, naming the case."""
import os
import subprocess
import sys

import numpy as np


def run(d, name, flags):
    art = os.path.join(d, name)
    subprocess.run(["qc-compile", os.path.join(d, "model.mlir"), "-o", art] + flags,
                   check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(art, "out")
    subprocess.run(["qc-run", art, os.path.join(d, "x.npy"), "--output-dir", out],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(os.path.join(out, "y.npy")).astype(np.float64)


def main():
    root = sys.argv[1]
    for case in sys.argv[2:]:
        d = os.path.join(root, case)
        ref = np.load(os.path.join(d, "ref.npy")).astype(np.float64)
        kernel, reference = run(d, "kernel", []), run(d, "reference", ["--kernels=reference"])
        scale = float(np.max(np.abs(ref)))
        for name, got in (("kernel", kernel), ("reference", reference)):
            err = float(np.max(np.abs(got - ref)))
            print("%s %s: max abs err %.3g (max |ref| %.3g)" % (case, name, err, scale))
            if not err <= 1e-5 * scale:
                sys.exit("case %s: the %s differs from numpy" % (case, name))
        if not np.array_equal(kernel, reference):
            sys.exit("case %s: kernel and reference differ by %.3g" %
                     (case, float(np.max(np.abs(kernel - reference)))))


if __name__ == "__main__":
    main()
