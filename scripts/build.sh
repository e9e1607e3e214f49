#!/usr/bin/env bash
# Configure (once) and build the qc tree into build/ (CMakeLists.txt picks
# up ccache by itself).
#   QC_JOBS=N     parallel jobs (default 2)
#   QC_BUILD_DIR  build folder (default build)
#   CMAKE_ARGS    extra arguments for the first configure
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${QC_BUILD_DIR:-build}"
JOBS="${QC_JOBS:-2}"
if [ ! -f "$BUILD/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -G Ninja -S . -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    ${CMAKE_ARGS:-}
fi
ninja -C "$BUILD" -j"$JOBS" "$@"
