#!/usr/bin/env bash
# The test command (README): installs what is missing, builds, and runs every
# suite. Ends with one line "N passed, N failed".
#
#   1. check-qc: the lit suites (FileCheck tests of the dialect, the passes,
#      the importer's good and bad models, damaged artifacts, e2e runs against
#      onnxruntime) and the gtest unit tests;
#   2. ONNX conformance: every node test of Debian's libonnx-testdata and of
#      the onnx 1.22.0 wheel, import -> compile -> run -> compare with the
#      stored outputs (scripts/conformance.py; numerically failed must be 0);
#   3. real model: all-MiniLM-L6-v2 from its PyPI wheel, compiled by qc and
#      compared with onnxruntime on tokenized text (max rel err <= 1e-4).
#
# Environment: QC_JOBS (build jobs, default 2), QC_SKIP_SETUP=1 (no apt/pip),
# QC_SKIP_MODELS=1 (skip stage 3, e.g. offline).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
LOG="$BUILD/test-logs"
PYTHON="${PYTHON:-python3}"
start=$(date +%s)

die() { echo "test: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

if [ -z "${QC_SKIP_SETUP:-}" ]; then
  scripts/setup.sh || die "setup failed"
fi
scripts/build.sh || die "build failed"
mkdir -p "$LOG"

passed=0
failed=0
add() { passed=$((passed + $1)); failed=$((failed + $2)); }

# ---- 1. lit + gtest
echo "== check-qc"
ninja -C "$BUILD" check-qc 2>&1 | tee "$LOG/check-qc.log" | tail -n 12
p=$(grep -oE "^ *Passed *: *[0-9]+" "$LOG/check-qc.log" | grep -oE "[0-9]+$" || echo 0)
f=0
for k in Failed Unresolved "Unexpectedly Passed" "Timed Out"; do
  n=$(grep -oE "^ *$k *: *[0-9]+" "$LOG/check-qc.log" | grep -oE "[0-9]+$" || true)
  f=$((f + ${n:-0}))
done
if [ "${p:-0}" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi # lit did not run
add "${p:-0}" "$f"
echo "check-qc: $p passed, $f failed"

# ---- 2. ONNX conformance
echo "== ONNX conformance"
if scripts/fetch_onnx_testdata.sh >"$LOG/fetch-testdata.log" 2>&1; then :; else
  echo "test: could not fetch the onnx 1.22.0 node tests (see $LOG/fetch-testdata.log);" \
       "running Debian's only" >&2
fi
"$PYTHON" scripts/conformance.py --qc-build "$BUILD" -j "${QC_JOBS:-2}" --list-failures \
  --json "$LOG/conformance.json" 2>&1 | tee "$LOG/conformance.log" | grep -E "^(FAILED|total|  )" 
line=$(tail -n 1 "$LOG/conformance.log")
if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ unsupported$ ]]; then
  add "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  echo "conformance: $line"
else
  add 0 1
  echo "conformance: the runner did not finish (see $LOG/conformance.log)"
fi

# ---- 3. a real model against onnxruntime
if [ -z "${QC_SKIP_MODELS:-}" ]; then
  echo "== all-MiniLM-L6-v2 vs onnxruntime"
  if scripts/models.sh minilm check >"$LOG/minilm.log" 2>&1; then
    add 1 0
    grep -E "max rel err" "$LOG/minilm.log"
    echo "minilm: passed"
  else
    add 0 1
    tail -n 20 "$LOG/minilm.log"
    echo "minilm: FAILED (see $LOG/minilm.log)"
  fi
fi

echo "test: finished in $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
