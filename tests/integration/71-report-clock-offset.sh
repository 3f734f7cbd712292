#!/usr/bin/env bash
# Clock alignment in the report (no root): two vantages' files, one written
# by a host whose clock is 5 s ahead. Unaligned, its switch after the
# withdraw looks 5 s late; `report --clock-offset us=+5000` and a run.json
# "hosts" entry (offset measured 0.4 ms short, uncertainty 0.5 ms) bring the
# two vantages' switch times together within the rows' resolution, which
# grows by the vantage's clock uncertainty. Connection times are rebased
# too, the offsets are in summary.json, and an offset for a vantage without
# rows is an error naming it.
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3
D=$T_TMP/in
R=$T_TMP/run
mkdir -p "$D" "$R"
T=1800000000000000000 # the controller's epoch time in ns; offsets below in ms

# True times: a probe every 10 ms from each vantage for 4 s; ams is
# withdrawn at 2000 ms; eu sees fra from 2030 ms, us from 2040 ms. us's
# clock is 5 s ahead, so its files say 5 s later. us also holds TCP
# connections: one breaks 1 ms after the withdraw, the next opens 10 ms
# after it. The run directory gets one probes.csv of both vantages in the
# order of their own clocks, as a merge of raw files has it.
python3 - "$D" "$R" "$T" <<'PY'
import sys
d, r, T = sys.argv[1], sys.argv[2], int(sys.argv[3])
hdr = "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n"
def rows(v, switch_ms, skew_ms):
    out = []
    for i in range(400):
        ms = i * 10
        node = "ams" if ms < switch_ms else "fra"
        ts = T + (ms + skew_ms) * 1000000
        out.append((ts, f"{ts},{v},198.51.100.53,udp,dns,4000,{i + 1},ok,{node},300,\n"))
    return out
eu, us = rows("eu", 2030, 0), rows("us", 2040, 5000)
open(f"{d}/probes-eu.csv", "w").write(hdr + "".join(x[1] for x in eu))
open(f"{d}/probes-us.csv", "w").write(hdr + "".join(x[1] for x in us))
open(f"{r}/probes.csv", "w").write(hdr + "".join(x[1] for x in sorted(eu + us)))
S = 5000 * 1000000
c = ("conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed\n"
     f"1,us,198.51.100.53,echo,{T + S + 50000000},ams,{T + S + 2001000000},reset,19,1\n"
     f"2,us,198.51.100.53,echo,{T + S + 2010000000},fra,{T + S + 3950000000},end,19,0\n")
for p in (f"{d}/connections-us.csv", f"{r}/connections.csv"):
    open(p, "w").write(c)
e = "ts_ns,event,node,detail\n" f"{T + 2000000000},withdraw,ams,\n"
for p in (f"{d}/events.csv", f"{r}/events.csv"):
    open(p, "w").write(e)
PY
cat >"$R/run.json" <<'JSON'
{"lab": "clock", "status": "ok", "exit_code": 0,
 "hosts": [
  {"name": "ams", "role": "node", "host": "ams.example.net", "commands": []},
  {"name": "eu", "role": "vantage", "host": "probe@203.0.113.10", "probe_version": "anycast-probe 0.1.0",
   "offset_ns": 0, "uncertainty_ns": 500000, "commands": []},
  {"name": "us", "role": "vantage", "host": "probe@203.0.113.11", "probe_version": "anycast-probe 0.1.0",
   "offset_ns": 4999600000, "uncertainty_ns": 500000, "commands": []}
 ]}
JSON

get() { # summary.csv event vantage transport column
  awk -F, -v e="$2" -v v="$3" -v t="$4" -v c="$5" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $2 == e && $4 == v && $5 == t { print $col[c]; exit }' "$1/summary.csv"
}
js() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); $2" "$1/summary.json"; }
# |switch_ms(us) - switch_ms(eu)| <= us's resolution_ms (which holds its
# clock uncertainty): the aligned timelines agree within the stated bound.
within() {
  js "$1" "
r = {x['vantage']: x for x in d['rows'] if x['event'] == 'withdraw' and x['transport'] == 'udp'}
gap = abs(r['us']['switch_ms'] - r['eu']['switch_ms'])
print('yes' if gap <= r['us']['resolution_ms'] else 'no: %.3f > %.3f' % (gap, r['us']['resolution_ms']))"
}

# Unaligned: us switched "5 s" after the withdraw.
O=$T_TMP/raw
"$LAB" report -q --out "$O" "$D"/probes-*.csv "$D/events.csv" "$D/connections-us.csv" >/dev/null
t_eq "$?" 0 "report without offsets exits 0"
t_eq "$(get "$O" withdraw eu udp switch_ms)" 30.000 "eu switched 30 ms after the withdraw"
# Its rows all fall seconds after the event (none in the second before it
# to say which node answered then), so its figures are seconds off.
sw=$(get "$O" withdraw us udp switch_ms)
t_true "unaligned, us's switch is seconds off ($sw ms)" awk -v s="$sw" 'BEGIN { exit !(s >= 1000) }'

t_eq "$(js "$O" "print(d['clocks'])")" "[]" "no clocks known: summary.json's clocks is empty"

# --clock-offset: us's rows move back 5 s; the switch times come together.
O=$T_TMP/opt
"$LAB" report -q --clock-offset us=+5000 --out "$O" "$D"/probes-*.csv "$D/events.csv" \
  "$D/connections-us.csv" >/dev/null
t_eq "$?" 0 "report --clock-offset exits 0"
t_eq "$(get "$O" withdraw us udp switch_ms)" 40.000 "aligned by hand, us switched 40 ms after the withdraw"
t_eq "$(get "$O" withdraw us udp before)/$(get "$O" withdraw us udp after)" ams/fra "us before/after"
t_eq "$(get "$O" run us udp probes)" 400 "every us row counted"
t_eq "$(within "$O")" yes "switch times within the resolution"
t_eq "$(get "$O" withdraw us tcp conns_at_event)" 1 "us's connection rebased: open at the withdraw"
t_eq "$(get "$O" withdraw us tcp break_ms_max)" 1.000 "... broke 1 ms after it"
t_eq "$(get "$O" withdraw us tcp reconnect_ms)" 10.000 "... replaced 10 ms after it"
t_eq "$(js "$O" "c = d['clocks'][0]; print(c['vantage'], c['clock_offset_ms'], c['clock_uncertainty_ms'], c['source'])")" \
  "us 5000.0 0.0 --clock-offset" "summary.json records the given offset"
t_eq "$(js "$O" "print([r['resolution_ms'] for r in d['resolution'] if r['vantage'] == 'us' and r['transport'] == 'udp'][0])")" \
  "10.0" "resolution: the probe interval, no clock uncertainty given"
# Decimals: a quarter of a millisecond too much moves the switch earlier by it.
O=$T_TMP/dec
"$LAB" report -q --clock-offset us=+5000.25 --out "$O" "$D"/probes-*.csv "$D/events.csv" >/dev/null
t_eq "$(get "$O" withdraw us udp switch_ms)" 39.750 "us=+5000.25: the switch 0.25 ms earlier"

# run.json's hosts: offset 4999.6 ms, uncertainty 0.5 ms, from one merged
# probes.csv in raw order (the reorder window grows by the offsets' spread).
"$LAB" report -q "$R" >/dev/null
t_eq "$?" 0 "report on the run directory exits 0"
t_eq "$(get "$R" withdraw eu udp switch_ms)" 30.000 "eu switch from the run directory"
t_eq "$(get "$R" withdraw us udp switch_ms)" 40.400 "us rebased by run.json's 4999.6 ms: 0.4 ms off the truth"
t_eq "$(within "$R")" yes "switch times within the resolution (which includes the uncertainty)"
t_eq "$(js "$R" "print(d['inputs']['late_rows'])")" 0 "no row late after rebasing the merged file"
t_eq "$(js "$R" "print([r['resolution_ms'] for r in d['resolution'] if r['vantage'] == 'us' and r['transport'] == 'udp'][0])")" \
  "10.5" "resolution: 10 ms probe interval + 0.5 ms clock uncertainty"
t_eq "$(js "$R" "print(sorted((c['vantage'], c['clock_offset_ms'], c['clock_uncertainty_ms'], c['source']) for c in d['clocks']))")" \
  "[('eu', 0.0, 0.5, 'run.json'), ('us', 4999.6, 0.5, 'run.json')]" "summary.json lists run.json's clocks"
t_eq "$(get "$R" withdraw us tcp break_ms_max)" 1.400 "connection times rebased from run.json"
t_match "$(cat "$R/report.html")" "id=\"clocks\">[^<]*eu \+0.000 ms &plusmn; 0.500 \(run.json\); us \+4999.600 ms &plusmn; 0.500 \(run.json\)" \
  "the page lists the clocks"
# --clock-offset replaces run.json's entry for its vantage only.
"$LAB" report -q --clock-offset us=+5000 "$R" >/dev/null
t_eq "$(get "$R" withdraw us udp switch_ms)" 40.000 "--clock-offset wins over run.json"
t_eq "$(js "$R" "print(sorted((c['vantage'], c['clock_uncertainty_ms'], c['source']) for c in d['clocks']))")" \
  "[('eu', 0.5, 'run.json'), ('us', 0.0, '--clock-offset')]" "... for that vantage only"

# Errors: an unknown vantage names itself (exit 1); a bad value is a usage
# error (exit 2).
"$LAB" report --clock-offset nowhere=+1 --out "$T_TMP/x" "$D"/probes-*.csv >/dev/null 2>"$T_TMP/err"
t_eq "$?" 1 "an offset for a vantage without rows: exit 1"
t_match "$(cat "$T_TMP/err")" "--clock-offset nowhere: no probes or connections row has that vantage" \
  "... naming the vantage"
"$LAB" report --clock-offset us=5s "$D"/probes-*.csv >/dev/null 2>"$T_TMP/err"
t_eq "$?" 2 "a value that is not milliseconds: exit 2"
t_match "$(cat "$T_TMP/err")" "--clock-offset: \"us=5s\": expected milliseconds" "... saying what is expected"
t_done
