#!/usr/bin/env bash
# ECMP drills: the same withdraw of n1 in `routing: ecmp` (a plain multipath
# route: removing its first nexthop rehashes, so connections on n2/n3 break
# too) and in `routing: ecmp-resilient` (a resilient nexthop group: only n1's
# connections break). UDP flows spread over the nodes left in both modes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root

declare -A OTHER_BROKEN
for mode in ecmp ecmp-resilient; do
  lab_run "$AH_ROOT/tests/labs/lab-$mode.yaml"
  t_eq "$LAB_RC" 0 "$mode: run exits 0"
  W=$(ev_ts withdraw n1)
  t_match "$W" '^[0-9]{19}$' "$mode: withdraw n1 logged"
  t_true "$mode: route monitor saw n2+n3" \
    grep -q ',route,n2+n3,router=client nexthop=n2+n3$' "$LAB_DIR/events.csv"
  # Connections open at the withdraw, per node: how many broke within 1 s.
  read -r n1 n1_broken other other_broken < <(awk -F, -v w="$W" \
    'NR > 1 && $5 < w && $7 >= w {
       broke = $8 != "end" && $7 < w + 1000000000
       if ($6 == "n1") { a++; ab += broke } else { o++; ob += broke } }
     END { print a + 0, ab + 0, o + 0, ob + 0 }' "$LAB_DIR/connections.csv")
  echo "$mode: n1 connections $n1 (broken $n1_broken), n2/n3 connections $other (broken $other_broken)"
  t_true "$mode: connections were spread over n1 and the others" test "$n1" -gt 0 -a "$other" -gt 0
  t_eq "$n1_broken" "$n1" "$mode: every connection on n1 broke"
  OTHER_BROKEN[$mode]=$other_broken
  read -r n1_udp n2_udp n3_udp < <(awk -F, -v w="$W" \
    '$4 == "udp" && $8 == "ok" && $1 > w + 20000000 { c[$9]++ }
     END { print c["n1"] + 0, c["n2"] + 0, c["n3"] + 0 }' "$LAB_DIR/probes.csv")
  echo "$mode: udp after withdraw: n1 $n1_udp n2 $n2_udp n3 $n3_udp"
  t_eq "$n1_udp" 0 "$mode: no udp answer from n1 after withdraw"
  t_true "$mode: udp flows spread over n2 and n3" test "$n2_udp" -gt 0 -a "$n3_udp" -gt 0
  t_eq "$(lab_leftovers "$LAB_ID")" "" "$mode: nothing of the run remains"
done
t_true "ecmp: withdrawing n1 breaks connections on other nodes (${OTHER_BROKEN[ecmp]})" \
  test "${OTHER_BROKEN[ecmp]}" -gt 0
t_eq "${OTHER_BROKEN[ecmp-resilient]}" 0 "ecmp-resilient: no connection on other nodes breaks"
t_done
