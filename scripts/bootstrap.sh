#!/usr/bin/env bash
# Installs what moe-mlir needs, from Debian's packages: building, the main
# job (scripts/demo.sh) and the tests. Idempotent: installs only what is
# missing, so a second run costs a few dpkg queries. Needs root (or sudo)
# the first time.
#
#   scripts/bootstrap.sh            Debian packages only (what the build and
#                                   the demo need)
#   scripts/bootstrap.sh --python   also the Python groups of the checks
#                                   against foreign code (IREE, PyTorch with
#                                   transformers: about 3 GB to download),
#                                   in .venv; scripts/test.sh and the
#                                   benchmarks ask for them
set -euo pipefail
python=0
case "${1:-}" in
  --python) python=1 ;;
  "") ;;
  *) echo "usage: scripts/bootstrap.sh [--python]" >&2; exit 2 ;;
esac

packages=(
  cmake ninja-build g++ python3
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev
  libopenblas-dev pkg-config
  libopenmpi-dev openmpi-bin
  python3-venv
  clang-22 libclang-rt-22-dev
  libomp-22-dev
  clang-format-22
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${#missing[@]} Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install packages" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "bootstrap: apt-get update"
  $sudo apt-get update -qq
  # apt's own lines, thinned to a progress report: the download size, then
  # every tenth package unpacked and set up. The full log stays for errors.
  log=$(mktemp)
  start=$SECONDS
  if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}" 2>&1 | tee "$log" |
      awk '/^Need to get|^After this operation/ { print "bootstrap: apt: " $0; fflush() }
           /^Setting up / { n++; if (n % 10 == 1) { print "bootstrap: apt: setting up package " n ": " $3; fflush() } }'; then
    tail -20 "$log" >&2
    rm -f "$log"
    echo "bootstrap: apt-get install failed" >&2
    exit 1
  fi
  rm -f "$log"
  echo "bootstrap: Debian packages installed in $((SECONDS - start)) s"
fi

# Debian's MLIR CMake package points lit at an llvm-lit that is not
# installed; we pass /usr/lib/llvm-22/bin/lit explicitly (scripts/build.sh).
for tool in /usr/lib/llvm-22/bin/lit /usr/lib/llvm-22/bin/FileCheck \
            /usr/lib/llvm-22/bin/mlir-runner /usr/lib/llvm-22/lib/cmake/mlir/MLIRConfig.cmake; do
  [ -e "$tool" ] || { echo "bootstrap: $tool is missing after install" >&2; exit 1; }
done
# Python packages of the IREE check, the Hugging Face conformance tests and
# the benchmarks' peers, in a venv; never fails the bootstrap.
if ((python)); then
  "$(dirname "$0")/bootstrap-python.sh" || echo "bootstrap: Python setup failed; continuing"
fi

echo "bootstrap: ok (MLIR $(/usr/lib/llvm-22/bin/llvm-config --version))"
