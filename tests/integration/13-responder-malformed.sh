#!/usr/bin/env bash
# anycast-responder under malformed input: random bytes, truncated headers,
# compression loops, bad labels and EDNS over UDP (both UDP paths) and TCP,
# a TCP length prefix of 65535 with 3 bytes then silence, 1,000 half-open TCP
# connections; afterwards UDP and TCP answers must still be right. Over
# --max-tcp-clients a new client is served and the longest idle one closed. Also: bad
# options exit 2 with a message, a bind to an address not on lo exits 1
# naming it.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig

t_responder_ns
t_responder_ctl
M=$AH_BIN/tests/tools/malformed
A=$AH_BIN/tests/tools/tcp_attack
t_built "$M" "make unit builds tests/tools"
t_built "$A" "make unit builds tests/tools"

# Usage errors: exit 2 and a message naming the option.
usage_case() { # expected-regex args...
  local re=$1; shift
  local err rc
  err=$("$R" "$@" 2>&1 >/dev/null)
  rc=$?
  t_eq "$rc" 2 "exit 2 for: $*"
  t_match "$err" "$re" "message for: $*"
}
usage_case 'no address' --identity x
usage_case '--listen: "nope" is not an IPv4 or IPv6 address' --listen nope
usage_case '--workers: "0"' --listen "$V4" --workers 0
usage_case '--dns-port: "70000"' --listen "$V4" --dns-port 70000
usage_case '--tcp-idle-timeout: "soon"' --listen "$V4" --tcp-idle-timeout soon
usage_case '--tcp-io-timeout: "0"' --listen "$V4" --tcp-io-timeout 0
usage_case '--tcp-buffer-budget: "32MB"' --listen "$V4" --tcp-buffer-budget 32MB
usage_case '--tcp-buffer-budget: at least 256K per worker' --listen "$V4" --tcp-buffer-budget 1M \
  --workers 8
usage_case 'unknown option --bogus' --listen "$V4" --bogus
usage_case '--identity: "a b"' --listen "$V4" --identity "a b"
usage_case '--udp-io: "fast"' --listen "$V4" --udp-io fast
usage_case 'nothing to serve' --listen "$V4" --no-dns --no-echo
usage_case '--listen: 198.51.100.53 is given twice' --listen "$V4" --listen 198.51.100.53
t_match "$("$R" --help)" 'Usage: anycast-responder' "--help prints usage"
t_match "$("$R" --version)" '^anycast-responder [0-9]' "--version"

# A bind to an address not on lo: exit 1, naming the address.
err=$(in_ns "$R" --listen 198.51.100.99 --identity x 2>&1)
rc=$?
t_eq "$rc" 1 "bind to an address not on lo: exit 1"
t_match "$err" 'bind 198\.51\.100\.99:53/udp: Cannot assign requested address \(is the address on lo\?\)' \
  "bind error names the address and hints at lo"
err=$(in_ns "$R" --listen "$V4" --listen 2001:db8:53::99 --identity x 2>&1)
t_match "$err" 'bind \[2001:db8:53::99\]:53/udp' "IPv6 bind error names the address"

# The io timeout is long here: the partial messages below test the idle
# timeout (16-responder-tcp-slowloris tests the io timeout).
t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --listen "$V6" --identity tough-node \
  --tcp-idle-timeout 2s --tcp-io-timeout 10s --control "$T_TMP/ctl.sock" 2>"$T_TMP/responder.log"
t_bg RPID2 ip netns exec "$NS" "$R" --listen "$V4" --identity tough-uv --udp-io uv \
  --dns-port 5353 --echo-port 7007 2>"$T_TMP/responder-uv.log"
t_true "responders answer within 5 s" \
  t_wait_for 5 in_ns dig +short +time=1 +tries=1 @"$V4" CH TXT hostname.bind
t_true "uv-path responder answers within 5 s" \
  t_wait_for 5 in_ns dig +short +time=1 +tries=1 -p 5353 @"$V4" CH TXT hostname.bind

# A second responder on the same address and port must not silently join
# the first one's SO_REUSEPORT group.
err=$(in_ns "$R" --listen "$V4" --identity intruder 2>&1)
rc=$?
t_eq "$rc" 1 "a second responder on the same port: exit 1"
t_match "$err" 'bind 198\.51\.100\.53:53/udp: Address already in use' "it names the busy port"

t_true "UDP battery (mmsg path, v4), then correct answers" in_ns "$M" udp "$V4" 53 tough-node
t_true "UDP battery (mmsg path, v6), then correct answers" in_ns "$M" udp "$V6" 53 tough-node
t_true "UDP battery (uv path), then correct answers" in_ns "$M" udp "$V4" 5353 tough-uv
t_true "TCP battery, prefix 65535 + 3 bytes, zero-length frame, then correct answers" \
  in_ns "$M" tcp "$V4" 53 tough-node 2000
t_true "1,000 half-open TCP connections held while UDP and TCP still answer" \
  in_ns "$M" halfopen "$V6" 53 tough-node 1000
t_true "FORMERR answers were counted" test "$(stat_of udp_dns_formerr)" -gt 0
t_true "silently dropped garbage was counted" test "$(stat_of udp_dns_dropped)" -gt 0

# The half-open connections are gone (closed by the client) and the
# responder is still answering with dig.
t_true "TCP connections released" t_wait_for 5 test "$(stat_of tcp_dns_open)" -eq 0
t_eq "$(in_ns dig +short +time=2 +tries=1 @"$V4" CH TXT hostname.bind)" '"tough-node"' "dig udp still fine"
t_eq "$(in_ns dig +short +tcp +time=2 +tries=1 @"$V6" CH TXT id.server)" '"tough-node"' "dig tcp still fine"

# --max-tcp-clients: beyond the cap, a new connection closes the least
# recently read one (an idle client must not keep a new one out).
t_bg RPID3 ip netns exec "$NS" "$R" --listen "$V4" --identity capped --dns-port 5454 \
  --no-echo --max-tcp-clients 10 --control "$T_TMP/cap.sock" 2>"$T_TMP/responder-cap.log"
t_true "capped responder answers" \
  t_wait_for 5 in_ns dig +short +tcp +time=1 +tries=1 -p 5454 @"$V4" CH TXT hostname.bind
cap_stat() {
  echo stats | in_ns socat -t 2 - "UNIX-CONNECT:$T_TMP/cap.sock" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
t_bg HPID ip netns exec "$NS" "$A" hold "$V4" 5454 10 3 >"$T_TMP/hold.out"
cap_open_is() { [ "$(cap_stat tcp_dns_open)" = "$1" ]; }
t_true "10 idle connections held (the cap)" t_wait_for 5 cap_open_is 10
t_eq "$(in_ns dig +short +tcp +time=1 +tries=1 -p 5454 @"$V4" CH TXT hostname.bind)" '"capped"' \
  "an 11th TCP query is answered"
wait "$HPID"
t_match "$(cat "$T_TMP/hold.out")" 'closed=1 .*closed_list=0$' \
  "it closed the connection read from longest ago (the first), and only that one"
t_eq "$(cap_stat tcp_dns_evicted)" 1 "counted as evicted"
t_eq "$(cap_stat tcp_dns_rejected)" 0 "none rejected"
# A connection waiting for its (delayed) answer is passed over: with
# "delay 2000", a query whose answer is pending is read longest ago, yet the
# idle connection after it is closed for the new client.
echo "delay 2000" | in_ns socat -t 2 - "UNIX-CONNECT:$T_TMP/cap.sock" >/dev/null
in_ns dig +short +tcp +time=5 +tries=1 -p 5454 @"$V4" CH TXT hostname.bind >"$T_TMP/pending.out" 2>&1 &
DPID=$!
T_PIDS+=("$DPID")
t_true "the pending query is held" t_wait_for 5 cap_open_is 1
t_bg HPID ip netns exec "$NS" "$A" hold "$V4" 5454 9 4 >"$T_TMP/hold2.out"
t_true "it and 9 idle connections fill the cap" t_wait_for 5 cap_open_is 10
t_eq "$(in_ns dig +short +tcp +time=5 +tries=1 -p 5454 @"$V4" CH TXT hostname.bind)" '"capped"' \
  "a new client is answered (after the delay)"
wait "$DPID"
t_eq "$(cat "$T_TMP/pending.out")" '"capped"' "the pending query got its answer"
wait "$HPID"
t_match "$(cat "$T_TMP/hold2.out")" 'closed=1 .*closed_list=0$' "the first idle connection was closed instead"
echo "delay 0" | in_ns socat -t 2 - "UNIX-CONNECT:$T_TMP/cap.sock" >/dev/null
kill -TERM "$RPID3"
wait "$RPID3"
t_eq "$?" 0 "capped responder: SIGTERM exit 0"

kill -TERM "$RPID" "$RPID2"
wait "$RPID"
t_eq "$?" 0 "SIGTERM after the battery: exit status 0"
wait "$RPID2"
t_eq "$?" 0 "uv-path responder: SIGTERM exit status 0"
t_true "no sanitizer report in the logs" \
  bash -c "! cat $T_TMP/responder*.log | grep -q 'Sanitizer\|runtime error'"
t_done
