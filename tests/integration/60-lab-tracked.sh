#!/usr/bin/env bash
# routing: tracked against static, same lab and drill (`stop a`): with
# tracked, va's router sees its checks of a's unicast address refused, a
# track-down row follows within frequency x down + timeout (+ margin), the
# route moves to b and UDP is answered by b again; `start a` brings the track
# and the route back. With static, the route stays and va's UDP fails until
# the end (the black hole). A `pause` (brown-out) is found by timeouts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk sed

cat >"$T_TMP/tracked.yaml" <<YAML
name: tracked-t
anycast: [198.51.100.53, "2001:db8:53::53"]
routing: tracked
$LAB_TRACK
duration: 5s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 200, flows: 4, timeout: 200ms}
drill:
  - {at: 1s, stop: a}
  - {at: 2.5s, start: a}
  - {at: 3.5s, pause: b}
YAML

lab_run "$T_TMP/tracked.yaml"
t_eq "$LAB_RC" 0 "tracked run exits 0"
STOP=$(ev_ts stop a) START=$(ev_ts start a) PAUSE=$(ev_ts pause b)
DOWN=$(awk -F, -v t="$STOP" '$2 == "track-down" && $3 == "a" && $4 ~ /^router=va / && $1 > t { print $1; exit }' "$LAB_DIR/events.csv")
t_true "track-down a at va's router after stop" test -n "$DOWN"
t_match "$(awk -F, '$2 == "track-down" && $3 == "a" { print $4; exit }' "$LAB_DIR/events.csv")" \
  'after 2 failed checks \(refused\)' "the checks were refused (ICMP port unreachable)"
lab_track_moved va b "$STOP" stop
read -r a b x < <(lab_phase va a $((R + 50 * MS)) "$START"); echo "va after the move: a $a b $b failed $x"
t_true "va's UDP answered by b after the move" test "$b" -gt 50 -a "$x" -eq 0 -a "$a" -eq 0
t_true "track-up a after start" test -n "$(awk -F, -v t="$START" '$2 == "track-up" && $3 == "a" && $1 > t' "$LAB_DIR/events.csv")"
RB=$(route_after va a "$START")
t_true "va's route back to a after start" test -n "$RB"
read -r a b x < <(lab_phase va a $((RB + 50 * MS)) "$PAUSE"); echo "va back: a $a b $b failed $x"
t_true "va's UDP answered by a again" test "$a" -gt 50 -a "$x" -eq 0
t_match "$(awk -F, '$2 == "track-down" && $3 == "b" { print $4; exit }' "$LAB_DIR/events.csv")" \
  '^router=v[ab] after 2 failed checks \(timeout\)' "a paused b is found by timeouts"
RP=$(route_after vb a "$PAUSE")
t_true "vb's route moved to a after pause b" test -n "$RP"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the tracked run remains"

# The same with static routing: the route stays, the black hole.
sed -e 's/^routing: tracked/routing: static/' -e '/^track:/d' -e 's/^name: tracked-t/name: static-t/' \
  "$T_TMP/tracked.yaml" >"$T_TMP/static.yaml"
lab_run "$T_TMP/static.yaml"
t_eq "$LAB_RC" 0 "static run exits 0"
STOP=$(ev_ts stop a) START=$(ev_ts start a)
t_eq "$(route_after va b "$STOP")" "" "static: no route change after stop"
t_eq "$(awk -F, '$2 ~ /^track-/' "$LAB_DIR/events.csv" | wc -l)" 0 "static: no track rows"
read -r a b x < <(lab_phase va a $((STOP + 300 * MS)) "$START"); echo "static va after stop: a $a b $b failed $x"
t_true "static: va's UDP fails until start" test "$x" -gt 100 -a "$a" -eq 0 -a "$b" -eq 0
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the static run remains"
t_done
