#!/usr/bin/env bash
# The main job (README): install what is missing, build, then compile and run
# a real model with qc and check it against onnxruntime.
#
#   scripts/demo.sh                      all-MiniLM-L6-v2 on a few sentences, in
#                                        FP32 and quantized (QC_DEMO_QUANT,
#                                        default w4g32)
#   scripts/demo.sh MODEL.onnx [FLAGS]   your model on random inputs; FLAGS go
#                                        to qc-compile (--input-shape, --dim)
#
# Environment: QC_SKIP_SETUP=1 (no apt/pip), QC_JOBS (build jobs, default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"

if [ -z "${QC_SKIP_SETUP:-}" ]; then scripts/setup.sh; fi
scripts/build.sh

if [ $# -gt 0 ]; then
  model="$1"; shift
  out="$BUILD/demo/$(basename "${model%.onnx}")"
  echo "== qc-compile $model"
  time "$BUILD/bin/qc-compile" "$model" -o "$out" "$@"
  echo "== qc vs onnxruntime (random inputs)"
  exec "$PYTHON" scripts/compare_ort.py "$model" "$out" --qc-build "$BUILD" --repeat 10
fi

scripts/fetch_models.sh minilm
onnx=.cache/models/minilm-onnx/minilm_s128.onnx
[ -f "$onnx" ] || "$PYTHON" scripts/build_minilm_onnx.py -o "$onnx"
quant="${QC_DEMO_QUANT:-w4g32}"
echo "== qc-compile all-MiniLM-L6-v2 (FP32, sequence length 128)"
t0=$(date +%s.%N)
"$BUILD/bin/qc-compile" "$onnx" -o "$BUILD/demo/minilm"
printf "compiled in %.1f s\n" "$(echo "$(date +%s.%N) - $t0" | bc)"
"$PYTHON" scripts/demo_minilm.py "$onnx" "$BUILD/demo/minilm" --qc-build "$BUILD" \
  --max-rel 1e-4
echo
echo "== qc-compile --quant $quant (weights quantized by qc, generated low-bit kernels)"
t0=$(date +%s.%N)
"$BUILD/bin/qc-compile" "$onnx" -o "$BUILD/demo/minilm-$quant" --quant "$quant" | tail -n 1
printf "quantized and compiled in %.1f s\n" "$(echo "$(date +%s.%N) - $t0" | bc)"
exec "$PYTHON" scripts/demo_minilm.py "$onnx" "$BUILD/demo/minilm-$quant" --qc-build "$BUILD" \
  --label "$quant"
