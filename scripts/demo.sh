#!/usr/bin/env bash
# The main job (README): install what is missing, build, then compile and run
# a real model with qc and check it against onnxruntime.
#
#   scripts/demo.sh                      all-MiniLM-L6-v2 on a few sentences, in
#                                        FP32 and quantized (QC_DEMO_QUANT,
#                                        default w4g32); then SmolLM2-135M's
#                                        GGUF quantized to w4g128 with a KV
#                                        cache, answering a question through
#                                        qc-generate (QC_DEMO_LLM=0 skips it)
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
"$PYTHON" scripts/demo_minilm.py "$onnx" "$BUILD/demo/minilm-$quant" --qc-build "$BUILD" \
  --label "$quant"

# An LLM: SmolLM2-135M's GGUF quantized anew by qc, with a key-value cache,
# generating text (QC_DEMO_LLM=0 skips it).
[ "${QC_DEMO_LLM:-1}" = 0 ] && exit 0
echo
scripts/fetch_models.sh smollm2 >/dev/null
gguf=.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
llm="$BUILD/demo/smollm2-w4g128"
echo "== qc-compile SmolLM2-135M GGUF --quant w4g128 --context 512 (decode, one token a step)"
t0=$(date +%s.%N)
"$BUILD/bin/qc-compile" "$gguf" --quant w4g128 --context 512 \
  --input-shape input_ids=1x1 -o "$llm" | tail -n 1
printf "quantized and compiled in %.1f s\n" "$(echo "$(date +%s.%N) - $t0" | bc)"
echo "== qc-generate --chat (2 threads, greedy)"
"$BUILD/bin/qc-generate" "$llm" --chat --threads 2 -n 48 \
  --prompt "What is the capital of France?"
llama="${LLAMA_BENCH:-.cache/llamacpp/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin/llama-bench}"
if [ -x "$llama" ]; then
  echo "== llama.cpp on the same GGUF (Q4_1), 2 threads, 48 tokens"
  "$llama" -m "$gguf" -t 2 -p 0 -n 48 -r 3 2>/dev/null | grep -E 'tg48'
else
  echo "(llama.cpp's llama-bench not found: scripts/llm_bench.sh explains the comparison)"
fi
