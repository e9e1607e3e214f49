#!/usr/bin/env python3
"""Command line of qc.tokenizers.gguf (a GGUF's byte-level BPE tokenizer), which lives in the qc Python package
(python/qc/tokenizers/gguf.py); scripts and tests that imported this module
get the package's names."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from qc.tokenizers.gguf import *  # noqa: E402,F401,F403
from qc.tokenizers.gguf import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
