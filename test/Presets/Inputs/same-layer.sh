#!/usr/bin/env bash
# same-layer.sh CONFIG_DIR PRESET...: for each preset, whether
# `moe-preset --config=CONFIG_DIR/PRESET.json` prints the same layer as
# `moe-preset PRESET` (at width / 16), up to the function's name and the
# header comments. Prints "PRESET: same layer" or the difference.
set -u
dir=$1; shift
normalize() { grep -v '^//' | sed 's/func.func @[a-z0-9_]*(/func.func @F(/'; }
for preset in "$@"; do
  a=$(moe-preset "$preset" --scale-down=16 | normalize)
  b=$(moe-preset --config="$dir/$preset.json" --scale-down=16 2>&1 | normalize)
  if [ "$a" == "$b" ]; then
    echo "$preset: same layer"
  else
    echo "$preset: DIFFERENT"
    diff <(echo "$a") <(echo "$b")
  fi
done
