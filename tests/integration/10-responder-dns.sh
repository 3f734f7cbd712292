#!/usr/bin/env bash
# anycast-responder DNS in a namespace: identity over UDP and TCP, IPv4 and
# IPv6, with dig and kdig (hostname.bind, id.server, NSID), REFUSED for other
# names, zone answers, TC=1 on a big UDP answer with the full answer over
# TCP, and several pipelined queries on one TCP connection.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig kdig socat

t_responder_ns
t_responder_ctl
PIPE=$AH_BIN/tests/tools/responder_pipeline

# A zone with a normal name, an NXDOMAIN case and one RRset too big for a
# 512-byte UDP answer (30 TXT records of 100 bytes).
{
  echo '$ORIGIN example.test.'
  echo '$TTL 300'
  echo '@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300'
  echo '@ IN NS ns'
  echo 'ns IN A 203.0.113.1'
  echo 'www IN A 203.0.113.10'
  echo 'www IN AAAA 2001:db8::10'
  for i in $(seq -w 1 30); do
    printf 'big IN TXT "%s-%s"\n' "$i" "$(printf 'x%.0s' $(seq 1 96))"
  done
} >"$T_TMP/example.test.zone"

t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --listen "$V6" --identity node-a \
  --zone "$T_TMP/example.test.zone" --control "$T_TMP/ctl.sock" 2>"$T_TMP/responder.log"
t_true "responder answers within 5 s" \
  t_wait_for 5 in_ns dig +short +time=1 +tries=1 @"$V4" CH TXT hostname.bind

DIG="dig +time=2 +tries=1"
t_eq "$(in_ns $DIG +short @"$V4" CH TXT hostname.bind)" '"node-a"' "dig udp v4 hostname.bind"
t_eq "$(in_ns $DIG +short +tcp @"$V4" CH TXT hostname.bind)" '"node-a"' "dig tcp v4 hostname.bind"
t_eq "$(in_ns $DIG +short @"$V6" CH TXT id.server)" '"node-a"' "dig udp v6 id.server"
t_eq "$(in_ns $DIG +short +tcp @"$V6" CH TXT id.server)" '"node-a"' "dig tcp v6 id.server"
t_eq "$(in_ns kdig +short +time=2 +retry=0 @"$V4" CH TXT hostname.bind)" '"node-a"' \
  "kdig udp v4 hostname.bind"
t_eq "$(in_ns kdig +short +tcp +time=2 +retry=0 @"$V6" CH TXT id.server)" '"node-a"' \
  "kdig tcp v6 id.server"

out=$(in_ns $DIG +nsid @"$V4" example.com A)
t_match "$out" 'NSID: .*\("node-a"\)' "dig udp +nsid carries the identity (REFUSED answer)"
t_match "$out" 'status: REFUSED' "a name we do not serve is REFUSED"
out=$(in_ns $DIG +nsid +tcp @"$V6" CH TXT hostname.bind)
t_match "$out" 'NSID: .*\("node-a"\)' "dig tcp v6 +nsid carries the identity"
out=$(in_ns kdig +nsid +time=2 +retry=0 @"$V4" CH TXT id.server)
t_match "$out" 'NSID: .*node-a' "kdig +nsid carries the identity"
out=$(in_ns $DIG @"$V4" CH TXT version.bind)
t_match "$out" 'status: REFUSED' "CH TXT version.bind is REFUSED"

# Zone data: authoritative answers, NXDOMAIN with the SOA.
out=$(in_ns $DIG @"$V4" www.example.test A)
t_match "$out" 'flags: qr aa' "zone answer has AA"
t_match "$out" 'www\.example\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+203\.0\.113\.10' \
  "zone A record"
t_eq "$(in_ns $DIG +short +tcp @"$V6" www.example.test AAAA)" "2001:db8::10" "zone AAAA over tcp v6"
out=$(in_ns $DIG @"$V4" nope.example.test A)
t_match "$out" 'status: NXDOMAIN' "missing name in the zone is NXDOMAIN"
t_match "$out" 'AUTHORITY: 1' "NXDOMAIN carries the SOA"

# Truncation: 30 x ~100 bytes does not fit 512 bytes.
out=$(in_ns $DIG +noedns +ignore @"$V4" big.example.test TXT)
t_match "$out" 'flags: qr aa tc|flags: qr tc aa' "UDP answer over 512 bytes has TC=1"
n=$(in_ns kdig +tcp +short +time=2 +retry=0 @"$V4" big.example.test TXT | wc -l)
t_eq "$n" 30 "kdig over TCP gets all 30 TXT records"
n=$(in_ns $DIG +short @"$V4" big.example.test TXT | wc -l)
t_eq "$n" 30 "dig retries a truncated answer over TCP and gets all 30"

# Several queries on one TCP connection with kdig +keepopen: the connection
# count grows by one, the TCP query count by four.
tot0=$(stat_of tcp_dns_total)
req0=$(stat_of tcp_dns_requests)
out=$(in_ns kdig +tcp +keepopen +time=2 +retry=0 @"$V4" hostname.bind CH TXT \
  www.example.test IN A id.server CH TXT nope.example.test IN A)
t_eq "$(grep -c 'node-a' <<<"$out")" 2 "kdig +keepopen: both identity answers"
t_match "$out" '203\.0\.113\.10' "kdig +keepopen: the zone answer"
t_match "$out" 'NXDOMAIN' "kdig +keepopen: the NXDOMAIN"
t_eq "$(($(stat_of tcp_dns_total) - tot0))" 1 "kdig +keepopen used one TCP connection"
t_eq "$(($(stat_of tcp_dns_requests) - req0))" 4 "kdig +keepopen sent four queries"

# Real pipelining: 20 queries in one write, 20 answers in order.
if [ -x "$PIPE" ]; then
  t_true "20 pipelined queries on one connection answered in order (v4)" \
    in_ns "$PIPE" "$V4" 53 20 node-a
  t_true "20 pipelined queries on one connection answered in order (v6)" \
    in_ns "$PIPE" "$V6" 53 20 node-a
else
  t_fail "missing $PIPE (make unit builds tests/tools)"
fi

# The DNS port only: no wildcard socket answers on another local address.
in_ns ip addr add 198.51.100.54/32 dev lo
t_true "nothing answers on an address we were not given" \
  bash -c "! ip netns exec $NS $DIG +short @198.51.100.54 CH TXT hostname.bind >/dev/null"

kill -TERM "$RPID"
wait "$RPID"
t_eq "$?" 0 "SIGTERM: exit status 0"

# The libuv UDP path (--udp-io uv) with two workers answers the same way.
t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --listen "$V6" --identity node-b \
  --zone "$T_TMP/example.test.zone" --udp-io uv --workers 2 2>>"$T_TMP/responder.log"
t_true "uv-path responder answers within 5 s" \
  t_wait_for 5 in_ns dig +short +time=1 +tries=1 @"$V4" CH TXT hostname.bind
t_eq "$(in_ns $DIG +short @"$V4" CH TXT hostname.bind)" '"node-b"' "uv path: udp v4 hostname.bind"
t_eq "$(in_ns $DIG +short @"$V6" CH TXT id.server)" '"node-b"' "uv path: udp v6 id.server"
t_match "$(in_ns $DIG +nsid @"$V6" www.example.test A)" 'NSID: .*\("node-b"\)' "uv path: NSID"
out=$(in_ns $DIG +noedns +ignore @"$V4" big.example.test TXT)
t_match "$out" 'flags: qr aa tc|flags: qr tc aa' "uv path: TC=1 over 512 bytes"
t_eq "$(in_ns $DIG +short +tcp @"$V4" CH TXT hostname.bind)" '"node-b"' "2 workers: tcp v4"
kill -INT "$RPID"
wait "$RPID"
t_eq "$?" 0 "SIGINT: exit status 0"

t_true "no sanitizer report in the log" bash -c "! grep -q 'Sanitizer\|runtime error' $T_TMP/responder.log"
t_done
