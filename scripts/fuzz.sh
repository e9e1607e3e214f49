#!/usr/bin/env bash
# libFuzzer harnesses of qc's file readers (fuzz/*_fuzzer.cpp), built with
# clang's -fsanitize=fuzzer,address,undefined straight from their sources
# (no CMake: the readers are plain C++), run for SECONDS each on a corpus
# seeded from the test inputs.
#
#   scripts/fuzz.sh TARGET|all [SECONDS]   (default 60)
#
# TARGET: npy (qc-run's and qc-calibrate's .npy reader), manifest (the
# artifact manifest parser of libqcrt), stats (qc-calibrate's statistics
# files). A crash leaves its input in build-fuzz/TARGET/ (crash-*); make it a
# regression test in test/fuzz-regressions/TARGET/ (scripts/test.sh replays
# every file there). Ends with one line per target: executions, coverage
# (edges), crashes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
target="${1:?usage: fuzz.sh npy|manifest|stats|all [SECONDS]}"
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
    *) echo "fuzz: unknown target '$1' (npy, manifest, stats)" >&2; return 1 ;;
  esac
}

# Seeds: files of the kind the target reads, from the tests and builds.
seed() {
  local dir="$1/corpus" files=() f so
  mkdir -p "$dir"
  case "$2" in
    npy) mapfile -t files < <(find test build/test -name '*.npy' -size -64k 2>/dev/null | head -n 200) ;;
    stats) mapfile -t files < <(find build/test -name '*.qcstats' -size -256k 2>/dev/null | head -n 50) ;;
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

run() {
  local t="$1" dir="$out/$1"
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  "$CXX" "${flags[@]}" "fuzz/${t}_fuzzer.cpp" $(sources "$t") -o "$dir/fuzzer"
  seed "$dir" "$t"
  local log="$dir/fuzz.log"
  (cd "$dir" && ./fuzzer -max_total_time="$seconds" -print_final_stats=1 \
      -max_len=65536 -rss_limit_mb=2048 corpus) >"$log" 2>&1 || true
  local execs cov crashes
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
  crashes=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' | wc -l)
  echo "fuzz $t: ${seconds}s, $execs executions, $cov edges covered, $crashes crash(es)"
  [ "$crashes" -eq 0 ]
}

if [ "$target" = all ]; then
  status=0
  for t in npy manifest stats; do run "$t" || status=1; done
  exit $status
fi
run "$target"
