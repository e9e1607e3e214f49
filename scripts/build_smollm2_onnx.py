#!/usr/bin/env python3
"""Command line of qc.models.smollm2 (the FP32 ONNX decoder of SmolLM2-135M-Instruct), which lives in the qc Python package
(python/qc/models/smollm2.py); scripts and tests that imported this module
get the package's names."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from qc.models.smollm2 import *  # noqa: E402,F401,F403
from qc.models.smollm2 import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
