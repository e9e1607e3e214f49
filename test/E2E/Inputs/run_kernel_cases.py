#!/usr/bin/env python3
"""run_kernel_cases.py DIR CASE... --target T [-- QC_COMPILE_FLAG...]: for
each case folder written by kernel_case.py, compile model.mlir with --target
T (and the flags after --), run it on x.npy and
compare with ref_kernel.npy (1e-5 of max |ref|) and ref.npy (5e-2). Exits 1
on the first mismatch, naming the case. run_neon_cases.py reuses check()."""
import os
import subprocess
import sys

import numpy as np


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    target = args[args.index("--target") + 1]
    cases = [a for a in args[1:] if a not in ("--target", target)]
    root = args[0]
    for case in cases:
        d = os.path.join(root, case)
        check(d, case, target, compile_and_run(d, target, extra))


def compile_and_run(d, target, extra=()):
    """Compiles case folder D's model.mlir for kernel target TARGET (plus the
    qc-compile flags EXTRA), runs it on x.npy and returns y."""
    art = os.path.join(d, "art_" + target)
    out = os.path.join(d, "out_" + target)
    subprocess.run(["qc-compile", os.path.join(d, "model.mlir"), "-o", art,
                    "--target", target] + list(extra), check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["qc-run", art, os.path.join(d, "x.npy"), "--output-dir", out],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(os.path.join(out, "y.npy"))


KERNEL_REFS = (("ref_kernel.npy", 1e-5), ("ref.npy", 5e-2))


def check(d, case, target, got, refs=KERNEL_REFS):
    """Compares GOT with case folder D's references (file, tolerance relative
    to its largest value); exits 1 on a mismatch."""
    got = got.astype(np.float64)
    # A case with coarse activations (int4, mxfp4) gives the loose bound of
    # ref.npy in ref_rtol.txt.
    loose = os.path.join(d, "ref_rtol.txt")
    if os.path.exists(loose):
        refs = [(name, float(open(loose).read()) if name == "ref.npy" else rtol)
                for name, rtol in refs]
    for ref_name, rtol in refs:
        want = np.load(os.path.join(d, ref_name)).astype(np.float64)
        err = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
        scale = float(np.max(np.abs(want)))
        print("%s %s vs %s: max abs err %.3g (max |want| %.3g)" % (case, target, ref_name, err, scale))
        if not err <= rtol * scale:  # NaN fails too
            sys.exit("case %s (%s): mismatch against %s" % (case, target, ref_name))


if __name__ == "__main__":
    main()
