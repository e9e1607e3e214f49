"""qc.eval.conformance: the ONNX backend node tests, compiled and run by qc.

Command: `qc-conformance` (installed), or scripts/conformance.py in the
source tree; from Python, `main([...])` returns the exit status.

For every node test (a folder with model.onnx and test_data_set_*/input_*.pb,
output_*.pb) this converts the inputs to .npy, runs `qc-compile` (passing
--input-shape for inputs whose model shape is not fully static), runs
`qc-run` on each data set and compares every output with the stored one.

Classification:
  passed       every data set's outputs match (rtol 1e-3, atol 1e-5 by
               default; float16 outputs get rtol 2^-8, i.e. 4 ulps)
  failed       wrong numbers / shape / dtype, a missing output, qc-run exited
               non-zero, crashed or timed out, or qc-compile crashed
               (killed by a signal) or timed out
  unsupported  qc-compile exited cleanly with an error (unsupported op,
               dtype, attribute, ...), or the model compiled but the test
               uses values qc-run's .npy I/O cannot carry (sequences, maps,
               optionals, strings, float8, int4, complex), or test data
               whose shape contradicts the model's static one. bfloat16
               goes in as its uint16 bits and comes back as f32 (qc-run's
               convention), compared to one bfloat16 ulp (2^-7)

Test sources (each test of each source runs; results are named
SOURCE/TEST, e.g. debian/test_abs and onnx-1.22.0/test_abs):
  1. --testdata DIR (repeatable), else
  2. the installed onnx package's onnx/backend/test/data/node (onnx <= 1.22)
  3. .cache/onnx-testdata/<version>/node of the source tree
     (scripts/fetch_onnx_testdata.sh; --cache names another folder), newest
     version first
  4. /usr/share/libonnx-testdata/data/node (Debian's libonnx-testdata, 1.12)

Output: one line per op type (`OP: passed P, failed F, unsupported U`), a
totals line, and finally `N passed, N failed, N unsupported`.

Baseline (--baseline FILE; scripts/test.sh passes test/conformance-baseline.tsv):
every test's expected status, with the message of the unsupported ones. A
test of the baseline that did not run, a passed test turned unsupported, a
new unsupported test, an unsupported test whose message changed, and an
unsupported test that now passes (the baseline must shrink with it) each
count as failed, and the run exits 1. --write-baseline FILE records a run.
No test found is an error, not an empty success.
"""

import argparse
import concurrent.futures as cf
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

try:
    import onnx
    from onnx import numpy_helper
except ImportError as e:  # pragma: no cover
    raise ImportError("qc.eval.conformance needs the onnx package "
                      "(pip install 'qc[test]', or scripts/setup.sh)") from e

from .. import _build
from .._files import write_json, write_text
from ..errors import QcError
from .compare import npy_file_name

DEBIAN_NODE = "/usr/share/libonnx-testdata/data/node"

# dtypes qc-run reads and writes as .npy
RUN_DTYPES = {np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int8, np.int16,
                                    np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                                    np.uint64, np.bool_)}

# ONNX element types with an .npy spelling qc-run reads and writes.
RUN_ELEM_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.UINT8, onnx.TensorProto.INT8,
                  onnx.TensorProto.UINT16, onnx.TensorProto.INT16, onnx.TensorProto.INT32,
                  onnx.TensorProto.INT64, onnx.TensorProto.BOOL, onnx.TensorProto.FLOAT16,
                  onnx.TensorProto.DOUBLE, onnx.TensorProto.UINT32, onnx.TensorProto.UINT64,
                  # As raw bits (uint16) in, f32 out: qc-run's convention.
                  onnx.TensorProto.BFLOAT16}

# The narrow types (NARROW_INTS and NARROW_FLOATS by element type number,
# spelled here as numbers since older onnx packages lack the names): int4 /
# int2 travel as int8 values, uint4 / uint2 as uint8; the float8 / float4 /
# E8M0 types as uint8 codes in and f32 out (qc-run's conventions).
NARROW_INTS = {22: np.int8, 26: np.int8, 21: np.uint8, 25: np.uint8}
NARROW_FLOATS = {17, 18, 19, 20, 23, 24}
RUN_ELEM_TYPES |= set(NARROW_INTS) | NARROW_FLOATS


def narrow_in(arr, elem_type):
    """Test data of a narrow element type as the .npy qc-run reads."""
    if elem_type in NARROW_INTS:
        return np.asarray(arr).astype(NARROW_INTS[elem_type])
    if elem_type in NARROW_FLOATS and arr.dtype.itemsize == 1:
        return np.asarray(arr).view(np.uint8)
    return arr


def narrow_out(arr, elem_type):
    """An expected output of a narrow element type as qc-run writes it."""
    if elem_type in NARROW_INTS:
        return np.asarray(arr).astype(NARROW_INTS[elem_type])
    if elem_type in NARROW_FLOATS:
        return np.asarray(arr).astype(np.float32)
    return arr



def version_key(v):
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.\-]", v))


def default_sources(cache):
    """The node-test folders found: onnx's own, those under `cache`
    (.cache/onnx-testdata), Debian's."""
    srcs = []
    d = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    if os.path.isdir(d):
        srcs.append(d)
    vers = os.listdir(cache) if cache and os.path.isdir(cache) else []
    vers = [v for v in vers if os.path.isdir(os.path.join(cache, v, "node"))]
    for v in sorted(vers, key=version_key, reverse=True):
        srcs.append(os.path.join(cache, v, "node"))
    if os.path.isdir(DEBIAN_NODE):
        srcs.append(DEBIAN_NODE)
    return srcs


def source_label(src):
    """A short label for a test source: debian-1.12, onnx-1.22.0, ..."""
    if os.path.realpath(src).startswith(os.path.realpath(os.path.dirname(DEBIAN_NODE))):
        return "debian"
    parent = os.path.basename(os.path.dirname(os.path.normpath(src)))
    if re.match(r"\d+\.\d+", parent):
        return "onnx-" + parent
    return parent or "tests"


def collect_tests(sources):
    """Every node test of every source, named LABEL/TEST: the same test in
    two sources (often at different opsets) runs twice."""
    tests = {}
    for src in sources:
        label = source_label(src)
        for d in sorted(glob.glob(os.path.join(src, "*"))):
            name = label + "/" + os.path.basename(d)
            if name in tests or not os.path.isfile(os.path.join(d, "model.onnx")):
                continue
            tests[name] = d
    return tests


# ------------------------------------------------------------------ the tests


def op_key(model):
    nodes = list(model.graph.node)
    if not nodes:
        return "(no node)"
    node = nodes[0]
    if len(nodes) > 1:
        for n in nodes:
            if n.op_type != "Constant":
                node = n
                break
    dom = node.domain
    if dom in ("", "ai.onnx"):
        return node.op_type
    return dom + "::" + node.op_type


def value_kind(vi):
    t = vi.type
    k = t.WhichOneof("value")
    if k != "tensor_type":
        return k or "unknown"
    if t.tensor_type.elem_type == onnx.TensorProto.STRING:
        return "string tensor"
    return "tensor"


def bf16_as_f32(a):
    """bfloat16 data (uint16 bits, or ml_dtypes' bfloat16) as f32."""
    if a.dtype.name == "bfloat16":
        return a.astype(np.float32)
    return (a.astype(np.uint32) << 16).view(np.float32) if a.dtype == np.uint16 else a


def static_shape(vi):
    """The input's static shape, or None if any dim is symbolic/unknown."""
    tt = vi.type.tensor_type
    if not tt.HasField("shape"):
        return None
    dims = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        else:
            return None
    return dims


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def run_cmd(cmd, timeout, cwd=None):
    """Returns (status, rc, stdout+stderr) with status ok / error / signal / timeout."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=cwd, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        out = e.output or b""
        return "timeout", None, out.decode("utf-8", "replace")
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode == 0:
        return "ok", 0, out
    if p.returncode < 0:
        return "signal", p.returncode, out
    return "error", p.returncode, out


def first_error_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l[:400]
    return (lines[-1] if lines else "(no message)")[:400]


def signame(rc):
    try:
        return signal.Signals(-rc).name
    except Exception:
        return str(-rc)


def compare(name, got, want, rtol, atol):
    """Returns None if equal enough, else a message."""
    if got.shape != want.shape:
        return "output %s: shape %s, expected %s" % (name, list(got.shape), list(want.shape))
    if want.dtype == object:
        return "output %s: cannot compare dtype object" % name
    wk, gk = want.dtype.kind, got.dtype.kind
    if want.dtype != got.dtype:
        # bfloat16 and the like come back from onnx as ml_dtypes (kind V);
        # compare those by value. A numpy dtype must match exactly: a
        # float64 output where float32 is expected is a wrong result.
        if not (wk == "V" and gk in "fc"):
            return "output %s: dtype %s, expected %s" % (name, got.dtype, want.dtype)
    if wk in "fcV" or want.dtype.name.startswith(("bfloat", "float")):
        w = want.astype(np.float64) if wk != "c" else want
        g = got.astype(np.float64) if gk != "c" else got
        if w.size == 0:
            return None
        if not np.array_equal(np.isnan(w), np.isnan(g)):
            return "output %s: NaN positions differ (%d expected, %d got)" % (
                name, int(np.isnan(w).sum()), int(np.isnan(g).sum()))
        if np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
            return None
        winf, ginf = np.isinf(w), np.isinf(g)
        if not np.array_equal(winf, ginf) or not np.array_equal(w[winf], g[winf]):
            return "output %s: inf positions or signs differ" % name
        fin = np.isfinite(w)
        wf, gf = w[fin], g[fin]
        err = np.abs(gf - wf)
        bad = err > atol + rtol * np.abs(wf)
        i = int(np.argmax(err - (atol + rtol * np.abs(wf))))
        return "output %s: max abs err %.3g (expected %.6g, got %.6g), %d/%d elements off" % (
            name, float(err.max()), float(wf[i]), float(gf[i]), int(bad.sum()), w.size)
    if np.array_equal(got, want):
        return None
    diff = int((got != want).sum())
    return "output %s: %d/%d elements differ (exact compare, %s)" % (name, diff, want.size, want.dtype)


# ------------------------------------------------------------------ baseline
#
# The committed baseline names every node test and its expected status,
# `passed` or `unsupported` with the message qc gave; a run is compared with
# it so that "unsupported" cannot hide a regression (see check_baseline).

BASELINE_HEADER = """\
# ONNX conformance baseline: TEST<TAB>STATUS[<TAB>MESSAGE], one line per node
# test of every source. scripts/test.sh fails when a run departs from it
# (scripts/conformance.py --baseline). When an op lands, regenerate it:
#   python3 scripts/conformance.py --write-baseline test/conformance-baseline.tsv
"""


def normalize_message(r):
    """The message of result R without what differs from run to run or
    machine to machine: the test's folder and the runner's work folder."""
    msg = r.get("message", "")
    folder = r.get("path")
    if folder:
        msg = msg.replace(os.path.realpath(folder), "TEST").replace(folder, "TEST")
    msg = re.sub(r"/\S*/qc-conformance-[^/\s]*/[^/\s]*", "WORK", msg)
    return msg.replace("\t", " ").replace("\n", " ")


def read_baseline(path):
    """{test name: (status, message)} from a baseline file."""
    base = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 2 or cols[1] not in ("passed", "unsupported"):
                sys.exit("conformance: %s:%d: expected TEST<TAB>passed|unsupported[<TAB>MESSAGE]"
                         % (path, n))
            base[cols[0]] = (cols[1], cols[2] if len(cols) > 2 else "")
    return base


def write_baseline(path, results):
    failed = [r["name"] for r in results if r["status"] == "failed"]
    if failed:
        sys.exit("conformance: not writing a baseline with %d failed tests (first: %s)"
                 % (len(failed), failed[0]))
    lines = [BASELINE_HEADER]
    for r in sorted(results, key=lambda r: r["name"]):
        cols = [r["name"], r["status"]]
        if r["status"] == "unsupported":
            cols.append(normalize_message(r))
        lines.append("\t".join(cols) + "\n")
    write_text(path, "".join(lines))
    print("conformance: wrote %s (%d tests)" % (path, len(results)))


def check_baseline(results, base, selected):
    """Departures of RESULTS from baseline BASE (only the tests of BASE that
    SELECTED accepts), as {kind: [line, ...]}; every kind fails the run."""
    got = {r["name"]: r for r in results}
    out = {"missing": [], "passed -> unsupported": [], "new unsupported": [],
           "message changed": [], "unsupported -> passed (update the baseline)": [],
           "new test (update the baseline)": []}
    for name, (status, msg) in sorted(base.items()):
        if not selected(name):
            continue
        r = got.get(name)
        if r is None:
            out["missing"].append("%s: in the baseline but did not run" % name)
        elif r["status"] == "failed":
            continue  # counted as failed already
        elif status == "passed" and r["status"] == "unsupported":
            out["passed -> unsupported"].append("%s: %s" % (name, normalize_message(r)))
        elif status == "unsupported" and r["status"] == "passed":
            out["unsupported -> passed (update the baseline)"].append(name)
        elif status == "unsupported" and normalize_message(r) != msg:
            out["message changed"].append("%s: was '%s', now '%s'" % (
                name, msg, normalize_message(r)))
    for name, r in sorted(got.items()):
        if name in base or r["status"] == "failed":
            continue
        if r["status"] == "unsupported":
            out["new unsupported"].append("%s: %s" % (name, normalize_message(r)))
        else:
            out["new test (update the baseline)"].append(name)
    return {k: v for k, v in out.items() if v}


class Runner:
    def __init__(self, args, workdir):
        self.a = args
        self.workdir = workdir
        self.compile = _build.tool("qc-compile")
        self.run = _build.tool("qc-run")

    def test(self, name, path):
        t0 = time.time()
        r = self._test(name, path)
        r["name"] = name
        r["path"] = path
        r["seconds"] = round(time.time() - t0, 3)
        return r

    def _test(self, name, path):
        model_path = os.path.join(path, "model.onnx")
        try:
            model = onnx.load(model_path, load_external_data=False)
        except Exception as e:
            return {"op": "(unreadable)", "status": "failed",
                    "message": "runner: cannot read model.onnx: %s" % e}
        op = op_key(model)
        res = {"op": op}
        inits = {i.name for i in model.graph.initializer}
        inputs = [vi for vi in model.graph.input if vi.name not in inits]
        outputs = list(model.graph.output)
        non_tensor = [("input", vi) for vi in inputs if value_kind(vi) != "tensor"]
        non_tensor += [("output", vi) for vi in outputs if value_kind(vi) != "tensor"]

        sets = sorted(glob.glob(os.path.join(path, "test_data_set_*")))
        if not sets:
            return dict(res, status="failed", message="runner: no test_data_set_*")
        # Element types qc-run's .npy I/O cannot carry, declared by the model
        # (the stored data of some, e.g. bfloat16, loads as plain uint16).
        for kind, vis in (("input", inputs), ("output", outputs)):
            for vi in vis:
                if value_kind(vi) == "tensor" and \
                        vi.type.tensor_type.elem_type not in RUN_ELEM_TYPES:
                    non_io = onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type)
                    return dict(res, status="unsupported", stage="runner",
                                message="runner: %s %r is %s, which qc-run's .npy I/O cannot "
                                        "carry" % (kind, vi.name, non_io))

        work = tempfile.mkdtemp(prefix=re.sub(r"[^A-Za-z0-9_]", "_", name)[:60] + ".", dir=self.workdir)
        try:
            # ---- inputs of every data set
            datasets = []
            bad_dtype = []
            bad_shape = []  # test data that contradicts the model
            for si, sd in enumerate(sets):
                files = sorted(glob.glob(os.path.join(sd, "input_*.pb")),
                               key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
                ofiles = sorted(glob.glob(os.path.join(sd, "output_*.pb")),
                                key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
                ins, outs = [], []
                if not non_tensor:
                    try:
                        for i, f in enumerate(files):
                            if i >= len(inputs):
                                break
                            arr = narrow_in(load_tensor(f),
                                            inputs[i].type.tensor_type.elem_type)
                            npy = os.path.join(work, "s%d_in%d.npy" % (si, i))
                            if arr.dtype == object or arr.dtype.kind in "SUO":
                                non_tensor.append(("input", inputs[i]))
                                break
                            if arr.dtype.name == "bfloat16":
                                arr = arr.view(np.uint16)  # qc-run's bf16 bits
                            if arr.dtype not in RUN_DTYPES:
                                bad_dtype.append("input %s is %s" % (inputs[i].name, arr.dtype))
                            declared = static_shape(inputs[i])
                            if declared is not None and list(arr.shape) != list(declared):
                                bad_shape.append("input %s's data is %s, not the model's static %s"
                                                 % (inputs[i].name, list(arr.shape), list(declared)))
                            np.save(npy, arr, allow_pickle=False)
                            ins.append((inputs[i], arr, npy))
                        for i, f in enumerate(ofiles):
                            o = load_tensor(f)
                            if i < len(outputs):
                                o = narrow_out(o, outputs[i].type.tensor_type.elem_type)
                            # bfloat16 loads as its uint16 bits (or as
                            # ml_dtypes' bfloat16); qc-run writes it as f32.
                            if i < len(outputs) and \
                                    outputs[i].type.tensor_type.elem_type == \
                                    onnx.TensorProto.BFLOAT16:
                                o = bf16_as_f32(o)
                            if o.dtype == object or o.dtype.kind in "SUO":
                                if i < len(outputs):
                                    non_tensor.append(("output", outputs[i]))
                            elif o.dtype not in RUN_DTYPES and i < len(outputs):
                                bad_dtype.append("output %s is %s" % (outputs[i].name, o.dtype))
                            outs.append(o)
                    except Exception as e:
                        return dict(res, status="failed",
                                    message="runner: cannot convert test data: %s" % e)
                datasets.append((ins, outs))

            # ---- compile (once per distinct set of input shapes). qc compiles
            # static shapes; when an op needs an input's *value* at compile
            # time (Reshape's shape, Slice's starts, ReduceSum's axes, ...)
            # the runner binds the integer, scalar and short-vector inputs of each data set with
            # --bind-input and compiles once per data set.
            compiled = {}
            bind = [False]

            def bindable(arr):
                # Integers, scalars, and short float vectors (Resize's scales
                # and roi): operands a model gives as constants.
                return (arr.dtype.kind in "iu"
                        or (arr.dtype in RUN_DTYPES
                            and (arr.ndim == 0 or (arr.ndim == 1 and arr.size <= 16))))

            def bound(vi, arr):
                return bind[0] and bindable(arr)

            def compile_for(ins):
                key = tuple((tuple(a.shape), a.tobytes() if bound(vi, a) else None)
                            for vi, a, _ in ins)
                if key in compiled:
                    return compiled[key]
                outdir = os.path.join(work, "art%d" % len(compiled))
                cmd = [self.compile, model_path, "-o", outdir]
                for vi, arr, npy in ins:
                    if bound(vi, arr):
                        cmd += ["--bind-input", "%s=%s" % (vi.name, npy)]
                    elif static_shape(vi) is None:
                        dims = "x".join(str(d) for d in arr.shape) if arr.ndim else "scalar"
                        cmd += ["--input-shape", "%s=%s" % (vi.name, dims)]
                st, rc, out = run_cmd(cmd, self.a.timeout)
                compiled[key] = (outdir, st, rc, out, cmd)
                return compiled[key]

            ins0 = datasets[0][0]
            outdir, st, rc, out, cmd = compile_for(ins0)
            if (st == "error" and "known at compile time" in out
                    and any(bindable(a) for _, a, _ in ins0)):
                bind[0] = True
                res["bound"] = True
                outdir, st, rc, out, cmd = compile_for(ins0)
            if st == "timeout":
                return dict(res, status="failed", stage="compile",
                            message="qc-compile timed out after %ss" % self.a.timeout, command=cmd)
            if st == "signal":
                return dict(res, status="failed", stage="compile",
                            message="qc-compile crashed (%s): %s" % (signame(rc), first_error_line(out)),
                            command=cmd, log=out[-4000:])
            if st == "error":
                return dict(res, status="unsupported", stage="compile",
                            message=first_error_line(out), command=cmd)
            if non_tensor:
                kind, vi = non_tensor[0]
                return dict(res, status="unsupported", stage="runner",
                            message="runner: %s %r is a %s, which qc-run cannot carry" % (
                                kind, vi.name, value_kind(vi)))

            if bad_dtype:
                return dict(res, status="unsupported", stage="runner",
                            message="runner: %s, which qc-run's .npy I/O cannot carry" % bad_dtype[0])
            if bad_shape:
                return dict(res, status="unsupported", stage="runner",
                            message="runner: %s" % bad_shape[0])

            # ---- run every data set
            for si, (ins, outs) in enumerate(datasets):
                outdir, st, rc, out, cmd = compile_for(ins)
                if st != "ok":
                    status = "unsupported" if st == "error" else "failed"
                    return dict(res, status=status, stage="compile",
                                message="data set %d: %s" % (si, first_error_line(out)), command=cmd)
                odir = os.path.join(work, "s%d_out" % si)
                os.makedirs(odir)
                rcmd = [self.run, outdir]
                for vi, arr, npy in ins:
                    if not bound(vi, arr):
                        rcmd += ["--input", "%s=%s" % (vi.name, npy)]
                rcmd += ["--output-dir", odir]
                st, rc, out = run_cmd(rcmd, self.a.timeout)
                if st != "ok":
                    what = {"timeout": "timed out after %ss" % self.a.timeout,
                            "signal": "crashed (%s)" % (signame(rc) if rc else "?"),
                            "error": "exited %s" % rc}[st]
                    return dict(res, status="failed", stage="run",
                                message="qc-run %s: %s" % (what, first_error_line(out)),
                                command=rcmd, log=out[-4000:])
                for oi, want in enumerate(outs):
                    if oi >= len(outputs):
                        break
                    oname = outputs[oi].name
                    f = os.path.join(odir, npy_file_name(oname))
                    if not os.path.exists(f):
                        return dict(res, status="failed", stage="compare",
                                    message="qc-run wrote no %s" % os.path.basename(f))
                    try:
                        got = np.load(f, allow_pickle=False)
                    except Exception as e:
                        return dict(res, status="failed", stage="compare",
                                    message="cannot read %s: %s" % (os.path.basename(f), e))
                    # Half precision: 4 ulps (2^-8), since summation order
                    # differs from the reference's at 11 bits of mantissa.
                    # bfloat16 (compared as f32): one ulp (2^-7), the
                    # difference between rounding and truncating to it.
                    rtol = max(self.a.rtol, 2.0 ** -8) if want.dtype == np.float16 \
                        else self.a.rtol
                    if outputs[oi].type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16:
                        rtol = max(self.a.rtol, 2.0 ** -7)
                    msg = compare(oname, got, want, rtol, self.a.atol)
                    if msg:
                        return dict(res, status="failed", stage="compare",
                                    message=("data set %d: " % si if len(datasets) > 1 else "") + msg)
            return dict(res, status="passed")
        finally:
            if not self.a.keep:
                shutil.rmtree(work, ignore_errors=True)


# Ops out of qc's scope (an inference compiler with static shapes), by why.
OUT_OF_SCOPE = {
    "training-only losses": {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss",
                             "Gradient", "Adagrad", "Adam", "Momentum"},
    "strings": {"TfIdfVectorizer", "StringNormalizer", "StringConcat", "StringSplit",
                "RegexFullMatch", "LabelEncoder"},
    "random sampling": {"Bernoulli", "RandomUniformLike", "RandomNormalLike", "RandomUniform",
                        "RandomNormal", "Multinomial"},
    # If, Loop and Scan are in scope (static shapes: a known trip count);
    # their tests of sequences and optionals fail on those.
    "sequences, optionals": {"SequenceMap",
                                           "SplitToSequence", "ConcatFromSequence",
                                           "SequenceInsert", "SequenceAt",
                                           "SequenceConstruct", "SequenceEmpty",
                                           "SequenceErase", "SequenceLength",
                                           "OptionalHasElement", "OptionalGetElement",
                                           "Optional"},
    "data-dependent output shapes": {"NonMaxSuppression", "Unique", "Compress", "NonZero"},
    "image decoding": {"ImageDecoder"},
}


def write_coverage(path, results, by_op, tot):
    """The per-op table of a run as Markdown (docs/coverage.md)."""
    scope = {op: why for why, ops in OUT_OF_SCOPE.items() for op in ops}
    reason = {}
    for r in results:
        if r["status"] != "passed" and r["op"] not in reason:
            msg = r.get("message", "")
            msg = re.sub(r"^qc-compile: error: \S*model.onnx: ", "", msg)
            msg = re.sub(r"\S*/node/([^/\s]+)/", r"\1/", msg)
            reason[r["op"]] = msg.replace("|", "/")[:110]
    def base(op):  # without " (expanded)" and the domain
        return op.replace(" (expanded)", "").split("::")[-1]
    inscope = [r for r in results if base(r["op"]) not in scope]
    passed_in = sum(r["status"] == "passed" for r in inscope)
    lines = [
        "# ONNX operator coverage (generated)",
        "",
        "Every ONNX backend node test of both sources (docs/models.md), run by",
        "`python3 scripts/conformance.py --jobs 2 --markdown docs/coverage.md`",
        "and compared with the stored outputs. Totals: %d tests, passed %d, failed %d,"
        % (len(results), tot["passed"], tot["failed"]),
        "unsupported %d. Out of scope (an inference compiler with static shapes):"
        % tot["unsupported"],
        "; ".join("%s (%s)" % (why, ", ".join(sorted(ops)))
                  for why, ops in OUT_OF_SCOPE.items()) + ".",
        "In scope: %d tests, passed %d (%.1f %%)."
        % (len(inscope), passed_in, 100.0 * passed_in / max(1, len(inscope))),
        "",
        "| op | tests | passed | failed | unsupported | first reason |",
        "|---|---|---|---|---|---|",
    ]
    for op in sorted(by_op, key=str.lower):
        c = by_op[op]
        n = c["passed"] + c["failed"] + c["unsupported"]
        why = reason.get(op, "")
        if base(op) in scope and c["passed"] < n:
            why = "out of scope: " + scope[base(op)]
        lines.append("| %s | %d | %d | %d | %d | %s |"
                     % (op, n, c["passed"], c["failed"], c["unsupported"], why))
    write_text(path, "\n".join(lines) + "\n")


def main(argv=None, root=None):
    """The command line; `root` is the source tree (its build/ and
    .cache/onnx-testdata are the defaults), given by scripts/conformance.py."""
    ap = argparse.ArgumentParser(prog="qc-conformance", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--filter", help="regex searched in the test name")
    ap.add_argument("--exclude", help="regex: skip tests whose name matches")
    ap.add_argument("--qc-build", help="qc build folder (default: the source tree's build/, "
                    "else $QC_BUILD, else the qc-compile on PATH)")
    ap.add_argument("--cache", help="downloaded node tests, <version>/node folders (default: "
                    "the source tree's .cache/onnx-testdata)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per step (default 120)")
    ap.add_argument("--json", help="write machine-readable results here")
    ap.add_argument("--markdown", metavar="FILE",
                    help="write the per-op coverage table (docs/coverage.md) here")
    ap.add_argument("--list-failures", action="store_true", help="print every failed test and why")
    ap.add_argument("--list-unsupported", action="store_true", help="print every unsupported test and why")
    ap.add_argument("--strict", action="store_true", help="exit 1 if any test failed")
    ap.add_argument("--testdata", action="append", help="a node-test folder (repeatable)")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--no-summary-line", action="store_true",
                    help="omit the closing 'N passed, N failed' line")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each test as it ends")
    ap.add_argument("--baseline", help="compare with this baseline (TEST<TAB>STATUS[<TAB>MESSAGE]): "
                    "a test missing, turned unsupported, newly unsupported, unsupported for "
                    "another reason, or passing against the baseline counts as failed")
    ap.add_argument("--write-baseline", metavar="FILE",
                    help="write the run's statuses as the new baseline (refused if a test failed)")
    a = ap.parse_args(argv)
    try:
        _build.select(a.qc_build, root and os.path.join(root, "build"))
        _build.build_dir()
    except QcError as e:
        print("conformance: %s" % e, file=sys.stderr)
        return 1
    cache = a.cache or (root and os.path.join(root, ".cache", "onnx-testdata"))

    baseline = read_baseline(a.baseline) if a.baseline else None
    sources = a.testdata or default_sources(cache)
    tests = collect_tests(sources)
    keep_rx = re.compile(a.filter) if a.filter else None
    drop_rx = re.compile(a.exclude) if a.exclude else None

    def selected(name):
        return (not keep_rx or keep_rx.search(name)) and not (drop_rx and drop_rx.search(name))

    tests = {k: v for k, v in tests.items() if selected(k)}
    print("conformance: %d tests from %s" % (len(tests), ", ".join(sources)), flush=True)
    if not tests:
        # Nothing ran: that is not a pass.
        print("conformance: error: no node test found (sources: %s)" % (
            ", ".join(sources) or "none"), file=sys.stderr)
        if not a.no_summary_line:
            print("0 passed, 1 failed, 0 unsupported")
        return 1

    workdir = tempfile.mkdtemp(prefix="qc-conformance-")
    runner = Runner(a, workdir)
    results = []
    lock = threading.Lock()
    try:
        with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            futs = [ex.submit(runner.test, n, p) for n, p in sorted(tests.items())]
            for f in cf.as_completed(futs):
                r = f.result()
                with lock:
                    results.append(r)
                    if a.verbose:
                        print("%-11s %s%s" % (r["status"], r["name"],
                                              (": " + r["message"]) if r.get("message") else ""),
                              flush=True)
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    finally:
        if not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("conformance: work folder kept: %s" % workdir)

    results.sort(key=lambda r: r["name"])
    # Function-expanded tests (test_X_expanded*) are graphs of the function
    # body: file them under the op of their base test, marked "(expanded)".
    all_tests = collect_tests(sources)
    base_ops = {}
    for r in results:
        m = re.match(r"(.*?)_expanded", r["name"])
        if not m:
            continue
        base = m.group(1)
        if base not in base_ops:
            base_ops[base] = None
            if base in all_tests:
                try:
                    base_ops[base] = op_key(onnx.load(os.path.join(all_tests[base], "model.onnx"),
                                                      load_external_data=False))
                except Exception:
                    pass
        if base_ops[base]:
            r["op"] = base_ops[base] + " (expanded)"
    by_op = {}
    for r in results:
        c = by_op.setdefault(r["op"], {"passed": 0, "failed": 0, "unsupported": 0})
        c[r["status"]] += 1
    tot = {k: sum(c[k] for c in by_op.values()) for k in ("passed", "failed", "unsupported")}
    n_bound = sum(1 for r in results if r["status"] == "passed" and r.get("bound"))

    if a.list_failures:
        for r in results:
            if r["status"] == "failed":
                print("FAILED %s [%s]: %s" % (r["name"], r["op"], r.get("message", "")))
    if a.list_unsupported:
        for r in results:
            if r["status"] == "unsupported":
                print("UNSUPPORTED %s [%s]: %s" % (r["name"], r["op"], r.get("message", "")))
    for op in sorted(by_op, key=str.lower):
        c = by_op[op]
        print("%s: passed %d, failed %d, unsupported %d" % (op, c["passed"], c["failed"], c["unsupported"]))
    ops_full = sum(1 for c in by_op.values() if c["failed"] == 0 and c["unsupported"] == 0)
    print("total: %d tests, %d ops (%d with every test passing); passed %d (%d with integer "
          "inputs bound at compile time), failed %d, unsupported %d" % (
              len(results), len(by_op), ops_full, tot["passed"], n_bound, tot["failed"],
              tot["unsupported"]))
    for label in sorted({r["name"].split("/")[0] for r in results}):
        sub = [r for r in results if r["name"].startswith(label + "/")]
        print("  %s: %d tests, passed %d, failed %d, unsupported %d" % (
            label, len(sub), sum(r["status"] == "passed" for r in sub),
            sum(r["status"] == "failed" for r in sub),
            sum(r["status"] == "unsupported" for r in sub)))

    if a.markdown:
        write_coverage(a.markdown, results, by_op, tot)

    departures = {}
    if baseline is not None:
        departures = check_baseline(results, baseline, selected)
        n_dep = sum(len(v) for v in departures.values())
        for kind, lines in departures.items():
            print("BASELINE %s (%d):" % (kind, len(lines)))
            for line in lines[:50]:
                print("  " + line)
            if len(lines) > 50:
                print("  ... and %d more" % (len(lines) - 50))
        print("baseline: %d tests of %s, %d departures" % (
            sum(1 for n in baseline if selected(n)), a.baseline, n_dep))
        if n_dep:
            print("conformance: the run departs from the baseline; if that is intended "
                  "(an op landed), regenerate it: qc-conformance (scripts/conformance.py) "
                  "--write-baseline %s" % a.baseline)
        tot["failed"] += n_dep
    if a.write_baseline:
        write_baseline(a.write_baseline, results)
    if a.json:
        write_json(a.json, {"sources": sources, "rtol": a.rtol, "atol": a.atol,
                            "totals": tot, "ops": by_op, "tests": results,
                            "baseline_departures": departures})
    if not a.no_summary_line:
        print("%d passed, %d failed, %d unsupported" % (tot["passed"], tot["failed"], tot["unsupported"]))
    return 1 if ((a.strict or baseline is not None) and tot["failed"] > 0) else 0


if __name__ == "__main__":
    sys.exit(main())
