#!/usr/bin/env bash
# anycast-responder against TCP clients that pipeline queries and never read
# the answers (docs/security.md, "Limits", anycast-responder: the write side). With the defaults, 500 such
# clients, each asking again and again for an 8 KB TXT answer and
# reconnecting when closed, for 8 s: a fresh TCP query is answered within
# 2 s throughout, UDP too; the responder's RSS stays under 64 MB (unbounded,
# a 64 KiB read of queries was answered in full: 3.5 GB); connections are
# closed over --tcp-buffer-budget (over_budget); and a client that pipelines
# the same queries but reads 1 KiB every 100 ms is not cut, during the flood
# or after it, for 28 s (longer than the 20 s --tcp-write-timeout, although
# its answers stand still for up to ~11 s at a time). With
# --tcp-write-timeout 1s, 20 never-reading clients are reset 1 to 1.5 s
# after their answers stopped moving (write_timeout).
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig socat

t_responder_ns
t_responder_ctl
A=$AH_BIN/tests/tools/tcp_attack
t_built "$A" "make unit builds tests/tools"
# RSS bound (kB): about 4 MB at rest plus the 32 MiB budget and what malloc
# keeps; under ASan (quarantine, shadow memory) RSS says nothing about the
# responder's buffers and is not checked.
RSS_MAX_KB=65536
ASAN=
t_asan "$R" && ASAN=1

# An internet-sized MSS: with loopback's 64 KiB segments a receiver opens
# its window only after reading ~64 KiB, so a client reading 10 KiB/s would
# let nothing through for seconds, which no real path does.
ip -n "$NS" link set lo mtu 1500
dig_tcp() { in_ns dig +short +tcp +time="${1:-1}" +tries=1 @"$V4" CH TXT hostname.bind 2>&1; }
dig_udp() { in_ns dig +short +time="${1:-1}" +tries=1 @"$V4" CH TXT hostname.bind 2>&1; }
answers_tcp() { [ "$(dig_tcp)" = '"unread-node"' ]; }

# 40 TXT records of 200 bytes: an answer of about 8 KB for a 30-byte query.
{
  echo '$ORIGIN example.test.'
  echo '$TTL 300'
  echo '@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300'
  echo '@ IN NS ns'
  echo 'ns IN A 203.0.113.1'
  for i in $(seq -w 1 40); do
    printf 'big IN TXT "%s-%s"\n' "$i" "$(printf 'x%.0s' $(seq 1 196))"
  done
} >"$T_TMP/example.test.zone"

t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --identity unread-node --no-echo \
  --zone "$T_TMP/example.test.zone" --control "$T_TMP/ctl.sock" 2>"$T_TMP/responder.log"
T_DUMP+=("$T_TMP/responder.log")
t_true "responder answers TCP within 5 s" t_wait_for 5 answers_tcp
t_match "$(in_ns dig +tcp +time=1 +tries=1 @"$V4" big.example.test TXT)" 'MSG SIZE  rcvd: 8[0-9][0-9][0-9]' \
  "big.example.test TXT is an answer of about 8 KB"
rss0=$(t_rss_kb "$RPID")

# The slow reader starts first: once the kernel's buffers for it are full
# (2-4 s) its answers queue in the responder, and the flood must not push
# it out. (A connection whose queue begins while the flood holds the whole
# budget is reset instead: see docs, TCP limits.)
t_bg SPID ip netns exec "$NS" "$A" slowread "$V4" 53 28 big.example.test >"$T_TMP/slow.out"
T_DUMP+=("$T_TMP/slow.out")
sleep 5
# Under ASan the responder is several times slower and 500 reconnecting
# clients saturate its core on this shared machine: 200 (still ~60 MB of
# answers against the 32 MiB budget) keep the fresh-query check meaningful.
NFLOOD=500
[ -n "$ASAN" ] && NFLOOD=200
t_bg APID ip netns exec "$NS" "$A" unread "$V4" 53 "$NFLOOD" 8 big.example.test >"$T_TMP/unread.out"
T_DUMP+=("$T_TMP/unread.out")
sleep 1

# Fresh TCP and UDP queries every ~0.8 s while the flood runs, each to be
# answered within 2 s (3 s under ASan, which is several times slower: the
# machine is shared, and the flood's own client takes a core); the peak RSS
# is recorded.
tcp_ok=0 udp_ok=0 peak=0 wait_s=2
[ -n "$ASAN" ] && wait_s=3
for i in 1 2 3 4 5 6 7 8; do
  [ "$(dig_tcp "$wait_s")" = '"unread-node"' ] && tcp_ok=$((tcp_ok + 1))
  [ "$(dig_udp "$wait_s")" = '"unread-node"' ] && udp_ok=$((udp_ok + 1))
  rss=$(t_rss_kb "$RPID")
  [ "${rss:-0}" -gt "$peak" ] && peak=$rss
  sleep 0.6
done
t_eq "$tcp_ok" 8 "8 of 8 fresh TCP queries answered within ${wait_s} s during the flood"
t_eq "$udp_ok" 8 "8 of 8 UDP queries answered within ${wait_s} s during the flood"
echo "responder RSS: ${rss0} kB at rest, peak ${peak} kB under $NFLOOD never-reading clients"
if [ -n "$ASAN" ]; then
  echo "skip - RSS (${peak} kB) not checked under ASan"
else
  t_true "responder RSS ${peak} kB < $RSS_MAX_KB kB" test "$peak" -lt "$RSS_MAX_KB"
fi
wait "$APID"
# The client's own count of closes is only shown: a reset sent behind data
# its kernel dropped falls outside its window and goes unseen.
echo "unread: $(cat "$T_TMP/unread.out")"
ob=$(stat_of tcp_dns_over_budget)
t_true "closes over --tcp-buffer-budget counted (${ob})" test "${ob:-0}" -gt 0

# --tcp-write-timeout 1s: 20 never-reading clients (well within the budget)
# are reset 1 to 1.5 s after their answers stopped moving (checked every
# half timeout, sweep 250 ms). The client may not see every reset (one
# behind data its kernel dropped is out of its window), so it may not
# reconnect: each is counted once at least.
t_bg RPID2 ip netns exec "$NS" "$R" --listen "$V4" --identity unread-node --no-echo \
  --dns-port 5300 --zone "$T_TMP/example.test.zone" --tcp-write-timeout 1s \
  --control "$T_TMP/ctl2.sock" 2>"$T_TMP/responder2.log"
T_DUMP+=("$T_TMP/responder2.log")
t_true "second responder answers TCP within 5 s" \
  t_wait_for 5 in_ns dig +short +tcp +time=1 +tries=1 -p 5300 @"$V4" CH TXT hostname.bind
out=$(in_ns "$A" unread "$V4" 5300 20 5 big.example.test)
echo "unread, write timeout 1s: $out"
first=$(sed -n 's/.*first_closed_ms=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$out")
# Not before the timeout; when after it depends on how loaded the machine
# is (1.0-1.5 s idle, 3.1 s seen under ASan next to other jobs), so the
# bound is only that it came within the client's 5 s run.
t_true "the first reset came after the 1 s timeout, within the client's run (${first} ms)" \
  test "${first:--1}" -ge 1000 -a "${first:--1}" -lt 5000
wt=$(stat_of tcp_dns_write_timeout "$T_TMP/ctl2.sock")
ob=$(stat_of tcp_dns_over_budget "$T_TMP/ctl2.sock")
t_true "closes by --tcp-write-timeout counted (${wt}, at least one per client)" \
  test "${wt:-0}" -ge 20
t_eq "$ob" 0 "none of them over the budget"

wait "$SPID"
slow=$(cat "$T_TMP/slow.out")
echo "stats: $(echo stats | in_ns socat -t 2 - "UNIX-CONNECT:$T_TMP/ctl.sock" | tr " " "\n" | grep "^tcp_dns" | tr "\n" " ")"
echo "slow reader: $slow"
got=$(sed -n 's/.*slowread_bytes=\([0-9]*\).*/\1/p' <<<"$slow")
t_match "$slow" 'closed_ms=-1' "the client reading 1 KiB every 100 ms was not cut in 28 s"
t_true "and it read its answers all along (${got} bytes in 28 s)" test "${got:-0}" -ge 229376

t_true "a fresh client is answered after the attack" answers_tcp
kill -TERM "$RPID" "$RPID2"
wait "$RPID"
t_eq "$?" 0 "SIGTERM: exit 0"
wait "$RPID2"
t_eq "$?" 0 "second responder: SIGTERM exit 0"
t_true "no sanitizer report in the logs" \
  bash -c "! cat $T_TMP/responder*.log | grep -q 'Sanitizer\|runtime error'"
t_done
