#!/usr/bin/env bash
# Draws docs/figures/*.png (scripts/plot-figures.py says which and how).
# Needs a build (scripts/build.sh) and the venv of scripts/bootstrap.sh;
# installs matplotlib there on first use (the test suite does not need it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${MOE_VENV:-$root/.venv}/bin/python
[ -x "$python" ] || { echo "plot-figures: no venv at ${MOE_VENV:-$root/.venv}; run scripts/bootstrap.sh" >&2; exit 1; }
"$python" -c 'import matplotlib' 2>/dev/null ||
  "$python" -m pip --disable-pip-version-check install -q matplotlib==3.11.2
exec "$python" "$root/scripts/plot-figures.py" "$@"
