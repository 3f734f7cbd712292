#!/usr/bin/env bash
# A latency brown-out the routing answers by itself (docs/routing.md): `delay` makes
# a's builtin responder answer 400 ms late (its control socket's "delay MS").
# With routing: tracked and a 200 ms check timeout, va's router sees its
# checks of a time out, takes a's route away and va's UDP is answered by b;
# `delay` with ms 0 ends the brown-out, the track comes up and the route
# returns to a. vb (preferring b) is not disturbed. A delay on an NSD node is
# refused when the lab is loaded. Then a brown-out the routing does not answer
# (static, a 1 s timeout): va's RTT goes from a sub-ms baseline to ~300 ms
# in the summary, and expectations on it hold or fail as written.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk sed

cat >"$T_TMP/delay.yaml" <<YAML
name: delay-t
anycast: [198.51.100.53]
routing: tracked
$LAB_TRACK
duration: 5500ms
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 200, flows: 4, timeout: 200ms}
drill:
  - {at: 1s, delay: {node: a, ms: 400}}
  - {at: 3s, delay: {node: a, ms: 0}}
expect:
  - "va udp after delay a answered-by b"
  - "vb udp never-answered-by a"
YAML
# detail EVENT NODE [N]: the detail column of that events.csv row.
detail() {
  awk -F, -v e="$1" -v n="$2" -v k="${3:-1}" \
    '$2 == e && $3 == n && ++c == k { print $4; exit }' "$LAB_DIR/events.csv"
}

OUT=$("$LAB" check "$T_TMP/delay.yaml" 2>&1)
t_eq "$?" 0 "the delay lab checks clean"
t_match "$OUT" 'ok: lab delay-t, .* 2 drill events' "check reads both delay events"
sed -e 's/^  - name: a$/  - name: a\n    responder: nsd/' "$T_TMP/delay.yaml" >"$T_TMP/delay-nsd.yaml"
OUT=$("$LAB" check "$T_TMP/delay-nsd.yaml" 2>&1)
t_eq "$?" 2 "delay on an NSD node: check exits 2"
t_match "$OUT" 'delay-nsd\.yaml:[0-9]+:[0-9]+: drill: delay needs the builtin responder \(node a runs nsd\)' \
  "delay on an NSD node is refused with FILE:LINE:COL"

lab_run "$T_TMP/delay.yaml"
t_eq "$LAB_RC" 0 "delay run exits 0 (its expectations hold)"
D1=$(ev_ts delay a 1) D0=$(ev_ts delay a 2)
t_true "two delay rows for a" test -n "$D1" -a -n "$D0"
t_match "$(detail delay a 1)" '^delay 400.*ok delay 400' "the first delay row: delay 400, acknowledged"
t_match "$(detail delay a 2)" '^delay 0.*ok delay 0' "the second delay row: delay 0, acknowledged"
DOWN=$(awk -F, -v t="$D1" '$2 == "track-down" && $3 == "a" && $4 ~ /^router=va / && $1 > t { print $1; exit }' "$LAB_DIR/events.csv")
t_true "track-down a at va's router after the delay" test -n "$DOWN"
t_match "$(awk -F, -v t="$D1" '$2 == "track-down" && $3 == "a" && $1 > t { print $4; exit }' "$LAB_DIR/events.csv")" \
  'after 2 failed checks \(timeout\)' "the late answers count as timeouts"
lab_track_moved va b "$D1" delay
read -r a b x < <(lab_phase va a $((D1 + 50 * MS)) "$R"); echo "va delayed on a: a $a b $b failed $x"
t_true "va's UDP to the delayed a times out (200 ms < 400 ms)" test "$x" -gt 20 -a "$a" -eq 0
read -r a b x < <(lab_phase va a $((R + 50 * MS)) "$D0"); echo "va after the move: a $a b $b failed $x"
t_true "va's UDP answered by b after the move" test "$b" -gt 50 -a "$x" -eq 0 -a "$a" -eq 0
UP=$(awk -F, -v t="$D0" '$2 == "track-up" && $3 == "a" && $4 ~ /^router=va / && $1 > t { print $1; exit }' "$LAB_DIR/events.csv")
t_true "track-up a at va's router after delay 0" test -n "$UP"
t_eq "$(awk -F, -v t="$D1" -v u="$D0" '$2 == "track-up" && $3 == "a" && $1 > t && $1 < u' "$LAB_DIR/events.csv" | wc -l)" 0 \
  "no track-up of a while it is delayed"
RB=$(route_after va a "$D0")
t_true "va's route back to a after delay 0" test -n "$RB"
read -r a b x < <(lab_phase va a $((RB + 50 * MS)) $((RB + 800 * MS))); echo "va back: a $a b $b failed $x"
t_true "va's UDP answered by a again" test "$a" -gt 50 -a "$x" -eq 0
read -r a b x < <(lab_phase vb a 0 $((RB + 800 * MS))); echo "vb throughout: a $a b $b failed $x"
t_true "vb stays on b, undisturbed" test "$b" -gt 200 -a "$x" -eq 0 -a "$a" -eq 0
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the delay run remains"

cat >"$T_TMP/brown.yaml" <<YAML
name: brown-t
anycast: [198.51.100.53]
routing: static
duration: 3s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 100, flows: 2, timeout: 1s}
drill:
  - {at: 1500ms, delay: {node: a, ms: 300}}
expect:
  - "va udp rtt_ms_p50 > 250 at delay a"
  - "va udp rtt_ms_p99 < 50 at delay a"
  - "va udp rtt_ms_p50 > 20x baseline at delay a"
YAML
lab_run "$T_TMP/brown.yaml"
t_eq "$LAB_RC" 1 "brown-out run exits 1 (one expectation fails on purpose)"
# col EVENT VANTAGE NAME: a summary.csv column of the udp row.
col() {
  awk -F, -v e="$1" -v v="$2" -v c="$3" 'NR == 1 { for (i = 1; i <= NF; i++) n[$i] = i; next }
    $2 == e && $4 == v && $5 == "udp" { print $n[c]; exit }' "$LAB_DIR/summary.csv"
}
P50=$(col delay va rtt_ms_p50) B50=$(col delay va base_rtt_ms_p50) MAX=$(col delay va rtt_ms_max)
echo "va at delay a: rtt p50 $B50 -> $P50 ms, max $MAX ms"
t_true "va's RTT p50 at the delay is ~300 ms" awk -v x="$P50" 'BEGIN { exit !(x >= 290 && x < 400) }'
t_true "va's baseline p50 is small (sub-ms on a quiet machine)" awk -v x="$B50" 'BEGIN { exit !(x > 0 && x < 5) }'
t_true "vb's RTT at the delay stays small" awk -v x="$(col delay vb rtt_ms_p99)" 'BEGIN { exit !(x > 0 && x < 50) }'
t_eq "$(col run va base_rtt_ms_p50)" "" "run rows have no baseline"
t_eq "$(python3 -c "
import json
d = json.load(open('$LAB_DIR/summary.json'))
print(' '.join(e['verdict'] for e in d['expectations']))")" "pass fail pass" \
  "absolute > 250 passes, absolute < 50 fails, 20x baseline passes"
t_match "$(python3 -c "
import json
d = json.load(open('$LAB_DIR/summary.json'))
print(d['expectations'][2]['measured'])")" '^[0-9.]+, baseline [0-9.]+$' "the relative verdict shows the baseline"
# Why the failure failed, in one sentence: in summary.json (null for a
# pass) and under the FAIL line of the terminal table.
t_eq "$(python3 -c "
import json
d = json.load(open('$LAB_DIR/summary.json'))
print(' '.join('-' if e['why'] is None else 'why' for e in d['expectations']))")" "- why -" \
  "summary.json has a why for the failure only"
why=$(python3 -c "
import json
print(json.load(open('$LAB_DIR/summary.json'))['expectations'][1]['why'])")
t_true "the table prints it under the FAIL line ($why)" \
  grep -qF -- "        why: $why" "$T_TMP/run.out"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the brown-out run remains"
t_done
