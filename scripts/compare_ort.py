#!/usr/bin/env python3
"""Entry point of qc.eval.compare (a qc artifact against onnxruntime), which
lives in the qc Python package (python/qc/eval/compare.py; installed, the
command is `qc-compare-ort`). See --help."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from qc.eval.compare import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(default_build=os.path.join(ROOT, "build")))
