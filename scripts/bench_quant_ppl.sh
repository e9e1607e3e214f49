#!/usr/bin/env bash
# Benchmark (not a test): SmolLM2-135M quantized by qc with each scheme
# (RTN), perplexity on Jane Austen's "persuasion" (scripts/eval_ppl.py
# protocol: the GGUF's tokenizer, non-overlapping windows of 512 tokens),
# model size and bits per weight. Prints a table at the end.
#
#   scripts/bench_quant_ppl.sh [TOKENS] [SCHEME ...]
#
# Default: 8192 tokens; FP reference, w4g128, w3g128, w2g64, w3g128ic,
# bcq3g128, bcq2g128, cb1x4v2 (codebook, 2 bits), mxfp4. The output layer
# (lm_head, tied to the embedding) is kept at LM_HEAD (default w8g128; "same"
# quantizes it with the scheme). "bpw" and "packed MB" cover the linear
# layers (codes packed at their bit width, scales and zero points included);
# the embedding table stays in f32 and is not counted.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"
tokens="${1:-8192}"
shift || true
schemes=("$@")
[ ${#schemes[@]} -gt 0 ] || schemes=(fp w4g128 w3g128 w2g64 w3g128ic bcq3g128 bcq2g128 cb1x4v2 mxfp4)

scripts/fetch_models.sh smollm2 >/dev/null
[ -f .cache/text/austen/persuasion.txt ] ||
  "$PYTHON" scripts/fetch_austen.py
onnx=.cache/models/smollm2-onnx/smollm2_s512.onnx
[ -f "$onnx" ] || "$PYTHON" scripts/build_smollm2_onnx.py --seq-len 512
work="$BUILD/bench-quant"
mkdir -p "$work"
results="$work/results.txt"
: > "$results"
for s in "${schemes[@]}"; do
  art="$work/$s"
  flags=()
  [ "$s" = fp ] || flags=(--quant "$s")
  if [ "$s" != fp ] && [ "${LM_HEAD:-w8g128}" != same ]; then
    flags+=(--quant-override "/lm_head/MatMul=${LM_HEAD:-w8g128}")
  fi
  t0=$(date +%s)
  "$BUILD/bin/qc-compile" "$onnx" -o "$art" "${flags[@]}" > "$work/$s.report"
  t1=$(date +%s)
  ppl=$("$PYTHON" scripts/eval_ppl.py "$art" --tokens "$tokens" --qc-build "$BUILD" |
        grep -oE "perplexity [0-9.]+" | awk '{print $2}')
  bpw=32.000
  size=$("$PYTHON" -c "print(round(134479872 * 4 / 1e6))")
  if [ "$s" != fp ]; then
    read -r bpw size < <("$PYTHON" -c "import json,sys; t = json.load(open(sys.argv[1]))['total']; print('%.3f %d' % (t['bits_per_weight'], round(t['bytes'] / 1e6)))" "$art/quant-report.json")
  fi
  printf "%-10s %8s %8s MB %10s %6ss\n" "$s" "$bpw" "$size" "$ppl" "$((t1 - t0))" | tee -a "$results"
done
echo
printf "%-10s %8s %11s %10s %7s\n" scheme "bpw" "packed" perplexity compile
cat "$results"
