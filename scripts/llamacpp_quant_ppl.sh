#!/usr/bin/env bash
# Peer benchmark (not a test): llama.cpp's own low-bit quantizations of
# SmolLM2-135M, with an importance matrix from the calibration text, by the
# perplexity protocol of scripts/bench_gptq_ppl.sh (scripts/eval_ppl.py on
# Jane Austen's "persuasion", windows of 512 tokens), so the rows compare
# with qc's at equal bits per weight.
#
#   scripts/llamacpp_quant_ppl.sh [TOKENS] [TYPE ...]
#
# TYPE: llama-quantize types (default Q4_K_M Q3_K_M Q3_K_S IQ3_XXS Q2_K
# IQ2_S IQ2_XS). llama.cpp is llama-cpp-python 0.3.36's vendored tree
# (.cache/llamacpp, fetched with pip download and built here without AMX,
# whose batched matmuls fault on this VM). Each type: llama-imatrix on the
# first 16 x 512 tokens of "emma" (qc's calibration text), llama-quantize
# --allow-requantize from the Q4_1 GGUF qc's rows start from (so every row
# quantizes the same weights), then the GGUF dequantized into the ONNX graph
# of scripts/build_smollm2_onnx.py (gguf.quants) and evaluated by
# onnxruntime. bpw: bits of the linear layers' weights (blk.* matrices and
# the tied token embedding, which is lm_head) per weight, as llama.cpp stores
# them (k-quant super-block scales included).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"
tokens="${1:-8192}"
shift || true
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Q4_K_M Q3_K_M Q3_K_S IQ3_XXS Q2_K IQ2_S IQ2_XS)

version=0.3.36
vendor=.cache/llamacpp/llama_cpp_python-$version/vendor/llama.cpp
bin="${LLAMA_BIN:-$vendor/build-noamx/bin}"
if [ ! -x "$bin/llama-quantize" ]; then
  if [ ! -d "$vendor" ]; then
    mkdir -p .cache/llamacpp
    "$PYTHON" -m pip download "llama-cpp-python==$version" --no-deps --no-binary :all: \
      -d .cache/llamacpp
    tar xzf ".cache/llamacpp/llama_cpp_python-$version.tar.gz" -C .cache/llamacpp
  fi
  noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  cmake -S "$vendor" -B "$vendor/build-noamx" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DCMAKE_C_FLAGS="$noamx" -DCMAKE_CXX_FLAGS="$noamx" > /dev/null
  ninja -C "$vendor/build-noamx" -j2 llama-quantize llama-imatrix > /dev/null
fi

scripts/fetch_models.sh smollm2 > /dev/null
[ -f .cache/text/austen/persuasion.txt ] || "$PYTHON" scripts/fetch_austen.py
gguf=.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
work="$BUILD/bench-llamacpp"
mkdir -p "$work"
calib="$work/emma_calib.txt"
if [ ! -f "$calib" ]; then
  # The text of qc's 16 calibration windows (make_calib_tokens.py), as
  # llama-imatrix reads it (it tokenizes with the same GGUF vocabulary).
  "$PYTHON" - "$calib" <<'EOF'
import os, sys
sys.path.insert(0, "scripts")
from eval_ppl import load_text
from tokenize_gguf import GGUFTokenizer
tok = GGUFTokenizer(".cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
text = load_text(".cache/text/austen/emma.txt")
end = 0
while len(tok.encode(text[:end])) < 16 * 512 + 64:
    end += 4000
with open(sys.argv[1] + ".tmp", "w", encoding="utf-8") as f:
    f.write(text[:end])
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
EOF
fi
imatrix="$work/imatrix.gguf"
[ -f "$imatrix" ] || "$bin/llama-imatrix" -m "$gguf" -f "$calib" -o "$imatrix" -c 512 \
  --chunks 16 -t 2 > "$work/imatrix.log" 2>&1

results="$work/results.txt"
touch "$results"
for t in "${types[@]}"; do
  out="$work/$t.gguf"
  "$bin/llama-quantize" --allow-requantize --imatrix "$imatrix" "$gguf" "$out" "$t" 2 \
    > "$work/$t.log" 2>&1
  "$PYTHON" scripts/build_smollm2_onnx.py --gguf "$out" --seq-len 512 -o "$work/$t.onnx" \
    > /dev/null
  bpw=$("$PYTHON" - "$out" <<'EOF'
import sys
import gguf
r = gguf.GGUFReader(sys.argv[1])
bits = n = 0
for t in r.tensors:
    if len(t.shape) == 2 and (t.name.startswith("blk.") or t.name == "token_embd.weight"):
        bits += 8 * int(t.n_bytes)
        n += int(t.n_elements)
print("%.3f" % (bits / n))
EOF
)
  ppl=$("$PYTHON" scripts/eval_ppl.py "$work/$t.onnx" --tokens "$tokens" --qc-build "$BUILD" |
        grep -oE "perplexity [0-9.]+" | awk '{print $2}')
  printf "%-10s %8s %12s\n" "$t" "$bpw" "$ppl" | tee -a "$results"
done
echo
printf "%-10s %8s %12s\n" type bpw perplexity
cat "$results"
