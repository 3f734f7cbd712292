#!/usr/bin/env bash
# The report's memory and output stay bounded whatever the number of names:
# 10,000 distinct vantages (the issue: 980 MB before) and the largest lab
# `anycast-lab check` accepts (256 nodes, 1024 vantages, udp and tcp, with
# route changes at every router and connections) give a complete report
# with every plot, a page and SVGs of a few MB, and the page says that the
# vantages past the first 32 are drawn together as "others".
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3 gnuplot

# rss_of CMD...: runs CMD (output to $T_TMP/cmd.out/.err) and prints its
# exit status and peak RSS in MB.
rss_of() {
  python3 - "$T_TMP" "$@" <<'PY'
import resource, subprocess, sys
d = sys.argv[1]
with open(f"{d}/cmd.out", "w") as o, open(f"{d}/cmd.err", "w") as e:
    rc = subprocess.run(sys.argv[2:], stdout=o, stderr=e).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
}
T_DUMP+=("$T_TMP/cmd.err")
# AddressSanitizer (make asan) holds freed memory and shadow: bounds x3.
X=1
t_asan "$LAB" && X=3
mb() { echo $(($(stat -c %s "$1") / 1048576)); }

# --- 10,000 vantages, one probe each (as in the issue), then five per
# vantage and transport across four events.
R=$T_TMP/v10k
mkdir -p "$R"
python3 - "$R" <<'PY'
import sys
d, T = sys.argv[1], 1800000000000000000
hdr = "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n"
open(f"{d}/probes-1.csv", "w").write(hdr + "".join(
    f"{T + i * 100000},v{i:05d},198.51.100.53,udp,dns,1,1,ok,n{i % 8},100,\n" for i in range(10000)))
rows = [hdr]
for k in range(5):
    for i in range(10000):
        for tr in ("udp", "tcp"):
            rows.append(f"{T + k * 10**9 + i * 100000},v{i:05d},198.51.100.53,{tr},dns,{i},{k},"
                        f"ok,n{(i + k) % 300},100,\n")
open(f"{d}/probes-5.csv", "w").write("".join(rows))
open(f"{d}/events.csv", "w").write("ts_ns,event,node,detail\n" + "".join(
    f"{T + (k * 1000 + 500) * 1000000},withdraw,n{k},\n" for k in range(4)))
PY
read -r rc rss < <(rss_of "$LAB" report -q -o "$R/o1" "$R/probes-1.csv")
echo "10,000 vantages, one probe each: peak RSS $rss MB"
t_eq "$rc" 0 "report of 10,000 vantages exits 0"
t_true "peak RSS $rss MB < $((150 * X)) MB (was 980 MB)" test "$rss" -lt $((150 * X))
t_true "the page says the vantages were grouped" \
  grep -q 'id="grouped">Grouped: the plots draw 32 vantages one by one.* the other 9968 together as "others"' "$R/o1/report.html"
t_true "the timeline has a row for the others" grep -qF 'others (9968 vantages) udp' "$R/o1/timeline.svg"
t_eq "$(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['timeline']; print(t['vantages_shown'], t['vantages_grouped'])" "$R/o1/summary.json")" \
  "32 9968" "summary.json says how many were grouped"
t_eq "$(($(wc -l <"$R/o1/summary.csv") - 1))" 10000 "summary.csv still has every vantage"

read -r rc rss < <(rss_of "$LAB" report -q -o "$R/o5" "$R/probes-5.csv" "$R/events.csv")
echo "10,000 vantages x udp,tcp x 5 probes, 4 events (100,000 summary rows): peak RSS $rss MB"
t_eq "$rc" 0 "report of 10,000 vantages x 2 transports x 4 events exits 0"
t_true "peak RSS $rss MB < $((300 * X)) MB (was 1.9 GB)" test "$rss" -lt $((300 * X))
for f in timeline.svg report.html; do
  t_true "$f: $(mb "$R/o5/$f") MB < 8 MB" test "$(mb "$R/o5/$f")" -lt 8
done

# --- the largest lab: 256 nodes, 1024 vantages ---------------------------------
B=$T_TMP/big
python3 "$(dirname "$0")/gen_run.py" "$B" 1024 256 500
read -r rc rss < <(rss_of "$LAB" report "$B")
echo "256 nodes x 1024 vantages: peak RSS $rss MB"
t_eq "$rc" 0 "report of the largest lab exits 0"
t_true "peak RSS $rss MB < $((100 * X)) MB" test "$rss" -lt $((100 * X))
t_eq "$(grep -c 'out of order' "$T_TMP/cmd.err")" 0 "the generated rows are in order"
t_eq "$(grep -c 'no plots\|not written' "$T_TMP/cmd.err")" 0 "no plot error on stderr"
t_eq "$(grep -c 'No plot' "$B/report.html")" 0 "no plot error on the page"
for f in timeline.svg timeline.png connections.svg connections.png; do
  t_true "$f written, not empty" test -s "$B/$f"
done
for f in timeline.svg connections.svg; do
  t_true "$f: $(mb "$B/$f") MB < 5 MB" test "$(mb "$B/$f")" -lt 5
done
t_true "report.html: $(mb "$B/report.html") MB < 8 MB" test "$(mb "$B/report.html")" -lt 8
t_true "the timeline is drawn in at most 66 rows" \
  test "$(grep -c '<text>vantage[0-9]* \(udp\|tcp\)</text>\|<text>others' "$B/timeline.svg")" -le 66
t_true "the page says the vantages were grouped" grep -q 'id="grouped"' "$B/report.html"
# Each withdraw moves the 4 vantages whose first node it is (v % 256): the
# card lists them and folds the 1020 others; the timeline draws all 12 such
# vantages on rows of their own, though most probe after the first 32.
card=$(sed -n '/<article class="card" id="card-1">/,/<\/article>/p' "$B/report.html" | tr -d '\n')
t_eq "$(grep -o '<tr class="affected"><td>vantage[0-9]*</td><td>udp' <<<"$card" | tr -d '\n')" \
  '<tr class="affected"><td>vantage0000</td><td>udp<tr class="affected"><td>vantage0256</td><td>udp<tr class="affected"><td>vantage0512</td><td>udp<tr class="affected"><td>vantage0768</td><td>udp' \
  "card 1 lists the 4 vantages withdraw node000 moved"
t_match "$card" '<details class="unaffected"><summary>1020 vantages unaffected</summary>' \
  "the 1020 others are folded into one line"
for v in 0000 0256 0512 0768 0001 0257 0513 0769 0002 0258 0514 0770; do
  t_true "the affected vantage$v has a timeline row" grep -q "<text>vantage$v udp</text>" "$B/timeline.svg"
done
for f in rtt.svg rtt-cdf.svg; do
  t_true "$f written, $(mb "$B/$f") MB < 5 MB" test -s "$B/$f" -a "$(mb "$B/$f")" -lt 5
done
t_true "summary.csv has all 1024 vantages" \
  test "$(awk -F, 'NR > 1 { print $4 }' "$B/summary.csv" | sort -u | wc -l)" -eq 1024
t_done
