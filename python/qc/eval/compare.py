"""qc.eval.compare: a qc artifact against onnxruntime on the same inputs.

Usage (`qc-compare-ort`, or scripts/compare_ort.py in the source tree):
  qc-compare-ort MODEL.onnx ARTIFACT_DIR [--inputs a.npy ...] [--repeat N]
                 [--threads 2] [--max-rel-err X] [--qc-build build]
                 [--seed 0] [--int-high 100] [--save-inputs DIR]

From Python: `qc.eval.compare.compare(model, artifact, repeat=10)` returns
the same numbers as a dict (what --json writes).

Inputs: the given .npy files (graph input order), else random ones with the
shapes of the artifact's manifest.json (symbolic dims bound there); an input
the artifact lacks (qc-compile --bind-input) goes to onnxruntime only, so
give it the bound value with --inputs. Random floats are
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

from .. import _build
from .._files import write_json
from ..errors import QcError

# The bytes qc-run keeps in a tensor's .npy file name
# (qc::npy::fileNameForTensor); every other byte, '/' included, is %XX.
_FILE_SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
    "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_,
}
QC_TYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "i8": np.int8,
            "i16": np.int16, "i32": np.int32, "i64": np.int64, "u8": np.uint8,
            "u16": np.uint16, "u32": np.uint32, "u64": np.uint64, "bool": np.bool_}


def npy_file_name(name):
    """The .npy file qc-run writes (and --save-inputs writes) for the
    tensor `name`."""
    return "".join(chr(b) if b in _FILE_SAFE else "%%%02X" % b
                   for b in name.encode()) + ".npy"


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


def _manifest_inputs(artifact):
    """The artifact's inputs by name ({} without a manifest)."""
    mpath = os.path.join(artifact, "manifest.json")
    if not os.path.exists(mpath):
        return {}
    with open(mpath) as f:
        return {i["name"]: i for i in json.load(f).get("inputs", [])}


def _feeds(sess, artifact, inputs, seed, int_high):
    """onnxruntime's inputs: the given .npy files or arrays (graph input
    order), else random ones with the manifest's shapes."""
    man_in = _manifest_inputs(artifact)
    rng = np.random.default_rng(seed)
    feeds = {}
    ort_inputs = sess.get_inputs()
    if inputs is not None and len(inputs) != len(ort_inputs):
        raise QcError("%d inputs given, the model has %d" % (len(inputs), len(ort_inputs)))
    for idx, inp in enumerate(ort_inputs):
        if inputs is not None:
            value = inputs[idx]
            feeds[inp.name] = (np.asarray(value) if not isinstance(value, (str, os.PathLike))
                               else np.load(value))
            continue
        if man_in and inp.name not in man_in:
            raise QcError("input %s is not an input of the artifact (bound at compile time "
                          "with --bind-input?); give its value with --inputs" % inp.name)
        if inp.name in man_in:
            shape = [int(x) for x in man_in[inp.name]["shape"]]
            dtype = QC_TYPES.get(man_in[inp.name].get("dtype"), ORT_TYPES.get(inp.type))
        else:
            if any(not isinstance(x, int) for x in inp.shape):
                raise QcError("input %s has symbolic shape %s and no manifest entry"
                              % (inp.name, inp.shape))
            shape = list(inp.shape)
            dtype = ORT_TYPES[inp.type]
        feeds[inp.name] = random_input(inp.name, shape, dtype, rng, int_high)
    return feeds


def _run_qc(artifact, feeds, work, repeat, warmup, timeout, save_inputs):
    """qc-run on the feeds: its output folder and (median, min) latency."""
    cmd = [_build.tool("qc-run"), os.fspath(artifact)]
    for i, (name, arr) in enumerate(feeds.items()):
        p = os.path.join(work, "in_%d.npy" % i)
        np.save(p, arr)
        cmd += ["--input", "%s=%s" % (name, p)]
        if save_inputs:
            os.makedirs(save_inputs, exist_ok=True)
            shutil.copy(p, os.path.join(save_inputs, npy_file_name(name)))
    odir = os.path.join(work, "out")
    os.makedirs(odir)
    cmd += ["--output-dir", odir]
    if repeat > 0:
        cmd += ["--repeat", str(repeat), "--warmup", str(warmup)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    text = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise QcError("qc-run failed (exit %d):\n%s" % (p.returncode, text[-3000:]))
    m = re.search(r"time: median ([0-9.eE+-]+) ms, min ([0-9.eE+-]+) ms over (\d+) runs", text)
    return odir, (float(m.group(1)) if m else None), (float(m.group(2)) if m else None)


def _time_ort(sess, names, feeds, repeat, warmup):
    times = []
    if repeat > 0:
        for _ in range(warmup):
            sess.run(names, feeds)
        for _ in range(repeat):
            t0 = time.perf_counter()
            sess.run(names, feeds)
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def _describe(name, shape, r, floor):
    if "error" in r:
        return "%s: %s: qc %s vs ort %s" % (name, r["error"], r["shape_qc"], r["shape_ort"])
    line = ("%s %s: max abs err %.3e (max|ort| %.3g), max rel err %.3e, "
            "max elementwise rel err %.3e (floor %g), cosine %.6f" % (
                name, list(shape), r["max_abs_err"], r["max_abs_ort"], r["max_rel_err"],
                r["max_elem_rel_err"], floor, r["cosine"]))
    if "top1_agreement" in r:
        line += ", top-1 agreement %.4f" % r["top1_agreement"]
    if r["nonfinite_mismatch"]:
        line += ", %d non-finite mismatches" % r["nonfinite_mismatch"]
    return line


def compare(model, artifact, *, inputs=None, repeat=10, warmup=1, threads=2, floor=1e-3,
            seed=0, int_high=100, save_inputs=None, timeout=600, log=None):
    """Runs the ONNX `model` in onnxruntime and the qc `artifact` (qc-run)
    on the same inputs (`inputs`: arrays or .npy paths in graph input
    order; else random ones, see the module's help) and returns
    {"outputs": {name: metrics}, "ort_median_ms", "ort_min_ms",
    "qc_median_ms", "qc_min_ms", "threads", "repeat", "worst_rel_err",
    "worst_cosine"}; latencies are None when repeat is 0. `log(line)` gets
    one line per output and the latency line. QcError when qc-run fails."""
    import onnxruntime as ort

    log = log or (lambda line: None)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(os.fspath(model), so, providers=["CPUExecutionProvider"])
    feeds = _feeds(sess, os.fspath(artifact), inputs, seed, int_high)
    work = tempfile.mkdtemp(prefix="qc-compare-")
    try:
        # An input the artifact lacks was bound at compile time
        # (qc-compile --bind-input): onnxruntime alone takes it. The given
        # value should be the bound one; nothing can check that (the artifact
        # keeps no copy), a different one shows as a numeric error.
        man_in = _manifest_inputs(os.fspath(artifact))
        bound = [n for n in feeds if man_in and n not in man_in]
        for name in bound:
            log("input %s: not an input of the artifact (bound at compile time); "
                "given to onnxruntime only, which assumes it is the bound value" % name)
        qc_feeds = {n: v for n, v in feeds.items() if n not in bound}
        odir, qc_median, qc_min = _run_qc(artifact, qc_feeds, work, repeat, warmup, timeout,
                                          save_inputs)
        names = [o.name for o in sess.get_outputs()]
        ref = sess.run(names, feeds)
        times = _time_ort(sess, names, feeds, repeat, warmup)
        results = {}
        worst_rel, worst_cos = 0.0, 1.0
        for name, want in zip(names, ref):
            f = os.path.join(odir, npy_file_name(name))
            if not os.path.exists(f):
                log("%s: qc-run wrote no %s" % (name, os.path.basename(f)))
                results[name] = {"error": "missing output"}
                worst_rel, worst_cos = float("inf"), float("-inf")
                continue
            r = metrics(np.load(f), want, floor)
            results[name] = r
            log(_describe(name, want.shape, r, floor))
            if "error" in r:
                worst_rel, worst_cos = float("inf"), float("-inf")
                continue
            worst_rel = max(worst_rel, r["max_rel_err"])
            worst_cos = min(worst_cos, r["cosine"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ort_median = statistics.median(times) if times else None
    if repeat > 0:
        log("latency over %d runs: onnxruntime (%d threads) median %.3f ms, min %.3f ms; "
            "qc-run median %s ms, min %s ms%s" % (
                repeat, threads, ort_median, min(times),
                "%.3f" % qc_median if qc_median is not None else "?",
                "%.3f" % qc_min if qc_min is not None else "?",
                (", qc/ort %.2fx" % (qc_median / ort_median)) if qc_median and ort_median else ""))
    return {"outputs": results, "ort_median_ms": ort_median,
            "ort_min_ms": min(times) if times else None,
            "qc_median_ms": qc_median, "qc_min_ms": qc_min,
            "threads": threads, "repeat": repeat,
            "worst_rel_err": worst_rel, "worst_cosine": worst_cos}


def main(argv=None, default_build=None):
    """The command line; `default_build` is the build folder used when
    neither --qc-build nor QC_BUILD names one (the source tree's shim
    passes its build/)."""
    ap = argparse.ArgumentParser(prog="qc-compare-ort", description=__doc__,
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
    ap.add_argument("--qc-build", help="the qc build folder (default: $QC_BUILD, else the "
                    "qc-compile on PATH)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--int-high", type=int, default=100)
    ap.add_argument("--save-inputs", metavar="DIR")
    ap.add_argument("--json", help="write the numbers here")
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args(argv)
    try:
        _build.select(a.qc_build, default_build)
        res = compare(a.model, a.artifact, inputs=a.inputs, repeat=a.repeat, warmup=a.warmup,
                      threads=a.threads, floor=a.floor, seed=a.seed, int_high=a.int_high,
                      save_inputs=a.save_inputs, timeout=a.timeout, log=print)
    except QcError as e:
        print("compare_ort: %s" % e, file=sys.stderr)
        return 2
    worst_rel, worst_cos = res.pop("worst_rel_err"), res.pop("worst_cosine")
    if a.json:
        write_json(a.json, res)
    if a.max_rel_err is not None and not worst_rel <= a.max_rel_err:
        print("compare_ort: max rel err %.3e exceeds %.3e" % (worst_rel, a.max_rel_err))
        return 1
    if a.min_cosine is not None and not worst_cos >= a.min_cosine:
        print("compare_ort: cosine %.6f is below %.6f" % (worst_cos, a.min_cosine))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
