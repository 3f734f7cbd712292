#!/usr/bin/env bash
# anycast-lab run --pcap (docs/anycast-lab.md, "Packet captures"): one
# capture per vantage in its client namespace, open before the first probe,
# complete after the last, named in run.json and linked from report.html;
# refused (exit 2, nothing built) for a deployment and for more vantages
# than it takes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need tcpdump awk python3

cat >"$T_TMP/cap.yaml" <<YAML
name: cap
anycast: [198.51.100.53]
routing: static
duration: 3s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 100, flows: 2}
  tcp: {service: echo, connections: 2, interval: 200ms}
drill:
  - {at: 1500ms, withdraw: a}
YAML
lab_run "$T_TMP/cap.yaml" --pcap
t_eq "$LAB_RC" 0 "run --pcap exits 0"
t_eq "$LAB_LEFT" "" "run reaped every process it started (tcpdump too)"
for v in va vb; do
  f=$LAB_DIR/pcap/$v.pcap
  t_true "pcap/$v.pcap written" test -s "$f"
  tcpdump -r "$f" -n -tt 2>/dev/null >"$T_TMP/$v.txt"
  q=$(grep -c "> 198\.51\.100\.53\.53: .* TXT CHAOS? hostname\.bind" "$T_TMP/$v.txt")
  a=$(grep -c "198\.51\.100\.53\.53 > .*: .* TXT \"" "$T_TMP/$v.txt")
  rows=$(awk -F, -v v="$v" '$2 == v && $4 == "udp" && $5 == "dns"' "$LAB_DIR/probes.csv" | wc -l)
  echo "$v: $rows udp dns rows, $q queries and $a answers captured"
  t_true "$v: every udp dns probe's query captured ($q of $rows)" test "$q" -ge "$rows" -a "$rows" -gt 100
  t_true "$v: its answers captured ($a)" test "$a" -ge $((rows * 9 / 10))
  t_true "$v: the tcp echo connections captured" grep -q "198\.51\.100\.53\.7: Flags \[S\]" "$T_TMP/$v.txt"
  # The capture was open before the first probe was sent.
  first_pkt=$(awk 'NR == 1 { split($1, t, "."); print t[1] t[2] "000" }' "$T_TMP/$v.txt")
  first_probe=$(awk -F, -v v="$v" '$2 == v { print $1 }' "$LAB_DIR/probes.csv" | sort -n | head -n 1)
  t_true "$v: capture started before the first probe" test "$first_pkt" -le "$first_probe"
done
got=$(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["pcaps"]))' "$LAB_DIR/run.json")
t_eq "$got" "pcap/va.pcap pcap/vb.pcap" "run.json names the captures"
t_true "report.html links them" grep -q '<a href="pcap/va.pcap">va</a>' "$LAB_DIR/report.html"

# Refused before anything is built.
python3 - "$T_TMP/cap.yaml" "$T_TMP/many.yaml" <<'PY'
import sys
src = open(sys.argv[1]).read().split("vantages:")[0]
v = "".join("  - name: v%d\n    prefer: [a, b]\n" % i for i in range(65))
open(sys.argv[2], "w").write(src + "vantages:\n" + v + "probes:\n  udp: {service: dns, rate: 10}\n")
PY
out=$("$LAB" run "$T_TMP/many.yaml" --pcap --results "$T_TMP/results" 2>&1); rc=$?
t_eq "$rc" 2 "--pcap with 65 vantages: exit 2"
t_match "$out" "--pcap: 65 vantages, at most 64 captures" "and says why"
t_eq "$(ls "$T_TMP/results" | grep -c many)" 0 "nothing written for it"
t_done
