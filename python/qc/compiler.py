"""qc.compile: the qc-compile tool, driven from Python."""
import json
import os
import subprocess
import tempfile

import numpy as np

from . import _build
from .errors import QcError
from .runtime import load


class Artifact:
    """A compiled model on disk: its folder, qc-compile's report (text) and,
    when it was quantized, the per-layer report (quant-report.json)."""

    def __init__(self, path, report):
        self.path = path
        self.report = report
        report_json = os.path.join(path, "quant-report.json")
        self.layers = None
        if os.path.isfile(report_json):
            with open(report_json) as f:
                self.layers = json.load(f)
        with open(os.path.join(path, "manifest.json")) as f:
            self.manifest = json.load(f)

    def load(self, planes=None):
        return load(self.path, planes=planes)

    @property
    def quant_report(self):
        """The per-layer report as a qc.Report (QcError when the model was
        not quantized by qc)."""
        from .report import Report
        return Report.of(self.path)

    def __repr__(self):
        return f"Artifact({self.path!r})"


def _flag(name, value):
    """--name=value for qc-compile; True is the bare flag."""
    if value is True:
        return [f"--{name}"]
    return [f"--{name}={value}"]


def _calibration_files(calib_data, folder):
    """--calib-data arguments: a path, an array (the model's only input) or
    a dict of input name -> array or path; arrays are written as .npy."""
    if isinstance(calib_data, (str, os.PathLike)):
        return [os.fspath(calib_data)]
    items = calib_data.items() if isinstance(calib_data, dict) else [
        (None, calib_data)]
    args = []
    for i, (name, value) in enumerate(items):
        if not isinstance(value, (str, os.PathLike)):
            path = os.path.join(folder, f"calib{i}.npy")
            np.save(path, np.asarray(value))
            value = path
        args.append(f"{name}={os.fspath(value)}" if name else
                    os.fspath(value))
    return args


def compile(model, out, *, quant=None, algo=None, act=None, calib_data=None,
            target=None, min_planes=None, options=None, progress=False):
    """Compiles `model` (an .onnx or .gguf path) into the artifact folder
    `out` with qc-compile and returns the Artifact.

    quant: weight scheme ("w4g128", "bcq3g128", ...); algo: "rtn" or "gptq";
    act: activation scheme; calib_data: calibration samples (an array
    stacked on a leading axis, a dict of input name -> array, or a .npy
    path); target: the kernel target (--target); min_planes: AnyBCQ;
    options: further qc-compile flags as a dict (name without dashes ->
    value, True for a bare flag) or a list of strings. progress: let
    qc-compile's progress lines through to stderr.

    A failure raises QcError with qc-compile's message."""
    args = [_build.tool("qc-compile"), os.fspath(model), "-o", os.fspath(out)]
    for name, value in (("quant", quant), ("algo", algo), ("act", act),
                        ("target", target), ("min-planes", min_planes)):
        if value is not None:
            args += _flag(name, value)
    if isinstance(options, dict):
        for name, value in options.items():
            args += _flag(name, value)
    elif options:
        args += list(options)
    with tempfile.TemporaryDirectory(prefix="qc-compile-") as tmp:
        if calib_data is not None:
            for value in _calibration_files(calib_data, tmp):
                args += ["--calib-data", value]
        r = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=None if progress else subprocess.PIPE,
                           text=True)
    if r.returncode != 0:
        lines = [l for l in (r.stderr or "").splitlines() if l.strip()]
        errors = [l for l in lines if "error:" in l] or lines[-3:]
        raise QcError("\n".join(errors) or
                      f"qc-compile failed with status {r.returncode}")
    return Artifact(os.fspath(out), r.stdout)
