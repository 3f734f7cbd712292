#!/usr/bin/env bash
# Prints the figures ARCHITECTURE.md's rule is measured by, for a tree (default:
# this checkout): files and lines per source folder, includes that use ../ or
# break the layering (tests/layers.py), functions over 80 lines, and, where
# the `duplicates` tool is installed, pairs of places sharing 6+ lines.
# Usage: tests/arch_metrics.sh [DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$here}
cd "$dir" || exit 1
echo "== files and lines per folder (.c/.h)"
git ls-files '*.c' '*.h' | xargs -n1 dirname | sort | uniq -c | while read -r n d; do
  printf '%4d files %6d lines  %s\n' "$n" "$(cat "$d"/*.[ch] | wc -l)" "$d"
done
echo "== includes"
printf '%d includes with ../\n' "$(git grep -n '#include "\.\./' -- '*.c' '*.h' | wc -l)"
if [ -d harness/lab ]; then
  printf '%d includes that break the layering\n' \
    "$("$here/tests/layers.py" includes "$dir" 2>&1 | grep -c ': #include')"
fi
echo "== functions over 80 lines"
long=$(git ls-files '*.c' | xargs awk '
  /^[A-Za-z_].*\(/ { sig = $0; sl = FNR }
  /^\{/ { start = FNR; name = sig; at = sl }
  /^\}/ { if (start) { n = FNR - start - 1; if (n > 80) print n, FILENAME ":" at; start = 0 } }' |
  sort -rn)
[ -n "$long" ] && echo "$long"
printf '%d functions over 80 lines\n' "$(grep -c . <<<"$long")"
if command -v duplicates >/dev/null; then
  echo "== duplicated blocks (6+ lines)"
  duplicates --most 200 --seconds 60 | head -1
fi
