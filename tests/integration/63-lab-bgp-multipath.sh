#!/usr/bin/env bash
# routing: bgp with multipath: BIRD merges the equally preferred routes of a
# and b into one multipath kernel route (route row "a+b"), the router hashes
# UDP flows over both; `withdraw a` leaves b alone and `announce a` merges
# it back. c, not in the prefer list, is never imported.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk
command -v bird >/dev/null || [ -x /usr/sbin/bird ] || t_skip "needs BIRD 2 (bird2)"

cat >"$T_TMP/mp.yaml" <<'YAML'
name: mp-t
anycast: [198.51.100.53]
routing: bgp
bgp: {multipath: true}
duration: 3s
nodes:
  - name: a
  - name: b
  - name: c
vantages:
  - name: va
    prefer: [a, b]
probes:
  udp: {service: dns, rate: 200, flows: 16, timeout: 200ms}
drill:
  - {at: 1s, withdraw: a}
  - {at: 2s, announce: a}
YAML
lab_run "$T_TMP/mp.yaml"
t_eq "$LAB_RC" 0 "run exits 0"
W=$(ev_ts withdraw a) A=$(ev_ts announce a)
first=$(awk -F, '$2 == "route" { r = $3 } $2 == "withdraw" { print r; exit }' "$LAB_DIR/events.csv")
t_eq "$first" "a+b" "before withdraw: one multipath route over a and b"
t_true "after withdraw: the route is b alone" \
  test -n "$(awk -F, -v w="$W" '$2 == "route" && $3 == "b" && $1 > w' "$LAB_DIR/events.csv")"
t_true "after announce: a+b again" \
  test -n "$(awk -F, -v t="$A" '$2 == "route" && $3 == "a+b" && $1 > t' "$LAB_DIR/events.csv")"
# count NODE FROM TO: ok answers from NODE in (FROM, TO).
count() {
  awk -F, -v n="$1" -v f="$2" -v t="$3" '$1 > f && $1 < t && $8 == "ok" && $9 == n { c++ } END { print c + 0 }' \
    "$LAB_DIR/probes.csv"
}
a=$(count a 0 "$W") b=$(count b 0 "$W"); echo "before withdraw: a $a b $b"
t_true "flows spread over a and b" test "$a" -gt 10 -a "$b" -gt 10
# From the router's route change (BIRD's update reaches it after the
# withdraw's acknowledgement, later on a loaded machine) to the announce.
RB=$(awk -F, -v w="$W" '$2 == "route" && $3 == "b" && $1 > w { print $1; exit }' "$LAB_DIR/events.csv")
a=$(count a $((${RB:-$W} + 20 * MS)) "$A"); echo "after withdraw: a $a"
t_eq "$a" 0 "no answer from a after withdraw"
t_eq "$(count c 0 9999999999999999999)" 0 "c (not preferred) never answers"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run remains"
t_done
