#!/usr/bin/env bash
# Real servers as lab nodes: NSD and Knot run from configurations the lab
# generates (identity = node name, NSID on, RRL off, port 53) next to the
# builtin responder; withdrawing them in turn moves UDP and TCP DNS from
# nsd1 to knot1 to own1, each identified by its own answers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
PATH=$PATH:/usr/sbin:/usr/local/sbin
t_need nsd knotd

lab_run "$AH_ROOT/tests/labs/lab-nsd-knot.yaml"
t_eq "$LAB_RC" 0 "run exits 0"
W1=$(ev_ts withdraw nsd1) W2=$(ev_ts withdraw knot1)
t_true "NSD's log shows it ran" grep -q 'nsd start' "$LAB_DIR/logs/responder-nsd1.log"
t_match "$(grep -o '"nsd": "[^"]*"' "$LAB_DIR/run.json")" 'NSD|nsd' "run.json records NSD's version"
t_match "$(grep -o '"knotd": "[^"]*"' "$LAB_DIR/run.json")" '[0-9]+\.[0-9]+' "run.json records Knot's version next to NSD's (one slot per program)"
for tr in udp tcp; do
  # 5 ms before each ack time are left out: the kernel moves the route
  # before its acknowledgement arrives.
  read -r a b c other < <(awk -F, -v w1="$W1" -v w2="$W2" -v tr="$tr" \
    '$4 == tr && $8 == "ok" {
       if ($1 < w1 - 5000000) { if ($9 == "nsd1") a++; else o++ }
       else if ($1 > w1 + 20000000 && $1 < w2 - 5000000) { if ($9 == "knot1") b++; else o++ }
       else if ($1 > w2 + 20000000) { if ($9 == "own1") c++; else o++ } }
     END { print a + 0, b + 0, c + 0, o + 0 }' "$LAB_DIR/probes.csv")
  echo "$tr: nsd1 $a, then knot1 $b, then own1 $c, unexpected $other"
  t_true "$tr: NSD answered first ($a)" test "$a" -gt 10
  t_true "$tr: Knot answered after withdraw nsd1 ($b)" test "$b" -gt 10
  t_true "$tr: the builtin answered after withdraw knot1 ($c)" test "$c" -gt 10
  t_eq "$other" 0 "$tr: no answer from an unexpected node"
done
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run remains"
t_eq "$(pgrep -f "$LAB_ID/(nsd|knot)-" | wc -l)" 0 "no NSD or Knot of the run remains"
t_done
