#!/usr/bin/env bash
# The test command (README): installs what is missing, builds, and runs every
# suite. Ends with one line "N passed, N failed, N skipped".
#
#   1. check-qc: the lit suites (FileCheck tests of the dialect, the passes,
#      the importer's good and bad models, damaged artifacts, e2e runs against
#      onnxruntime) and the gtest unit tests;
#   2. ONNX conformance: every node test of Debian's libonnx-testdata and of
#      the onnx 1.22.0 wheel, import -> compile -> run -> compare with the
#      stored outputs (scripts/conformance.py; numerically failed must be 0);
#   3. real model: all-MiniLM-L6-v2 from its PyPI wheel, compiled by qc and
#      compared with onnxruntime on tokenized text (max rel err <= 1e-4), and
#      quantized by qc (w4g32, RTN) against onnxruntime's float outputs
#      (cosine >= 0.95; measured 0.976);
#   4. the Python package (python/), pip-installed into a fresh virtual
#      environment: pytest compiles, loads and runs models from Python
#      (MiniLM among them) against onnxruntime and qc-run;
#   5. libFuzzer on the .npy, manifest and statistics readers, the ONNX and
#      GGUF importers and the recipe reader (the last three need a clang
#      build of qc in build-fuzz/cmake, ~15 min the first time),
#      QC_FUZZ_SECONDS (default 30) each (scripts/fuzz.sh).
#
# A stage fails when it ran fewer tests than its floor (below) or nothing at
# all; the conformance run must match the committed baseline
# (test/conformance-baseline.tsv: every test, and why the unsupported ones
# are). Every skip is named with its reason, and the closing line counts
# them: "N passed, N failed, N skipped".
#
# Environment: QC_JOBS (build jobs, default 2), QC_SKIP_SETUP=1 (no apt/pip),
# QC_SKIP_MODELS=1 (skip stage 3, e.g. offline; reported as skipped).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
LOG="$(realpath -m "$BUILD")/test-logs"
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
skipped=0
summary=()
# add STAGE "P passed, F failed[, S skipped|unsupported]"
add() {
  if [[ "$2" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ (skipped|unsupported))?$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
    summary+=("$1: $2")
  else
    failed=$((failed + 1))
    summary+=("$1: did not finish")
  fi
}

# Floors: a stage that runs fewer tests than this has lost some (a tool or a
# feature check broke, a dependency went missing). Raise them as tests land.
# Besides, every lit test file under test/ must be run or named as skipped.
LIT_FLOOR=52     # lit test files that ran (passed or failed): 60 on an
                 # x86 host with AVX-512 VBMI and qemu-aarch64, 8 of them need those
GTEST_FLOOR=140  # gtest cases
PYTEST_FLOOR=8   # tests of the Python package (14; MiniLM's needs stage 3's model)

# ---- 1. lit + gtest
echo "== check-qc"
rm -f "$LOG/lit.json"
LIT_OPTS="${LIT_OPTS:-} -o $LOG/lit.json" ninja -C "$BUILD" check-qc 2>&1 \
  | tee "$LOG/check-qc.log" | tail -n 12
"$PYTHON" scripts/lit_report.py "$LOG/lit.json" --lit-floor "$LIT_FLOOR" \
  --gtest-floor "$GTEST_FLOOR" | tee "$LOG/lit-report.log" | sed '$d'
add check-qc "$(tail -n 1 "$LOG/lit-report.log")"

# ---- 2. ONNX conformance
echo "== ONNX conformance"
if scripts/fetch_onnx_testdata.sh >"$LOG/fetch-testdata.log" 2>&1; then :; else
  echo "test: could not fetch the onnx 1.22.0 node tests (see $LOG/fetch-testdata.log);" \
       "the baseline check below fails on every test of theirs" >&2
fi
"$PYTHON" scripts/conformance.py --qc-build "$BUILD" -j "${QC_JOBS:-2}" --list-failures \
  --baseline test/conformance-baseline.tsv --json "$LOG/conformance.json" 2>&1 \
  | tee "$LOG/conformance.log" | grep -E "^(FAILED|BASELINE|total|baseline|conformance: |  )"
add "conformance (unsupported as pinned by the baseline)" "$(tail -n 1 "$LOG/conformance.log")"

# ---- 3. a real model against onnxruntime: float, and quantized by qc
for spec in "minilm" "minilm w4g32"; do
  name="${spec// /-}"
  if [ -n "${QC_SKIP_MODELS:-}" ]; then
    echo "== $spec vs onnxruntime: skipped (QC_SKIP_MODELS is set)"
    add "$name" "0 passed, 0 failed, 1 skipped"
    continue
  fi
  echo "== $spec vs onnxruntime"
  read -r model scheme <<<"$spec"
  if scripts/models.sh "$model" check ${scheme:+"$scheme"} >"$LOG/$name.log" 2>&1; then
    grep -E "max rel err|qc-compile" "$LOG/$name.log"
    add "$name" "1 passed, 0 failed"
  else
    tail -n 20 "$LOG/$name.log"
    echo "$name: FAILED (see $LOG/$name.log)"
    add "$name" "0 passed, 1 failed"
  fi
done

# ---- 4. the Python package, installed into a fresh virtual environment
echo "== python package (pip install ./python, pytest)"
venv="$(realpath -m "$BUILD")/py-venv"
rm -rf "$venv"
if "$PYTHON" -m venv --system-site-packages "$venv" >"$LOG/py-venv.log" 2>&1 &&
   "$venv/bin/python" -m pip install --disable-pip-version-check --no-build-isolation \
     --no-deps ./python >>"$LOG/py-venv.log" 2>&1; then
  # From the build folder, so that `import qc` finds the installed package.
  (cd "$BUILD" && QC_BUILD="$(pwd)" QC_EXPECT_INSTALLED=1 \
     "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$ROOT/python/tests") \
    >"$LOG/pytest.log" 2>&1
  counts=$("$PYTHON" - "$LOG/pytest.log" "$PYTEST_FLOOR" <<'PY'
import re, sys
last = open(sys.argv[1]).read().strip().splitlines()[-1]
n = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error)", last)}
failed = n.get("failed", 0) + n.get("error", 0)
if n.get("passed", 0) < int(sys.argv[2]):
    failed = max(failed, 1)
print(f"{n.get('passed', 0)} passed, {failed} failed, {n.get('skipped', 0)} skipped")
PY
)
  grep -E "passed|failed|SKIPPED" "$LOG/pytest.log" | tail -n 4
else
  tail -n 20 "$LOG/py-venv.log"
  counts="0 passed, 1 failed"
fi
add "python package" "$counts"

# The bad-input table (docs/bad-inputs.md) is made from the tests' expected
# failures: it must be current.
if "$PYTHON" scripts/bad_input_table.py --check >"$LOG/bad-inputs.log" 2>&1; then
  add "bad-input table current" "1 passed, 0 failed"
else
  cat "$LOG/bad-inputs.log"
  add "bad-input table current" "0 passed, 1 failed"
fi

# ---- 5. the file readers under libFuzzer, briefly (scripts/fuzz.sh)
fuzz_seconds="${QC_FUZZ_SECONDS:-30}"
echo "== fuzzing the readers (${fuzz_seconds} s each)"
fuzzer_rt="$(clang++ -print-file-name="libclang_rt.fuzzer-$(uname -m).a" 2>/dev/null || true)"
if ! command -v clang++ >/dev/null || [ ! -f "$fuzzer_rt" ]; then
  echo "fuzzing: skipped (no clang++ with libFuzzer: apt install clang libclang-rt-dev)"
  add "fuzzing" "0 passed, 0 failed, 6 skipped"
else
  fuzz_passed=0 fuzz_failed=0
  for t in npy manifest stats onnx gguf recipe; do
    # A fixed seed: the same mutations each run, so a run of the test
    # command finds what it found before (long runs use new seeds).
    if QC_FUZZ_SEED="${QC_FUZZ_SEED:-1}" scripts/fuzz.sh "$t" "$fuzz_seconds" >"$LOG/fuzz-$t.log" 2>&1; then
      fuzz_passed=$((fuzz_passed + 1))
    else
      fuzz_failed=$((fuzz_failed + 1))
    fi
    tail -n 1 "$LOG/fuzz-$t.log"
  done
  add "fuzzing" "$fuzz_passed passed, $fuzz_failed failed"
fi

echo "== summary"
for line in "${summary[@]}"; do echo "  $line"; done
echo "test: finished in $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
