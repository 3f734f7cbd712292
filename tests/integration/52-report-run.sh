#!/usr/bin/env bash
# anycast-lab run ends with the report: the verdict table and report.html's
# path on stdout; a deliberately wrong expectation makes the run exit 1 and
# is named. Ground truth: switch_ms (from the drill event) agrees, within one
# probe interval + 1 ms, with the delay from the kernel's route change
# (events.csv `route` row) to the first answer by the new node, computed here
# from the CSVs independently of the metrics code. Each router's initial
# route is one `route` row marked initial that changes no figure.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk python3

L=$T_TMP/lab-expect.yaml
sed -e '/^drill:/,$d' "$AH_ROOT/tests/labs/lab-quick.yaml" >"$L"
cat >>"$L" <<'YAML'
drill:
  - {at: 2s, withdraw: ams}
  # The withdraw's window ends at the next event. A connection to nyc whose
  # probe was in flight when nyc is killed is closed a little before stop's
  # acknowledgement on a loaded machine; this step (sin answers no one) ends
  # the withdraw's window well before, so the kill's resets never land in it.
  - {at: 3.5s, pause: sin}
  - {at: 4s, stop: nyc}
expect:
  - "eu udp before withdraw ams answered-by ams"
  - "eu udp after withdraw ams answered-by nyc"
  - "eu tcp conns_broken >= 1 at withdraw ams"
  - "us tcp conns_broken == 0 at withdraw ams"
  - "us udp lost > 0 at stop nyc"
  - "* * never-answered-by sin"
  - "eu udp after withdraw ams answered-by sin"
YAML
wrong_line=$(grep -n 'ams answered-by sin"' "$L" | cut -d: -f1)

lab_run "$L"
t_eq "$LAB_RC" 1 "a failed expectation makes the run exit 1"
out=$(cat "$T_TMP/run.out")
t_match "$out" "expectations: 6 passed, 1 failed" "the verdict table counts"
t_match "$out" "FAIL  eu udp after withdraw ams answered-by sin +nyc" "the wrong one is FAIL with the measured node"
t_match "$out" "PASS  eu udp after withdraw ams answered-by nyc" "the right one passes"
t_match "$out" "report: .*/report.html" "the report's path is printed"
t_match "$out" "FAIL  eu udp after withdraw ams answered-by sin .*\\[.*:$wrong_line\\]" \
  "the table names the failed expectation's line"
t_eq "$(cat "$T_TMP/run.out" "$T_TMP/run.err" | grep -c "after withdraw ams answered-by sin")" 1 \
  "the failed expectation is printed once"
for f in summary.csv summary.json report.html timeline.svg timeline.png connections.svg; do
  t_true "results hold $f" test -s "$LAB_DIR/$f"
done
t_eq "$(python3 -c "import json; d=json.load(open('$LAB_DIR/summary.json')); print(d['passed'], d['expectations_failed'])")" \
  "False 1" "summary.json carries the verdicts"
t_eq "$(python3 -c "import json; print(json.load(open('$LAB_DIR/run.json'))['exit_code'])")" \
  1 "run.json records the exit status the failed expectation caused"

# The page leads with the events: withdraw ams's card says how late the
# action was acknowledged (run.json's drill step) and lists eu's move; the
# FAIL says why from the data (eu's router moved to nyc).
H=$LAB_DIR/report.html
card=$(sed -n '/<article class="card" id="card-1">/,/<\/article>/p' "$H" | tr -d '\n')
t_match "$card" '<h3>withdraw ams</h3><p class="when">at [0-9.]+ s, acknowledged [0-9.]+ ms after it was due \(started [0-9.]+ ms late\)' \
  "card 1: withdraw ams, acknowledged after it was due, from run.json"
t_match "$card" '<tr class="affected"><td>eu</td><td>udp dns</td>.*<td>ams &rarr; nyc</td>' "card 1 lists eu udp moving from ams to nyc"
t_match "$(tr -d '\n' <"$H")" '<td>eu udp after withdraw ams answered-by sin</td>.*<td class="why">answered by nyc, not sin \([0-9]+/[0-9]+ lost; the route at eu&#39;s router moved to nyc [0-9.]+ ms after the event\)</td>' \
  "the FAIL says why: nyc answered, eu's router moved to nyc"

# Ground truth, independently: the route change at eu's router and the first
# probe sent after it that nyc answered.
W=$(ev_ts withdraw ams)
R=$(awk -F, '$2 == "route" && $4 ~ /router=eu / && $1 >= '"$W"' { print $1; exit }' "$LAB_DIR/events.csv")
NH=$(awk -F, '$2 == "route" && $1 == '"$R"' { print $3; exit }' "$LAB_DIR/events.csv")
t_match "$R" '^[0-9]{19}$' "a route change at eu's router after the withdraw"
t_eq "$NH" nyc "... to nyc"
# The lab probes both of its addresses; the IPv4 rows are compared.
first=$(awk -F, -v r="$R" 'NR > 1 && $2 == "eu" && $3 == "198.51.100.53" && $4 == "udp" && $1 >= r && $8 == "ok" && $9 == "nyc" { print $1; exit }' "$LAB_DIR/probes.csv")
t_match "$first" '^[0-9]{19}$' "nyc answered eu's UDP after the route change"
read -r sw res gt < <(python3 - "$LAB_DIR" <<'PY'
import csv, json, sys
d = sys.argv[1]
row = [r for r in csv.DictReader(open(f"{d}/summary.csv"))
       if r["event"] == "withdraw" and r["vantage"] == "eu" and r["transport"] == "udp"
       and r["family"] == "ipv4"][0]
s = json.load(open(f"{d}/summary.json"))
res = [g["resolution_ms"] for g in s["resolution"]
       if g["vantage"] == "eu" and g["transport"] == "udp" and g["family"] == "ipv4"][0]
gt = [g["first_answer_ms"] for g in s["ground_truth"]
      if g["vantage"] == "eu" and g["transport"] == "udp" and g["family"] == "ipv4"][0]
print(row["switch_ms"], res, gt)
PY
)
# Integer ns arithmetic in the shell: awk's doubles cannot hold 19-digit
# timestamps exactly.
delay_ns=$((first - R))
delay=$(awk -v n="$delay_ns" 'BEGIN { printf "%.3f", n / 1e6 }')
echo "switch_ms $sw, resolution $res ms, route change -> first nyc answer $delay ms (summary.json: $gt)"
t_true "switch_ms agrees with the ground-truth delay within one probe interval + 1 ms" \
  awk -v s="$sw" -v d="$delay" -v r="$res" 'BEGIN { x = s - d; if (x < 0) x = -x; exit !(x <= r + 1) }'
# Both figures are printed to the microsecond; they may differ by that rounding.
t_true "summary.json's ground truth is the same delay" \
  awk -v g="$gt" -v d="$delay" 'BEGIN { x = g - d; if (x < 0) x = -x; exit !(x < 0.0015) }'
t_true "the new node answers within one probe interval + 1 ms of the route change (docs/bench.md)" \
  awk -v d="$delay" -v r="$res" 'BEGIN { exit !(d <= r + 1) }'

# The routes at the start: one `route` row per router, marked initial, to
# the vantage's preferred node, before the drill's clock started; a change
# row never carries the mark.
E=$LAB_DIR/events.csv
t0=$(python3 -c "import json; print(json.load(open('$LAB_DIR/run.json'))['drill_start_ns'])")
t_eq "$(awk -F, '$2 == "route" && $4 ~ /^initial / { print $3, $4 }' "$E" | sort | tr '\n' ';')" \
  "ams initial router=eu nexthop=ams;nyc initial router=us nexthop=nyc;" \
  "one initial route row per router, to its preferred node"
t_eq "$(awk -F, -v t="$t0" '$2 == "route" && $4 ~ /^initial / && $1 > t' "$E" | wc -l)" 0 \
  "the initial rows are from before the drill's start"
t_eq "$(awk -F, '$2 == "route" && $4 !~ /^initial / && $1 <= '"$W"'' "$E" | wc -l)" 0 \
  "no route change before the withdraw (the initial rows are no changes)"
# The summary is the same without them: they count as no route change.
cp -r "$LAB_DIR" "$T_TMP/noinit"
awk -F, '!($2 == "route" && $4 ~ /^initial /)' "$E" >"$T_TMP/noinit/events.csv"
rm -f "$T_TMP/noinit/summary.csv"
"$LAB" report "$T_TMP/noinit" >/dev/null 2>&1
t_true "the report of the results without the initial rows ran" test -s "$T_TMP/noinit/summary.csv"
t_true "summary.csv is the same without the initial rows" cmp -s "$LAB_DIR/summary.csv" "$T_TMP/noinit/summary.csv"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run is left"
t_done
