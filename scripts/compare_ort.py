#!/usr/bin/env python3
"""Compare a qc artifact with onnxruntime on the same inputs.

Usage:
  compare_ort.py MODEL.onnx ARTIFACT_DIR [--inputs a.npy ...] [--repeat N]
                 [--threads 2] [--max-rel-err X] [--qc-build build]
                 [--seed 0] [--int-high 100] [--save-inputs DIR]

Inputs: the given .npy files (graph input order), else random ones with the
shapes of the artifact's manifest.json (symbolic dims bound there): floats
~ N(0,1); ints uniform in [0, --int-high) except names containing "mask"
(all ones) and "token_type" / "position" (zeros / 0..n-1); bools random.

Prints, per output: max abs error, max relative error (max|qc-ort| /
max|ort|), the largest elementwise relative error |qc-ort| / max(|ort|, floor),
cosine similarity, and top-1 (argmax over the last axis) agreement; then the
median latency of onnxruntime (intra_op_num_threads = --threads) and qc-run
over --repeat runs.  Exit status 1 if --max-rel-err is given and exceeded
or an output's cosine is below --min-cosine, 2 if qc-run fails.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-")
ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
    "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_,
}
QC_TYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "i8": np.int8,
            "i16": np.int16, "i32": np.int32, "i64": np.int64, "u8": np.uint8,
            "u16": np.uint16, "u32": np.uint32, "u64": np.uint64, "bool": np.bool_}


def escape_name(name):
    return "".join(chr(b) if b in _SAFE else "%%%02X" % b for b in name.encode())


def random_input(name, shape, dtype, rng, int_high):
    dtype = np.dtype(dtype)
    lname = name.lower()
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if "mask" in lname:
        return np.ones(shape, dtype)
    if "token_type" in lname:
        return np.zeros(shape, dtype)
    if "position" in lname and len(shape) >= 1:
        return np.broadcast_to(np.arange(shape[-1]), shape).astype(dtype)
    return rng.integers(0, int_high, shape).astype(dtype)


def metrics(got, want, floor):
    out = {"shape_qc": list(got.shape), "shape_ort": list(want.shape)}
    if got.shape != want.shape:
        out["error"] = "shape mismatch"
        return out
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    d = np.abs(g - w)
    fin = np.isfinite(d)
    out["nonfinite_mismatch"] = int((~fin & ~(np.isnan(g) & np.isnan(w))).sum())
    d = np.where(fin, d, 0.0)
    wmax = float(np.abs(w[np.isfinite(w)]).max()) if np.isfinite(w).any() else 0.0
    out["max_abs_err"] = float(d.max()) if d.size else 0.0
    out["max_abs_ort"] = wmax
    out["max_rel_err"] = out["max_abs_err"] / wmax if wmax > 0 else (0.0 if out["max_abs_err"] == 0 else float("inf"))
    out["max_elem_rel_err"] = float((d / np.maximum(np.abs(np.where(np.isfinite(w), w, 0.0)), floor)).max()) if d.size else 0.0
    out["mean_abs_err"] = float(d.mean()) if d.size else 0.0
    gf, wf = np.where(np.isfinite(g), g, 0).ravel(), np.where(np.isfinite(w), w, 0).ravel()
    den = np.linalg.norm(gf) * np.linalg.norm(wf)
    out["cosine"] = float(gf @ wf / den) if den > 0 else (1.0 if np.array_equal(gf, wf) else 0.0)
    if got.ndim >= 1 and got.shape[-1] > 1 and got.dtype.kind == "f":
        out["top1_agreement"] = float((g.argmax(-1) == w.argmax(-1)).mean())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("artifact")
    ap.add_argument("--inputs", nargs="+", metavar="NPY")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-rel-err", type=float)
    ap.add_argument("--min-cosine", type=float,
                    help="fail if an output's cosine similarity to onnxruntime's is lower "
                         "(for quantized artifacts against the float model)")
    ap.add_argument("--floor", type=float, default=1e-3,
                    help="floor of |ort| in the elementwise relative error (default 1e-3)")
    ap.add_argument("--qc-build", default="build")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--int-high", type=int, default=100)
    ap.add_argument("--save-inputs", metavar="DIR")
    ap.add_argument("--json", help="write the numbers here")
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()

    import onnxruntime as ort

    qc_build = a.qc_build
    if not os.path.isabs(qc_build) and not os.path.isdir(qc_build):
        qc_build = os.path.join(ROOT, qc_build)
    qc_run = os.path.join(qc_build, "bin", "qc-run")
    if not os.access(qc_run, os.X_OK):
        sys.exit("compare_ort: %s not found" % qc_run)

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    ort_inputs = sess.get_inputs()

    manifest = {}
    mpath = os.path.join(a.artifact, "manifest.json")
    if os.path.exists(mpath):
        with open(mpath) as f:
            manifest = json.load(f)
    man_in = {i["name"]: i for i in manifest.get("inputs", [])}

    rng = np.random.default_rng(a.seed)
    feeds = {}
    for idx, inp in enumerate(ort_inputs):
        if a.inputs:
            if idx >= len(a.inputs):
                sys.exit("compare_ort: %d inputs given, the model has %d" % (len(a.inputs), len(ort_inputs)))
            feeds[inp.name] = np.load(a.inputs[idx])
            continue
        if inp.name in man_in:
            shape = [int(x) for x in man_in[inp.name]["shape"]]
            dtype = QC_TYPES.get(man_in[inp.name].get("dtype"), ORT_TYPES.get(inp.type))
        else:
            if any(not isinstance(x, int) for x in inp.shape):
                sys.exit("compare_ort: input %s has symbolic shape %s and no manifest entry" % (inp.name, inp.shape))
            shape = list(inp.shape)
            dtype = ORT_TYPES[inp.type]
        feeds[inp.name] = random_input(inp.name, shape, dtype, rng, a.int_high)

    work = tempfile.mkdtemp(prefix="qc-compare-")
    try:
        cmd = [qc_run, a.artifact]
        for i, (name, arr) in enumerate(feeds.items()):
            p = os.path.join(work, "in_%d.npy" % i)
            np.save(p, arr)
            cmd += ["--input", "%s=%s" % (name, p)]
            if a.save_inputs:
                os.makedirs(a.save_inputs, exist_ok=True)
                shutil.copy(p, os.path.join(a.save_inputs, escape_name(name) + ".npy"))
        odir = os.path.join(work, "out")
        os.makedirs(odir)
        cmd += ["--output-dir", odir]

        # ---- qc-run: outputs (and timing, if asked)
        tcmd = cmd + (["--repeat", str(a.repeat), "--warmup", str(a.warmup)] if a.repeat > 0 else [])
        p = subprocess.run(tcmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=a.timeout)
        text = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            print("compare_ort: qc-run failed (exit %d):\n%s" % (p.returncode, text[-3000:]), file=sys.stderr)
            return 2
        m = re.search(r"time: median ([0-9.eE+-]+) ms, min ([0-9.eE+-]+) ms over (\d+) runs", text)
        qc_median = float(m.group(1)) if m else None
        qc_min = float(m.group(2)) if m else None

        # ---- onnxruntime: outputs and timing
        names = [o.name for o in sess.get_outputs()]
        ref = sess.run(names, feeds)
        times = []
        if a.repeat > 0:
            for _ in range(a.warmup):
                sess.run(names, feeds)
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                sess.run(names, feeds)
                times.append((time.perf_counter() - t0) * 1e3)

        results = {}
        worst_rel = 0.0
        worst_cos = 1.0
        for name, want in zip(names, ref):
            f = os.path.join(odir, escape_name(name) + ".npy")
            if not os.path.exists(f):
                print("%s: qc-run wrote no %s" % (name, os.path.basename(f)))
                results[name] = {"error": "missing output"}
                worst_rel, worst_cos = float("inf"), float("-inf")
                continue
            got = np.load(f)
            r = metrics(got, want, a.floor)
            results[name] = r
            if "error" in r:
                print("%s: %s: qc %s vs ort %s" % (name, r["error"], r["shape_qc"], r["shape_ort"]))
                worst_rel, worst_cos = float("inf"), float("-inf")
                continue
            worst_rel = max(worst_rel, r["max_rel_err"])
            worst_cos = min(worst_cos, r["cosine"])
            line = ("%s %s: max abs err %.3e (max|ort| %.3g), max rel err %.3e, "
                    "max elementwise rel err %.3e (floor %g), cosine %.6f" % (
                        name, list(want.shape), r["max_abs_err"], r["max_abs_ort"], r["max_rel_err"],
                        r["max_elem_rel_err"], a.floor, r["cosine"]))
            if "top1_agreement" in r:
                line += ", top-1 agreement %.4f" % r["top1_agreement"]
            if r["nonfinite_mismatch"]:
                line += ", %d non-finite mismatches" % r["nonfinite_mismatch"]
            print(line)
        ort_median = statistics.median(times) if times else None
        if a.repeat > 0:
            print("latency over %d runs: onnxruntime (%d threads) median %.3f ms, min %.3f ms; "
                  "qc-run median %s ms, min %s ms%s" % (
                      a.repeat, a.threads, ort_median, min(times),
                      "%.3f" % qc_median if qc_median is not None else "?",
                      "%.3f" % qc_min if qc_min is not None else "?",
                      (", qc/ort %.2fx" % (qc_median / ort_median)) if qc_median and ort_median else ""))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"outputs": results, "ort_median_ms": ort_median,
                           "ort_min_ms": min(times) if times else None,
                           "qc_median_ms": qc_median, "qc_min_ms": qc_min,
                           "threads": a.threads, "repeat": a.repeat}, f, indent=1)
        if a.max_rel_err is not None and not worst_rel <= a.max_rel_err:
            print("compare_ort: max rel err %.3e exceeds %.3e" % (worst_rel, a.max_rel_err))
            return 1
        if a.min_cosine is not None and not worst_cos >= a.min_cosine:
            print("compare_ort: cosine %.6f is below %.6f" % (worst_cos, a.min_cosine))
            return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
