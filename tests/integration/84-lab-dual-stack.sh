#!/usr/bin/env bash
# Both address families (docs/lab-file.md, probes.families): a lab with an
# IPv4 and an IPv6 anycast address probes both from every vantage (one probe
# process per vantage and address), its probes.csv and summary.csv have rows
# of both families, and `probes: {families: [ipv6]}` probes only one; a
# deployment's --dry-run shows a probe session per vantage and address. Then a
# node whose IPv6 responder goes away once the probes run (its IPv4 one
# stays) fails an expectation scoped to ipv6 while the same one scoped to
# ipv4 passes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk
t_need jq

V4=198.51.100.53
V6=2001:db8:53::53

# --- both families, builtin responders ----------------------------------------
cat >"$T_TMP/dual.yaml" <<YAML
name: dual
anycast: [$V4, "$V6"]
routing: static
duration: 3s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {rate: 100, flows: 2}
  tcp: {connections: 2, interval: 100ms}
drill:
  - {at: 1500ms, withdraw: a}
expect:
  - "va udp ipv6 after withdraw a answered-by b"
  - "va * ipv4 after withdraw a answered-by b"
YAML
lab_run "$T_TMP/dual.yaml"
t_eq "$LAB_RC" 0 "the dual-stack run exits 0 (both expectations pass)"
t_eq "$LAB_LEFT" "" "run reaped every process it started"
# udp probes dns and tcp echo (the defaults): one process per transport.
t_eq "$(ls "$LAB_DIR"/logs/probe-*.log 2>/dev/null | wc -l)" 8 \
  "one probe process per vantage, address and transport"
t_true "va's IPv6 udp probe has its own log" test -s "$LAB_DIR/logs/probe-va-ipv6-udp.log"
P=$LAB_DIR/probes.csv
for v in va vb; do
  for a in $V4 $V6; do
    for tr in udp tcp; do
      n=$(awk -F, -v v=$v -v a=$a -v t=$tr '$2 == v && $3 == a && $4 == t && $8 == "ok"' "$P" | wc -l)
      t_true "$v has ok $tr rows to $a ($n)" test "$n" -gt 0
    done
  done
done
S=$LAB_DIR/summary.csv
t_eq "$(head -1 "$S" | cut -d, -f7)" family "summary.csv's seventh column is family"
for v in va vb; do
  for f in ipv4 ipv6; do
    for tr in udp tcp; do
      n=$(awk -F, -v v=$v -v f=$f -v t=$tr '$2 == "withdraw" && $4 == v && $5 == t && $7 == f' "$S" | wc -l)
      t_eq "$n" 1 "summary.csv: one $v $tr $f row for the withdraw"
    done
  done
done
t_eq "$(awk -F, '$2 == "withdraw" && $4 == "va" && $5 == "udp" { print $7 "=" $8 ">" $9 }' "$S" | sort | tr '\n' ' ')" \
  "ipv4=a>b ipv6=a>b " "va's udp moved from a to b in both families"
t_eq "$(jq -r '[.rows[] | .family] | unique | join(",")' "$LAB_DIR/summary.json")" "ipv4,ipv6" \
  "summary.json rows carry the family"
t_true "report.html's settings name both probed addresses" \
  grep -q "<tr><th>probed</th><td>ipv4 $V4, ipv6 $V6</td>" "$LAB_DIR/report.html"
t_true "report.html's summary table has a family column" \
  grep -q '<th>service</th><th>family</th>' "$LAB_DIR/report.html"
for f in ipv4 ipv6; do
  t_true "the timeline has a row of its own for va's udp $f probes" \
    grep -q ">va udp $f<" "$LAB_DIR/timeline.svg"
done

# --- probes.families restricts --------------------------------------------------
sed 's/^probes:$/probes:\n  families: [ipv6]/' "$T_TMP/dual.yaml" |
  grep -v '"va \* ipv4' >"$T_TMP/six.yaml"
lab_run "$T_TMP/six.yaml"
t_eq "$LAB_RC" 0 "the ipv6-only run exits 0"
t_eq "$(ls "$LAB_DIR"/logs/probe-*.log 2>/dev/null | wc -l)" 4 \
  "one probe process per vantage and transport"
t_eq "$(awk -F, 'NR > 1 { print $3 }' "$LAB_DIR/probes.csv" | sort -u)" "$V6" \
  "every probe went to the IPv6 address"
t_eq "$(awk -F, 'NR > 1 { print $7 }' "$LAB_DIR/summary.csv" | sort -u)" ipv6 \
  "every summary row is ipv6"

# --- a deployment probes both addresses too (--dry-run: the ssh commands) -------
dry=$("$LAB" run --dry-run "$AH_ROOT/labs/deployment.yaml" 2>&1)
t_eq "$?" 0 "deployment --dry-run exits 0"
for a in 198.51.100.53 2001:db8::53; do
  t_eq "$(grep -c -- "--once --transport both --service dns $a'" <<<"$dry")" 2 \
    "deployment preflight: each vantage checks $a"
  t_eq "$(grep -c -- "--ready-fd 3 $a " <<<"$dry")" 2 "deployment: each vantage probes $a"
done

# --- IPv6 breaks at one node ----------------------------------------------------
# b's responder is two anycast-responders, one per address; the IPv6 one is
# killed once both probes of vb run (their result directories exist), so the
# readiness check saw both answer and vb's IPv6 probes fail from then on
# (resp_v6_dies).
cat >"$T_TMP/break6.yaml" <<YAML
name: break6
anycast: [$V4, "$V6"]
routing: static
duration: 4s
nodes:
  - name: a
  - name: b
    responder: {command: "$(resp_v6_dies "$V4" "$V6" break6 vb)"}
vantages:
  - name: va
    prefer: [a]
  - name: vb
    prefer: [b]
probes:
  udp: {rate: 100, flows: 2}
expect:
  - "vb udp ipv4 lost == 0"
  - "vb udp ipv6 lost == 0"
  - "va udp ipv6 lost == 0"
YAML
lab_run "$T_TMP/break6.yaml"
t_eq "$LAB_RC" 1 "the run exits 1: an expectation failed"
t_eq "$LAB_LEFT" "" "run reaped every process it started"
verdict() { jq -r --arg t "$1" '.expectations[] | select(.text == $t) | .verdict + " " + .where' \
  "$LAB_DIR/summary.json"; }
t_eq "$(verdict "vb udp ipv4 lost == 0")" "pass vb udp dns ipv4 over the run" \
  "vb's IPv4 probes lost nothing"
t_match "$(verdict "vb udp ipv6 lost == 0")" "fail vb udp dns ipv6 over the run" \
  "vb's IPv6 losses fail the expectation scoped to ipv6"
t_eq "$(verdict "va udp ipv6 lost == 0")" "pass va udp dns ipv6 over the run" \
  "va's IPv6 (node a) is unaffected"
n=$(awk -F, '$2 == "vb" && $3 == "'$V6'" && $8 != "ok"' "$LAB_DIR/probes.csv" | wc -l)
t_true "vb has failed IPv6 probes ($n)" test "$n" -gt 10
t_done
