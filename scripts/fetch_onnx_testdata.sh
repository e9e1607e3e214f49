#!/usr/bin/env bash
# Fetch the ONNX backend node tests shipped in the PyPI onnx wheel.
#
# onnx >= 1.23 no longer ships onnx/backend/test/data/node in its wheel, so we
# download one pinned wheel (onnx 1.22.0, cp311 manylinux_2_27 x86_64; the test
# data is platform independent) with `pip download --no-deps`, verify its
# SHA-256 and unpack only the node tests into .cache/onnx-testdata/1.22.0/node/
# (ignored by git).  scripts/conformance.py picks that folder up by default.
#
# Usage: scripts/fetch_onnx_testdata.sh [CACHE_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${1:-$ROOT/.cache/onnx-testdata}"
VERSION=1.22.0
WHEEL=onnx-1.22.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
SHA256=1d0a2bdb15eb2b3cb65c438f3423d9620d14fdce32f92380e6bb1b2e09568ef5
PYTHON="${PYTHON:-python3}"

DEST="$CACHE/$VERSION"
if [ -f "$DEST/.complete" ]; then
  echo "onnx $VERSION node tests: present in $DEST/node ($(ls "$DEST/node" | wc -l) tests)"
  exit 0
fi
mkdir -p "$CACHE/wheels"
if [ ! -f "$CACHE/wheels/$WHEEL" ] || ! echo "$SHA256  $CACHE/wheels/$WHEEL" | sha256sum -c --quiet - 2>/dev/null; then
  rm -f "$CACHE/wheels/$WHEEL"
  "$PYTHON" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_28_x86_64 \
    -d "$CACHE/wheels" "onnx==$VERSION"
fi
echo "$SHA256  $CACHE/wheels/$WHEEL" | sha256sum -c -
rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp"
"$PYTHON" - "$CACHE/wheels/$WHEEL" "$DEST.tmp" <<'PY'
import os, sys, zipfile
whl, dest = sys.argv[1], sys.argv[2]
prefix = "onnx/backend/test/data/node/"
n = 0
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        rel = info.filename[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            raise SystemExit("bad path in wheel: " + info.filename)
        out = os.path.join(dest, "node", rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        n += 1
print("unpacked %d files" % n)
PY
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
touch "$DEST/.complete"
echo "onnx $VERSION node tests: $(ls "$DEST/node" | wc -l) tests in $DEST/node"
