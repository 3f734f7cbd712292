#!/usr/bin/env bash
# Report outputs never follow symlinks: in a run directory where every name
# the report writes is a symlink (to a victim file, and one dangling to a
# file that must not be created), `anycast-lab report DIR` as root leaves
# every victim as it was and writes regular files in their place; nothing
# of gnuplot's working files lands in the directory.
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3 gnuplot

R=$T_TMP/run V=$T_TMP/victims
mkdir -p "$R" "$V"
python3 - "$R" <<'PY'
import sys
d, T = sys.argv[1], 1800000000000000000
hdr = "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n"
rows = [f"{T + i * 10000000},fra,198.51.100.53,udp,dns,1,{i},ok,{'ams' if i < 200 else 'lon'},250,\n"
        for i in range(400)]
open(f"{d}/probes.csv", "w").write(hdr + "".join(rows))
open(f"{d}/connections.csv", "w").write(
    "conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed\n"
    f"1,fra,198.51.100.53,echo,{T + 50000000},ams,{T + 2001000000},reset,19,1\n"
    f"2,fra,198.51.100.53,echo,{T + 2010000000},lon,{T + 3950000000},end,19,0\n")
open(f"{d}/events.csv", "w").write(f"ts_ns,event,node,detail\n{T + 2000000000},withdraw,ams,\n")
PY
OUTS=(summary.csv summary.json report.html timeline.svg timeline.png rtt.svg rtt.png rtt-cdf.svg rtt-cdf.png
  connections.svg connections.png)
for f in "${OUTS[@]}"; do
  echo "victim of $f" >"$V/$f"
  ln -s "$V/$f" "$R/$f"
done
# One dangling: following it would create the file.
rm "$R/summary.json"
ln -s "$V/created-through-symlink" "$R/summary.json"
[ "$(id -u)" -eq 0 ] || echo "note: not root; the victims are ours anyway"

"$LAB" report "$R" >"$T_TMP/out" 2>"$T_TMP/err"
t_eq "$?" 0 "report exits 0"
T_DUMP+=("$T_TMP/err")
for f in "${OUTS[@]}"; do
  if [ "$f" != summary.json ]; then
    t_eq "$(cat "$V/$f")" "victim of $f" "victim of $f unchanged"
  fi
  t_true "$f is a regular file now" test -f "$R/$f" -a ! -L "$R/$f"
  t_true "$f is not empty" test -s "$R/$f"
done
t_true "nothing created through the dangling symlink" test ! -e "$V/created-through-symlink"
t_eq "$(ls -A "$R" | grep -cv -e '\.csv$' -e '\.json$' -e '\.html$' -e '\.svg$' -e '\.png$')" 0 \
  "no temp or gnuplot file left in the directory"
t_true "the page is complete" grep -q '<figure id="connections-plot">' "$R/report.html"
t_eq "$(stat -c %a "$R/report.html")" "$(printf "%o" $((0644 & ~0$(umask))))" "report.html mode 0644 less the umask"

# A directory where an output should be is an error, not followed into.
R2=$T_TMP/run2
mkdir -p "$R2/report.html"
cp "$R/probes.csv" "$R2/"
"$LAB" report "$R2" >/dev/null 2>"$T_TMP/err2"
t_eq "$?" 1 "a directory in the way of report.html: exit 1"
t_match "$(cat "$T_TMP/err2")" "report.html: Is a directory" "and says why"
t_eq "$(ls -A "$R2/report.html" | wc -l)" 0 "nothing written inside that directory"
t_done
