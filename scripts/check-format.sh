#!/usr/bin/env bash
# Checks that the C and C++ sources follow .clang-format (LLVM style) with
# Debian's clang-format-22; lists the files that do not and exits 1. With
# --fix it formats them in place instead. Sources: the C/C++ files git
# tracks or would track (not ignored).
#
#   scripts/check-format.sh [--fix]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
format=${CLANG_FORMAT:-/usr/bin/clang-format-22}
[ -x "$format" ] || {
  echo "check-format: $format is missing (scripts/bootstrap.sh installs clang-format-22)" >&2
  exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard \
  '*.c' '*.h' '*.cpp' | sort -u)
if [ "${1:-}" = --fix ]; then
  "$format" -i "${files[@]}"
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi
bad=()
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  "$format" --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done
if ((${#bad[@]})); then
  echo "check-format: ${#bad[@]} of ${#files[@]} files are not formatted (scripts/check-format.sh --fix):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
