#!/usr/bin/env bash
# Benchmark (not a test): calibration-based quantization of SmolLM2-135M by
# qc — RTN vs GPTQ vs GPTQ + two-stage scale optimization, per-OC vs per-IC,
# mixed precision — by perplexity on Jane Austen's "persuasion"
# (scripts/eval_ppl.py protocol: the GGUF's tokenizer, windows of 512
# tokens), calibrated on "emma" (scripts/make_calib_tokens.py). onnxruntime's
# own RTN quantizer (MatMulNBits, 4 bits), its static W8A8 QDQ
# quantization (ort-static8: int8 weights per channel, uint8 activations
# with calibrated per-tensor scales) and its dynamic one (ort-dynamic8:
# quantize_dynamic, uint8 activations per tensor at run time) run as peers,
# and compiled by qc (qc-ort-static8, qc-ort-dynamic8).
#
#   scripts/bench_gptq_ppl.sh [TOKENS] [ROW ...]
#
# TOKENS: evaluation tokens (default 8192). CALIB_SAMPLES (default 16) windows
# of 512 calibration tokens. Rows (default: all) are names from the table
# below. Statistics are gathered once ("all" mode: every layer from the float
# model) and shared by every row except the block-by-block ones, which
# calibrate as they quantize (BLOCK_SAMPLES, default 8, to bound the time).
# The BoA, TurboBoA and aespa rows (--algo boa|turboboa|aespa:
# attention-aware objectives for q_proj, k_proj and v_proj) read the same
# statistics plus the attention taps, gathered once more. The correction for
# the error of the quantized inputs (--input-correction) needs statistics of
# the partly quantized model: a BLOCK row.
# Activation quantization (the a8 rows: int8 per token) with and without
# SmoothQuant (--smooth 0.5, on the same float statistics) is compared with
# float activations (a16).
# Rotation (--rotate: the residual stream rotated into the weights, online
# Hadamards before o_proj / down_proj) is compared with neither, at int8 and
# int4 activations (a4: int4 per token), with RTN and GPTQ weights (GPTQ on
# statistics of the rotated model, which qc-compile gathers in "all" mode).
# The other 4-bit activation formats against int4 per token: 4-bit dINT per
# token (a4d), MXFP4 and AMXFP4 (mx, amx: blocks of 32), without and with
# rotation.
# The output layer (lm_head) is w8g128 except in the rows marked ALL, where
# every layer (lm_head included, 21% of the weights) is quantized: those are
# compared with each other (uniform w3g128 vs mixed precision), and in the
# rows marked HEADFP, where it stays in float (as QuaRot keeps it: the a4
# rows' int4 activations would otherwise reach the logits too).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"
tokens="${1:-8192}"
shift || true

head8=(--quant-override "/lm_head/MatMul=w8g128")
cands=w2g64,w2g128,w3g64,w3g128,w3g256,w4g128,w4g256,w8g128
declare -A rows=(
  [fp]=""
  [w4g128-rtn]="--quant w4g128"
  [w4g128-gptq]="--quant w4g128 --algo gptq"
  [w4g128-gptq2s]="--quant w4g128 --algo gptq --two-stage"
  [w3g128-rtn]="--quant w3g128"
  [w3g128-gptq]="--quant w3g128 --algo gptq"
  [w3g128-gptq2s]="--quant w3g128 --algo gptq --two-stage"
  [w3g128ic-rtn]="--quant w3g128ic"
  [w3g128ic-gptq]="--quant w3g128ic --algo gptq"
  [w2g64-rtn]="--quant w2g64"
  [w2g64-gptq]="--quant w2g64 --algo gptq"
  [w2g64-gptq2s]="--quant w2g64 --algo gptq --two-stage"
  [w4g128-boa]="--quant w4g128 --algo boa"
  [w3g128-boa]="--quant w3g128 --algo boa"
  [w3g128-boa-ro]="--quant w3g128 --algo boa --act-order"
  [w3g128-gptq-ao]="--quant w3g128 --algo gptq --act-order"
  [w4g128-boa-ro]="--quant w4g128 --algo boa --act-order"
  [w2g64-boa-ro]="--quant w2g64 --algo boa --act-order"
  [w3g128-boa2s]="--quant w3g128 --algo boa --two-stage"
  [w2g64-boa2s]="--quant w2g64 --algo boa --two-stage"
  [w2g64-boa]="--quant w2g64 --algo boa"
  [w3g128-boa-block]="--quant w3g128 --algo boa BLOCK"
  [w4g128-aespa]="--quant w4g128 --algo aespa"
  [w3g128-aespa]="--quant w3g128 --algo aespa"
  [w2g64-aespa]="--quant w2g64 --algo aespa"
  [w4g128-turboboa]="--quant w4g128 --algo turboboa"
  [w3g128-turboboa]="--quant w3g128 --algo turboboa"
  [w2g64-turboboa]="--quant w2g64 --algo turboboa"
  [w3g128-turboboa-block]="--quant w3g128 --algo turboboa BLOCK"
  [w3g128-turboboa-corr-block]="--quant w3g128 --algo turboboa --input-correction BLOCK"
  [w3g128-gptq-block]="--quant w3g128 --algo gptq BLOCK"
  [w3g128-gptq2s-block]="--quant w3g128 --algo gptq --two-stage BLOCK"
  [all-w3g128-gptq]="--quant w3g128 --algo gptq ALL"
  [mixed3.0-gptq]="--algo gptq --assign-bits 3.0 --assign-candidates $cands ALL"
  [mixed2.5-gptq]="--algo gptq --assign-bits 2.5 --assign-candidates $cands ALL"
  [mixed4.9-boa]="--algo boa --assign-bits 4.9 --assign-candidates $cands ALL"
  [mixed4.0-boa]="--algo boa --assign-bits 4.0 --assign-candidates $cands ALL"
  [ort-rtn4]="ORT 4"
  [bcq2g128]="--quant bcq2g128"
  [bcq3g128]="--quant bcq3g128"
  [bcq4g128]="--quant bcq4g128"
  [anybcq4g128]="--quant bcq4g128 --min-planes 2"
  [qc-ort-static8]="QDQ"
  [ort-static8]="ORT static"
  [qc-ort-dynamic8]="QDQ dynamic"
  [ort-dynamic8]="ORT dynamic"
  [w8-a8]="--quant w8 --act int8t"
  [w8-a8-smooth]="--quant w8 --act int8t --smooth 0.5"
  [w8-a8s]="--quant w8 --act int8s"
  [w8-a8u]="--quant w8 --act uint8"
  [w8-a8s-smooth]="--quant w8 --act int8s --smooth 0.5"
  [w8-a8s-rotate]="--quant w8 --act int8s --rotate"
  [w4g128-a16]="--quant w4g128 --act f32"
  [w4g128-a8]="--quant w4g128 --act int8t"
  [w4g128-a8-smooth]="--quant w4g128 --act int8t --smooth 0.5"
  [w4g128-a16-rotate]="--quant w4g128 --act f32 --rotate"
  [w4g128-a8-rotate]="--quant w4g128 --act int8t --rotate"
  [w4g128-a4]="--quant w4g128 --act int4t HEADFP"
  [w4g128-a4-rotate]="--quant w4g128 --act int4t --rotate HEADFP"
  [w8-a4-rotate]="--quant w8 --act int4t --rotate HEADFP"
  [w4g128-a16-rotate-gptq]="--quant w4g128 --act f32 --rotate --algo gptq"
  [w4g128-a8-rotate-gptq]="--quant w4g128 --act int8t --rotate --algo gptq"
  [w4g128-a4-rotate-gptq]="--quant w4g128 --act int4t --rotate --algo gptq HEADFP"
  [w4g128-a4d]="--quant w4g128 --act dint4t HEADFP"
  [w4g128-a4d-rotate]="--quant w4g128 --act dint4t --rotate HEADFP"
  [w4g128-mx]="--quant w4g128 --act mxfp4 HEADFP"
  [w4g128-mx-rotate]="--quant w4g128 --act mxfp4 --rotate HEADFP"
  [w4g128-amx]="--quant w4g128 --act amxfp4 HEADFP"
  [w4g128-amx-rotate]="--quant w4g128 --act amxfp4 --rotate HEADFP"
)
order=(fp w4g128-rtn w4g128-gptq w4g128-gptq2s w3g128-rtn w3g128-gptq
       w3g128-gptq2s w3g128ic-rtn w3g128ic-gptq w2g64-rtn w2g64-gptq
       w2g64-gptq2s w3g128-gptq-ao w4g128-boa w4g128-boa-ro w3g128-boa
       w3g128-boa-ro w3g128-boa2s w2g64-boa w2g64-boa-ro w2g64-boa2s
       w3g128-boa-block w4g128-turboboa w3g128-turboboa w2g64-turboboa
       w4g128-aespa w3g128-aespa w2g64-aespa w3g128-turboboa-block
       w3g128-turboboa-corr-block
       all-w3g128-gptq mixed3.0-gptq mixed2.5-gptq mixed4.9-boa mixed4.0-boa
       ort-rtn4
       w3g128-gptq-block w3g128-gptq2s-block w8-a8 w8-a8-smooth w8-a8s
       w8-a8s-smooth w8-a8s-rotate w4g128-a16
       w4g128-a8 w4g128-a8-smooth w4g128-a16-rotate w4g128-a8-rotate
       w4g128-a4 w4g128-a4-rotate w8-a4-rotate w4g128-a16-rotate-gptq
       w4g128-a8-rotate-gptq
       w4g128-a4-rotate-gptq w4g128-a4d w4g128-a4d-rotate w4g128-mx
       w4g128-mx-rotate w4g128-amx w4g128-amx-rotate ort-static8 qc-ort-static8
       ort-dynamic8 qc-ort-dynamic8 w8-a8u
       bcq2g128 bcq3g128 bcq4g128 anybcq4g128)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${order[@]}")

scripts/fetch_models.sh smollm2 >/dev/null
[ -f .cache/text/austen/persuasion.txt ] || "$PYTHON" scripts/fetch_austen.py
onnx=.cache/models/smollm2-onnx/smollm2_s512.onnx
[ -f "$onnx" ] || "$PYTHON" scripts/build_smollm2_onnx.py --seq-len 512
work="$BUILD/bench-gptq"
mkdir -p "$work"
calib="$work/emma${CALIB_SAMPLES:-16}.npy"
[ -f "$calib" ] || "$PYTHON" scripts/make_calib_tokens.py --samples "${CALIB_SAMPLES:-16}" -o "$calib"
stats="$work/all${CALIB_SAMPLES:-16}.qcstats"
if [ ! -f "$stats" ]; then
  t0=$(date +%s)
  "$BUILD/bin/qc-calibrate" "$onnx" --calib-mode all --calib-data "$calib" -o "$stats"
  echo "calibration (all layers, ${CALIB_SAMPLES:-16} x 512 tokens): $(( $(date +%s) - t0 ))s" | tee "$work/calibration.txt"
fi
results="$work/results.txt"
touch "$results"
for r in "${selected[@]}"; do
  [ -n "${rows[$r]+x}" ] || { echo "unknown row '$r'" >&2; exit 2; }
  spec="${rows[$r]}"
  art="$work/$r"
  t0=$(date +%s)
  if [[ "$spec" == QDQ* ]]; then
    # onnxruntime's static QDQ model, or its quantize_dynamic one, compiled
    # by qc (its int8 codes and activation schemes on qc's kernels).
    if [ "$spec" = QDQ ]; then
      model="$work/ort-static8.onnx"
      [ -f "$model" ] || "$PYTHON" scripts/ort_quantize.py "$onnx" "$model" --static "$calib"
    else
      model="$work/ort-dynamic8.onnx"
      [ -f "$model" ] || "$PYTHON" scripts/ort_quantize.py "$onnx" "$model" --dynamic
    fi
    "$BUILD/bin/qc-compile" "$model" -o "$art" > "$work/$r.report"
    bpw=-
    target="$art"
  elif [[ "$spec" == ORT* ]]; then
    model="$work/$r.onnx"
    if [ "$spec" = "ORT static" ]; then
      "$PYTHON" scripts/ort_quantize.py "$onnx" "$model" --static "$calib"
    elif [ "$spec" = "ORT dynamic" ]; then
      "$PYTHON" scripts/ort_quantize.py "$onnx" "$model" --dynamic
    else
      "$PYTHON" scripts/ort_quantize.py "$onnx" "$model" --bits "${spec#ORT }" --block 128
    fi
    bpw=-
    target="$model"
  else
    flags=()
    read -r -a words <<< "${spec% BLOCK}"
    for w in "${words[@]}"; do [ "$w" = ALL ] || [ "$w" = HEADFP ] || flags+=("$w"); done
    if [[ "$spec" == *HEADFP* ]]; then flags+=(--quant-exclude "/lm_head/MatMul")
    elif [[ "$spec" != *ALL* ]] && [ -n "$spec" ]; then flags+=("${head8[@]}"); fi
    if [[ "$spec" == *BLOCK ]]; then
      flags+=(--calib-data "$calib" --calib-samples "${BLOCK_SAMPLES:-8}" --calib-mode block
              --calib-stats "$work/$r.qcstats")
    elif [[ "$spec" == *rotate* && "$spec" == *gptq* ]] ||
         [[ "$spec" == *int8s* && ( "$spec" == *smooth* || "$spec" == *rotate* ) ]]; then
      # Statistics of the rotated model: qc-compile gathers them.
      flags+=(--calib-data "$calib" --calib-mode all)
    elif [[ "$spec" == *boa* || "$spec" == *aespa* ]]; then
      # The same statistics plus BoA's attention taps (same data, same
      # float model: H is the GPTQ rows').
      boastats="$work/all${CALIB_SAMPLES:-16}-boa.qcstats"
      if [ ! -f "$boastats" ]; then
        t2=$(date +%s)
        "$BUILD/bin/qc-calibrate" "$onnx" --calib-mode all --algo boa --calib-data "$calib" -o "$boastats"
        echo "calibration with attention taps: $(( $(date +%s) - t2 ))s" | tee -a "$work/calibration.txt"
      fi
      flags+=(--calib-stats "$boastats")
    elif [[ "$spec" == *gptq* || "$spec" == *assign* || "$spec" == *smooth* ||
            "$spec" == *int8s* ]]; then
      flags+=(--calib-stats "$stats")
    fi
    "$BUILD/bin/qc-compile" "$onnx" -o "$art" "${flags[@]}" > "$work/$r.report"
    bpw=32.000
    [ -z "$spec" ] || bpw=$("$PYTHON" -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['total']['bits_per_weight'])" "$art/quant-report.json")
    target="$art"
  fi
  t1=$(date +%s)
  if [[ "$spec" == *--min-planes* ]]; then
    # AnyBCQ: one artifact, every precision it serves (its own bpw each).
    for p in $("$PYTHON" -c "import json,sys; m=json.load(open(sys.argv[1])); print(*sorted([m['planes']] + [e['planes'] for e in m['entries']]))" "$art/manifest.json"); do
      ppl=$("$PYTHON" scripts/eval_ppl.py "$target" --planes "$p" --tokens "$tokens" --qc-build "$BUILD" |
            grep -oE "perplexity [0-9.]+" | awk '{print $2}')
      printf "%-22s %8s %12s %7ss\n" "$r@$p" "$bpw" "$ppl" "$((t1 - t0))" | tee -a "$results"
    done
    continue
  fi
  ppl=$("$PYTHON" scripts/eval_ppl.py "$target" --tokens "$tokens" --qc-build "$BUILD" |
        grep -oE "perplexity [0-9.]+" | awk '{print $2}')
  printf "%-22s %8s %12s %7ss\n" "$r" "$bpw" "$ppl" "$((t1 - t0))" | tee -a "$results"
done
echo
printf "%-22s %8s %12s %8s\n" row bpw perplexity quantize
cat "$results"
