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
YAML
"$LAB" report -q --lab "$T_TMP/lab.yaml" "$R" >/dev/null
t_eq "$?" 0 "the report is made and its expectations pass"

# Runs the browser on a file; the DOM to $2, the log to $3.
browse() {
  local iso=()
  if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then iso=(unshare -n)
  elif unshare -rn true 2>/dev/null; then iso=(unshare -rn)
  fi
  timeout 90 "${iso[@]}" "$CHROME" --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T_TMP/profile" --enable-logging=stderr --v=1 \
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
t_match "$dom" '<table id="verdict-table">.*<td>PASS</td><td class="n">[0-9]+</td><td>v1 udp after withdraw n1 answered-by n2</td>' \
  "the verdict table shows the passing expectation"
rows=$(grep -o '<tr>' <<<"$(sed -n '/id="summary-table"/,/<\/table>/p' "$T_TMP/dom.html")" | wc -l)
# 8 groups (4 vantages x udp/tcp) x (run + 1 withdraw) + the header row.
t_eq "$rows" 17 "the summary table has every row"
t_match "$dom" '<title>anycast-lab report: browser-test</title>' "the lab's name is the title"
for n in n0 n1 n2 n3; do
  t_match "$dom" "<text[^>]*>[^<]*$n</text>|>$n<" "the legend names node $n"
done
t_done
