#!/usr/bin/env bash
# libFuzzer harnesses of qc's file readers (fuzz/*_fuzzer.cpp) with ASan and
# UBSan, run for SECONDS each on a corpus seeded from the test inputs.
#
#   scripts/fuzz.sh TARGET|all [SECONDS]   (default 60)
#
# TARGET: npy (qc-run's and qc-calibrate's .npy reader), manifest (the
# artifact manifest parser of libqcrt), stats (qc-calibrate's statistics
# files); onnx (the ONNX importer, with and without libonnx's checker), gguf
# (the GGUF reader, dequantizers, tokenizer and llama import), recipe (the
# JSON recipe reader and its qc-quantize options). The last three link the
# compiler's libraries: fuzz.sh configures build-fuzz/cmake with clang and
# -DQC_FUZZ=ON (qc instrumented, LLVM/MLIR not; the first build takes
# ~15 minutes on 2 cores, later ones are incremental). A crash leaves its
# input in build-fuzz/TARGET/ (crash-*, oom-*, timeout-*); fix it and pin it
# with a regression test in the reader's lit suite (a generator of the bad
# input and the message it now gets: test/Import/errors.test, gguf.test,
# E2E/quantized.test). QC_FUZZ_SEED fixes libFuzzer's random seed (0, the
# default: a new one each run). Ends with one line per target: executions,
# coverage (edges), crashes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
target="${1:?usage: fuzz.sh npy|manifest|stats|onnx|gguf|recipe|all [SECONDS]}"
seconds="${2:-60}"
out="${QC_FUZZ_DIR:-build-fuzz}"
CXX="${QC_FUZZ_CXX:-clang++}"
command -v "$CXX" >/dev/null || { echo "fuzz: $CXX not found (apt install clang)" >&2; exit 1; }
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -Iinclude -Iruntime/include -Iruntime/src
       -I/usr/include/eigen3)

sources() {
  case "$1" in
    npy) echo runtime/src/Npy.cpp ;;
    manifest) echo runtime/src/Manifest.cpp runtime/src/Status.cpp ;;
    stats) echo lib/Quant/Stats.cpp lib/Support/AtomicFile.cpp ;;
    *) echo "fuzz: unknown target '$1' (npy, manifest, stats, onnx, gguf, recipe)" >&2; return 1 ;;
  esac
}

# Seeds: files of the kind the target reads, from the tests and builds.
seed() {
  local dir="$1/corpus" files=() f so
  mkdir -p "$dir"
  case "$2" in
    npy) mapfile -t files < <(find test build/test -name '*.npy' -size -64k 2>/dev/null | head -n 200) ;;
    stats) mapfile -t files < <(find build/test -name '*.qcstats' -size -256k 2>/dev/null | head -n 50) ;;
    onnx)
      # The suite's small models and a sample of ONNX's node tests (one op
      # each: the importer's op coverage), 300 at most so a short run gets
      # past the seeds.
      mapfile -t files < <({ find build/test -name '*.onnx' -size -64k 2>/dev/null | sort | head -n 100
                             find /usr/share/libonnx-testdata/data/node -name model.onnx 2>/dev/null | sort | awk 'NR % 5 == 0'; } | head -n 300)
      local i=0
      for f in "${files[@]}"; do cp -f "$f" "$dir/seed-$i.onnx"; i=$((i + 1)); done
      return 0 ;;
    gguf)
      # Small llama models (d = 64) by the GGUF import test's generator.
      if "${PYTHON:-python3}" -c "import gguf" 2>/dev/null; then
        "${PYTHON:-python3}" test/Import/Inputs/gguf_llama.py make "$dir/small.gguf" --small
        "${PYTHON:-python3}" test/Import/Inputs/gguf_llama.py make "$dir/tied.gguf" --small --tied
      else
        echo "fuzz: no python gguf package; the gguf fuzzer starts from nothing" >&2
      fi
      return 0 ;;
    recipe) files=(fuzz/seeds/recipe/*.json) ;;
    manifest)
      # The embedded manifest text of compiled test artifacts.
      mapfile -t files < <(find build/test -name model.so 2>/dev/null | head -n 40)
      for so in "${files[@]}"; do
        strings -n 1 "$so" | sed -n '/^qc-artifact 1$/,/^end$/p' \
          > "$dir/$(echo "$so" | md5sum | cut -c1-12)" || true
      done
      return 0 ;;
  esac
  for f in "${files[@]}"; do cp -f "$f" "$dir/" 2>/dev/null || true; done
}

# The harnesses that link the compiler: one CMake build folder for all.
build_linked() {
  local b="$out/cmake" cflags
  cflags="-O1 -gline-tables-only -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  if [ ! -f "$b/build.ninja" ]; then
    cmake -G Ninja -S . -B "$b" -DQC_FUZZ=ON -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_C_COMPILER="${QC_FUZZ_CC:-clang}" -DCMAKE_CXX_COMPILER="$CXX" \
      -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
      -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cflags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >"$out/cmake.log" 2>&1 \
      || { tail -n 20 "$out/cmake.log" >&2; return 1; }
  fi
  # Line tables put the folder into ccache's hash; without it a fresh clone
  # reuses the objects of an earlier one (their debug paths name that one).
  CCACHE_NOHASHDIR=true ninja -C "$b" -j"${QC_JOBS:-2}" "qc-fuzz-$1" >"$out/build-$1.log" 2>&1 \
    || { tail -n 30 "$out/build-$1.log" >&2; return 1; }
  cp -f "$b/bin/qc-fuzz-$1" "$2"
}

run() {
  local t="$1" dir="$out/$1"
  mkdir -p "$dir"
  case "$t" in
    onnx|gguf|recipe) build_linked "$t" "$dir/fuzzer" ;;
    # shellcheck disable=SC2046
    *) "$CXX" "${flags[@]}" "fuzz/${t}_fuzzer.cpp" $(sources "$t") -o "$dir/fuzzer" ;;
  esac
  seed "$dir" "$t"
  local log="$dir/fuzz.log"
  # Leak checks and user poisoning off for the same reasons as
  # scripts/sanitize.sh (MLIR's registries live until exit; LLVM's
  # allocators poison in instrumented headers, not in libMLIR). An input
  # that takes a minute or 2 GB is a finding too.
  (cd "$dir" && ASAN_OPTIONS="detect_leaks=0:allow_user_poisoning=0:${ASAN_OPTIONS:-}" \
      UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
      ./fuzzer -max_total_time="$seconds" -print_final_stats=1 -timeout=60 \
      -seed="${QC_FUZZ_SEED:-0}" \
      -max_len=65536 -rss_limit_mb=2048 corpus) >"$log" 2>&1 || true
  local execs cov crashes
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
  crashes=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  echo "fuzz $t: ${seconds}s, $execs executions, $cov edges covered, $crashes crash(es)"
  [ "$crashes" -eq 0 ]
}

if [ "$target" = all ]; then
  status=0
  for t in npy manifest stats onnx gguf recipe; do run "$t" || status=1; done
  exit $status
fi
run "$target"
