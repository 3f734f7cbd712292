#!/usr/bin/env bash
# Packaged servers as lab nodes: BIND, Unbound, PowerDNS Authoritative and
# Knot run from configurations the lab generates (identity = node name, NSID
# on, no rate limiting: BIND's CHAOS answers come from a view of its own,
# docs/interop.md); withdrawing them in turn moves UDP and TCP DNS from bind1
# to unbound1 to pdns1 to knot1, each identified by its own answers, and
# BIND answers 200/s over UDP without a drop.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
PATH=$PATH:/usr/sbin:/usr/local/sbin
t_need named unbound pdns_server knotd

lab_run "$AH_ROOT/tests/labs/lab-bind-knot.yaml"
t_eq "$LAB_RC" 0 "run exits 0"
W1=$(ev_ts withdraw bind1) W2=$(ev_ts withdraw unbound1) W3=$(ev_ts withdraw pdns1)
for p in named unbound pdns_server knotd; do
  t_match "$(grep -o "\"$p\": \"[^\"]*\"" "$LAB_DIR/run.json")" '[0-9]+\.[0-9]+' "run.json records $p's version"
done
for tr in udp tcp; do
  # 5 ms before each ack time are left out: the kernel moves the route
  # before its acknowledgement arrives.
  read -r a b c d other < <(awk -F, -v w1="$W1" -v w2="$W2" -v w3="$W3" -v tr="$tr" \
    '$4 == tr && $8 == "ok" {
       if ($1 < w1 - 5000000) { if ($9 == "bind1") a++; else o++ }
       else if ($1 > w1 + 20000000 && $1 < w2 - 5000000) { if ($9 == "unbound1") b++; else o++ }
       else if ($1 > w2 + 20000000 && $1 < w3 - 5000000) { if ($9 == "pdns1") c++; else o++ }
       else if ($1 > w3 + 20000000) { if ($9 == "knot1") d++; else o++ } }
     END { print a + 0, b + 0, c + 0, d + 0, o + 0 }' "$LAB_DIR/probes.csv")
  echo "$tr: bind1 $a, then unbound1 $b, then pdns1 $c, then knot1 $d, unexpected $other"
  t_true "$tr: BIND answered first ($a)" test "$a" -gt 10
  t_true "$tr: Unbound answered after withdraw bind1 ($b)" test "$b" -gt 10
  t_true "$tr: PowerDNS answered after withdraw unbound1 ($c)" test "$c" -gt 10
  t_true "$tr: Knot answered after withdraw pdns1 ($d)" test "$d" -gt 10
  t_eq "$other" 0 "$tr: no answer from an unexpected node"
done
# Before the first withdraw every UDP probe was answered by BIND: its CHAOS
# answers are not rate-limited in the generated configuration.
read -r n ok < <(awk -F, -v w1="$W1" '$4 == "udp" && $1 < w1 - 5000000 { n++; if ($8 == "ok") ok++ }
  END { print n + 0, ok + 0 }' "$LAB_DIR/probes.csv")
t_true "udp: BIND answered at least 99 % before its withdraw ($ok of $n)" \
  test "$((ok * 100))" -ge "$((n * 99))"
t_match "$(awk -F, '$4 == "udp" && $11 ~ /query=auto:/ { print $11; exit }' "$LAB_DIR/probes.csv")" \
  '^query=auto:hostname\.bind$' "the probe's auto query kept hostname.bind against this BIND"
t_match "$(tr -d '\n' <"$LAB_DIR/run.json")" '"queries": \[ *\{"vantage": "v1", "target": "198.51.100.53", "query": "hostname.bind", "why": "hostname.bind 8/8"\}, *\{"vantage": "v1", "target": "2001:db8:53::53", "query": "hostname.bind", "why": "hostname.bind 8/8"\} *\]' \
  "run.json records the query the vantage's probe chose, and why"
t_true "the probe's summary JSON is not left in the results" test ! -e "$LAB_DIR/probes-v1"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run remains"
t_eq "$(pgrep -f "$LAB_ID/(bind|unbound|pdns|knot)-" | wc -l)" 0 "no server of the run remains"
t_match "$(cat "$T_TMP/run.out")" "expectations: 2 passed, 0 failed" \
  "no probe rate-limited by the generated servers (ratelimited == 0), unbound1 after bind1"
t_done
