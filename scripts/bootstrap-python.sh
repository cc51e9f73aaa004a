#!/usr/bin/env bash
# Installs the Python packages of the IREE interoperability check
# (scripts/iree-check.py, test/Integration/IREE) into a virtual environment,
# ${MOE_VENV:-<source root>/.venv} (.venv/ is ignored by git), made with
# Debian's /usr/bin/python3 (not a pyenv or other python3 on PATH).
#
# Idempotent: when the venv already has the pinned versions it does nothing.
# It never fails the bootstrap: when pip cannot install the packages it says
# why and exits 0, and lit reports the IREE test UNSUPPORTED with the reason.
# MOE_SKIP_IREE=1 skips it. Called by scripts/bootstrap.sh; needs Debian's
# python3 and python3-venv, which bootstrap.sh installs.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${MOE_VENV:-$root/.venv}

# Versions checked together (IREE 3.13.0 wheels are cp311 manylinux_2_28 for
# x86_64, which Debian 12's Python 3.11 and glibc 2.36 satisfy).
pins=(numpy==2.4.6 iree-base-compiler==3.13.0 iree-base-runtime==3.13.0)

say() { echo "bootstrap: $*"; }
give_up() {
  say "IREE check not available: $*"
  say "  the IREE lit test will be UNSUPPORTED; rerun scripts/bootstrap.sh to retry"
  exit 0
}

if [ "${MOE_SKIP_IREE:-0}" = 1 ]; then
  say "IREE Python packages skipped (MOE_SKIP_IREE=1)"
  exit 0
fi

# Already there, at the pinned versions?
installed() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "${pins[@]}" >/dev/null 2>&1 <<'EOF'
import importlib.metadata as md
import sys
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    if md.version(name) != version:
        sys.exit(1)
import numpy, iree.compiler, iree.runtime  # noqa: E401,F401
EOF
}
if installed; then
  say "IREE Python packages present in $venv (${pins[*]})"
  exit 0
fi

# Debian's python3, never a pyenv shim: the venv must not depend on a
# per-user interpreter.
python=/usr/bin/python3
[ -x "$python" ] || give_up "$python is missing (install Debian's python3)"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -c 'import ensurepip, venv' 2>/dev/null ||
    give_up "$python has no venv/ensurepip module (install Debian's python3-venv)"
  "$python" -m venv "$venv" || give_up "python3 -m venv $venv failed"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --retries 2 --timeout 20)

# Download first (timed and measured), then install from the download.
wheels=$(mktemp -d) || give_up "mktemp failed"
trap 'rm -rf "$wheels"' EXIT
log="$wheels/pip.log"
say "installing ${pins[*]} into $venv"
start=$(date +%s.%N)
if ! "${pip[@]}" download -q -d "$wheels" "${pins[@]}" >"$log" 2>&1; then
  give_up "pip download failed: $(grep -v '^\s*$' "$log" | tail -1)"
fi
downloaded=$(date +%s.%N)
bytes=$(du -cb "$wheels"/*.whl "$wheels"/*.tar.gz 2>/dev/null | tail -1 | cut -f1)
count=$(ls "$wheels" | grep -c -E '\.(whl|tar\.gz)$')
if ! "${pip[@]}" install -q --no-index --find-links "$wheels" "${pins[@]}" >"$log" 2>&1; then
  give_up "pip install failed: $(grep -v '^\s*$' "$log" | tail -1)"
fi
done_at=$(date +%s.%N)
installed || give_up "the packages installed but do not import (see $venv)"
awk -v b="$bytes" -v n="$count" -v s="$start" -v d="$downloaded" -v e="$done_at" \
    -v size="$(du -sm "$venv" | cut -f1)" 'BEGIN {
  printf "bootstrap: IREE Python packages: downloaded %d files, %.1f MB in %.1f s; installed in %.1f s (venv now %d MB)\n",
         n, b / 1e6, d - s, e - d, size }'
