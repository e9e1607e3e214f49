#!/usr/bin/env bash
# Every ONNX model of the given folders (or files) through qc-compile and
# qc-run against onnxruntime: per model, the stage that failed or the
# accuracy and the speed ratio (qc.eval.survey; installed: qc-survey).
#   scripts/zoo.sh FOLDER... [--shapes SHAPES.json] [--threads 2] [--markdown OUT.md]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -c '
import sys
from qc.eval.survey import main
sys.exit(main(sys.argv[2:], default_build=sys.argv[1]))' "$ROOT/${QC_BUILD_DIR:-build}" "$@"
