#!/usr/bin/env bash
# anycast-lab diff on crafted summaries (no root): a regression marked and
# exit 1, an improvement exit 0, rows of one run only listed, different
# drills refused (exit 2), the HTML page escaping a hostile vantage name, the
# JUnit file read by a real JUnit consumer (python3-junitparser); then
# report --baseline on crafted CSVs: a baseline-run expectation passing and
# failing as the data says, bad usage without --baseline, "not measured"
# for a row the baseline lacks, and report --junit. As root, two short lab
# runs with run --junit and run --baseline, compared by diff.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
PY=/usr/bin/python3
[ -x $PY ] && $PY -c "import junitparser" 2>/dev/null || t_skip "needs python3-junitparser"

# Summaries: A before, B after a change (eu regressed, the hostile vantage
# improved, switch_ms empty in B, ap only in A, sa only in B), C only better.
$PY - "$T_TMP" <<'PY'
import sys, os, json
d = sys.argv[1]
T = 1800000000000000000
hdr = ("event_ts_ns,event,node,vantage,transport,service,before,after,probes,lost,outage_ms,"
       "switch_ms,flips,conns_at_event,conns_broken,break_ms_p50,break_ms_max,reconnect_ms,"
       "detect_ms,rtt_ms_p50,rtt_ms_p99,rtt_ms_max,base_rtt_ms_p50,base_rtt_ms_p99,base_rtt_ms_max\n")
H = '"us<script>x</script>&"'
def row(ev, node, v, outage, switch, lost, ts):
    return (f"{ts},{ev},{node},{v},udp,dns,ams,nyc,100,{lost},{outage},{switch},1,,,,,,,"
            f"0.500,0.900,1.000,0.400,0.800,0.900\n")
def run(name, rows, drill):
    os.makedirs(f"{d}/{name}", exist_ok=True)
    open(f"{d}/{name}/summary.csv", "w").write(hdr + "".join(rows))
    json.dump({"lab": "demo", "routing": "static" if name == "A" else "bgp",
               "drill": [{"event": e, "node": n} for e, n in drill]},
              open(f"{d}/{name}/run.json", "w"))
W = T + 2000000000
drill = [("withdraw", "ams"), ("announce", "ams")]
run("A", [row("run", "", "eu", "100.000", "", 1, T),
          row("withdraw", "ams", "eu", "100.000", "100.000", 1, W),
          row("withdraw", "ams", H, "200.000", "200.000", 2, W),
          row("withdraw", "ams", "ap", "0.000", "", 0, W)], drill)
run("B", [row("run", "", "eu", "250.000", "", 3, T),
          row("withdraw", "ams", "eu", "250.000", "", 3, W),
          row("withdraw", "ams", H, "50.000", "50.000", 1, W),
          row("withdraw", "ams", "sa", "0.000", "", 0, W)], drill)
run("C", [row("run", "", "eu", "105.000", "", 1, T),
          row("withdraw", "ams", "eu", "40.000", "40.000", 0, W),
          row("withdraw", "ams", H, "200.000", "200.000", 2, W),
          row("withdraw", "ams", "ap", "0.000", "", 0, W)], drill)
run("D", [row("withdraw", "ams", "eu", "100.000", "100.000", 1, W)],
    [("stop", "ams"), ("start", "ams")])
PY
A=$T_TMP/A B=$T_TMP/B C=$T_TMP/C
"$LAB" diff --html "$T_TMP/diff.html" --junit "$T_TMP/diff.xml" "$A" "$B" >"$T_TMP/out" 2>"$T_TMP/err"
t_eq "$?" 1 "diff A B: a regression, exit 1"
T_DUMP=("$T_TMP/out" "$T_TMP/err")
out=$(cat "$T_TMP/out")
t_match "$out" "withdraw ams +eu udp dns +outage_ms +100.000 +250.000 +\\+150.000 +REGRESSION" \
  "the regressed outage marked with A, B and the delta"
t_match "$out" "withdraw ams +eu udp dns +lost +1 +3 +\\+2 +REGRESSION" "a count regressed"
t_match "$out" "withdraw ams +eu udp dns +switch_ms +100.000 +- +- +not comparable" \
  "a value empty in B: not comparable"
t_match "$out" "outage_ms +200.000 +50.000 +-150.000 +better" "the improvement marked better"
t_match "$out" "only in A: withdraw ams ap udp dns" "a row only in A listed"
t_match "$out" "only in B: withdraw ams sa udp dns" "a row only in B listed"
t_match "$out" "A: .*/A \\(lab demo, routing static\\)" "the settings of A shown"
t_match "$out" "diff: 2 rows regressed, 1 improved, 1 not comparable; 3 matched, 1 only in A, 1 only in B" \
  "the closing counts"
h=$(cat "$T_TMP/diff.html")
t_true "the page names the hostile vantage escaped" grep -q 'us&lt;script&gt;x&lt;/script&gt;&amp;' "$T_TMP/diff.html"
t_eq "$(grep -c '<script' "$T_TMP/diff.html")" 0 "no script element on the page"
t_eq "$(grep -Ec '(src|href)=|https?:' "$T_TMP/diff.html")" 0 "nothing fetched by the page"
t_match "$h" 'class="worse"><td>withdraw ams</td><td>eu</td>' "the regression row classed worse"
t_match "$h" '<ul id="only-a">.<li>withdraw ams ap udp dns</li>' "only in A on the page"
ju=$($PY - "$T_TMP/diff.xml" <<'PY'
import sys
from junitparser import JUnitXml, Failure, Skipped
x = JUnitXml.fromfile(sys.argv[1])
cases = [c for s in x for c in s]
fails = {c.name: r.message for c in cases for r in c.result if isinstance(r, Failure)}
print(len(cases), len(fails), sum(1 for c in cases for r in c.result if isinstance(r, Skipped)))
print(fails.get("withdraw ams eu udp dns", ""))
print(cases[0].classname)
PY
)
t_eq "$(sed -n 1p <<<"$ju")" "3 2 0" "junit: 3 rows compared, 2 failed, none skipped"
t_match "$(sed -n 2p <<<"$ju")" "lost 1 -> 3 \\(\\+2\\); outage_ms 100.000 -> 250.000 \\(\\+150.000\\)" \
  "junit: the failure message lists what regressed"
t_eq "$(sed -n 3p <<<"$ju")" demo "junit: classname is the lab name"

"$LAB" diff "$A" "$C" >"$T_TMP/out" 2>"$T_TMP/err"
t_eq "$?" 0 "diff A C: only improvements, exit 0"
t_match "$(cat "$T_TMP/out")" "outage_ms +100.000 +40.000 +-60.000 +better" "the improvement shown"
t_match "$(cat "$T_TMP/out")" "run +eu udp dns +outage_ms +100.000 +105.000 +\\+5.000 +same" \
  "a change within the thresholds is the same"
"$LAB" diff --threshold-ms 200 "$A" "$B" >/dev/null 2>&1
t_eq "$?" 1 "--threshold-ms 200: outage +150 ms is within it, lost +2 (+200 %) still regressed"
"$LAB" diff --threshold-ms 200 --threshold-pct 300 "$A" "$B" >/dev/null 2>&1
t_eq "$?" 0 "--threshold-ms 200 --threshold-pct 300: nothing regressed, exit 0"
"$LAB" diff "$A" "$T_TMP/D" >"$T_TMP/out" 2>"$T_TMP/err"
t_eq "$?" 2 "different drills: exit 2"
t_match "$(cat "$T_TMP/err")" 'played different drills: step 1 is "withdraw ams" in A and "stop ams" in B' \
  "the first different step named"
"$LAB" diff "$A" >/dev/null 2>&1
t_eq "$?" 2 "one run only: bad usage"
"$LAB" diff "$A" "$T_TMP/nonexist" >/dev/null 2>"$T_TMP/err"
t_eq "$?" 2 "a missing run: exit 2"
"$LAB" diff --threshold-pct x "$A" "$B" >/dev/null 2>&1
t_eq "$?" 2 "a bad threshold: exit 2"

# report --baseline: two runs of one lab whose outages differ (200 and 500
# ms at withdraw ams), judged against each other.
mkrun() { # dir lost_probes
  $PY - "$1" "$2" <<'PY'
import sys, os
d, k = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
T = 1800000000000000000
rows = []
for i in range(40):
    ms = i * 100
    if ms < 2000: res, node = "ok", "ams"
    elif ms < 2000 + k * 100: res, node = "timeout", ""
    else: res, node = "ok", "lon"
    rtt = "250" if res == "ok" else ""
    rows.append(f"{T + ms * 1000000},fra,198.51.100.53,udp,dns,5353,{i},{res},{node},{rtt},\n")
open(f"{d}/probes.csv", "w").write(
    "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n" + "".join(rows))
open(f"{d}/events.csv", "w").write(f"ts_ns,event,node,detail\n{T + 2000000000},withdraw,ams,\n")
PY
  cat >"$1/lab.yaml" <<'YAML'
name: basedemo
anycast: [198.51.100.53]
routing: static
duration: 4s
nodes:
  - name: ams
  - name: lon
vantages:
  - name: fra
probes:
  udp: {service: dns, rate: 10, flows: 1}
drill:
  - {at: 2s, withdraw: ams}
expect:
  - "fra udp outage_ms <= baseline-run + 100 at withdraw ams"
  - "fra udp lost <= 2x baseline-run at withdraw ams"
  - "fra udp lost == 2 at withdraw ams"
YAML
}
mkrun "$T_TMP/good" 2
mkrun "$T_TMP/bad" 5
"$LAB" report "$T_TMP/good" >/dev/null 2>"$T_TMP/err"
t_eq "$?" 2 "report without --baseline on a baseline-run expectation: bad usage"
t_match "$(cat "$T_TMP/err")" 'lab.yaml:15: expectation "fra udp outage_ms <= baseline-run \+ 100 at withdraw ams" compares with baseline-run: give --baseline' \
  "the message names the expectation"
"$LAB" check "$T_TMP/good/lab.yaml" >/dev/null 2>&1
t_eq "$?" 0 "check accepts the baseline-run forms"
"$LAB" run "$T_TMP/good/lab.yaml" >/dev/null 2>"$T_TMP/err"
t_eq "$?" 2 "run without --baseline on a baseline-run expectation: bad usage before anything is built"
t_match "$(cat "$T_TMP/err")" 'lab.yaml:15: expectation .* give --baseline' "run names the expectation"
# The baseline needs its own summary: a report of good without those
# expectations.
sed -i '/baseline-run/d' "$T_TMP/good/lab.yaml"
"$LAB" report "$T_TMP/good" >/dev/null 2>&1
t_eq "$?" 0 "the baseline run's own report"
mkrun "$T_TMP/good2" 2
"$LAB" report --baseline "$T_TMP/good" --junit "$T_TMP/good2.xml" "$T_TMP/good2" >"$T_TMP/out" 2>&1
t_eq "$?" 0 "same outage as the baseline: the baseline-run expectations pass"
t_match "$(cat "$T_TMP/out")" "PASS  fra udp outage_ms <= baseline-run \+ 100 at withdraw ams +200, baseline-run 200" \
  "the verdict shows both values"
"$LAB" report --baseline "$T_TMP/good" --junit "$T_TMP/bad.xml" "$T_TMP/bad" >"$T_TMP/out" 2>&1
t_eq "$?" 1 "outage 500 ms against a baseline of 200 ms + 100: fails, exit 1"
t_match "$(cat "$T_TMP/out")" "FAIL  fra udp outage_ms <= baseline-run \+ 100 at withdraw ams +500, baseline-run 200" \
  "the failed verdict with both values"
t_match "$(cat "$T_TMP/out")" "FAIL  fra udp lost <= 2x baseline-run at withdraw ams +5, baseline-run 2" \
  "the factor form fails too"
"$LAB" report --baseline "$A" --junit "$T_TMP/nm.xml" "$T_TMP/good2" >"$T_TMP/out" 2>&1
t_eq "$?" 1 "a baseline without the row: not measured, exit 1"
t_match "$(cat "$T_TMP/out")" "NOT MEASURED  fra udp outage_ms <= baseline-run.*no such row in the baseline run" \
  "not measured with the reason"
"$LAB" report --baseline "$T_TMP/nonexist" "$T_TMP/good2" >/dev/null 2>"$T_TMP/err"
t_eq "$?" 2 "--baseline of a directory without summary.csv: bad usage"
ju=$($PY - "$T_TMP/good2.xml" "$T_TMP/bad.xml" "$T_TMP/nm.xml" <<'PY'
import sys
from junitparser import JUnitXml, Failure, Skipped
for f in sys.argv[1:]:
    x = JUnitXml.fromfile(f)
    cases = [c for s in x for c in s]
    fl = [r.message for c in cases for r in c.result if isinstance(r, Failure)]
    sk = [r.message for c in cases for r in c.result if isinstance(r, Skipped)]
    print(len(cases), len(fl), len(sk), cases[0].classname, cases[0].name, "|", fl[0] if fl else "", "|", sk[0] if sk else "")
PY
)
t_match "$(sed -n 1p <<<"$ju")" "^3 0 0 basedemo fra udp outage_ms <= baseline-run \+ 100 at withdraw ams" \
  "report --junit: 3 testcases, all passed, named by the expectation"
t_match "$(sed -n 2p <<<"$ju")" '^3 3 0 .*\| .*lab.yaml:15: "fra udp outage_ms <= baseline-run \+ 100 at withdraw ams": measured 500, baseline-run 200 \(fra udp dns at withdraw ams\)' \
  "report --junit: failures carry the verdict line"
t_match "$(sed -n 3p <<<"$ju")" '^3 0 2 .*no such row in the baseline run' \
  "report --junit: not measured is skipped with its reason"
# Two short real lab runs (root): run --junit and run --baseline pass their
# files through, and diff compares the real summaries row for row.
if [ "$(id -u)" -eq 0 ]; then
  cat >"$T_TMP/real.yaml" <<YAML
name: realdiff
anycast: [198.51.100.53]
routing: static
duration: 2s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 50, flows: 1}
drill:
  - {at: 1s, withdraw: a}
expect:
  - "va udp after withdraw a answered-by b"
YAML
  lab_run "$T_TMP/real.yaml" --junit "$T_TMP/real-a.xml"
  t_eq "$LAB_RC" 0 "real run A passes"
  RA=$LAB_DIR
  { cat "$T_TMP/real.yaml"
    echo '  - "va udp probes <= baseline-run + 1000 at withdraw a"'
    echo '  - "vb udp probes < baseline-run - 1000000 at withdraw a"'; } >"$T_TMP/real-b.yaml"
  lab_run "$T_TMP/real-b.yaml" --baseline "$RA" --junit "$T_TMP/real-b.xml"
  t_eq "$LAB_RC" 1 "real run B: one baseline-run expectation fails, exit 1"
  RB=$LAB_DIR
  t_match "$(cat "$T_TMP/run.out")" "PASS  va udp probes <= baseline-run \+ 1000 at withdraw a +[0-9]+, baseline-run [0-9]+" \
    "run --baseline judges against the baseline run's row"
  ju=$($PY - "$T_TMP/real-a.xml" "$T_TMP/real-b.xml" <<'PY'
import sys
from junitparser import JUnitXml, Failure
for f in sys.argv[1:]:
    cases = [c for s in JUnitXml.fromfile(f) for c in s]
    fl = [c.name for c in cases for r in c.result if isinstance(r, Failure)]
    print(len(cases), len(fl), cases[0].classname, fl)
PY
)
  t_eq "$(sed -n 1p <<<"$ju")" "1 0 realdiff []" "run --junit: one passing testcase"
  t_eq "$(sed -n 2p <<<"$ju")" "3 1 realdiff ['vb udp probes < baseline-run - 1000000 at withdraw a']" \
    "run --junit with --baseline: the failed expectation named"
  "$LAB" diff --threshold-ms 100000 --threshold-pct 100000 "$RA" "$RB" >"$T_TMP/out" 2>"$T_TMP/err"
  t_eq "$?" 0 "diff of two real runs within huge thresholds: exit 0"
  t_match "$(tail -n 1 "$T_TMP/out")" "; 4 matched, 0 only in A, 0 only in B$" \
    "every row of the real runs matched (run and withdraw a, for va and vb)"
  t_match "$(cat "$T_TMP/out")" "withdraw a +va udp dns +outage_ms" "the real withdraw row compared"
fi
t_done
