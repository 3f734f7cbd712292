#!/usr/bin/env bash
# `anycast-lab report DIR` on a run killed (SIGKILL) before its merge step:
# the per-vantage probe files under DIR/probes-*/ are merged with the
# runner's own merge, stderr says so, probes.csv and connections.csv are
# written (replacing a dangling symlink planted at probes.csv, not following
# it) and the report is complete and says on the page that it merged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need python3

cat >"$T_TMP/killed.yaml" <<YAML
name: killed
anycast: [198.51.100.53]
routing: static
duration: 8s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 200, flows: 2}
  tcp: {service: echo, connections: 2, interval: 100ms}
drill:
  - {at: 1s, withdraw: a}
YAML
"$LAB" run "$T_TMP/killed.yaml" --results "$T_TMP/results" >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
pid=$!
T_PIDS+=("$pid")
t_wait_for 10 lab_runid_of "$pid" || t_fail "the run recorded its state"
LAB_RUNIDS+=("$(lab_runid_of "$pid")")
# rows_in: probe rows the per-vantage files hold so far.
rows_in() { cat "$T_TMP"/results/*/probes-*/probes.csv 2>/dev/null | wc -l; }
enough() { [ "$(rows_in)" -ge 400 ]; }
t_true "the probes wrote rows" t_wait_for 15 enough
sleep 1 # past the withdraw at 1 s
kill -KILL "$pid"
wait "$pid" 2>/dev/null
"$LAB" clean "${LAB_RUNIDS[0]}" >/dev/null 2>&1
D=$(ls -d "$T_TMP"/results/*-killed | head -n 1)
t_true "a results directory" test -d "$D"
t_true "no merged probes.csv: the run was killed before its merge" test ! -e "$D/probes.csv"
parts=$(ls -d "$D"/probes-* | wc -l)
t_true "per-vantage directories left ($parts)" test "$parts" -ge 2
ln -s "$T_TMP/victim-created" "$D/probes.csv"

"$LAB" report "$D" >"$T_TMP/rep.out" 2>"$T_TMP/rep.err"
t_eq "$?" 0 "report exits 0"
T_DUMP+=("$T_TMP/rep.err")
err=$(cat "$T_TMP/rep.err")
t_match "$err" "no probes.csv \\(the run ended before its merge\\): merged [0-9]+ rows from $parts per-vantage files" \
  "stderr says probes.csv was merged from the parts"
t_match "$err" "no connections.csv \\(the run ended before its merge\\): merged [0-9]+ rows" \
  "stderr says connections.csv was merged too"
t_true "nothing created through the planted symlink" test ! -e "$T_TMP/victim-created"
t_true "probes.csv is a regular file now" test -f "$D/probes.csv" -a ! -L "$D/probes.csv"
t_true "connections.csv written" test -s "$D/connections.csv"
parts_rows=$(for f in "$D"/probes-*/probes.csv; do tail -n +2 "$f"; done | wc -l)
t_eq "$(($(wc -l <"$D/probes.csv") - 1))" "$parts_rows" "every row of the parts merged"
t_true "probes.csv in time order" awk -F, 'NR > 2 && $1 < p { exit 1 } { p = $1 }' "$D/probes.csv"
for f in summary.csv summary.json report.html timeline.svg timeline.png; do
  t_true "$f written" test -s "$D/$f"
done
t_true "the page says it merged" grep -q 'id="merged-parts"' "$D/report.html"
t_eq "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['inputs']['merged_from_parts'])" "$D/summary.json")" \
  True "summary.json says it merged"
t_true "both vantages in the summary" \
  test "$(awk -F, 'NR > 1 && $2 == "run" { print $4 }' "$D/summary.csv" | sort -u | tr '\n' ' ')" = "va vb "
# A second report finds the merged file and does not merge again.
"$LAB" report "$D" >/dev/null 2>"$T_TMP/rep2.err"
t_eq "$?" 0 "a second report exits 0"
t_eq "$(grep -c 'merged' "$T_TMP/rep2.err")" 0 "and merges nothing"
t_done
