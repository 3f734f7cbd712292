#!/usr/bin/env bash
# anycast-responder as a user runs it: bad options and values exit 2 with one
# line naming the option and the value; runtime failures (zone file, control
# socket path, address not on this host) exit 1 naming the object; a control
# socket a running responder serves is not taken over; the control socket
# survives unknown commands, an over-long line and many clients at once; the
# stats counters match a known number of probes; SIGUSR1 and SIGTERM work at
# start-up and SIGTERM under heavy load exits 0. All in a namespace of its
# own, on its 127.0.0.1.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need socat python3

R=$AH_BIN/anycast-responder
P=$AH_BIN/anycast-probe
[ -x "$R" ] && [ -x "$P" ] || { echo "missing $R or $P (build first)"; exit 1; }

# bad REGEX ARGS...: exit 2, the message matches REGEX.
bad() {
  [ "$1" = -- ] && shift
  local want=$1; shift
  local err
  err=$("$R" "$@" 2>&1 >/dev/null)
  local rc=$?
  t_eq "$rc" 2 "exit 2 for: $*"
  t_match "$(head -n 1 <<<"$err")" "$want" "message for: $*"
}
bad '^anycast-responder: --listen: missing argument$' --listen
bad '^anycast-responder: -w: missing argument$' --listen 127.0.0.1 -w
bad 'no address: give at least one --listen ADDR' --dns-port 5353
bad -- '--listen: "localhost" is not an IPv4 or IPv6 address' --listen localhost
bad -- '--workers: "0" is not a number in 1..64' --listen 127.0.0.1 --workers 0
bad -- '--dns-port: "0" is not a port' --listen 127.0.0.1 --dns-port 0
bad -- '--echo-port: "x7" is not a port' --listen 127.0.0.1 --echo-port x7
bad -- '--identity: "" must be 1..255 printable characters without spaces' \
  --listen 127.0.0.1 --identity ""
# Echo replies "<identity> <line>" and probers take the first word: an
# identity with a space is refused rather than answered ambiguously.
bad -- '--identity: "two words" must be 1..255 printable characters without spaces' \
  --listen 127.0.0.1 --identity "two words"
bad -- '--tcp-idle-timeout: "0"' --listen 127.0.0.1 --tcp-idle-timeout 0
bad 'unexpected argument "extra"' --listen 127.0.0.1 extra

t_netns NS
in_ns() { ip netns exec "$NS" "$@"; }
PORTS=(--dns-port 5353 --echo-port 5307)

# fail1 REGEX ARGS...: a runtime failure: exit 1, the message matches REGEX.
fail1() {
  [ "$1" = -- ] && shift
  local want=$1; shift
  local err
  err=$(in_ns timeout -k 2 10 "$R" "$@" 2>&1 >/dev/null)
  local rc=$?
  t_eq "$rc" 1 "exit 1 for: $*"
  t_match "$err" "$want" "message for: $*"
}
fail1 'bind 10\.0\.0\.1:5353/udp: Cannot assign requested address' --listen 10.0.0.1 "${PORTS[@]}"
fail1 -- "$T_TMP/none.zone: No such file or directory" --listen 127.0.0.1 "${PORTS[@]}" \
  --zone "$T_TMP/none.zone"
printf 'example. 3600 IN SOA ns.example. h.example. 1 2 3 4 5\nwww.example. 3600 IN A 1.2.3.4\nwww.example. 3600 IN A not-an-address\n' \
  >"$T_TMP/bad.zone"
fail1 -- "$T_TMP/bad.zone:3: " --listen 127.0.0.1 "${PORTS[@]}" --zone "$T_TMP/bad.zone"
# libuv reports a missing directory as "permission denied": the responder
# must say what is really wrong.
fail1 -- "--control $T_TMP/nodir/ctl.sock: directory $T_TMP/nodir: No such file or directory" \
  --listen 127.0.0.1 "${PORTS[@]}" --control "$T_TMP/nodir/ctl.sock"
t_true "no 'permission denied' for a missing control directory" bash -c \
  "! ip netns exec $NS $R --listen 127.0.0.1 --dns-port 5353 --echo-port 5307 --control $T_TMP/nodir/c 2>&1 | grep -qi 'permission denied'"

# A running responder with a control socket.
CTL=$T_TMP/ctl.sock
LOG=$T_TMP/responder.log
t_bg RPID ip netns exec "$NS" "$R" --listen 127.0.0.1 "${PORTS[@]}" --identity usage-node --control "$CTL" \
  2>"$LOG"
T_DUMP+=("$LOG")
t_true "responder answers within 5 s" t_wait_for 5 in_ns "$P" --once --dns-port 5353 \
  --echo-port 5307 127.0.0.1
ctl() { echo "$1" | in_ns socat -t 2 - "UNIX-CONNECT:$CTL"; }
stat_of() { ctl stats | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# A second responder given the same --control path (other ports) must not
# take the socket over from the first.
fail1 -- "--control $CTL: in use by a running process" --listen 127.0.0.1 --dns-port 5354 \
  --echo-port 5308 --control "$CTL"
t_match "$(ctl stats)" '^ok udp_dns_requests=' "the first responder still owns its control socket"

# The counters match a known number of probes: 40 per transport, half DNS and
# half echo, over UDP and TCP (one connection per service).
declare -A before
KEYS="udp_dns_requests udp_dns_answers udp_echo_requests udp_echo_answers tcp_dns_requests
  tcp_dns_answers tcp_echo_requests tcp_echo_answers udp_dns_refused udp_dns_formerr
  udp_dns_dropped tcp_dns_refused tcp_dns_total tcp_echo_total"
for k in $KEYS; do before[$k]=$(stat_of $k); done
# An explicit query: --query auto would first send its burst of 8.
in_ns "$P" --service dns --service echo --transport both -n 40 -r 400 --interval 20ms \
  -q hostname.bind --dns-port 5353 --echo-port 5307 -o "$T_TMP/known" 127.0.0.1 >/dev/null 2>&1
t_eq "$(awk -F, 'NR > 1 && $8 == "ok"' "$T_TMP/known/probes.csv" | wc -l)" 80 \
  "80 probes, all ok"
after=$(ctl stats)
delta() { echo $(($(tr ' ' '\n' <<<"$after" | sed -n "s/^$1=//p") - ${before[$1]})); }
for k in udp_dns_requests udp_dns_answers udp_echo_requests udp_echo_answers \
  tcp_dns_requests tcp_dns_answers tcp_echo_requests tcp_echo_answers; do
  t_eq "$(delta $k)" 20 "stats: $k grew by 20"
done
for k in udp_dns_refused udp_dns_formerr udp_dns_dropped tcp_dns_refused; do
  t_eq "$(delta $k)" 0 "stats: $k did not grow"
done
t_eq "$(delta tcp_dns_total)" 1 "stats: one more TCP DNS connection in total"
t_eq "$(delta tcp_echo_total)" 1 "stats: one more TCP echo connection in total"
t_match "$after" " tcp_dns_open=0 tcp_dns_total=" "stats: no TCP DNS connection left open"

# The control socket: unknown commands, an over-long line, many clients.
t_eq "$(ctl 'delay 1 2')" 'error delay: too many arguments' "too many arguments"
t_eq "$(ctl 'stats now')" 'error stats takes no argument' "an argument where none is taken"
t_eq "$(ctl frobnicate)" 'error unknown command "frobnicate" (try help)' "unknown command"
long=$(head -c 600 /dev/zero | tr '\0' 'x')
t_eq "$(ctl "$long")" 'error line too long' "a 600-byte line: error line too long"
t_match "$(ctl stats)" '^ok ' "the control socket answers after an over-long line"
for i in $(seq 1 60); do
  (echo stats; sleep 0.5) | in_ns socat -t 3 - "UNIX-CONNECT:$CTL" >"$T_TMP/c$i.out" 2>&1 &
done
wait_clients() { local n; n=$(cat "$T_TMP"/c*.out | grep -c '^ok udp_dns_requests='); [ "$n" -eq 60 ]; }
t_true "60 control clients at once: 60 stats replies" t_wait_for 10 wait_clients
t_true "60 control clients: the responder still runs" kill -0 "$RPID"

# SIGUSR1 logs the stats line (with the counts above).
kill -USR1 "$RPID"
n=$(tr ' ' '\n' <<<"$after" | sed -n 's/^udp_dns_requests=//p')
t_true "SIGUSR1 logs the stats line (udp_dns_requests=$n)" \
  t_wait_for 3 grep -q "stats: udp_dns_requests=$n " "$LOG"

# SIGTERM during heavy load: UDP at 20k/s over 8 flows and 50 TCP
# connections probing every millisecond, for at most 5 s.
ip netns exec "$NS" "$P" --service dns --service echo --transport both -r 20000 -f 8 --connections 50 \
  --interval 1ms -d 5s --dns-port 5353 --echo-port 5307 127.0.0.1 >/dev/null 2>&1 &
LOADPID=$!
T_PIDS+=("$LOADPID")
sleep 1.5
t_true "under load: the TCP connections are open" \
  bash -c "[ \"\$(echo stats | ip netns exec $NS socat -t 2 - UNIX-CONNECT:$CTL | tr ' ' '\n' | sed -n 's/^tcp_clients=//p')\" -ge 50 ]"
kill -TERM "$RPID"
rc=0
for _ in $(seq 1 100); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.05; done
wait "$RPID"
rc=$?
t_eq "$rc" 0 "SIGTERM under heavy load: exit 0"
t_true "SIGTERM under heavy load: the control socket is removed" test ! -e "$CTL"
wait "$LOADPID"

# Signals already pending when the responder starts (blocked by its parent,
# as a supervisor may leave them): SIGUSR1 must not kill it, SIGTERM must
# stop it cleanly with exit 0.
cat >"$T_TMP/pending.py" <<'PY'
import os, signal, sys
s = getattr(signal, sys.argv[1])
signal.pthread_sigmask(signal.SIG_BLOCK, [s])
os.kill(os.getpid(), s)
os.execv(sys.argv[2], sys.argv[2:])
PY
start=$SECONDS
in_ns timeout -k 2 10 python3 "$T_TMP/pending.py" SIGTERM "$R" --listen 127.0.0.1 "${PORTS[@]}" \
  --control "$T_TMP/c2.sock" 2>"$T_TMP/term.log"
t_eq "$?" 0 "SIGTERM pending at start-up: exit 0"
t_true "SIGTERM pending at start-up: stopped at once" [ $((SECONDS - start)) -lt 5 ]
t_true "SIGTERM pending at start-up: logged" grep -q 'Terminated: stopping' "$T_TMP/term.log"
t_bg UPID ip netns exec "$NS" python3 "$T_TMP/pending.py" SIGUSR1 "$R" --listen 127.0.0.1 "${PORTS[@]}" \
  2>"$T_TMP/usr1.log"
t_true "SIGUSR1 pending at start-up: stats logged" \
  t_wait_for 5 grep -q 'stats: udp_dns_requests=0 ' "$T_TMP/usr1.log"
t_true "SIGUSR1 pending at start-up: still answering" \
  t_wait_for 5 in_ns "$P" --once --dns-port 5353 --echo-port 5307 127.0.0.1
t_done
