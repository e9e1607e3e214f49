#!/usr/bin/env bash
# Benchmark (not a test): GPTQ on an encoder. all-MiniLM-L6-v2 quantized by
# qc with RTN, GPTQ and GPTQ + two-stage (block by block, calibrated on 32
# paragraphs of "emma"), compared by the cosine of its sentence embeddings to
# onnxruntime's FP32 embeddings on sentences from "persuasion"
# (scripts/demo_minilm.py; minimum over the sentences).
#
#   scripts/bench_gptq_minilm.sh [SCHEME]      (default w3g64)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"
scheme="${1:-w3g64}"
scripts/fetch_models.sh minilm >/dev/null
[ -f .cache/text/austen/persuasion.txt ] || "$PYTHON" scripts/fetch_austen.py
onnx=.cache/models/minilm-onnx/minilm_s128.onnx
[ -f "$onnx" ] || "$PYTHON" scripts/build_minilm_onnx.py -o "$onnx"
work="$BUILD/bench-gptq-minilm"
mkdir -p "$work"
"$PYTHON" scripts/make_calib_tokens.py --bert-vocab .cache/models/minilm/vocab.txt \
  --seq-len 128 --samples 32 -o "$work/emma" >/dev/null
calib=()
for n in input_ids attention_mask token_type_ids; do
  calib+=(--calib-data "$n=$work/emma_$n.npy")
done
# Eight evaluation sentences: the first paragraphs of "persuasion" over 100
# characters, cut at their first sentence end.
mapfile -t sentences < <("$PYTHON" - <<'PY'
import re, sys
sys.path.insert(0, "scripts")
from eval_ppl import load_text
paras = [p for p in load_text(".cache/text/austen/persuasion.txt").split("\n\n") if len(p) > 100]
for p in paras[:8]:
    print(re.split(r"(?<=[.;!?])\s", p)[0][:400])
PY
)
for algo in rtn gptq gptq2s; do
  flags=(--quant "$scheme")
  case $algo in
    gptq) flags+=(--algo gptq "${calib[@]}") ;;
    gptq2s) flags+=(--algo gptq --two-stage "${calib[@]}") ;;
  esac
  t0=$(date +%s)
  "$BUILD/bin/qc-compile" "$onnx" -o "$work/$algo" "${flags[@]}" > "$work/$algo.report"
  t1=$(date +%s)
  line=$("$PYTHON" scripts/demo_minilm.py "$onnx" "$work/$algo" "${sentences[@]}" \
           --qc-build "$BUILD" --repeat 3 --label "$scheme-$algo" | grep "min cosine")
  echo "$scheme $algo ($((t1 - t0))s): ${line#accuracy }"
done
