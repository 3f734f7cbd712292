#!/usr/bin/env bash
# A flap of 200 ms steps in a static lab: each step is far shorter than a
# second, and the summary still says where the traffic was just before it
# and went after it (docs/formats.md, "Worked example: a flap of 200 ms
# steps"). va prefers a: a withdraw sends it to b, an announce back to a.
# Checked from summary.csv, against probes.csv (the node that answered va's
# last UDP probe before each step) and against events.csv (va's route then,
# the initial route row included). vb (preferring b) never moves.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk python3

L=$T_TMP/short-flap.yaml
cat >"$L" <<YAML
name: short-flap
anycast: [198.51.100.53]
routing: static
duration: 4s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 400, flows: 4}
  tcp: {service: echo, connections: 4, interval: 20ms}
drill:
  - {at: 2s, flap: {node: a, count: 2, down: 200ms, up: 200ms}}
expect:
  - "va udp before withdraw a answered-by a"
  - "va udp after withdraw a answered-by b"
  - "va udp before announce a answered-by b"
  - "va udp after announce a answered-by a"
  - "va udp before withdraw a#2 answered-by a"
  - "va udp before announce a#2 answered-by b"
  - "vb udp never-answered-by a"
YAML

lab_run "$L"
t_eq "$LAB_RC" 0 "the short flap runs and its expectations pass"
t_match "$(cat "$T_TMP/run.out")" "expectations: 7 passed, 0 failed" "all seven pass"
S=$LAB_DIR/summary.csv

# col EVENT OCC VANTAGE TRANSPORT COLUMN: that summary.csv cell (the OCC-th
# row of the event word for the vantage and transport; summary.csv writes
# the second and later occurrences as "withdraw#2").
col() {
  awk -F, -v e="$1" -v k="$2" -v v="$3" -v t="$4" -v c="$5" '
    NR == 1 { for (i = 1; i <= NF; i++) n[$i] = i; next }
    { w = $2; sub(/#[0-9]+$/, "", w) }
    w == e && $4 == v && $5 == t && ++seen == k { print $n[c]; exit }' "$S"
}
# last_node TS: the node that answered va's last UDP probe sent at least
# 5 ms before TS. A probe is stamped when it leaves va but routed when va's
# router's namespace processes it, later on a loaded machine, so one sent
# just before the step can meet the new route and the very last one may go
# either way; 5 ms is two probes of each flow at 400/s and far inside the
# 200 ms step.
last_node() {
  python3 - "$LAB_DIR/probes.csv" "$1" <<'PY'
import csv, sys
t, best = int(sys.argv[2]) - 5000000, (0, "")
for r in csv.DictReader(open(sys.argv[1])):
    ts = int(r["ts_ns"])
    if r["vantage"] == "va" and r["transport"] == "udp" and ts < t and ts > best[0]:
        best = (ts, r["node"] if r["result"] == "ok" else "")
print(best[1])
PY
}

# route_at TS: va's router's nexthop in effect at TS, from events.csv's route
# rows (the initial one included): the kernel's side of the same story.
route_at() {
  awk -F, -v t="$1" '$2 == "route" && $4 ~ /router=va / && $1 < t { n = $3 } END { print n }' \
    "$LAB_DIR/events.csv"
}

for step in "withdraw 1 a b" "announce 1 b a" "withdraw 2 a b" "announce 2 b a"; do
  read -r ev k from to <<<"$step"
  t_eq "$(col "$ev" "$k" va udp before)" "$from" "va udp before $ev a#$k is $from"
  t_eq "$(col "$ev" "$k" va udp after)" "$to" "va udp after $ev a#$k is $to"
  t_eq "$(last_node "$(ev_ts "$ev" a "$k")")" "$from" "... as probes.csv's last answer before it says"
  t_eq "$(route_at "$(ev_ts "$ev" a "$k")")" "$from" "... and va's route before it (events.csv)"
  sw=$(col "$ev" "$k" va udp switch_ms)
  t_true "va udp switch_ms at $ev a#$k ($sw) is set and within the 200 ms step" \
    awk -v s="$sw" 'BEGIN { exit !(s != "" && s < 200) }'
  t_eq "$(col "$ev" "$k" va udp flows_moved_collateral)" 0 \
    "va's flows moved off or onto a, the flap's node: none collateral"
  t_eq "$(col "$ev" "$k" vb udp before)/$(col "$ev" "$k" vb udp after)" "b/b" "vb stays on b"
done
# TCP: connections the withdraw broke do not outvote the ones that replaced
# them; before the announce va's live connections are on b (or none was
# answered yet), never a.
tb=$(col announce 1 va tcp before)
t_true "va tcp before announce a is not a (got '${tb}')" test "$tb" != a
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run is left"
t_done
