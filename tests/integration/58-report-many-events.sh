#!/usr/bin/env bash
# The report's memory does not grow with events x vantages (docs/security.md,
# "CSV files, run.json, results directories"): 10,000 drill events x 20
# vantages (200,020 summary rows, of which
# 2,020 windows received a probe) stay under 60 MB (was 120 MB: an
# accumulator for every window of every vantage, and every row stored). And
# events.csv rows past the limits (65,536 windowed events, 1,000,000 route
# and observation rows) are skipped with one warning naming the file and the
# count, which summary.json and the page repeat; the report stays fast (was
# 45 s: occurrences were numbered by a quadratic loop).
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3

# rss_of CMD...: runs CMD (output to $T_TMP/cmd.out/.err) and prints its
# exit status, peak RSS in MB and wall seconds.
rss_of() {
  python3 - "$T_TMP" "$@" <<'PY'
import resource, subprocess, sys, time
d = sys.argv[1]
t = time.monotonic()
with open(f"{d}/cmd.out", "w") as o, open(f"{d}/cmd.err", "w") as e:
    rc = subprocess.run(sys.argv[2:], stdout=o, stderr=e).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
      int(time.monotonic() - t))
PY
}
T_DUMP+=("$T_TMP/cmd.err")
# AddressSanitizer (make asan) holds freed memory and shadow: bounds x3.
X=1
t_asan "$LAB" && X=3

# --- 10,000 events 10 ms apart, 20 vantages probing once a second ----------
R=$T_TMP/many
python3 - "$R" 10000 20 <<'PY'
import sys, os
d, E, V = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d)
T, S = 1800000000000000000, 10**9
dur = 2 + E // 100
with open(f"{d}/events.csv", "w") as f:
    f.write("ts_ns,event,node,detail\n")
    f.writelines(f"{T + S + k * 10**7},flap,n{k % 4},\n" for k in range(E))
with open(f"{d}/probes.csv", "w") as f:
    f.write("ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n")
    for t in range(dur):
        f.writelines(f"{T + t * S + v * 10**5},v{v:04d},198.51.100.53,udp,dns,1,{t},ok,"
                     f"n{(v + (2 * t >= dur)) % 4},100,\n" for v in range(V))
PY
read -r rc rss secs < <(rss_of "$LAB" report -q -o "$R/o" "$R/probes.csv" "$R/events.csv")
echo "10,000 events x 20 vantages: peak RSS $rss MB, $secs s"
t_eq "$rc" 0 "report of 10,000 events x 20 vantages exits 0"
t_true "peak RSS $rss MB < $((60 * X)) MB (was 120 MB)" test "$rss" -lt $((60 * X))
t_true "done in $secs s < 300 s" test "$secs" -lt 300
t_eq "$(($(wc -l <"$R/o/summary.csv") - 1))" 200020 "summary.csv has every event x vantage"
t_eq "$(awk -F, 'NR > 1 && $2 != "run" && $10 > 0' "$R/o/summary.csv" | wc -l)" 2020 \
  "2,020 windows received a probe (one a second from 1 s to 101 s per vantage)"
t_eq "$(awk -F, 'NR > 1 && $2 ~ /^flap(#[0-9]+)?$/ && $1 >= 1800000002000000000' "$R/o/summary.csv" | wc -l)" 198000 \
  "the windows from 2 s on: event flap, with its occurrence from the second on"
t_eq "$(awk -F, 'NR > 1 && $2 ~ /^flap(#[0-9]+)?$/ && $8 == "" && $1 >= 1800000002000000000' "$R/o/summary.csv" | wc -l)" 0 \
  "every window from 2 s on has the node of its second before"
t_eq "$(grep -c '^1800000050010000000,flap#1226,n1,v0003,udp,dns,ipv4,n3,,0,0,0.000,,0,,,,,,,,,,,,,0,,0$' "$R/o/summary.csv")" 1 \
  "a window no probe fell into: its row made from nothing, with the node before it (no RTT, no flow moved)"
t_eq "$(grep -c '^1800000051000000000,flap#1251,n0,v0003,udp,dns,ipv4,n3,n0,1,0,0.000,0.300,1,,,,,,,0.100,0.100,0.100,0.100,0.100,0.100,0,,0$' "$R/o/summary.csv")" 1 \
  "the window a probe fell into, after the move: before n3, after n0, switch 0.3 ms, 1 flip, RTT 0.1 ms as before, the flow moved onto the event's node: no collateral"

# --- the limits --------------------------------------------------------------
L=$T_TMP/limits
python3 - "$L" <<'PY'
import sys, os
d = sys.argv[1]
os.makedirs(d)
T, S = 1800000000000000000, 10**9
with open(f"{d}/events.csv", "w") as f:
    f.write("ts_ns,event,node,detail\n")
    f.writelines(f"{T + S + k * 10**6},withdraw,n1,\n" for k in range(65536 + 64))
    f.writelines(f"{T + S + k * 10**5},route,n2,router=v1 nexthop=n2\n" for k in range(1000000))
    f.writelines(f"{T + S + k},exit,n2,pid {k}\n" for k in range(50))
with open(f"{d}/probes.csv", "w") as f:
    f.write("ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n")
    f.writelines(f"{T + k * 10**8},v1,198.51.100.53,udp,dns,1,{k},ok,n1,100,\n" for k in range(700))
PY
read -r rc rss secs < <(rss_of "$LAB" report -o "$L/o" "$L/probes.csv" "$L/events.csv")
echo "65,600 windowed events and 1,000,050 route and observation rows: peak RSS $rss MB, $secs s"
t_eq "$rc" 0 "report past the limits exits 0"
t_true "peak RSS $rss MB < $((150 * X)) MB" test "$rss" -lt $((150 * X))
t_true "done in $secs s < 120 s (was 45 s for the occurrences alone)" test "$secs" -lt 120
t_eq "$(grep -c "$L/events.csv: 114 rows past the limits skipped (64 windowed events past 65536, 50 route and observation rows past 1000000; docs/report.md)" "$T_TMP/cmd.err")" 1 \
  "one warning names the file and the counts"
t_eq "$(python3 -c "import json,sys; f=json.load(open(sys.argv[1]))['inputs']['events'][0]; print(f['over_limit'], f['skipped'], f['rows'])" "$L/o/summary.json")" \
  "114 114 1065536" "summary.json says how many rows were past the limits"
t_true "the page says so" grep -q 'id="events-over-limit">.*114 rows past the limits were skipped' "$L/o/report.html"
t_eq "$(($(wc -l <"$L/o/summary.csv") - 1))" 65537 "summary.csv: the run and 65,536 events"
t_true "the page lists the first 5000 events only" grep -q 'The first 5000 of 1065536 events' "$L/o/report.html"
t_true "report.html: $(($(stat -c %s "$L/o/report.html") / 1048576)) MB < 8 MB" \
  test "$(stat -c %s "$L/o/report.html")" -lt $((8 << 20))
t_done
