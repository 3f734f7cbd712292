#!/usr/bin/env bash
# anycast-probe's TCP modes against anycast-responder: --tcp-mode per-query
# (one connection per probe, each ended by us), one outstanding probe per
# connection when the interval is shorter than the answer, and what
# --reconnect immediate|backoff|never do after the responder dies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need

probe_ns
start_responder() { probe_responder RPID --control "$T_TMP/ctl.sock"; }
start_responder

# --- per-query -----------------------------------------------------------------
out=$T_TMP/perq
in_ns "$P" -s dns -s echo -t tcp --tcp-mode per-query -c 2 -i 100ms -d 2s "${PORTS[@]}" \
  -o "$out" "$V4" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "per-query run exits 0"
probes=$(count "$out/probes.csv" 1)
t_true "about 80 probes (2 x 2 slots x 20) ($probes)" [ "$probes" -ge 60 ] && [ "$probes" -le 84 ]
t_eq "$(count "$out/probes.csv" '$8 != "ok" || $7 != 1')" 0 "every probe ok, seq 1 on its own connection"
t_eq "$(count "$out/connections.csv" 1)" "$probes" "one connection per probe"
t_eq "$(count "$out/connections.csv" '$8 != "end" || $9 != 1 || $10 != 0 || $6 != "node-a"')" 0 \
  "each connection: node-a, 1 ok, ended by us"
t_eq "$(awk -F, 'NR > 1 {print $6}' "$out/probes.csv" | sort -u | wc -l)" "$probes" \
  "distinct connection ids"

# --- one outstanding probe per connection ----------------------------------------------
# The responder delays answers by 300 ms; probes are due every 100 ms: a
# connection sends the next one only when the answer is in.
echo "delay 300" | socat -t 2 - "UNIX-CONNECT:$T_TMP/ctl.sock" >/dev/null
out=$T_TMP/late
in_ns "$P" -s echo -t tcp -c 1 -i 100ms -d 2s "${PORTS[@]}" -o "$out" "$V4" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "delayed run exits 0"
n=$(count "$out/probes.csv" 1)
t_true "one at a time: 4..8 probes in 2 s at 300 ms each ($n)" [ "$n" -ge 4 ] && [ "$n" -le 8 ]
t_eq "$(count "$out/probes.csv" '$8 != "ok" || $10 < 290000')" 0 "all ok, each RTT >= 300 ms"
t_eq "$(sed 1d "$out/probes.csv" | sort -t, -k1,1n |
  awk -F, 'NR > 1 && ($1 - prev) < 290000000 {bad++} {prev = $1} END {print bad + 0}')" 0 \
  "each probe sent after the previous answer"
echo "delay 0" | socat -t 2 - "UNIX-CONNECT:$T_TMP/ctl.sock" >/dev/null

# --- replies that arrive in pieces ----------------------------------------------------
# A relay answers TCP clients byte by byte: DNS replies fetched from the
# responder over UDP (a 200-byte identity, in TXT and NSID, makes them larger than the probe's
# inline reassembly buffer), echo replies built with a long identity.
if command -v python3 >/dev/null; then
  long=$(printf 'n%.0s' $(seq 1 200))
  cat >"$T_TMP/relay.py" <<PY
import socket, threading, time
def serve(port, handle):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("$V4", port)); ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()
def dribble(c, data):
    for i in range(len(data)):
        c.sendall(data[i:i + 1]); time.sleep(0.0005)
def dns(c):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1)
    buf = b""
    while True:
        d = c.recv(4096)
        if not d: return
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
            n = int.from_bytes(buf[:2], "big"); q = buf[2:2 + n]; buf = buf[2 + n:]
            u.sendto(q, ("$V4", 5310)); r = u.recv(65535)
            dribble(c, len(r).to_bytes(2, "big") + r)
def echo(c):
    buf = b""
    while True:
        d = c.recv(4096)
        if not d: return
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            dribble(c, b"$long " + line + b"\n")
threading.Thread(target=serve, args=(5400, dns), daemon=True).start()
serve(5407, echo)
PY
  t_bg LONGPID ip netns exec "$NS" "$R" --listen "$V4" --identity "$long" --dns-port 5310 \
    --no-echo 2>>"$T_TMP/responder.log"
  t_bg RELAY ip netns exec "$NS" python3 "$T_TMP/relay.py"
  t_wait_for 5 in_ns "$P" --once -t tcp -s echo --echo-port 5407 "$V4"
  out=$T_TMP/pieces
  # The relay writes one byte at a time from Python: on a loaded machine a
  # reply takes long, so the run is 3 s for at least 20 probes (up to 120).
  in_ns "$P" -s dns -s echo -t tcp -c 2 -i 100ms -d 3s --dns-port 5400 --echo-port 5407 \
    -o "$out" "$V4" >"$out.sum" 2>"$out.err"
  t_eq "$?" 0 "byte-by-byte run exits 0"
  n=$(count "$out/probes.csv" 1)
  t_true "probes sent ($n)" [ "$n" -ge 20 ]
  t_eq "$(count "$out/probes.csv" '$5 == "dns" && !($8 == "ok" && $9 == "'"$long"'")')" 0 \
    "DNS replies of 450+ bytes in 1-byte pieces: all ok with the long identity"
  t_eq "$(count "$out/probes.csv" '$5 == "echo" && !($8 == "ok" && $9 == "'"$long"'")')" 0 \
    "echo replies in 1-byte pieces: all ok"
else
  echo "skip: replies in pieces need python3"
fi

# --- reconnect policies after the responder dies -------------------------------------
for mode in immediate backoff never; do
  out=$T_TMP/rc-$mode
  [ "$mode" = immediate ] || start_responder
  ( sleep 1; kill -TERM "$RPID" ) &
  killer=$!
  in_ns "$P" -s echo -t tcp -c 2 -i 100ms -d 3s --reconnect "$mode" "${PORTS[@]}" -o "$out" \
    "$V4" >"$out.sum" 2>"$out.err"
  t_eq "$?" 0 "--reconnect $mode: exit 0"
  wait "$killer"
  wait "$RPID" 2>/dev/null
  eof=$(count "$out/connections.csv" '$8 == "eof" || $8 == "reset"')
  refused=$(count "$out/connections.csv" '$8 == "refused"')
  t_eq "$eof" 2 "--reconnect $mode: both connections broken by the kill"
  case $mode in
    immediate) t_true "immediate: a reconnect attempt per probe tick (~20 each, got $refused)" \
      [ "$refused" -ge 30 ] ;;
    backoff) t_true "backoff: 100 ms doubling to 2 s leaves ~4 attempts per slot (got $refused)" \
      [ "$refused" -ge 4 ] && [ "$refused" -le 10 ] ;;
    never) t_eq "$refused" 0 "never: no reconnect"
      t_eq "$(count "$out/probes.csv" '$8 != "ok"')" 0 "never: no probe after the break" ;;
  esac
done
t_done
