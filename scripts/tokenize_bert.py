#!/usr/bin/env python3
"""Command line of qc.tokenizers.bert (the WordPiece tokenizer of MiniLM), which lives in the qc Python package
(python/qc/tokenizers/bert.py); scripts and tests that imported this module
get the package's names."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from qc.tokenizers.bert import *  # noqa: E402,F401,F403
from qc.tokenizers.bert import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
