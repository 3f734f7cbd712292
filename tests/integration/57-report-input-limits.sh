#!/usr/bin/env bash
# anycast-lab report on a probes.csv with a 16 MiB record of commas and a
# 2 MiB record (no root): each is a bad row named FILE:LINE, skipped and
# counted, the rows around them are used, and the report's peak memory stays
# small (before the CSV reader had limits, the commas alone took 283 MB).
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3
[ -x /usr/bin/time ] || t_skip "needs /usr/bin/time (Debian package time)"
D=$T_TMP/in
mkdir -p "$D"

python3 - "$D" <<'PY'
import sys
d = sys.argv[1]
T = 1800000000000000000
hdr = "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n"
rows = [f"{T + i * 100000000},fra,198.51.100.53,udp,dns,5353,{i},ok,ams,250,\n" for i in range(20)]
with open(f"{d}/probes.csv", "w") as f:
    f.write(hdr)
    f.write("".join(rows[:5]))            # lines 2-6
    f.write("," * (16 * 1024 * 1024) + "\n")  # line 7: 16 Mi fields
    f.write("x" * (2 * 1024 * 1024) + "\n")   # line 8: one 2 MiB field
    f.write("".join(rows[5:]))            # lines 9-23
PY

O=$T_TMP/out
/usr/bin/time -f 'maxrss_kib %M' -o "$T_TMP/time" \
  "$LAB" report --out "$O" "$D/probes.csv" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
rc=$?
T_DUMP+=("$T_TMP/stderr" "$T_TMP/time")
err=$(cat "$T_TMP/stderr")
t_eq "$rc" 0 "report with oversized records exits 0"
t_match "$err" "$D/probes\.csv:7: more than 64 columns; row skipped" "the comma record is named FILE:LINE"
t_match "$err" "$D/probes\.csv:8: record longer than 1048576 bytes; row skipped" \
  "the long record is named FILE:LINE"
t_match "$err" "probes\.csv: 2 rows skipped, 20 used" "both skipped and counted, the rest used"
t_true "report.html written" test -s "$O/report.html"
t_true "summary.json written" test -s "$O/summary.json"
rss=$(sed -n 's/^maxrss_kib \([0-9]*\)$/\1/p' "$T_TMP/time")
# Generous: the report itself needs about 20 MB (more under ASan).
t_true "peak RSS ${rss:-?} KiB is under 200 MiB" test "${rss:-999999999}" -lt $((200 * 1024))
t_done
