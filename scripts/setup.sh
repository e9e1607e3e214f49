#!/usr/bin/env bash
# Idempotent installer for a fresh Debian 12 machine (root or sudo).
#
# Installs the Debian packages the qc build and tests need, and the Python
# packages the scripts need.  The common case (everything already present) is
# fast and touches no network: packages are checked with dpkg-query and
# Python modules with an import first.
#
# Usage: scripts/setup.sh            # system packages + python packages
#        QC_SETUP_SKIP_APT=1 scripts/setup.sh   # python only
#        QC_SETUP_SKIP_PIP=1 scripts/setup.sh   # apt only
set -euo pipefail

APT_PACKAGES=(
  cmake ninja-build ccache g++
  llvm-22-dev libmlir-22-dev libmlir-22 mlir-22-tools llvm-22-tools
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libeigen3-dev libgtest-dev libbenchmark-dev python3-pip python3-venv unzip
  libicu-dev nlohmann-json3-dev
  qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
  clang libclang-rt-dev
)

# python module name -> pip requirement
PY_MODULES=(onnx onnxruntime numpy gguf tokenizers pytest setuptools wheel matplotlib)
declare -A PY_REQ=([onnx]=onnx [onnxruntime]=onnxruntime [numpy]=numpy [gguf]=gguf [tokenizers]=tokenizers
                   [pytest]=pytest [setuptools]=setuptools [wheel]=wheel [matplotlib]=matplotlib)

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
PYTHON="${PYTHON:-python3}"

log() { echo "setup: $*"; }

# ---------------------------------------------------------------- apt
if [ -z "${QC_SETUP_SKIP_APT:-}" ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    if [ "$st" != "install ok installed" ]; then missing+=("$p"); fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # update once: only if the package lists are empty or a package is unknown
    need_update=0
    if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
      need_update=1
    else
      for p in "${missing[@]}"; do
        if ! apt-cache show "$p" >/dev/null 2>&1; then need_update=1; break; fi
      done
    fi
    if [ "$need_update" -eq 1 ]; then $SUDO apt-get update; fi
    if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
      if [ "$need_update" -eq 0 ]; then
        # stale lists (e.g. a security update replaced a version): update once, retry
        $SUDO apt-get update
        $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
      else
        exit 1
      fi
    fi
  else
    log "Debian packages: all present"
  fi
fi

# ---------------------------------------------------------------- pip
if [ -z "${QC_SETUP_SKIP_PIP:-}" ]; then
  reqs=()
  for m in "${PY_MODULES[@]}"; do
    if ! "$PYTHON" -c "import $m" >/dev/null 2>&1; then reqs+=("${PY_REQ[$m]}"); fi
  done
  if [ "${#reqs[@]}" -gt 0 ]; then
    log "installing Python packages: ${reqs[*]}"
    pip_install() {
      local out rc
      set +e
      out="$("$PYTHON" -m pip install --disable-pip-version-check "$@" 2>&1)"
      rc=$?
      set -e
      echo "$out" | tail -n 5
      if [ $rc -ne 0 ] && echo "$out" | grep -q "externally-managed-environment"; then
        log "pip: externally managed environment, retrying with --break-system-packages"
        "$PYTHON" -m pip install --disable-pip-version-check --break-system-packages "$@"
        return $?
      fi
      return $rc
    }
    # a root install into the system python needs no sudo; otherwise install for the user
    if [ "$(id -u)" -eq 0 ] || [ -w "$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" ]; then
      pip_install "${reqs[@]}"
    else
      pip_install --user "${reqs[@]}"
    fi
  else
    log "Python packages: all present"
  fi
fi
log "done"
