"""qc.eval.survey: every ONNX model of a folder through qc, against
onnxruntime.

Usage (`qc-survey`, or scripts/zoo.sh in the source tree):
  qc-survey FOLDER|MODEL.onnx ... [--shapes SHAPES.json] [--threads 2]
            [--repeat 10] [--timeout 900] [--qc-build build] [--json OUT]
            [--markdown OUT.md]

For each model (the folders are searched recursively for *.onnx): compile
with qc-compile (FP32), run it and onnxruntime on the same random inputs
(qc.eval.compare) and time both, alternating. SHAPES.json gives the input
shapes of models with symbolic dimensions: {"model.onnx": {"x":
"1x3x224x224"}} (keyed by file name). Prints one row per model: the stage
that failed, or the worst max relative error and cosine over the outputs
and qc's latency against onnxruntime's. A model that fails is a row, not
the end of the survey.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

from .. import _build
from .._files import write_json, write_text
from ..errors import QcError


def find_models(paths):
    """The .onnx files under `paths` (files or folders), sorted, each once."""
    found = []
    for p in paths:
        if os.path.isdir(p):
            found += glob.glob(os.path.join(p, "**", "*.onnx"), recursive=True)
        else:
            found.append(p)
    return sorted(set(os.path.abspath(f) for f in found))


def _first_error(text):
    lines = [l for l in text.splitlines() if l.strip()]
    errors = [l for l in lines if "error:" in l]
    return (errors or lines or ["(no message)"])[0].strip()


def survey_one(model, out_dir, shapes=None, threads=2, repeat=10, timeout=900):
    """One model's row: {"model", "stage" ("ok", "compile", "run"), "message",
    "compile_s", "max_rel_err", "cosine", "qc_ms", "ort_ms", "ratio"}."""
    from .compare import compare

    row = {"model": os.path.basename(model), "stage": "compile"}
    cmd = [_build.tool("qc-compile"), model, "-o", out_dir]
    for name, shape in (shapes or {}).items():
        cmd += ["--input-shape", "%s=%s" % (name, shape)]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(row, message="qc-compile took more than %d s" % timeout)
    row["compile_s"] = time.perf_counter() - t0
    if r.returncode != 0:
        return dict(row, message=_first_error(r.stdout))
    row["stage"] = "run"
    try:
        res = compare(model, out_dir, repeat=repeat, threads=threads, timeout=timeout)
    except (QcError, subprocess.TimeoutExpired) as e:
        return dict(row, message=_first_error(str(e)))
    except Exception as e:  # onnxruntime refusing the model, say
        return dict(row, message="%s: %s" % (type(e).__name__, _first_error(str(e))))
    row.update(stage="ok", message="", max_rel_err=res["worst_rel_err"],
               cosine=res["worst_cosine"], qc_ms=res["qc_median_ms"],
               ort_ms=res["ort_median_ms"])
    if row["qc_ms"] and row["ort_ms"]:
        row["ratio"] = row["qc_ms"] / row["ort_ms"]
    return row


def _fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def table(rows, threads):
    """The rows as a Markdown table."""
    lines = ["| model | stage | max rel err | cosine | qc ms | onnxruntime ms "
             "(%d threads) | qc / ort | compile s | note |" % threads,
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["model"], r["stage"], _fmt(r.get("max_rel_err"), ".2e"),
            _fmt(r.get("cosine"), ".6f"), _fmt(r.get("qc_ms"), ".2f"),
            _fmt(r.get("ort_ms"), ".2f"), _fmt(r.get("ratio"), ".2f"),
            _fmt(r.get("compile_s"), ".1f"), r.get("message", "").replace("|", "/")))
    return "\n".join(lines)


def main(argv=None, default_build=None):
    ap = argparse.ArgumentParser(prog="qc-survey", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="models or folders of models")
    ap.add_argument("--shapes", help="JSON: model file name -> {input: shape}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds for each compile and each run (default 900)")
    ap.add_argument("--qc-build", help="the qc build folder (default: $QC_BUILD, else "
                    "the qc-compile on PATH)")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--markdown", help="write the table here")
    a = ap.parse_args(argv)
    try:
        _build.select(a.qc_build, default_build)
        _build.build_dir()
        shapes = {}
        if a.shapes:
            with open(a.shapes) as f:
                shapes = json.load(f)
    except (QcError, OSError, ValueError) as e:
        print("qc-survey: %s" % e, file=sys.stderr)
        return 1
    models = find_models(a.paths)
    if not models:
        print("qc-survey: no .onnx model under %s" % ", ".join(a.paths), file=sys.stderr)
        return 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="qc-survey-") as work:
        for i, model in enumerate(models):
            print("[%d/%d] %s" % (i + 1, len(models), model), file=sys.stderr, flush=True)
            out = os.path.join(work, "m%d" % i)
            rows.append(survey_one(model, out, shapes.get(os.path.basename(model)),
                                   a.threads, a.repeat, a.timeout))
    text = table(rows, a.threads)
    print(text)
    ok = sum(r["stage"] == "ok" for r in rows)
    print("%d of %d models compiled and ran" % (ok, len(rows)))
    if a.markdown:
        write_text(a.markdown, text + "\n")
    if a.json:
        write_json(a.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
