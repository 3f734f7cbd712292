#!/usr/bin/env bash
# The main demo (`make demo`): runs the quickstart lab (labs/quickstart.yaml)
# with anycast-lab -- three anycast nodes, two vantages, a 12 s drill of
# withdraw, announce, stop, start and flap -- prints anycast-lab's per-event
# table, then which node answered each vantage second by second, and ends with
# the expectation verdicts and the path of report.html.
# It creates nothing outside results/ and the lab's own namespaces, which
# anycast-lab removes at the end. Without root it runs rootless (a user
# namespace of its own).
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${BUILD:-build}
LAB=$BUILD/anycast-lab
[ -x "$LAB" ] || { echo "demo: $LAB not built (run make first)" >&2; exit 1; }

out=$(mktemp "${TMPDIR:-/tmp}/ah-demo.XXXXXX")
trap 'rm -f "$out"' EXIT
echo "== anycast-lab run labs/quickstart.yaml"
"$LAB" run labs/quickstart.yaml | tee "$out"
dir=$(sed -n 's/^results: //p' "$out")
[ -n "$dir" ] && [ -f "$dir/probes.csv" ] || { echo "demo: no results" >&2; exit 1; }

echo
echo "== who answered, per second of the run (UDP DNS; ok% of probes sent that second)"
awk -F, 'NR == 1 { next }
  $4 == "udp" {
    if (!t0 || $1 < t0) t0 = $1
    s = int(($1 - t0) / 1e9); k = $2 SUBSEP s
    n[k]++; if ($8 == "ok") { ok[k]++; by[k, $9]++; nodes[$9] = 1 }
    v[$2] = 1; if (s > smax) smax = s }
  END {
    printf "%-8s", "second"; for (x in v) printf " %-22s", x; printf "\n"
    for (s = 0; s <= smax; s++) {
      printf "%-8d", s
      for (x in v) {
        k = x SUBSEP s; best = "-"; bc = 0
        for (nd in nodes) if (by[k, nd] > bc) { bc = by[k, nd]; best = nd }
        cell = n[k] ? sprintf("%s %3.0f%%", best, 100 * ok[k] / n[k]) : "-"
        printf " %-22s", cell
      }
      printf "\n"
    } }' "$dir/probes.csv"
echo
echo "== TCP connections per vantage and node, by how they ended"
awk -F, 'NR > 1 { c[$2 " " ($6 == "" ? "-" : $6) " " $8]++ } END { for (k in c) print k, c[k] }' \
  "$dir/connections.csv" | sort | awk '{ printf "%-6s %-6s %-10s %6d\n", $1, $2, $3, $4 }'
echo
echo "== results in $dir:"
ls "$dir"
echo
echo "== expectations and report"
sed -n '/^expectations:/,/^report:/p' "$out"
