#!/usr/bin/env bash
# Report benchmark: generates a synthetic run directory with ROWS probe rows
# (default 10 million, bench/gen_probes.c) and times `anycast-lab report` on
# it, printing the wall time, CPU time and peak RSS (GNU time), plus the size
# of what it wrote. The target (docs/bench.md) is under 60 s with memory that does
# not grow with the number of rows: run it with ROWS=1000000 as well to see.
# Usage: bench/report.sh   (env: AH_BUILD=build, ROWS=10000000, KEEP=0)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${AH_BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
ROWS=${ROWS:-10000000}
LAB=$B/anycast-lab
GEN=$B/bench/gen_probes
for f in "$LAB" "$GEN"; do
  [ -x "$f" ] || { echo "bench/report.sh: missing $f (make BUILD=$B all)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/report.sh: needs GNU time (/usr/bin/time, package time)" >&2; exit 2; }
dir=$(mktemp -d /tmp/anycast-report-bench.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "kept $dir" || rm -rf "$dir"; }
trap cleanup EXIT

"$GEN" "$dir/run" "$ROWS" || exit 1
size=$(du -m "$dir/run/probes.csv" | cut -f1)
/usr/bin/time -v -o "$dir/time.txt" "$LAB" report -q "$dir/run" >"$dir/out.txt" 2>&1
rc=$?
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$dir/time.txt")
sys=$(sed -n 's/.*System time (seconds): //p' "$dir/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
rows=$(($(wc -l <"$dir/run/summary.csv") - 1))
printf 'report of %s probe rows (%s MB probes.csv): exit %s, wall %s, user %ss, sys %ss, peak RSS %s MB\n' \
  "$ROWS" "$size" "$rc" "$wall" "$user" "$sys" "$((rss / 1024))"
printf 'wrote %s summary rows; report.html %s KB, timeline.svg %s KB\n' "$rows" \
  "$(($(stat -c %s "$dir/run/report.html") / 1024))" "$(($(stat -c %s "$dir/run/timeline.svg") / 1024))"
exit $rc
