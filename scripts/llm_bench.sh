#!/usr/bin/env bash
# LLM decode and prefill speed: qc-generate against llama.cpp's llama-bench on
# SmolLM2-135M's GGUF, same machine, same run, A/B alternated.
#
#   scripts/llm_bench.sh [SCHEME]      (default w4g128; "gguf" = the GGUF's
#                                       own weights as qc imports them)
#   QC_KV_CACHE=f16|int8|int4 ...      qc's caches in that format (default
#                                       f32)
#
# qc: the GGUF compiled with --context 2304 into one artifact with a decode
# entry (input_ids=1x1) and a prefill entry (--prefill 64), under
# $QC_BUILD_DIR/llm/<scheme>. Decode at context C: a C-token prompt, then 128
# generated tokens (their rate); prefill: a 512-token prompt's rate.
# llama.cpp: llama-bench -d C -n 128 -ub 1 (decode) and -p 512 (prefill) on
# the same GGUF (Q4_1), built from llama-cpp-python 0.3.36's vendored tree
# (../shared/DATA.md). On a CPU with AMX, GGML_NATIVE's build decodes fastest
# but its batched matmuls fault where the OS does not grant AMX state, so it
# fills the depth one token at a time (-ub 1; LLAMA_BENCH, default
# .cache/llamacpp/.../build/bin/llama-bench) and prefill is measured with a
# build made with -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
# (LLAMA_BENCH_PREFILL, default .../build-noamx/bin/llama-bench). Without
# them only qc is measured.
# Each figure is the median of QC_BENCH_REPS (default 3) alternated runs,
# for 1 and 2 threads. Prints a Markdown table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
scheme="${1:-w4g128}"
reps="${QC_BENCH_REPS:-3}"
gguf=.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
scripts/fetch_models.sh smollm2 >/dev/null
vendor=.cache/llamacpp/llama_cpp_python-0.3.36/vendor/llama.cpp
llama="${LLAMA_BENCH:-$vendor/build/bin/llama-bench}"
llama_pp="${LLAMA_BENCH_PREFILL:-$vendor/build-noamx/bin/llama-bench}"
[ -x "$llama" ] || { echo "llm_bench: no llama-bench at $llama; measuring qc only" >&2; llama=""; }
[ -x "$llama_pp" ] || llama_pp="$llama"

kv="${QC_KV_CACHE:-f32}"
work="$BUILD/llm/$scheme"
[ "$kv" != f32 ] && work="$work-kv$kv"
mkdir -p "$work"
quant=()
[ "$scheme" != gguf ] && quant=(--quant "$scheme")
quant+=(--kv-cache "$kv")
art="$work/art"
if [ ! -f "$art/model.so" ]; then
  echo "llm_bench: compiling $art" >&2
  "$BUILD/bin/qc-compile" "$gguf" "${quant[@]}" --context 2304 \
    --input-shape input_ids=1x1 --prefill 64 -o "$art" >/dev/null
fi

ids() { python3 -c "import random; r = random.Random($1); print(','.join(str(r.randrange(100, 40000)) for _ in range($1)))"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# qc: tokens/s of generation (decode) or of the prompt (prefill).
qc_rate() { # threads depth what
  local out
  out=$("$BUILD/bin/qc-generate" "$art" --ids "$(ids "$2")" \
        -n "$([ "$3" = decode ] && echo 128 || echo 1)" --threads "$1" 2>&1 >/dev/null)
  if [ "$3" = decode ]; then
    sed -E 's/.*generation: [0-9]+ tokens, [0-9.]+ ms \(([0-9.]+) tokens\/s\).*/\1/' <<<"$out"
  else
    sed -E 's/^prompt: [0-9]+ tokens \([0-9]+ a step\), [0-9.]+ ms \(([0-9.]+) tokens\/s\).*/\1/' <<<"$out"
  fi
}
llama_rate() { # threads depth what
  local bin="$llama" args
  if [ "$3" = decode ]; then args=(-p 0 -n 128 -d "$2" -ub 1); else bin="$llama_pp" args=(-p 512 -n 0); fi
  "$bin" -m "$gguf" -t "$1" -r 1 "${args[@]}" 2>/dev/null |
    grep -E '\| +(tg|pp)[0-9]' | awk -F'|' '{gsub(/ /, "", $(NF-1)); split($(NF-1), v, "±"); print v[1]}'
}

echo "| threads | test | qc $scheme ($kv cache) tokens/s | llama.cpp Q4_1 tokens/s | qc / llama.cpp |"
echo "|---|---|---|---|---|"
for t in 1 2; do
  for test in decode:128 decode:512 decode:2048 prefill:512; do
    what="${test%%:*}" depth="${test##*:}"
    qs=() ls=()
    for _ in $(seq "$reps"); do
      qs+=("$(qc_rate "$t" "$depth" "$what")")
      [ -n "$llama" ] && ls+=("$(llama_rate "$t" "$depth" "$what")")
    done
    q=$(printf '%s\n' "${qs[@]}" | median)
    if [ -n "$llama" ]; then
      l=$(printf '%s\n' "${ls[@]}" | median)
      ratio=$(awk -v q="$q" -v l="$l" 'BEGIN {printf "%.2f", q / l}')
    else
      l="-" ratio="-"
    fi
    label="$what @ $depth"
    [ "$what" = prefill ] && label="prefill 512"
    echo "| $t | $label | $q | $l | $ratio |"
  done
done
