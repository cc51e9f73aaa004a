#!/usr/bin/env bash
# Installs everything moe-mlir needs to build and test, from Debian's
# packages. Idempotent: installs only what is missing, so a second run costs
# a few dpkg queries. Needs root (or sudo) the first time.
set -euo pipefail

packages=(
  cmake ninja-build g++ python3
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev
  libopenblas-dev pkg-config
  libopenmpi-dev openmpi-bin
  python3-venv
  clang-22 libclang-rt-22-dev
  libomp-22-dev
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install packages" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's MLIR CMake package points lit at an llvm-lit that is not
# installed; we pass /usr/lib/llvm-22/bin/lit explicitly (scripts/build.sh).
for tool in /usr/lib/llvm-22/bin/lit /usr/lib/llvm-22/bin/FileCheck \
            /usr/lib/llvm-22/bin/mlir-runner /usr/lib/llvm-22/lib/cmake/mlir/MLIRConfig.cmake; do
  [ -e "$tool" ] || { echo "bootstrap: $tool is missing after install" >&2; exit 1; }
done
# Python packages of the IREE check and the Hugging Face conformance tests,
# in a venv; never fails the bootstrap.
"$(dirname "$0")/bootstrap-python.sh" || echo "bootstrap: Python setup failed; continuing"

echo "bootstrap: ok (MLIR $(/usr/lib/llvm-22/bin/llvm-config --version))"
