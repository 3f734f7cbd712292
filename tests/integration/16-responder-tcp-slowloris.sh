#!/usr/bin/env bash
# anycast-responder against slow TCP clients (docs/security.md, "Limits", anycast-responder). With
# --max-tcp-clients 100, 150 clients trickling one byte of a never-ending
# frame every 2 s, then 150 clients that connect and send nothing: a fresh
# TCP query is answered within 1 s throughout, UDP too, and the responder's
# RSS stays under 24 MB; 50 tricklers under the cap are closed by the io
# timeout again and again. A client that sends one byte and stalls is closed
# by --tcp-io-timeout (default 500 ms) within 3 s while an idle one stays
# until --tcp-idle-timeout. 600 clients holding 60,000-byte partial frames
# stay within --tcp-buffer-budget 8M: the oldest are closed, the newest kept,
# RSS under 20 MB (unbounded they hold 64 KiB each, 42 MB RSS measured).
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig

t_responder_ns
t_responder_ctl
A=$AH_BIN/tests/tools/tcp_attack
t_built "$A" "make unit builds tests/tools"
# RSS bounds (kB): about 4 MB at rest; under ASan (quarantine, shadow
# memory) RSS says nothing about the responder's buffers and is not checked.
RSS_ATTACK_KB=24576
RSS_BUDGET_KB=20480
ASAN=
t_asan "$R" && ASAN=1

dig_tcp() { in_ns dig +short +tcp +time=1 +tries=1 -p "$1" @"$V4" CH TXT hostname.bind 2>&1; }
dig_udp() { in_ns dig +short +time=1 +tries=1 -p "$1" @"$V4" CH TXT hostname.bind 2>&1; }
answers_tcp() { [ "$(dig_tcp "$1")" = '"slow-node"' ]; }

# Fresh TCP and UDP queries every second for ~5 s while an attack runs:
# each must be answered within dig's 1 s timeout. Also records the peak RSS.
probe_during() { # LABEL PORT PID RSS_MAX_KB
  local i tcp_ok=0 udp_ok=0 rss peak=0
  for i in 1 2 3 4 5 6; do
    [ "$(dig_tcp "$2")" = '"slow-node"' ] && tcp_ok=$((tcp_ok + 1))
    [ "$(dig_udp "$2")" = '"slow-node"' ] && udp_ok=$((udp_ok + 1))
    rss=$(t_rss_kb "$3")
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    sleep 0.8
  done
  t_eq "$tcp_ok" 6 "$1: 6 of 6 fresh TCP queries answered within 1 s"
  t_eq "$udp_ok" 6 "$1: 6 of 6 UDP queries answered within 1 s"
  if [ -n "$ASAN" ]; then
    echo "skip - $1: RSS (${peak} kB) not checked under ASan"
  else
    t_true "$1: responder RSS ${peak} kB < $4 kB" test "$peak" -lt "$4"
  fi
}

# The trickle and idle attacks use only --max-tcp-clients and
# --tcp-idle-timeout, so the same test shows what older builds did.
t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --identity slow-node --no-echo \
  --max-tcp-clients 100 --tcp-idle-timeout 4s --control "$T_TMP/ctl.sock" \
  2>"$T_TMP/responder.log"
T_DUMP+=("$T_TMP/responder.log")
t_true "responder answers TCP within 5 s" t_wait_for 5 answers_tcp 53

t_bg APID ip netns exec "$NS" "$A" trickle "$V4" 53 150 9 >"$T_TMP/trickle.out"
T_DUMP+=("$T_TMP/trickle.out")
sleep 1.5
t_true "trickle: the attackers took every slot" \
  test "$(stat_of tcp_clients)" -ge 95
probe_during "trickle, 150 clients on 100 slots" 53 "$RPID" "$RSS_ATTACK_KB"
wait "$APID"
t_match "$(cat "$T_TMP/trickle.out")" 'closed_by_server=[1-9]' \
  "trickle: the server closed attacking connections"

# Under the cap nobody is evicted: 50 tricklers for 3 s are each closed by
# the io timeout, again and again (a byte every 2 s used to keep them).
in_ns "$A" trickle "$V4" 53 50 3 >"$T_TMP/trickle50.out"
T_DUMP+=("$T_TMP/trickle50.out")
n=$(sed -n 's/.*closed_by_server=\([0-9]*\).*/\1/p' "$T_TMP/trickle50.out")
t_true "trickle under the cap: the 50 were closed at least twice each in 3 s (${n} closes)" \
  test "${n:-0}" -ge 100
t_true "trickle under the cap: counted as io_timeout" \
  test "$(stat_of tcp_dns_io_timeout)" -ge 100

t_bg APID ip netns exec "$NS" "$A" idle "$V4" 53 150 8 >"$T_TMP/idle.out"
T_DUMP+=("$T_TMP/idle.out")
sleep 1.5
probe_during "idle, 150 clients on 100 slots" 53 "$RPID" "$RSS_ATTACK_KB"
wait "$APID"
t_true "idle: new clients evicted idle ones" \
  test "$(stat_of tcp_dns_evicted)" -gt 0

# --tcp-io-timeout (default 500 ms): one byte then silence is closed soon;
# a connection with nothing buffered waits for the idle timeout (4 s).
out=$(in_ns "$A" stall "$V4" 53 8)
stall=$(sed -n 's/.*stall_closed_ms=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$out")
idle=$(sed -n 's/.*idle_closed_ms=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$out")
t_true "one byte then silence: closed within 3 s (${stall} ms)" \
  test "${stall:--1}" -ge 0 -a "${stall:--1}" -lt 3000
t_true "nothing sent: kept until the 4 s idle timeout (closed after ${idle} ms)" \
  test "${idle:--1}" -ge 3500 -a "${idle:--1}" -lt 7000

# --tcp-buffer-budget: 600 partial frames of 60,002 bytes (64 KiB of buffer
# each, ~40 MB in all) against a budget of 8 MiB; the io timeout is long so
# that only the budget closes them.
t_bg RPID2 ip netns exec "$NS" "$R" --listen "$V4" --identity slow-node --no-echo \
  --dns-port 5300 --max-tcp-clients 2000 --tcp-io-timeout 30s --tcp-idle-timeout 30s \
  --tcp-buffer-budget 8M --control "$T_TMP/ctl2.sock" 2>"$T_TMP/responder2.log"
T_DUMP+=("$T_TMP/responder2.log")
t_true "budget responder answers TCP within 5 s" t_wait_for 5 answers_tcp 5300
t_bg APID ip netns exec "$NS" "$A" hold "$V4" 5300 600 6 60000 >"$T_TMP/hold.out"
T_DUMP+=("$T_TMP/hold.out")
t_true "600 partial frames sent" t_wait_for 30 grep -q '^ready opened=600' "$T_TMP/hold.out"
sleep 1
probe_during "600 partial frames of 60,000 bytes, budget 8M" 5300 "$RPID2" "$RSS_BUDGET_KB"
wait "$APID"
hold=$(grep '^opened=' "$T_TMP/hold.out")
echo "hold: $hold"
closed=$(sed -n 's/.*closed=\([0-9]*\).*/\1/p' <<<"$hold")
high=$(sed -n 's/.*highest_closed=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$hold")
low=$(sed -n 's/.*lowest_open=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$hold")
# 8 MiB holds 128 buffers of 64 KiB: at least 400 of 600 must go.
t_true "over the budget, partial connections were closed (${closed} of 600)" \
  test "${closed:-0}" -ge 400
t_true "the oldest went first: the 100 newest are all open (highest closed ${high})" \
  test "${high:-999}" -lt 500
t_true "and some are kept (lowest open ${low})" test "${low:--1}" -ge 0
t_true "closes counted as over_budget" \
  test "$(stat_of tcp_dns_over_budget "$T_TMP/ctl2.sock")" -ge 400

kill -TERM "$RPID" "$RPID2"
wait "$RPID"
t_eq "$?" 0 "SIGTERM: exit 0"
wait "$RPID2"
t_eq "$?" 0 "budget responder: SIGTERM exit 0"
t_true "no sanitizer report in the logs" \
  bash -c "! cat $T_TMP/responder*.log | grep -q 'Sanitizer\|runtime error'"
t_done
