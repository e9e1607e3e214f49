#!/usr/bin/env bash
# Builds qc with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs a target under them (default: check-qc, the lit and
# unit suite). Every tool, the runtime and the unit tests are instrumented
# (the LLVM / MLIR libraries and the generated model.so are not); any
# sanitizer report fails the test that hit it. Not part of the test command:
# an instrumented build takes about half an hour on 2 cores.
#
#   scripts/sanitize.sh [NINJA_TARGET...]
#   QC_SANITIZE   address (default: ASan + UBSan) or thread (TSan; build
#                 the runtime's targets, e.g. qcrt-tests qc-run: the
#                 threads are the runtime's)
#   QC_BUILD_DIR  build folder (default build-asan / build-tsan)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${QC_SANITIZE:-address}"
case "$MODE" in
  address)
    BUILD="${QC_BUILD_DIR:-build-asan}"
    # vptr checks need RTTI, which LLVM's headers build without.
    flags="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    link="-fsanitize=address,undefined" ;;
  thread)
    BUILD="${QC_BUILD_DIR:-build-tsan}"
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    link="-fsanitize=thread" ;;
  *) echo "sanitize.sh: QC_SANITIZE must be address or thread" >&2; exit 2 ;;
esac
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$link" -DCMAKE_SHARED_LINKER_FLAGS="$link"
fi
# Leak checking is off: MLIR's registries and LLVM's option globals live
# until exit by design. User poisoning is off: LLVM's allocators poison
# their free memory in code inlined from its headers (instrumented here) but
# not in the uninstrumented libMLIR that shares them, a false
# use-after-poison on every attribute.
export ASAN_OPTIONS="detect_leaks=0:allow_user_poisoning=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="halt_on_error=1:${TSAN_OPTIONS:-}"
if [ $# -eq 0 ]; then set -- check-qc; fi
ninja -C "$BUILD" -j"${QC_JOBS:-2}" "$@"
