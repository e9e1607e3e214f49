"""Checks an AnyBCQ artifact (qc-compile --min-planes): every precision's
entry reads the same stored planes (one offset per layer) and its own
scales, the manifest names each entry's precision, and the outputs of the
precisions, given as PLANES=FILE.npy, get closer to the float reference
with every plane (relative error halving or better).

usage: anybcq_check.py ARTIFACT_DIR FLOAT_REF.npy P=FILE.npy ...
"""
import json
import sys

import numpy as np


def main():
    art, ref = sys.argv[1], np.load(sys.argv[2])
    manifest = json.load(open(f"{art}/manifest.json"))
    entries = [manifest] + manifest["entries"]
    planes = [e.get("planes") for e in entries]
    names = [e.get("name", "") for e in entries]
    want = [f"planes{p}" for p in planes[1:]]
    if None in planes or names[1:] != want:
        sys.exit(f"entries {names} / planes {planes}: expected planes<p> "
                 "entries with a planes field each")

    def offsets(entry, suffix):
        return {w["name"].split(".")[0]: w["offset"]
                for w in entry["weight_tensors"] if suffix in w["name"]}

    stored = [offsets(e, ".lutplanes") for e in entries]
    alphas = [offsets(e, ".lutalpha") for e in entries]
    if not stored[0] or any(s != stored[0] for s in stored):
        sys.exit(f"the precisions do not share their planes: {stored}")
    for layer in alphas[0]:
        if len({a[layer] for a in alphas}) != len(alphas):
            sys.exit(f"{layer}: the precisions share scales: {alphas}")
    errors = []
    for arg in sys.argv[3:]:
        p, path = arg.split("=", 1)
        y = np.load(path)
        errors.append((int(p), float(np.linalg.norm(y - ref) /
                                     np.linalg.norm(ref))))
    errors.sort()
    print("relative error by planes:", errors)
    for (p, e), (q, f) in zip(errors, errors[1:]):
        if not f < 0.6 * e:
            sys.exit(f"{q} planes ({f:.4f}) not clearly better than {p} "
                     f"({e:.4f})")


if __name__ == "__main__":
    main()
