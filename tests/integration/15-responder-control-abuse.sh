#!/usr/bin/env bash
# anycast-responder's control socket under abuse (docs/security.md, "Limits", anycast-responder): started
# under umask 000 the socket is still 0600; another user (nobody) who can
# reach it is refused and cannot pause; "resume\0junk" is an error, not a
# resume; control characters are escaped in the log; 40 idle clients (one
# holding half a line) cost at most 16 (+1 waiting) descriptors and are
# closed after the idle timeout, while a fresh client is served within a
# second or so (in the slot of one idle for 1 s); a client that floods
# "stats" without reading keeps the responder small and is dropped, and DNS
# and a fresh control client keep working throughout. The first part runs
# with today's options only, so it reproduces each attack on a responder
# that predates the limits.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need dig socat python3 setpriv

t_responder_ns
id nobody >/dev/null 2>&1 || t_skip "needs the user nobody"
# nobody must be able to reach the socket's directory for the refusal to be
# the responder's and not the file system's.
chmod 0711 "$T_TMP"
CTL=$T_TMP/ctl.sock
LOG=$T_TMP/responder.log
T_DUMP+=("$LOG")
ctl() { printf '%s\n' "$1" | socat -t 2 - "UNIX-CONNECT:$CTL"; }
# A client that may have to wait up to 1 s for a slot (see the limits).
ctl4() { printf '%s\n' "$1" | socat -t 4 - "UNIX-CONNECT:$CTL"; }
stat_of() { ctl stats | tr ' ' '\n' | sed -n "s/^$1=//p"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
answers() { [ "$(in_ns dig +time=1 +tries=1 +short @"$V4" CH TXT hostname.bind)" = '"abuse-node"' ]; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
fds_at_most() { test "$(nfds "$1")" -le "$2"; }

# --- Socket mode under umask 000 -------------------------------------------
saved_umask=$(umask)
umask 000
t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --identity abuse-node --control "$CTL" \
  2>"$LOG"
umask "$saved_umask"
t_true "responder answers within 5 s" t_wait_for 5 answers
t_true "control socket exists" t_wait_for 2 test -S "$CTL"
t_eq "$(stat -c %a "$CTL")" 600 "umask 000: the control socket is still mode 0600"
out=$(printf 'pause\n' | as_nobody socat -t 2 - "UNIX-CONNECT:$CTL" 2>&1)
t_match "$out" '[Pp]ermission denied' "nobody cannot connect to the 0600 socket"

# --- A user the file mode lets in is still refused (SO_PEERCRED) ------------
# chmod stands for a wide --control-mode (or a umask-000 responder of old).
# The refusal comes at once, and the connection closes with it: pause is
# written a little later so that socat shows the line rather than EPIPE.
chmod 0666 "$CTL"
out=$({ sleep 0.3; printf 'pause\n'; } | as_nobody socat -t 2 - "UNIX-CONNECT:$CTL" 2>&1)
t_match "$out" '^error permission denied' "nobody on a 0666 socket: pause refused"
t_eq "$(stat_of paused)" 0 "nobody's pause did not pause the responder"
t_true "the responder still answers DNS" answers
t_true "the refusal is logged with the uid" \
  grep -q "refused a client of uid $(id -u nobody)" "$LOG"
chmod 0600 "$CTL"

# --- NUL and control characters -------------------------------------------
out=$(printf 'pause\nresume\0junk\nstats\n' | socat -t 2 - "UNIX-CONNECT:$CTL")
t_eq "$(sed -n 1p <<<"$out")" "ok paused" "pause"
t_match "$(sed -n 2p <<<"$out")" '^error line has a NUL byte' "'resume\\0junk' is an error"
t_match "$(sed -n 3p <<<"$out")" ' paused=1 ' "'resume\\0junk' did not resume"
t_eq "$(ctl resume)" "ok resumed" "a clean resume works"
out=$(printf 'bogus\033[2J\n' | socat -t 2 - "UNIX-CONNECT:$CTL")
t_match "$out" '^error line has control character 0x1b' "a line with ESC is an error"
t_true "the log shows ESC escaped" t_wait_for 2 grep -qF 'bogus\x1b[2J' "$LOG"
t_true "the log holds no raw ESC byte" bash -c "! grep -q $'\033' '$LOG'"

# --- 40 idle clients (one holding half a line), then a client that floods
# "stats" and never reads. The two overlap to share the 10 s idle timeout.
cat >"$T_TMP/idle.py" <<'EOF'
# Opens N control clients and holds them; the last sends half a line. Prints
# "open" once connected, then waits up to HOLD s for the responder to close
# them and prints "closed C of N; half-line closed: yes|no; lines: ...".
import select, socket, sys, time
path, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
    time.sleep(0.005)
socks[-1].sendall(b"sta")
print("open", flush=True)
closed, lines, end = set(), {}, time.monotonic() + hold
while len(closed) < n and time.monotonic() < end:
    live = [s for s in socks if s.fileno() not in closed]
    r, _, _ = select.select(live, [], [], 0.2)
    for s in r:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if data:
            for line in data.decode(errors="replace").splitlines():
                key = line.split(" (")[0].split(",")[0]
                lines[key] = lines.get(key, 0) + 1
        else:
            closed.add(s.fileno())
half = "yes" if socks[-1].fileno() in closed else "no"
print(f"closed {len(closed)} of {n}; half-line closed: {half}; lines: {lines}", flush=True)
EOF
cat >"$T_TMP/flood.py" <<'EOF'
# Writes "stats\n" to the control socket for SECS s without ever reading,
# watching the responder's VmRSS every 50 ms and stopping early above
# LIMIT kB (so a responder without the cap cannot take the machine down).
# Then waits up to WAIT s for the responder to drop the connection. Prints
# "max_rss_kb=M sent=B dropped_after=S" (S = -1: never dropped).
import os, socket, sys, time
path, pid, secs, limit, wait = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def rss():
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
    return 0
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.setblocking(False)
chunk = b"stats\n" * 2000
t0 = time.monotonic()
max_rss, sent, dropped, next_check = rss(), 0, -1.0, 0.0
while time.monotonic() - t0 < secs + wait:
    now = time.monotonic()
    if now >= next_check:
        max_rss = max(max_rss, rss())
        next_check = now + 0.05
        if max_rss > limit:
            break
    try:
        sent += s.send(chunk if now - t0 < secs else b"stats\n")
    except BlockingIOError:
        time.sleep(0.01 if now - t0 < secs else 0.1)
    except (BrokenPipeError, ConnectionResetError):
        dropped = now - t0
        break
print(f"max_rss_kb={max_rss} sent={sent} dropped_after={dropped:.1f}", flush=True)
EOF
fd0=$(nfds "$RPID")
# idle_clients N HOLD OUT: runs idle.py in the background into OUT and
# waits for its "open" line; IPID is its PID.
idle_clients() {
  python3 "$T_TMP/idle.py" "$CTL" "$1" "$2" >"$3" &
  IPID=$!
  T_PIDS+=("$IPID")
  t_wait_for 10 grep -q '^open$' "$3"
}
t_true "40 idle control clients connected" idle_clients 40 16 "$T_TMP/idle.out"
sleep 0.3
fd1=$(nfds "$RPID")
# 16 clients, plus the one connection libuv has accepted for the next slot.
t_true "40 idle clients hold at most 17 descriptors (fds $fd0 -> $fd1)" test "$fd1" -le $((fd0 + 17))
t_match "$(ctl4 stats)" '^ok udp_dns_requests=' \
  "a fresh client is served (in the slot of a client idle for 1 s)"
t_true "the responder answers DNS" answers
rss0=$(t_rss_kb "$RPID")
LIMIT_KB=65536
python3 "$T_TMP/flood.py" "$CTL" "$RPID" 4 "$LIMIT_KB" 14 >"$T_TMP/flood.out" &
FPID=$!
T_PIDS+=("$FPID")
sleep 1.5
t_match "$(ctl4 stats)" '^ok udp_dns_requests=' "during the flood a fresh control client is served"
t_true "during the flood the responder answers DNS" answers
wait "$IPID"
line=$(tail -n 1 "$T_TMP/idle.out")
t_match "$line" '^closed 40 of 40; half-line closed: yes' "all 40 idle clients saw EOF ($line)"
t_match "$line" "'error idle timeout': [0-9]" "idle clients were told why"
t_match "$line" "'error closed for a new client': [0-9]" "evicted clients were told why"
t_true "the log says a half line was held" grep -q 'unfinished line' "$LOG"

wait "$FPID"
res=$(cat "$T_TMP/flood.out")
echo "# flood: $res (RSS before: $rss0 kB)"
max=$(sed -n 's/.*max_rss_kb=\([0-9]*\).*/\1/p' <<<"$res")
sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$res")
dropped=$(sed -n 's/.*dropped_after=\([-0-9.]*\).*/\1/p' <<<"$res")
t_true "flood: responder RSS stayed under $LIMIT_KB kB (max ${max:-?} kB)" \
  test "${max:-999999999}" -le "$LIMIT_KB"
t_true "flood: the client wrote something (${sent:-0} bytes)" test "${sent:-0}" -gt 0
t_true "flood: the non-reading client was dropped within 14 s (after ${dropped:-?} s)" \
  awk -v d="${dropped:--1}" 'BEGIN { exit !(d >= 0) }'
t_true "after the flood: a fresh control client is served" \
  bash -c "printf 'stats\n' | socat -t 2 - UNIX-CONNECT:$CTL | grep -q '^ok '"
t_true "after the flood: the responder answers DNS" answers
t_true "the drop is logged" grep -q 'dropping a client that left [0-9]* bytes of replies unread' "$LOG"

t_true "all clients gone: the responder holds its $fd0 descriptors again" \
  t_wait_for 3 fds_at_most "$RPID" "$fd0"

kill -TERM "$RPID"
wait "$RPID"
t_eq "$?" 0 "SIGTERM: exit status 0"
t_true "control socket removed" test ! -e "$CTL"

# --- The new options ---------------------------------------------------------
usage_case() { # expected-regex args...
  local re=$1; shift
  local err rc
  err=$("$R" --listen "$V4" "$@" 2>&1 >/dev/null)
  rc=$?
  t_eq "$rc" 2 "exit 2 for: $*"
  t_match "$err" "$re" "message for: $*"
}
usage_case '--control-mode: "0400"' --control-mode 0400
usage_case '--control-mode: "1777"' --control-mode 1777
usage_case '--control-mode: "rw"' --control-mode rw
usage_case '--control-clients: "0"' --control-clients 0
usage_case '--control-idle-timeout: "1ms"' --control-idle-timeout 1ms

# --control-mode 0660 under umask 077: the group gets in, and a peer whose
# group is the socket's is served (nobody else is: see the 0666 case above).
saved_umask=$(umask)
umask 077
t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --identity abuse-node --control "$CTL" \
  --control-mode 0660 --control-clients 2 --control-idle-timeout 1s 2>>"$LOG"
umask "$saved_umask"
t_true "responder with --control-mode 0660 answers" t_wait_for 5 answers
t_eq "$(stat -c %a "$CTL")" 660 "--control-mode 0660 under umask 077: mode 0660"
grp=$(stat -c %g "$CTL")
out=$(printf 'stats\n' | setpriv --reuid=nobody --regid="$grp" --clear-groups socat -t 2 - "UNIX-CONNECT:$CTL" 2>&1)
t_match "$out" '^ok udp_dns_requests=' "mode 0660: a peer of the socket's group is served"
# --control-clients 2 and a 1 s idle timeout: a new client takes the slot of
# one idle for 0.5 s, so 3 of 5 are closed for a newer one.
t_true "5 idle clients connected" idle_clients 5 6 "$T_TMP/idle2.out"
wait "$IPID"
line=$(tail -n 1 "$T_TMP/idle2.out")
t_match "$line" '^closed 5 of 5; half-line closed: yes' "--control-idle-timeout 1s closes them ($line)"
t_match "$line" "'error closed for a new client': 3" "--control-clients 2: 3 of 5 evicted"
t_true "no sanitizer report in the log" bash -c "! grep -q 'Sanitizer\|runtime error' '$LOG'"
t_done
