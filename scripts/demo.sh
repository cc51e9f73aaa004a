#!/usr/bin/env bash
# The main job: builds moe-mlir, then compiles the Mixtral-style layer in
# examples/ with moe-cpu-pipeline, runs it on random tokens and weights,
# checks it against the reference and prints the median time.
# Arguments go to moe-run (e.g. --tokens=128 --seed=7, or another example).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh" >/dev/null
"$root/scripts/build.sh" moe-run >/dev/null
file="$root/examples/mixtral.mlir"
if [ $# -gt 0 ] && [[ "$1" == *.mlir ]]; then file=$1; shift; fi
exec "$build/bin/moe-run" "$file" --target=cpu --tokens=64 "$@"
