#!/usr/bin/env python3
"""Entry point of qc.eval.conformance (the ONNX node tests compiled and run
by qc), which lives in the qc Python package (python/qc/eval/conformance.py;
installed, the command is `qc-conformance`). See --help."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from qc.eval.conformance import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(root=ROOT))
