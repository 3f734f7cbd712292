#!/usr/bin/env bash
# anycast-probe's TCP modes against anycast-responder: --tcp-mode per-query
# (one connection per probe, each ended by us), one outstanding probe per
# connection when the interval is shorter than the answer, and what
# --reconnect immediate|backoff|never do after the responder dies.
source "$(dirname "$0")/lib.sh"
t_need_root

P=$AH_BIN/anycast-probe
R=$AH_BIN/anycast-responder
[ -x "$P" ] || { echo "missing $P (build first)"; exit 1; }
[ -x "$R" ] || t_skip "no $R yet"
V4=198.51.100.53

t_netns NS
t_anycast_lo "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
start_responder() {
  t_bg RPID ip netns exec "$NS" "$R" --listen "$V4" --identity node-a --dns-port 5300 \
    --echo-port 5307 --control "$T_TMP/ctl.sock" 2>>"$T_TMP/responder.log"
  t_wait_for 5 in_ns "$P" --once -t udp -s dns --dns-port 5300 "$V4"
}
count() { awk -F, "NR > 1 && ($2)" "$1" | wc -l; }
PORTS=(--dns-port 5300 --echo-port 5307)
start_responder

# --- per-query -----------------------------------------------------------------
out=$T_TMP/perq
in_ns "$P" -s dns -s echo -t tcp --tcp-mode per-query -c 2 -i 100ms -d 2s "${PORTS[@]}" \
  -o "$out" "$V4" 2>"$out.err"
t_eq "$?" 0 "per-query run exits 0"
probes=$(count "$out/probes.csv" 1)
t_true "about 80 probes (2 x 2 slots x 20) ($probes)" [ "$probes" -ge 70 ] && [ "$probes" -le 84 ]
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
in_ns "$P" -s echo -t tcp -c 1 -i 100ms -d 2s "${PORTS[@]}" -o "$out" "$V4" 2>"$out.err"
t_eq "$?" 0 "delayed run exits 0"
n=$(count "$out/probes.csv" 1)
t_true "one at a time: 5..8 probes in 2 s at 300 ms each ($n)" [ "$n" -ge 5 ] && [ "$n" -le 8 ]
t_eq "$(count "$out/probes.csv" '$8 != "ok" || $10 < 290000')" 0 "all ok, each RTT >= 300 ms"
t_eq "$(sed 1d "$out/probes.csv" | sort -t, -k1,1n |
  awk -F, 'NR > 1 && ($1 - prev) < 290000000 {bad++} {prev = $1} END {print bad + 0}')" 0 \
  "each probe sent after the previous answer"
echo "delay 0" | socat -t 2 - "UNIX-CONNECT:$T_TMP/ctl.sock" >/dev/null

# --- reconnect policies after the responder dies -------------------------------------
for mode in immediate backoff never; do
  out=$T_TMP/rc-$mode
  [ "$mode" = immediate ] || start_responder
  ( sleep 1; kill -TERM "$RPID" ) &
  killer=$!
  in_ns "$P" -s echo -t tcp -c 2 -i 100ms -d 3s --reconnect "$mode" "${PORTS[@]}" -o "$out" \
    "$V4" 2>"$out.err"
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
