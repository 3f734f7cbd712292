#!/usr/bin/env bash
# anycast-responder echo in a namespace: "<identity> <line>" over UDP and
# TCP, IPv4 and IPv6, several lines on one TCP connection, an over-long line
# closing the TCP connection and an over-long datagram dropped, both counted.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need socat

t_responder_ns
t_responder_ctl

t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --listen "$V6" --identity echo-node \
  --no-dns --control "$T_TMP/ctl.sock" 2>"$T_TMP/responder.log"
t_true "echo answers within 5 s" \
  t_wait_for 5 bash -c "echo ping | ip netns exec $NS socat -T 1 - UDP:$V4:7 | grep -q ."

t_eq "$(echo hello | in_ns socat -T 2 - UDP:$V4:7)" "echo-node hello" "udp v4 echo"
t_eq "$(echo 'with  spaces and 42' | in_ns socat -T 2 - "UDP:[$V6]:7")" \
  "echo-node with  spaces and 42" "udp v6 echo keeps the line as sent"
t_eq "$(printf 'no-newline' | in_ns socat -T 2 - UDP:$V4:7)" "echo-node no-newline" \
  "udp datagram without a newline gets one"
t_eq "$(echo one | in_ns socat -t 2 - TCP:$V4:7)" "echo-node one" "tcp v4 echo"
t_eq "$(echo two | in_ns socat -t 2 - "TCP:[$V6]:7")" "echo-node two" "tcp v6 echo"

# Several lines on one connection, sent in pieces and in one go.
out=$( (printf 'a\nb\n'; sleep 0.2; printf 'c'; sleep 0.2; printf '\nd\n'; sleep 0.3) |
  in_ns socat -t 2 - TCP:$V4:7)
t_eq "$out" $'echo-node a\necho-node b\necho-node c\necho-node d' \
  "four lines on one TCP connection, split across writes"
tot0=$(stat_of tcp_echo_total)
out=$(seq 1 200 | in_ns socat -t 2 - TCP:$V4:7)
t_eq "$(wc -l <<<"$out")" 200 "200 lines on one connection: 200 replies"
t_eq "$(sed -n '200p' <<<"$out")" "echo-node 200" "replies come in order"
t_eq "$(($(stat_of tcp_echo_total) - tot0))" 1 "those 200 lines used one connection"

# A line of exactly 512 bytes (511 + newline) is fine; 513 is over-long.
l511=$(head -c 511 /dev/zero | tr '\0' x)
l600=$(head -c 600 /dev/zero | tr '\0' y)
t_eq "$(echo "$l511" | in_ns socat -t 2 - TCP:$V4:7)" "echo-node $l511" "512-byte line echoed"
ol0=$(stat_of tcp_echo_overlong)
# The over-long line comes after a good one and before another: the first
# is answered, then the connection closes: socat sees EOF and quits 0.5 s
# later, long before its input ends (3 s).
start=$(date +%s%N)
out=$( (echo before; echo "$l600"; echo after; sleep 3) |
  { in_ns socat -t 0.5 - TCP:$V4:7; date +%s%N >"$T_TMP/end"; })
ms=$((($(cat "$T_TMP/end") - start) / 1000000))
t_eq "$out" "echo-node before" "over-long TCP line: earlier line answered, nothing after"
t_true "over-long TCP line closes the connection (took ${ms} ms, < 2500)" test "$ms" -lt 2500
t_eq "$(($(stat_of tcp_echo_overlong) - ol0))" 1 "over-long TCP line counted"

ol0=$(stat_of udp_echo_overlong)
out=$(echo "$l600" | in_ns socat -T 1 - UDP:$V4:7)
t_eq "$out" "" "over-long UDP datagram gets no reply"
t_eq "$(($(stat_of udp_echo_overlong) - ol0))" 1 "over-long UDP datagram counted"
t_eq "$(echo still | in_ns socat -T 2 - UDP:$V4:7)" "echo-node still" "udp echo still works"

# --no-dns: nothing on port 53.
t_true "--no-dns: no DNS on UDP" \
  bash -c "! ip netns exec $NS dig +time=1 +tries=1 @$V4 CH TXT hostname.bind >/dev/null"

kill -TERM "$RPID"
wait "$RPID"
t_eq "$?" 0 "SIGTERM: exit status 0"
t_true "no sanitizer report in the log" bash -c "! grep -q 'Sanitizer\|runtime error' $T_TMP/responder.log"
t_done
