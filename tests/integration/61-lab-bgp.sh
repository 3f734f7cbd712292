#!/usr/bin/env bash
# routing: bgp (BIRD 2): sessions come up (bgp rows); `withdraw a` moves va's
# route to c within milliseconds of BIRD's acknowledgement, UDP follows and
# va's TCP connections on a are reset; `announce a` brings it back. `stop b`
# (no health check) leaves vb's route and its UDP in a black hole; `stop c`
# (health check interval 200 ms, fall 2) makes c withdraw itself: a
# health-down row, vc's route moves to a and UDP recovers. BIRD's logs are
# kept with the results.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk
command -v bird >/dev/null || [ -x /usr/sbin/bird ] || t_skip "needs BIRD 2 (bird2)"

cat >"$T_TMP/bgp.yaml" <<'YAML'
name: bgp-t
anycast: [198.51.100.53, "2001:db8:53::53"]
routing: bgp
duration: 5s
nodes:
  - name: a
  - name: b
  - name: c
    healthcheck: {interval: 200ms, timeout: 100ms, rise: 2, fall: 2}
vantages:
  - name: va
    prefer: [a, c]
  - name: vb
    prefer: [b, c]
  - name: vc
    prefer: [c, a]
probes:
  udp: {service: dns, rate: 300, flows: 6, timeout: 200ms}
  tcp: {service: echo, connections: 6, interval: 50ms}
drill:
  - {at: 1s, withdraw: a}
  - {at: 2s, announce: a}
  - {at: 3s, stop: b}
  - {at: 3.5s, stop: c}
YAML

lab_run "$T_TMP/bgp.yaml"
t_eq "$LAB_RC" 0 "run exits 0"
t_true "bgp rows: sessions established" \
  test "$(awk -F, '$2 == "bgp" && $4 ~ /up Established$/' "$LAB_DIR/events.csv" | wc -l)" -ge 12
for f in bird-node-a.log bird-router-va.log; do
  t_true "BIRD log $f kept" test -s "$LAB_DIR/logs/$f"
done
W=$(ev_ts withdraw a) A=$(ev_ts announce a) SB=$(ev_ts stop b) SC=$(ev_ts stop c)
t_match "$(awk -F, '$2 == "withdraw" { print $4 }' "$LAB_DIR/events.csv")" 'birdc disable' "withdraw through birdc"
R=$(route_after va c "$W")
t_true "va's route moved to c after withdraw" test -n "$R"
echo "withdraw ack -> route change at va: $(( (R - W) / 1000 )) us"
t_true "within 100 ms of BIRD's acknowledgement" test $((R - W)) -lt $((100 * MS))
# The window ends 20 ms before the announce ack: the route can move back a
# moment before the lab receives BIRD's reply.
read -r n o x < <(lab_phase va c $((R + 20 * MS)) $((A - 20 * MS))); echo "va after withdraw: c $n other $o failed $x"
t_true "va's UDP answered by c after withdraw" test "$n" -gt 50 -a "$o" -eq 0 -a "$x" -eq 0
RESETS=$(awk -F, -v w="$W" -v a="$A" '$2 == "va" && $6 == "a" && $8 == "reset" && $7 > w && $7 < a' "$LAB_DIR/connections.csv" | wc -l)
echo "va's TCP connections on a reset after withdraw: $RESETS"
t_true "va's TCP connections on a were reset" test "$RESETS" -ge 1
RA=$(route_after va a "$A")
t_true "va's route back to a after announce" test -n "$RA"
# stop b: no health check, the route stays.
t_eq "$(route_after vb c "$SB")" "" "stop b: vb's route stays (no health check)"
read -r n o x < <(lab_phase vb b $((SB + 250 * MS)) 9999999999999999999); echo "vb after stop b: b $n other $o failed $x"
t_true "stop b: vb's UDP in a black hole" test "$x" -gt 100 -a "$n" -eq 0 -a "$o" -eq 0
# stop c: the health check withdraws it.
HD=$(awk -F, -v t="$SC" '$2 == "health-down" && $3 == "c" && $1 > t { print $1; exit }' "$LAB_DIR/events.csv")
t_true "health-down c after stop c" test -n "$HD"
RC=$(route_after vc a "$SC")
t_true "vc's route moved to a" test -n "$RC"
echo "stop c -> route change at vc: $(( (RC - SC) / MS )) ms (interval 200 ms x fall 2)"
t_true "within interval x fall + timeout + 500 ms" test $((RC - SC)) -lt $((1000 * MS))
read -r n o x < <(lab_phase vc a $((RC + 20 * MS)) 9999999999999999999); echo "vc after recovery: a $n other $o failed $x"
t_true "vc's UDP recovers on a" test "$n" -gt 50 -a "$x" -eq 0
t_eq "$(awk -F, '$2 == "exit"' "$LAB_DIR/events.csv" | wc -l)" 0 "no unexpected exits"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run remains"
t_true "no BIRD of the run left" test -z "$(pgrep -f "bird -f -c .*$LAB_ID" || true)"
t_done
