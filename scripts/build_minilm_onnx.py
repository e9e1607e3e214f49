#!/usr/bin/env python3
"""Command line of qc.models.minilm (the FP32 ONNX graph of all-MiniLM-L6-v2), which lives in the qc Python package
(python/qc/models/minilm.py); scripts and tests that imported this module
get the package's names."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from qc.models.minilm import *  # noqa: E402,F401,F403
from qc.models.minilm import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
