#!/usr/bin/env bash
# routing: bgp, how the router finds a dead or hung speaker. With BFD
# (100 ms x 3, hold 9 s): `kill-bgp a` and `pause-bgp b` (SIGSTOP: the TCP
# session stays open, only BFD or the hold timer can tell) each move the
# route in well under the hold time. Without BFD (hold 3 s, keepalive 1 s):
# `pause-bgp` is found by the hold timer, after 1.25-3 s, and `resume-bgp`
# brings the session and the route back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk sed
command -v bird >/dev/null || [ -x /usr/sbin/bird ] || t_skip "needs BIRD 2 (bird2)"

cat >"$T_TMP/bfd.yaml" <<'YAML'
name: bfd-t
anycast: [198.51.100.53]
routing: bgp
bgp: {hold: 9s, keepalive: 3s, bfd: {interval: 100ms, multiplier: 3}}
duration: 3.5s
nodes:
  - name: a
  - name: b
  - name: c
vantages:
  - name: va
    prefer: [a, c]
  - name: vb
    prefer: [b, c]
probes:
  udp: {service: dns, rate: 200, flows: 4, timeout: 200ms}
drill:
  - {at: 1s, kill-bgp: a}
  - {at: 2s, pause-bgp: b}
YAML

lab_run "$T_TMP/bfd.yaml"
t_eq "$LAB_RC" 0 "BFD run exits 0"
K=$(ev_ts kill-bgp a) P=$(ev_ts pause-bgp b)
RK=$(route_after va c "$K") RP=$(route_after vb c "$P")
t_true "kill-bgp a: va's route moved to c" test -n "$RK"
t_true "pause-bgp b: vb's route moved to c" test -n "$RP"
echo "with BFD 100 ms x 3, hold 9 s: kill -> route $(( (RK - K) / MS )) ms, pause -> route $(( (RP - P) / MS )) ms"
t_true "kill-bgp: route moved in under 1 s (hold is 9 s)" test $((RK - K)) -lt $((1000 * MS))
t_true "pause-bgp: route moved in under 1 s (BFD, hold is 9 s)" test $((RP - P)) -lt $((1000 * MS))
t_true "pause-bgp: not before BFD could notice (>= 100 ms)" test $((RP - P)) -ge $((100 * MS))
t_match "$(awk -F, -v t="$P" '$2 == "bgp" && $3 == "b" && $1 > t { print $4; exit }' "$LAB_DIR/events.csv")" \
  'BFD session down' "the router's session to b went down by BFD"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the BFD run remains"

cat >"$T_TMP/hold.yaml" <<'YAML'
name: hold-t
anycast: [198.51.100.53]
routing: bgp
bgp: {hold: 3s, keepalive: 1s}
duration: 7.5s
nodes:
  - name: a
  - name: c
vantages:
  - name: va
    prefer: [a, c]
probes:
  udp: {service: dns, rate: 100, flows: 2, timeout: 200ms}
drill:
  - {at: 0.5s, pause-bgp: a}
  - {at: 4.5s, resume-bgp: a}
YAML
lab_run "$T_TMP/hold.yaml"
t_eq "$LAB_RC" 0 "hold-timer run exits 0"
P=$(ev_ts pause-bgp a) RS=$(ev_ts resume-bgp a)
RP=$(route_after va c "$P")
t_true "pause-bgp a: va's route moved to c" test -n "$RP"
echo "hold 3 s, keepalive 1 s: pause -> route $(( (RP - P) / MS )) ms"
# BIRD starts its hold timer at 75-100 % of hold (it randomises its BGP
# timers) from the last message, which came up to one keepalive before
# the pause: 1.25 s to 3 s here, far from BFD's 0.3 s.
t_true "found by the hold timer: after 1 s" test $((RP - P)) -gt $((1000 * MS))
t_true "found by the hold timer: within 3 s + 500 ms" test $((RP - P)) -lt $((3500 * MS))
t_match "$(awk -F, -v t="$P" '$2 == "bgp" && $3 == "a" && $1 > t { print $4; exit }' "$LAB_DIR/events.csv")" \
  'Hold timer expired' "the router's session to a went down by hold timer"
# Back once the session is up again: BIRD waits its error wait time (1-4 s
# here) after the hold timer error before it connects again.
RB=$(route_after va a "$RS")
t_true "resume-bgp a: va's route back to a" test -n "$RB"
[ -n "$RB" ] && echo "resume -> route back: $(( (RB - RS) / MS )) ms"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the hold-timer run remains"
t_done
