#!/usr/bin/env bash
# anycast-lab report on hand-written CSVs from two "real hosts" (no root):
# rows out of order within the reorder window, bad rows reported as
# FILE:LINE and skipped (the rest processed and counted), the summary values
# worked out by hand, expectations from --lab with a wrong one naming itself
# and exit 1, and usage/header errors exit 2.
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3
D=$T_TMP/in
mkdir -p "$D"
T=1800000000000000000 # an epoch time in ns; offsets below in ms

# Host A, vantage fra: one UDP flow, a probe every 100 ms. ams answers until
# 2.0 s, the probes sent at 2.0 and 2.1 s time out, lon answers from 2.2 s.
# Rows are written when probes complete, so neighbours are swapped.
python3 - "$D" "$T" <<'PY'
import sys
d, T = sys.argv[1], int(sys.argv[2])
hdr = "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n"
def row(ms, v, res, node, seq):
    rtt = "250" if res == "ok" else ""
    return f"{T + ms * 1000000},{v},198.51.100.53,udp,dns,5353,{seq},{res},{node},{rtt},\n"
a = []
for i in range(40):
    ms = i * 100
    if ms < 2000: a.append(row(ms, "fra", "ok", "ams", i))
    elif ms < 2200: a.append(row(ms, "fra", "timeout", "", i))
    else: a.append(row(ms, "fra", "ok", "lon", i))
for i in range(0, 40, 2):           # completion order: pairs swapped
    a[i], a[i + 1] = a[i + 1], a[i]
bad = ["1,fra,198.51.100.53,udp,dns,5353,1,ok,ams,250\n",               # 10 columns
       "12x,fra,198.51.100.53,udp,dns,5353,1,ok,ams,250,\n",           # bad ts_ns
       f"{T},fra,198.51.100.53,sctp,dns,5353,1,ok,ams,250,\n"]          # bad transport
a = a[:5] + bad + a[5:]              # lines 7, 8, 9 of the file
open(f"{d}/probes-a.csv", "w").write(hdr + "".join(a))
b = [row(i * 100 + 7, "iad", "ok", "sin", i) for i in range(40)]
b.insert(10, f"{T},iad,198.51.100.53,udp,dns,5353,1,okay,sin,250,\n")  # line 12
open(f"{d}/probes-b.csv", "w").write(hdr + "".join(b))
c = ("conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed\n"
     f"1,fra,198.51.100.53,echo,{T + 50000000},ams,{T + 2001000000},reset,19,1\n"
     f"2,fra,198.51.100.53,echo,{T + 2010000000},lon,{T + 3950000000},end,19,0\n"
     f"3,fra,198.51.100.53,echo,{T + 2010000000},lon,{T + 3950000000},boom,19,0\n")
open(f"{d}/connections-a.csv", "w").write(c)
e = ("ts_ns,event,node,detail\n"
     f"{T + 2000000000},withdraw,ams,\n"
     f"{T + 2000500000},route,lon,router=fra nexthop=lon\n")
open(f"{d}/events.csv", "w").write(e)
PY

cat >"$D/lab.yaml" <<'YAML'
name: realhosts
anycast: [198.51.100.53]
routing: static
duration: 4s
nodes:
  - name: ams
  - name: lon
  - name: sin
vantages:
  - name: fra
  - name: iad
probes:
  udp: {service: dns, rate: 10, flows: 1}
  tcp: {service: echo, connections: 1, interval: 100ms}
drill:
  - {at: 2s, withdraw: ams}
expect:
  - "fra udp after withdraw ams answered-by lon"
  - "fra udp outage_ms <= 200 at withdraw ams"
  - "iad * never-answered-by ams"
  - "fra tcp reconnect_ms < 50 at withdraw ams"
YAML
sed -e '$a\  - "fra udp switch_ms < 100 at withdraw ams"' "$D/lab.yaml" >"$D/lab-wrong.yaml"

O=$T_TMP/out
"$LAB" report --out "$O" "$D/probes-a.csv" "$D/events.csv" "$D/probes-b.csv" \
  "$D/connections-a.csv" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
t_eq "$?" 0 "report on files without a lab exits 0"
err=$(cat "$T_TMP/stderr")
t_match "$err" "probes-a.csv:7: 10 columns, expected 11; row skipped" "column count reported with file:line"
t_match "$err" "probes-a.csv:8: bad ts_ns \"12x\"; row skipped" "bad number reported with file:line"
t_match "$err" "probes-a.csv:9: bad transport \"sctp\"; row skipped" "bad word reported with file:line"
t_match "$err" "probes-b.csv:12: bad result \"okay\"; row skipped" "second file's bad row reported"
t_match "$err" "connections-a.csv:4: bad reason \"boom\"; row skipped" "connections bad row reported"
t_match "$err" "probes-a.csv: 3 rows skipped, 40 used" "skipped rows counted"
for f in summary.csv summary.json report.html timeline.svg timeline.png connections.svg; do
  t_true "$f written" test -s "$O/$f"
done
t_match "$(cat "$T_TMP/stdout")" "report: $O/report.html" "the report path is printed"

# Values worked out by hand (docs/formats.md, "Metrics").
get() { # event vantage transport column
  awk -F, -v e="$1" -v v="$2" -v t="$3" -v c="$4" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $2 == e && $4 == v && $5 == t { print $col[c]; exit }' "$O/summary.csv"
}
t_eq "$(get withdraw fra udp before)" ams "fra before withdraw: ams"
t_eq "$(get withdraw fra udp after)" lon "fra after withdraw: lon"
t_eq "$(get withdraw fra udp probes)" 20 "fra probes in the window (2.0 .. 3.9 s)"
t_eq "$(get withdraw fra udp lost)" 2 "fra lost: the probes at 2.0 and 2.1 s"
t_eq "$(get withdraw fra udp outage_ms)" 200.000 "fra outage: 2.0 s to the next ok at 2.2 s"
t_eq "$(get withdraw fra udp switch_ms)" 200.000 "fra switch: first lon answer at 2.2 s"
t_eq "$(get withdraw fra udp flips)" 1 "one flip on fra's flow"
t_eq "$(get run fra udp probes)" 40 "the bad rows are not counted"
t_eq "$(get withdraw iad udp switch_ms)" "" "iad never switched: empty"
t_eq "$(get withdraw iad udp lost)" 0 "iad lost nothing"
t_eq "$(get withdraw fra tcp conns_at_event)" 1 "fra held one connection at the event"
t_eq "$(get withdraw fra tcp conns_broken)" 1 "... which broke"
t_eq "$(get withdraw fra tcp break_ms_max)" 1.000 "... 1 ms after the event"
t_eq "$(get withdraw fra tcp reconnect_ms)" 10.000 "... and was replaced 10 ms after the event"
t_eq "$(get withdraw fra udp detect_ms)" 0.500 "detect_ms: the route changed 0.5 ms after the event"
j=$O/summary.json
t_eq "$(python3 -c "import json,sys; d=json.load(open('$j')); print(d['inputs']['probes'][0]['skipped'], d['inputs']['probes'][1]['skipped'], d['inputs']['late_rows'])")" \
  "3 1 0" "summary.json counts skipped rows; no row was late"
t_eq "$(python3 -c "import json; d=json.load(open('$j')); g=[x for x in d['ground_truth'] if x['vantage']=='fra' and x['transport']=='udp'][0]; print(g['route_ms'], g['nexthop'], g['first_answer_ms'])")" \
  "0.5 lon 199.5" "ground truth: route change 0.5 ms after the event, first lon answer 199.5 ms after it"
t_eq "$(python3 -c "import json; d=json.load(open('$j')); print([r['resolution_ms'] for r in d['resolution'] if r['vantage']=='fra'][0])")" \
  "100.0" "resolution: fra's probe interval is 100 ms"

# Expectations from a lab file: all pass, exit 0; one wrong, exit 1 naming it.
"$LAB" report --lab "$D/lab.yaml" --out "$O" "$D"/probes-*.csv "$D/events.csv" \
  "$D/connections-a.csv" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
t_eq "$?" 0 "every expectation passes: exit 0"
out=$(cat "$T_TMP/stdout")
t_match "$out" "expectations: 4 passed, 0 failed" "verdict table counts"
t_match "$out" "PASS  fra udp outage_ms <= 200 at withdraw ams +200 " "measured value in the table"
"$LAB" report --lab "$D/lab-wrong.yaml" --out "$O" "$D"/probes-*.csv "$D/events.csv" \
  "$D/connections-a.csv" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
t_eq "$?" 1 "a failed expectation: exit 1"
t_match "$(cat "$T_TMP/stdout")" "FAIL  fra udp switch_ms < 100 at withdraw ams +200 .*\\[.*lab-wrong.yaml:22\\]" \
  "the failing one in the table, with its line"
t_eq "$(grep -c "switch_ms < 100" "$T_TMP/stdout" "$T_TMP/stderr" | awk -F: '{ n += $2 } END { print n }')" 1 \
  "the failing expectation printed once"
"$LAB" -q report --lab "$D/lab-wrong.yaml" --out "$O" "$D"/probes-*.csv "$D/events.csv" \
  "$D/connections-a.csv" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
t_eq "$?" 1 "-q: a failed expectation: exit 1"
t_eq "$(cat "$T_TMP/stdout")" "" "-q: no table"
t_match "$(cat "$T_TMP/stderr")" "expectation failed: .*lab-wrong.yaml:22: \"fra udp switch_ms < 100 at withdraw ams\": measured 200" \
  "-q: the failing expectation named on stderr with its line"
t_eq "$(grep -c "switch_ms < 100" "$T_TMP/stderr")" 1 "-q: once"
t_eq "$(python3 -c "import json; d=json.load(open('$O/summary.json')); print(d['passed'], d['expectations_failed'], d['expectations'][4]['pass'])")" \
  "False 1 False" "verdicts in summary.json"

# A run directory: same files, recomputed in place.
R=$T_TMP/run
mkdir -p "$R"
# Two hosts' rows one after the other: up to 4 s out of order.
{ cat "$D/probes-a.csv"; tail -n +2 "$D/probes-b.csv"; } >"$R/probes.csv"
cp "$D/connections-a.csv" "$R/connections.csv"
cp "$D/events.csv" "$D/lab.yaml" "$R/"
"$LAB" report --reorder-window 5s "$R" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
t_eq "$?" 0 "report on a run directory (its lab.yaml's expectations pass)"
t_eq "$(python3 -c "import json; d=json.load(open('$R/summary.json')); print(d['inputs']['late_rows'], len(d['expectations']))")" \
  "0 4" "a 5 s reorder window puts the rows in order"
"$LAB" report --reorder-window 1s "$R" >/dev/null 2>"$T_TMP/stderr"
t_match "$(cat "$T_TMP/stderr")" "probe rows were further out of order than the reorder window" \
  "rows out of order beyond the window are reported"
t_true "summary.csv written into the run directory" test -s "$R/summary.csv"

# Errors.
printf 'a,b\n1,2\n' >"$D/other.csv"
"$LAB" report "$D/other.csv" "$D/probes-a.csv" >/dev/null 2>"$T_TMP/stderr"
t_eq "$?" 2 "an unknown CSV is a usage error"
t_match "$(cat "$T_TMP/stderr")" "other.csv: not a probes, connections or events CSV" "and is named"
"$LAB" report >/dev/null 2>&1
t_eq "$?" 2 "no arguments: exit 2"
"$LAB" report --bogus "$R" >/dev/null 2>&1
t_eq "$?" 2 "unknown option: exit 2"
mkdir -p "$T_TMP/badhdr"
sed '1s/rtt_us/rtt/' "$D/probes-a.csv" >"$T_TMP/badhdr/probes.csv"
"$LAB" report "$T_TMP/badhdr" >/dev/null 2>"$T_TMP/stderr"
t_eq "$?" 1 "a probes.csv with a wrong header: exit 1"
t_match "$(cat "$T_TMP/stderr")" "probes.csv:1: header column 10 is \"rtt\", expected \"rtt_us\"" "the header error names file, line and column"
# `anycast-lab check` parses the expectations: errors at FILE:LINE:COL, exit 2.
sed -e 's/"fra udp outage_ms <= 200 at withdraw ams"/"fra udp outage_ms <== 200 at withdraw ams"/' \
  -e 's/"iad \* never-answered-by ams"/"lhr * never-answered-by ams"/' "$D/lab.yaml" >"$D/lab-typo.yaml"
"$LAB" check "$D/lab-typo.yaml" >/dev/null 2>"$T_TMP/stderr"
t_eq "$?" 2 "check: a bad expectation is a lab-file error (exit 2)"
t_match "$(cat "$T_TMP/stderr")" "lab-typo.yaml:19:24: expect: expected a comparison" "check: the bad operator at its line:col"
t_match "$(cat "$T_TMP/stderr")" "lab-typo.yaml:20:6: expect: unknown vantage \"lhr\"" "check: the unknown vantage at its line:col"
"$LAB" check "$D/lab.yaml" >/dev/null 2>&1
t_eq "$?" 0 "check: the good lab passes"
printf 'name: x\n' >"$D/badlab.yaml"
"$LAB" report --lab "$D/badlab.yaml" "$R" >/dev/null 2>&1
t_eq "$?" 2 "a bad --lab file: exit 2"
t_done
