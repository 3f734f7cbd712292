#!/usr/bin/env bash
# anycast-responder fault control, observed from the client side: pause
# (silence on UDP and on an open TCP connection, which survives), resume,
# delay MS, drop PERCENT, the stats line, bad commands, SIGUSR1 and a quick
# clean exit on SIGTERM with connections still open.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig socat

t_responder_ns
t_responder_ctl
DIG="dig +time=1 +tries=1"
ask() { in_ns $DIG +short "$@" CH TXT hostname.bind; }
qtime() { in_ns dig +time=3 +tries=1 "$@" CH TXT hostname.bind | sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p'; }

t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --listen "$V6" --identity ctl-node \
  --control "$CTL" 2>"$T_TMP/responder.log"
t_true "responder answers within 5 s" t_wait_for 5 in_ns $DIG +short @"$V4" CH TXT hostname.bind
t_true "control socket exists" test -S "$CTL"

# A TCP echo connection opened before the pause must survive it.
coproc ECHO { ip netns exec "$NS" socat -t 30 - TCP:$V4:7; }
echo x1 >&"${ECHO[1]}"
read -r -t 3 line <&"${ECHO[0]}"
t_eq "$line" "ctl-node x1" "open TCP echo connection answers"

req0=$(stat_of udp_dns_requests)
t_eq "$(ctl pause)" "ok paused" "pause"
t_match "$(ask @"$V4")" "timed out" "paused: UDP v4 query gets no answer"
t_match "$(ask @"$V6" +tcp)" "timed out" "paused: TCP v6 query gets no answer"
t_eq "$(echo ping | in_ns socat -T 1 - UDP:$V4:7)" "" "paused: UDP echo gets no answer"
echo x2 >&"${ECHO[1]}"
line=
read -r -t 1 line <&"${ECHO[0]}"
t_eq "$line" "" "paused: the open TCP connection gets no answer"
t_true "paused: the stats line says so" bash -c "[[ \"\$(echo stats | ip netns exec $NS socat -t 2 - UNIX-CONNECT:$CTL)\" == *paused=1* ]]"
t_true "paused queries are counted as requests" test "$(stat_of udp_dns_requests)" -gt "$req0"
t_true "paused queries are counted as dropped" test "$(stat_of udp_dns_dropped)" -ge 1

t_eq "$(ctl resume)" "ok resumed" "resume"
t_eq "$(ask @"$V4")" '"ctl-node"' "resumed: UDP answers"
t_eq "$(ask @"$V6" +tcp)" '"ctl-node"' "resumed: TCP answers"
echo x3 >&"${ECHO[1]}"
read -r -t 3 line <&"${ECHO[0]}"
t_eq "$line" "ctl-node x3" "resumed: the same TCP connection answers again"

t_eq "$(ctl 'delay 300')" "ok delay 300" "delay 300"
ms=$(qtime @"$V4")
t_true "delay 300: UDP answer took ${ms:-?} ms (>= 250)" test "${ms:-0}" -ge 250
ms=$(qtime @"$V6" +tcp)
t_true "delay 300: TCP answer took ${ms:-?} ms (>= 250)" test "${ms:-0}" -ge 250
start=$(date +%s%N)
echo x4 >&"${ECHO[1]}"
read -r -t 3 line <&"${ECHO[0]}"
ms=$((($(date +%s%N) - start) / 1000000))
t_eq "$line" "ctl-node x4" "delay 300: TCP echo still answers"
t_true "delay 300: TCP echo took ${ms} ms (>= 250)" test "$ms" -ge 250
t_eq "$(ctl 'delay 0')" "ok delay 0" "delay 0"
ms=$(qtime @"$V4")
t_true "delay 0: UDP answer took ${ms:-?} ms (< 200)" test "${ms:-999}" -lt 200

t_eq "$(ctl 'drop 100')" "ok drop 100" "drop 100"
d0=$(stat_of udp_dns_dropped)
t_match "$(ask @"$V4")" "timed out" "drop 100: UDP gets no answer"
t_match "$(ask @"$V4" +tcp)" "timed out" "drop 100: TCP gets no answer"
t_true "drop 100: drops counted" test "$(stat_of udp_dns_dropped)" -gt "$d0"
t_eq "$(ctl 'drop 0')" "ok drop 0" "drop 0"
t_eq "$(ask @"$V4")" '"ctl-node"' "drop 0: UDP answers again"

# drop 50 drops exactly every second request (deterministic share).
t_eq "$(ctl 'drop 50')" "ok drop 50" "drop 50"
a0=$(stat_of udp_echo_answers)
for i in 1 2 3 4 5 6; do echo "p$i" | in_ns socat -T 0.3 - UDP:$V4:7 >/dev/null; done
t_eq "$(($(stat_of udp_echo_answers) - a0))" 3 "drop 50: 3 of 6 UDP echo requests answered"
ctl 'drop 0' >/dev/null

# Counters move with traffic.
a0=$(stat_of udp_dns_answers)
t0=$(stat_of tcp_dns_answers)
for i in 1 2 3; do ask @"$V4" >/dev/null; ask @"$V4" +tcp >/dev/null; done
t_eq "$(($(stat_of udp_dns_answers) - a0))" 3 "stats: udp_dns_answers grew by 3"
t_eq "$(($(stat_of tcp_dns_answers) - t0))" 3 "stats: tcp_dns_answers grew by 3"
t_true "stats: one TCP echo connection open" test "$(stat_of tcp_echo_open)" -eq 1

# Bad commands get an error line, and several commands work on one connection.
t_match "$(ctl bogus)" '^error unknown command "bogus"' "unknown command"
t_match "$(ctl 'delay soon')" '^error delay:' "delay with a bad number"
t_match "$(ctl 'drop 101')" '^error drop:' "drop over 100"
t_match "$(ctl 'pause now')" '^error pause takes no argument' "pause with an argument"
out=$(printf 'delay 5\nstats\ndelay 0\n' | in_ns socat -t 2 - "UNIX-CONNECT:$CTL")
t_eq "$(wc -l <<<"$out")" 3 "three commands on one control connection: three replies"
t_match "$(sed -n 2p <<<"$out")" 'delay_ms=5' "the second reply sees the first command"

kill -USR1 "$RPID"
t_true "SIGUSR1 logs the stats line" t_wait_for 3 grep -q 'stats: udp_dns_requests=' "$T_TMP/responder.log"

# SIGTERM with an open TCP connection: quick exit 0, control socket removed.
start=$(date +%s%N)
kill -TERM "$RPID"
wait "$RPID"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
t_eq "$rc" 0 "SIGTERM: exit status 0"
t_true "SIGTERM: exit took ${ms} ms (< 2500)" test "$ms" -lt 2500
t_true "control socket removed" test ! -e "$CTL"
line=x
read -r -t 2 line <&"${ECHO[0]}"
t_eq "$line" "" "the open TCP connection saw EOF"
t_true "no sanitizer report in the log" bash -c "! grep -q 'Sanitizer\|runtime error' $T_TMP/responder.log"
t_done
