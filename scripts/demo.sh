#!/usr/bin/env bash
# The main job: builds moe-mlir, then compiles the Mixtral-style layer in
# examples/ with moe-cpu-pipeline, runs it on random tokens and weights,
# checks it against the reference and prints the median time.
# Arguments go to moe-run (e.g. --tokens=128 --seed=7, or another example).
#
# It installs only what the main job needs (Debian packages, no Python) and
# says what it is doing: the packages, the build's progress, then moe-run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
start=$SECONDS
"$root/scripts/bootstrap.sh"

# The build's progress in steps of 10% (ninja's [done/total] lines); its
# whole output is in build/demo-build.log, and shown if it fails.
if [ ! -x "$build/bin/moe-run" ]; then
  echo "demo: building moe-run (a first build takes about 4 minutes on 2 cores)"
fi
mkdir -p "$build"
log=$build/demo-build.log
if ! "$root/scripts/build.sh" moe-run 2>&1 | tee "$log" |
    awk 'match($0, /^\[[0-9]+\/[0-9]+\]/) {
           split(substr($0, 2, RLENGTH - 2), step, "/")
           pct = int(100 * step[1] / step[2] / 10) * 10
           if (pct > last) { last = pct; printf "demo: build %d%% (%d of %d steps)\n", pct, step[1], step[2]; fflush() }
         }'; then
  tail -30 "$log" >&2
  echo "demo: the build failed; the whole log is $log" >&2
  exit 1
fi
echo "demo: ready after $((SECONDS - start)) s; running moe-run"
file="$root/examples/mixtral.mlir"
if [ $# -gt 0 ] && [[ "$1" == *.mlir ]]; then file=$1; shift; fi
exec "$build/bin/moe-run" "$file" --target=cpu --tokens=64 "$@"
