#!/usr/bin/env bash
# report.html in a real headless browser (chromium-headless-shell): it loads
# with no console message and fetches nothing but itself, and the rendered
# DOM holds the timeline plot (inline SVG), the connection lifelines, the
# verdict table and the summary table. The browser runs in a network
# namespace of its own (no network at all) when it can. A control page with
# a console error and a missing image proves the checks can fail.
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
GEN=$AH_BIN/bench/gen_probes
CHROME=$(command -v chromium-headless-shell || command -v chromium || true)
[ -n "$CHROME" ] || t_skip "needs chromium-headless-shell (apt-get install chromium-headless-shell)"
for f in "$LAB" "$GEN"; do [ -x "$f" ] || { echo "missing $f"; exit 1; }; done

# 1.5 million rows: 15 s of four vantages; n1 is withdrawn at 10 s.
R=$T_TMP/run
"$GEN" "$R" 1500000 >/dev/null || { echo "gen_probes failed"; exit 1; }
cat >"$T_TMP/lab.yaml" <<'YAML'
name: browser-test
anycast: [198.51.100.53]
routing: static
duration: 15s
nodes: [{name: n0}, {name: n1}, {name: n2}, {name: n3}]
vantages: [{name: v0}, {name: v1}, {name: v2}, {name: v3}]
probes:
  udp: {service: dns, rate: 66667, flows: 8}
  tcp: {service: echo, connections: 50, interval: 100ms}
drill:
  - {at: 10s, withdraw: n1}
expect:
  - "v1 udp after withdraw n1 answered-by n2"
  - "v0 * never-answered-by n1"
  - "v1 udp after withdraw n1 answered-by n3"
YAML
"$LAB" report -q --lab "$T_TMP/lab.yaml" "$R" >/dev/null 2>"$T_TMP/report.err"
t_eq "$?" 1 "the report is made; one expectation fails on purpose"
t_eq "$(grep -ci '<script' "$R/report.html")" 0 "report.html has no script"

# Runs the browser on a file; the DOM to $2, the log to $3.
browse() {
  local iso=()
  if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then iso=(unshare -n)
  elif unshare -rn true 2>/dev/null; then iso=(unshare -rn)
  fi
  timeout 90 "${iso[@]}" "$CHROME" --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T_TMP/profile" --enable-logging=stderr --v=1 "${@:4}" \
    --dump-dom "file://$1" >"$2" 2>"$3"
}
# Console messages, and every URL the page asked for that is not itself.
problems() { # log page
  grep -E ':CONSOLE' "$1"
  grep -E 'NotifyBeforeURLRequest|FileURLLoader::Start' "$1" | grep -v "file://$2\$"
}

# The control first: the checks must see a console error and a stray fetch.
printf '<!DOCTYPE html><html><head><meta charset="utf-8"><title>c</title></head><body>%s%s</body></html>\n' \
  '<script>console.error("control-error")</script>' '<img src="control-missing.png">' >"$T_TMP/control.html"
browse "$T_TMP/control.html" "$T_TMP/control.dom" "$T_TMP/control.log"
p=$(problems "$T_TMP/control.log" "$T_TMP/control.html")
t_match "$p" "control-error" "control: a console error is caught"
t_match "$p" "control-missing.png" "control: a fetch of another file is caught"

browse "$R/report.html" "$T_TMP/dom.html" "$T_TMP/chrome.log"
t_eq "$?" 0 "the browser loads report.html"
t_eq "$(problems "$T_TMP/chrome.log" "$R/report.html")" "" "no console message, nothing fetched"
dom=$(tr -d '\n' <"$T_TMP/dom.html")
t_match "$dom" '<figure id="timeline-plot"><svg[^>]*>.*<g id="gnuplot_canvas">' "the timeline plot is an inline SVG in the DOM"
t_match "$dom" '<figure id="connections-plot"><svg' "the connection lifelines are in the DOM"
# The vantage the withdraw affected is drawn first (gnuplot writes the rows
# from the bottom up: it comes last), though v0 probed first.
rows_drawn=$(sed 's/.*<figure id="timeline-plot">//; s/<\/figure>.*//' <<<"$dom" | grep -o '<text>v[0-9] [a-z]*</text>' | tr -d '\n')
t_match "$rows_drawn" '^<text>v3 tcp</text>.*<text>v0 udp</text><text>v1 tcp</text><text>v1 udp</text>$' \
  "the timeline draws the affected vantage v1 first, then the others by name"
t_match "$dom" '<figure id="rtt-plot"><svg.*<text>v1 udp \(0-[0-9.]+ ms\)</text>' "RTT over time is in the DOM, a row per vantage x transport"
t_match "$dom" '<figure id="rtt-cdf-plot"><svg.*<text>v3 tcp \(p50 [0-9.]+ ms\)</text>' "the RTT CDF is in the DOM, with each row's median"
t_match "$dom" '<ol id="plot-events" class="meta"><li value="1">withdraw n1 <span class="at">at 10.000 s</span></li></ol>' \
  "the drill event numbered in the plots is listed under them"
t_match "$dom" '<table id="verdict-table">.*<td>PASS</td><td class="n">[0-9]+</td><td>v1 udp after withdraw n1 answered-by n2</td>' \
  "the verdict table shows the passing expectation"
rows=$(grep -o '<tr>' <<<"$(sed -n '/id="summary-table"/,/<\/table>/p' "$T_TMP/dom.html")" | wc -l)
# 8 groups (4 vantages x udp/tcp) x (run + 1 withdraw) + the header row.
t_eq "$rows" 17 "the summary table has every row"
t_match "$dom" '<title>anycast-lab report: browser-test</title>' "the lab's name is the title"

# The event cards lead the page: withdraw n1's card lists the vantage it
# moved (v1, both transports) with its cost and folds the three others.
t_match "$dom" '<body>.*<h1>[^<]*</h1>[^<]*<p class="meta">[^<]*</p>[^<]*<section id="events">' \
  "the event cards come first, right after the title"
card=$(sed -n '/<article class="card" id="card-1">/,/<\/article>/p' "$T_TMP/dom.html" | tr -d '\n')
t_match "$card" '<h3>withdraw n1</h3>' "card 1 is withdraw n1"
t_match "$card" '<p class="when">at 10\.000 s' "the card says when"
t_match "$card" '<tr class="affected"><td>v1</td><td>udp dns</td><td class="n">[1-9][0-9]*/[0-9]+</td>' \
  "v1 udp is affected, with its lost count"
t_match "$card" '<tr class="affected"><td>v1</td><td>tcp echo</td>.*<td class="n">50/50</td>' \
  "v1 tcp is affected: all 50 connections broken of 50 held"
t_match "$card" '<td>n1 → n2</td>' "the card says who answered before and after"
t_eq "$(grep -o '<tr class="affected">' <<<"$card" | wc -l)" 2 "only v1's two rows are listed"
t_match "$card" '<p class="unaffected">3 vantages unaffected: v0, v2, v3</p>' \
  "the other three vantages are folded into one line"
# A FAIL says why, from the data: n2 answered, and v1's router moved to n2.
t_match "$dom" '<tr class="fail"><td>FAIL</td>.*v1 udp after withdraw n1 answered-by n3.*<td class="why">answered by n2, not n3 \([0-9]+/[0-9]+ lost; the route at v1.s router moved to n2 [0-9.]+ ms after the event\)</td>' \
  "the failed expectation says why in one sentence"

# At 1280 px nothing scrolls sideways, the summary table included: a copy of
# the page with a script that measures (the page itself has none).
sed 's|</body>|<script>document.title = "w " + document.documentElement.scrollWidth + " " + document.getElementById("summary-table").scrollWidth</script></body>|' \
  "$R/report.html" >"$T_TMP/width.html"
browse "$T_TMP/width.html" "$T_TMP/width.dom" "$T_TMP/width.log" --window-size=1280,1000
read -r page_w table_w < <(sed -n 's|.*<title>w \([0-9]*\) \([0-9]*\)</title>.*|\1 \2|p' "$T_TMP/width.dom")
echo "at 1280 px: page $page_w px, summary table $table_w px wide"
t_true "the page is no wider than 1280 px ($page_w)" test "${page_w:-99999}" -le 1280
t_true "the summary table is no wider than 1280 px ($table_w)" test "${table_w:-99999}" -le 1280

# Names of 250 bytes without a space (a vantage, a node) break anywhere
# rather than widen the page: in the cards, the tables and the lists.
L=$T_TMP/long
mkdir -p "$L"
python3 - "$L" <<'PY'
import sys
d, T, V, N = sys.argv[1], 1800000000000000000, "V" * 250, "N" * 250
with open(f"{d}/probes.csv", "w") as f:
    f.write("ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n")
    for i in range(400):
        f.write(f"{T + i * 10**7},{V},198.51.100.53,udp,dns,1,{i},ok,{'a' if i < 200 else N},250,\n")
open(f"{d}/events.csv", "w").write(f"ts_ns,event,node,detail\n{T + 2 * 10**9},withdraw,a,\n")
PY
"$LAB" report -q "$L" >/dev/null 2>&1
t_true "the long names' report is made" test -s "$L/report.html"
sed 's|</body>|<script>document.title = "w " + document.documentElement.scrollWidth</script></body>|' \
  "$L/report.html" >"$T_TMP/long.html"
browse "$T_TMP/long.html" "$T_TMP/long.dom" "$T_TMP/long.log" --window-size=1280,1000
long_w=$(sed -n 's|.*<title>w \([0-9]*\)</title>.*|\1|p' "$T_TMP/long.dom")
t_true "with 250-byte names the page is no wider than 1280 px (${long_w:-?})" test "${long_w:-99999}" -le 1280
for n in n0 n1 n2 n3; do
  t_match "$dom" "<text[^>]*>[^<]*$n</text>|>$n<" "the legend names node $n"
done
t_done
