#!/usr/bin/env bash
# routing: bgp in a dual-stack lab: a node's health check runs per address
# family (docs/routing.md, "Health checks"), so when only node b's IPv6
# responder goes away, b withdraws only its IPv6 addresses: one health-down
# row naming ipv6, vb's IPv6 traffic moves to a while its IPv4 traffic stays
# on b, which keeps announcing IPv4.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk
command -v bird >/dev/null || [ -x /usr/sbin/bird ] || t_skip "needs BIRD 2 (bird2)"

V4=198.51.100.53
V6=2001:db8:53::53
# b's responder is two anycast-responders, one per address; the IPv6 one is
# killed once vb's IPv6 probe runs (resp_v6_dies).
cat >"$T_TMP/fam.yaml" <<YAML
name: famhealth
anycast: [$V4, "$V6"]
routing: bgp
duration: 5s
nodes:
  - name: a
  - name: b
    healthcheck: {interval: 200ms, timeout: 100ms, rise: 2, fall: 2}
    responder: {command: "$(resp_v6_dies "$V4" "$V6" famhealth vb)"}
vantages:
  - name: vb
    prefer: [b, a]
probes:
  udp: {service: dns, rate: 100, flows: 2, timeout: 200ms}
expect:
  - "vb udp ipv4 never-answered-by a"
YAML
lab_run "$T_TMP/fam.yaml"
t_eq "$LAB_RC" 0 "the run exits 0: vb's IPv4 never left b"
t_eq "$LAB_LEFT" "" "run reaped every process it started"
E=$LAB_DIR/events.csv
t_eq "$(awk -F, '$2 == "health-down" && $3 == "b"' "$E" | wc -l)" 1 "one health-down row for b"
HD=$(awk -F, '$2 == "health-down" && $3 == "b" { print $1 }' "$E")
t_match "$(awk -F, '$2 == "health-down" && $3 == "b" { print $4 }' "$E")" '^ipv6: after 2 failed checks' \
  "it names the family whose check failed"
t_eq "$(awk -F, '$2 == "health-down" && $4 ~ /^ipv4/' "$E" | wc -l)" 0 "no IPv4 health-down"
P=$LAB_DIR/probes.csv
# After the withdraw reached vb's router (generous: 1 s), vb's IPv6 answers
# come from a, its IPv4 answers still from b.
after6=$(awk -F, -v t="$HD" -v a="$V6" '$2 == "vb" && $3 == a && $1 > t + 1e9 && $8 == "ok" { print $9 }' "$P" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
t_match "$after6" '^a=[0-9]+ $' "vb's IPv6 probes are answered by a after b's IPv6 withdraw ($after6)"
after4=$(awk -F, -v t="$HD" -v a="$V4" '$2 == "vb" && $3 == a && $1 > t + 1e9 && $8 == "ok" { print $9 }' "$P" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
t_match "$after4" '^b=[0-9]+ $' "vb's IPv4 probes stay on b ($after4)"
lost4=$(awk -F, -v a="$V4" '$2 == "vb" && $3 == a && $8 != "ok"' "$P" | wc -l)
t_eq "$lost4" 0 "no IPv4 probe failed"
t_done
