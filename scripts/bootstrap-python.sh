#!/usr/bin/env bash
# Installs the Python packages of the checks against foreign code into one
# virtual environment, ${MOE_VENV:-<source root>/.venv} (.venv/ is ignored by
# git), made with Debian's /usr/bin/python3 (not a pyenv or other python3 on
# PATH). Two groups, each pinned and checked on its own:
#   iree   IREE compiler and runtime (scripts/iree-check.py,
#          test/Integration/IREE): they take our linalg output;
#   torch  PyTorch and Hugging Face transformers (test/Conformance): their
#          MoE blocks are the oracles of the model-family presets. PyPI's
#          torch wheel brings CUDA libraries: about 2.9 GB to download and
#          5.6 GB installed (measured: 131 s and 174 s on the CI machine).
#
# Idempotent: a group whose pinned versions are present is left alone. It
# never fails the bootstrap: when pip cannot install a group it says why and
# goes on, and the lit tests of that group report UNSUPPORTED with the
# reason. MOE_SKIP_IREE=1 / MOE_SKIP_TORCH=1 skip a group. Called by
# scripts/bootstrap.sh; needs Debian's python3 and python3-venv, which
# bootstrap.sh installs. scripts/bootstrap.sh --python runs it.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${MOE_VENV:-$root/.venv}

# Versions checked together, cp311 manylinux_2_28 wheels for x86_64, which
# Debian 12's Python 3.11 and glibc 2.36 satisfy. numpy is in both groups at
# the same version so that neither install moves it.
iree_pins=(numpy==2.4.6 iree-base-compiler==3.13.0 iree-base-runtime==3.13.0)
iree_imports="import numpy, iree.compiler, iree.runtime"
torch_pins=(numpy==2.4.6 torch==2.15.0 transformers==5.23.0 safetensors==0.8.0)
torch_imports="import numpy, torch, transformers, safetensors"

say() { echo "bootstrap: $*"; }

# Debian's python3, never a pyenv shim: the venv must not depend on a
# per-user interpreter.
make_venv() {
  [ -x "$venv/bin/python" ] && return 0
  local python=/usr/bin/python3
  [ -x "$python" ] || { say "$python is missing (install Debian's python3)"; return 1; }
  "$python" -c 'import ensurepip, venv' 2>/dev/null ||
    { say "$python has no venv/ensurepip module (install Debian's python3-venv)"; return 1; }
  "$python" -m venv "$venv" || { say "python3 -m venv $venv failed"; return 1; }
}

# Are these pins installed, and do the imports work?
installed() {
  local imports=$1; shift
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$imports" "$@" >/dev/null 2>&1 <<'EOF'
import importlib.metadata as md
import sys
for pin in sys.argv[2:]:
    name, version = pin.split("==")
    if md.version(name) != version:
        sys.exit(1)
exec(sys.argv[1])
EOF
}

# install_group NAME IMPORTS PIN...: download (timed and measured), then
# install from the download. Returns 0 whatever happens.
install_group() {
  local name=$1 imports=$2; shift 2
  local skip_var="MOE_SKIP_${name^^}"
  if [ "${!skip_var:-0}" = 1 ]; then
    say "$name Python packages skipped ($skip_var=1)"
    return 0
  fi
  if installed "$imports" "$@"; then
    say "$name Python packages present in $venv ($*)"
    return 0
  fi
  give_up() {
    say "$name Python packages not available: $*"
    say "  the $name lit tests will be UNSUPPORTED; rerun scripts/bootstrap.sh to retry"
  }
  make_venv || { give_up "no virtual environment"; return 0; }
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check --retries 2 --timeout 60)
  local wheels log start downloaded done_at bytes count
  wheels=$(mktemp -d) || { give_up "mktemp failed"; return 0; }
  log="$wheels/pip.log"
  # What a first install downloads, measured; pip prints no progress when
  # its output is not a terminal, so say it before the wait.
  local about
  case $name in
    iree) about="about 120 MB, under a minute" ;;
    torch) about="about 3 GB, 2 to 5 minutes" ;;
    *) about="size unknown" ;;
  esac
  say "downloading the $name group ($about): $*"
  start=$(date +%s.%N)
  if ! "${pip[@]}" download -q -d "$wheels" "$@" >"$log" 2>&1; then
    give_up "pip download failed: $(grep -v '^\s*$' "$log" | tail -1)"
    rm -rf "$wheels"; return 0
  fi
  downloaded=$(date +%s.%N)
  bytes=$(du -cb "$wheels"/*.whl "$wheels"/*.tar.gz 2>/dev/null | tail -1 | cut -f1)
  count=$(ls "$wheels" | grep -c -E '\.(whl|tar\.gz)$')
  say "installing the $name group ($count files, $((bytes / 1000000)) MB) into $venv"
  if ! "${pip[@]}" install -q --no-index --find-links "$wheels" "$@" >"$log" 2>&1; then
    give_up "pip install failed: $(grep -v '^\s*$' "$log" | tail -1)"
    rm -rf "$wheels"; return 0
  fi
  done_at=$(date +%s.%N)
  rm -rf "$wheels"
  if ! installed "$imports" "$@"; then
    give_up "the packages installed but do not import (see $venv)"
    return 0
  fi
  awk -v name="$name" -v b="$bytes" -v n="$count" -v s="$start" -v d="$downloaded" \
      -v e="$done_at" -v size="$(du -sm "$venv" | cut -f1)" 'BEGIN {
    printf "bootstrap: %s Python packages: downloaded %d files, %.1f MB in %.1f s; installed in %.1f s (venv now %d MB)\n",
           name, n, b / 1e6, d - s, e - d, size }'
}

install_group iree "$iree_imports" "${iree_pins[@]}"
install_group torch "$torch_imports" "${torch_pins[@]}"
exit 0
