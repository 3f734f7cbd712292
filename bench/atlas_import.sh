#!/usr/bin/env bash
# RIPE Atlas import benchmark: generates N results in the results API's array
# form (default 1,000,000, bench/atlas_gen.py) and times `anycast-lab atlas
# import` on it with GNU time, printing results/s and the peak RSS. The goals
# (docs/atlas.md): at least 100,000 results/s and under 100 MB.
# Usage: bench/atlas_import.sh   (env: AH_BUILD=build, N=1000000, PROBES=2000, KEEP=0)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${AH_BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
N=${N:-1000000}
LAB=$B/anycast-lab
[ -x "$LAB" ] || { echo "bench/atlas_import.sh: missing $LAB (make BUILD=$B all)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/atlas_import.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }
dir=$(mktemp -d /tmp/anycast-atlas-bench.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "kept $dir" || rm -rf "$dir"; }
trap cleanup EXIT

python3 bench/atlas_gen.py "$dir/results.json" "$N" "${PROBES:-2000}" || exit 1
size=$(du -m "$dir/results.json" | cut -f1)
/usr/bin/time -v -o "$dir/time.txt" "$LAB" atlas import -q --out "$dir/out" \
  "$dir/results.json" >"$dir/out.txt" 2>&1
rc=$?
secs() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt" | secs)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
rows=$(($(wc -l <"$dir/out/probes.csv") - 1))
rate=$(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%d", (w > 0 ? n / w : 0) }')
printf 'atlas import of %s results (%s MB): exit %s, %s rows, wall %ss, %s results/s, peak RSS %s MB\n' \
  "$N" "$size" "$rc" "$rows" "$wall" "$rate" "$((rss / 1024))"
[ "$rc" = 0 ] || cat "$dir/out.txt"
exit $rc
