#!/usr/bin/env bash
# anycast-responder's UDP GSO on the mmsg path: bursts of queries from few
# source ports (their answers leave as one GSO message per run) each get a
# datagram of their own with the right ID, over IPv4 and IPv6, and the stats
# count every answer; a route MTU below the answer size makes the kernel
# refuse the GSO message and the answers still arrive, one by one; and
# --no-udp-gso answers the same way.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig socat

t_responder_ns
t_responder_ctl
FLOOD=$AH_BIN/bench/flood
t_built "$FLOOD" "make all builds it"

# A TXT answer of about 450 bytes: below the 512 of a plain UDP answer, above
# what a 400-byte MTU carries in one datagram.
{
  echo '$ORIGIN example.test.'
  echo '$TTL 300'
  echo '@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300'
  echo '@ IN NS ns'
  echo 'ns IN A 203.0.113.1'
  printf 'big IN TXT "%s" "%s"\n' "$(printf 'x%.0s' $(seq 1 200))" "$(printf 'y%.0s' $(seq 1 200))"
} >"$T_TMP/example.test.zone"

t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --listen "$V6" --identity gso-node --no-echo \
  --zone "$T_TMP/example.test.zone" --control "$CTL" --log-level debug 2>"$T_TMP/responder.log"
T_DUMP+=("$T_TMP/responder.log")
t_true "responder answers within 5 s" \
  t_wait_for 5 in_ns dig +short +time=1 +tries=1 @"$V4" CH TXT hostname.bind

# flood_check WHAT ADDR PORT [flood options...]: two seconds of closed-loop
# queries from 2 source ports with 16 in flight on each, so that the server
# reads runs of queries from one peer. Every query must be answered within a
# second: a run of answers sent as one datagram would answer only its first
# query, and the others would be lost once that second is over.
flood_check() {
  local what=$1 addr=$2 port=$3 out n
  shift 3
  out=$(in_ns "$FLOOD" -s "$addr" -p "$port" -l 2 -c 2 -w 16 -b 16 -t 1000 "$@" 2>&1)
  n=$(echo "$out" | awk '{for (i = 1; i < NF; i++) if ($i == "answered") print $(i + 1)}')
  t_true "$what: answers came ($out)" test "${n:-0}" -gt 0
  t_match "$out" ' lost 0 ' "$what: no query lost"
  t_match "$out" ' errors 0 ' "$what: no error rcode"
  t_match "$out" ' empty 0 ' "$what: every answer has its record"
  FLOOD_ANSWERED=${n:-0}
}

flood_check "v4 hostname.bind" "$V4" 53
a=$FLOOD_ANSWERED
flood_check "v6 id.server" "$V6" 53 --qname id.server
a=$((a + FLOOD_ANSWERED))
flood_check "v4 zone TXT of 450 bytes" "$V4" 53 --qname big.example.test --qclass IN --qtype TXT
a=$((a + FLOOD_ANSWERED))
sleep 0.5 # the queries still in flight when flood stopped
req=$(stat_of udp_dns_requests)
t_eq "$(stat_of udp_dns_answers)" "$req" "stats: every UDP request was answered"
t_eq "$(stat_of udp_dns_dropped)" 0 "stats: nothing dropped"
t_true "stats: at least the $a answers flood saw ($req)" test "$req" -ge "$a"
t_true "no GSO refusal at MTU 65536" bash -c "! grep -q 'GSO refused' '$T_TMP/responder.log'"

# An MTU of 400 on lo (IPv4 only from here: IPv6 needs 1280): a 450-byte
# segment does not fit, the kernel refuses the GSO message, the answers go out
# one by one (fragmented), and only answers that long stop being grouped.
ip -n "$NS" link set lo mtu 400
flood_check "MTU 400: zone TXT of 450 bytes" "$V4" 53 --qname big.example.test --qclass IN --qtype TXT
t_true "MTU 400: the refusal is logged" grep -q 'GSO refused.*answers of [0-9]* bytes or more' \
  "$T_TMP/responder.log"
flood_check "MTU 400: hostname.bind still grouped" "$V4" 53
sleep 0.5
t_eq "$(stat_of udp_dns_answers)" "$(stat_of udp_dns_requests)" "MTU 400: every request answered"
ip -n "$NS" link set lo mtu 65536

t_bg R2PID ip netns exec "$NS" "$R" --listen "$V4" --dns-port 5353 --identity gso-off --no-echo \
  --no-udp-gso --control "$T_TMP/ctl2.sock" 2>"$T_TMP/responder2.log"
T_DUMP+=("$T_TMP/responder2.log")
t_true "--no-udp-gso responder answers within 5 s" \
  t_wait_for 5 in_ns dig +short +time=1 +tries=1 -p 5353 @"$V4" CH TXT hostname.bind
flood_check "--no-udp-gso" "$V4" 5353
sleep 0.5
t_eq "$(stat_of udp_dns_answers "$T_TMP/ctl2.sock")" "$(stat_of udp_dns_requests "$T_TMP/ctl2.sock")" \
  "--no-udp-gso: every request answered"
t_done
