#!/usr/bin/env bash
# Routing per vantage (docs/routing.md, "Mixed modes"): in a static lab, ve's
# router runs ECMP and vr's a resilient nexthop group while va and vb route
# statically. Through a withdraw of a, ve's and vr's flows spread over two
# or more nodes (before: a among them; after: b and c), va moves from a to b
# and vb stays on b; run.json and the report name the modes, and the routers'
# kernel routes (the lab is kept up) are each in their own mode. `check`
# rejects a mode that cannot be mixed at its FILE:LINE:COL.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk ip

cat >"$T_TMP/mixed.yaml" <<'YAML'
name: mixed
anycast: [198.51.100.53]
routing: static
duration: 3s
nodes:
  - name: a
  - name: b
  - name: c
vantages:
  - name: ve
    routing: ecmp
  - name: vr
    routing: ecmp-resilient
  - name: va
    prefer: [a, b, c]
  - name: vb
    prefer: [b, a, c]
probes:
  udp: {service: dns, rate: 800, flows: 16}
drill:
  - {at: 1500ms, withdraw: a}
YAML

lab_run "$T_TMP/mixed.yaml" --keep-up
t_eq "$LAB_RC" 0 "run exits 0"
W=$(ev_ts withdraw a)
t_match "$W" '^[0-9]{19}$' "withdraw a logged"

# nodes V FROM TO: the distinct nodes that answered V's UDP probes sent in
# (FROM, TO), sorted and joined with '+'.
nodes() {
  awk -F, -v v="$1" -v f="$2" -v t="$3" \
    'NR > 1 && $2 == v && $4 == "udp" && $8 == "ok" && $1 > f && $1 < t { print $9 }' \
    "$LAB_DIR/probes.csv" | sort -u | paste -sd+
}
# 50 ms on both sides of the withdraw's acknowledgement: the route changes
# just before the kernel acknowledges it, and a probe sent in the last
# milliseconds (its kernel send stamp) may cross the router after that.
BEFORE=$((W - 1000 * MS)) UNTIL=$((W - 50 * MS)) AFTER=$((W + 50 * MS)) END=$((W + 10000 * MS))
for v in ve vr; do
  before=$(nodes "$v" "$BEFORE" "$UNTIL") after=$(nodes "$v" "$AFTER" "$END")
  echo "$v: before the withdraw $before, after $after"
  t_match "$before" '^a\+b|^a\+c' "$v: flows spread over a and another node before the withdraw"
  t_eq "$after" "b+c" "$v: flows spread over b and c after the withdraw"
done
t_eq "$(nodes va "$BEFORE" "$UNTIL")" a "va (static): a before the withdraw"
t_eq "$(nodes va "$AFTER" "$END")" b "va (static): b after the withdraw"
t_eq "$(nodes vb "$BEFORE" "$END")" b "vb (static): b throughout"

# summary.csv's withdraw rows: before, after, lost per vantage.
row() {
  awk -F, -v v="$1" '$2 == "withdraw" && $4 == v && $5 == "udp" { print $8, $9, $11 }' \
    "$LAB_DIR/summary.csv"
}
t_eq "$(row va)" "a b 0" "summary: va withdraw a: before a, after b, nothing lost"
t_eq "$(row vb)" "b b 0" "summary: vb withdraw a: b before and after, nothing lost"
t_match "$(row ve)" '^[abc] [bc] [0-9]+$' "summary: ve's row after is b or c"

# The route monitor's rows: each router started and moved in its own mode.
t_true "initial: ve's router has a+b+c" \
  grep -q ',route,a+b+c,initial router=ve nexthop=a+b+c$' "$LAB_DIR/events.csv"
t_true "initial: va's router has a" grep -q ',route,a,initial router=va nexthop=a$' "$LAB_DIR/events.csv"
t_true "withdraw: ve's router moved to b+c" test -n "$(route_after ve b+c "$W")"
t_true "withdraw: vr's router moved to b+c" test -n "$(route_after vr b+c "$W")"
t_true "withdraw: va's router moved to b" test -n "$(route_after va b "$W")"
t_eq "$(awk -F, '$2 == "route" && index($4, "router=vb") == 1 && $4 !~ /^initial/' \
  "$LAB_DIR/events.csv")" "" "vb's router did not change"

t_true "run.json names the vantages' own modes" \
  grep -q '"vantage_routing": {"ve": "ecmp", "vr": "ecmp-resilient"},' "$LAB_DIR/run.json"
t_true "report.html shows each vantage's mode" \
  grep -q 'per vantage: ve ecmp, vr ecmp-resilient' "$LAB_DIR/report.html"

# The kernel's routes in the routers, after the withdraw (the lab is up).
rt() { ip netns exec "ah-lab-$LAB_ID-r-$1" ip -4 route show 198.51.100.53; }
echo "$(rt ve)"
t_eq "$(rt ve | grep -c 'nexthop via')" 2 "ve: one multipath route with two nexthops"
t_eq "$(rt ve | grep -c '198.18.1.1 ')" 0 "ve: none via a"
t_match "$(rt vr)" 'nhid [0-9]+' "vr: the route uses a nexthop group"
t_eq "$(ip netns exec "ah-lab-$LAB_ID-r-ve" ip nexthop show 2>/dev/null | wc -l)" 0 \
  "ve: no nexthop objects (those are vr's)"
t_eq "$(rt va | awk '{ print $3, $NF }' | paste -sd' ')" "198.18.1.2 101 198.18.1.3 102" \
  "va: floating static routes via b (metric 101) and c (102)"
t_eq "$(rt vb | awk '{ print $3, $NF }' | paste -sd' ')" "198.18.1.2 100 198.18.1.3 102" \
  "vb: floating static routes via b (metric 100) and c (102)"
t_eq "$(ip netns exec "ah-lab-$LAB_ID-r-ve" sysctl -n net.ipv4.fib_multipath_hash_policy)" 3 \
  "ve: the router hashes on the 5-tuple"
t_eq "$(ip netns exec "ah-lab-$LAB_ID-r-va" sysctl -n net.ipv4.fib_multipath_hash_policy)" 0 \
  "va: a static router keeps the kernel's default hash policy"
"$LAB" down "$LAB_ID" >/dev/null; t_eq "$?" 0 "down"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing remains after down"

out=$("$LAB" check "$T_TMP/mixed.yaml" 2>&1)
t_match "$out" 'ok: lab mixed, routing static \(some vantages with their own\), 3 nodes' \
  "check says that vantages have their own routing"

# check: a mode that cannot be mixed is an error at its position.
sed 's/routing: ecmp-resilient/routing: tracked/' "$T_TMP/mixed.yaml" >"$T_TMP/bad.yaml"
out=$("$LAB" check "$T_TMP/bad.yaml" 2>&1); rc=$?
t_eq "$rc" 2 "check of a vantage with routing: tracked exits 2"
t_eq "$out" "$T_TMP/bad.yaml:13:14: routing: tracked applies to the whole lab, not one vantage; a vantage's routing may be static, ecmp or ecmp-resilient" \
  "check names the vantage's routing at its line and column"
t_done
