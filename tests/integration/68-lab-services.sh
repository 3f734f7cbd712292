#!/usr/bin/env bash
# Several services per transport (docs/lab-file.md, probes): a lab whose udp
# probes `service: [dns, echo]` gets probes.csv rows of both services from
# each vantage, answered by the node the vantage prefers, one probe process
# per vantage when tcp probes the same set (and one per transport when it
# does not), and summary.csv rows per service for the drill's step.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk

lab_file() { # NAME TCP-SERVICE
  cat >"$T_TMP/$1.yaml" <<YAML
name: $1
anycast: [198.51.100.53]
routing: static
duration: 3s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: [dns, echo], rate: 200, flows: 2}
  tcp: {service: $2, connections: 2, interval: 100ms}
drill:
  - {at: 1500ms, withdraw: a}
YAML
}

lab_file same "[echo, dns]"
lab_run "$T_TMP/same.yaml"
t_eq "$LAB_RC" 0 "run with the same service set on udp and tcp exits 0"
t_eq "$LAB_LEFT" "" "run reaped every process it started"
P=$LAB_DIR/probes.csv
for v in va vb; do
  for s in dns echo; do
    for tr in udp tcp; do
      n=$(awk -F, -v v=$v -v s=$s -v t=$tr '$2 == v && $4 == t && $5 == s && $8 == "ok"' "$P" | wc -l)
      t_true "$v has ok $tr $s rows ($n)" test "$n" -gt 0
    done
  done
done
t_eq "$(ls -d "$LAB_DIR"/logs/probe-*.log 2>/dev/null | wc -l)" 2 "one probe process per vantage"
t_eq "$(awk -F, 'NR > 1 && $2 == "vb" && $4 == "udp" && $8 == "ok" && $9 != "b"' "$P" | wc -l)" 0 \
  "vb's udp probes of both services answered by b"
t_true "report.html's settings list udp probes of dns, echo" \
  grep -q '<tr><th>udp probes</th><td>dns, echo,' "$LAB_DIR/report.html"
S=$LAB_DIR/summary.csv
for s in dns echo; do
  n=$(awk -F, -v s=$s 'NR > 1 && $2 == "withdraw" && $4 == "va" && $5 == "udp" && $6 == s' "$S" | wc -l)
  t_true "summary.csv has va's udp $s row for the withdraw ($n)" test "$n" -ge 1
done

lab_file split echo
lab_run "$T_TMP/split.yaml"
t_eq "$LAB_RC" 0 "run with different sets on udp and tcp exits 0"
t_eq "$LAB_LEFT" "" "run reaped every process it started"
P=$LAB_DIR/probes.csv
t_eq "$(ls -d "$LAB_DIR"/logs/probe-*.log 2>/dev/null | wc -l)" 4 "one probe process per vantage and transport"
for s in dns echo; do
  n=$(awk -F, -v s=$s '$2 == "va" && $4 == "udp" && $5 == s && $8 == "ok"' "$P" | wc -l)
  t_true "va has ok udp $s rows ($n)" test "$n" -gt 0
done
t_eq "$(awk -F, '$4 == "tcp" && $5 == "dns"' "$P" | wc -l)" 0 "no tcp dns rows when tcp probes echo only"
t_done
