#!/usr/bin/env bash
# anycast-probe's schedule and stopping: the UDP send count matches rate x
# duration within 2% and the CSV send times keep the rate; --count stops
# after N probes per transport; SIGINT and SIGTERM mid-run stop sending, keep
# every row measured so far, print the summary and exit 0; rows reach the
# file at least once a second while the probe runs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need

probe_ns
probe_responder RPID
t_true "responder answers" [ $? -eq 0 ]

# --- rate accuracy --------------------------------------------------------------
for spec in 2000:3s:6000 20000:2s:40000; do
  IFS=: read -r rate dur want <<<"$spec"
  out=$T_TMP/rate-$rate
  in_ns "$P" -r "$rate" -f 4 -d "$dur" "${PORTS[@]}" -o "$out" "$V4" >"$out.sum" 2>"$out.err"
  t_eq "$?" 0 "rate $rate run exits 0"
  sent=$(count "$out/probes.csv" '1')
  t_true "rate $rate for $dur: $sent probes, within 2% of $want" \
    [ $((sent * 100)) -ge $((want * 98)) ] && [ $((sent * 100)) -le $((want * 102)) ]
  # Send times span the run at the asked rate (first to last probe).
  span_ms=$(sed 1d "$out/probes.csv" | sort -t, -k1,1n |
    awk -F, 'NR == 1 {a = $1} {b = $1} END {printf "%d", (b - a) / 1e6}')
  want_ms=$(( (want - 1) * 1000 / rate ))
  # Generous: a loaded machine may send the last batch a little late.
  t_true "send times span ${span_ms} ms, expected ~${want_ms} ms (±5%)" \
    [ $((span_ms * 100)) -ge $((want_ms * 95)) ] && [ $((span_ms * 100)) -le $((want_ms * 105)) ]
  t_true "nearly all answered" [ "$(count "$out/probes.csv" '$8 == "ok"')" -ge $((want * 98 / 100)) ]
done

# --- --count -------------------------------------------------------------------------
out=$T_TMP/count
in_ns "$P" -n 25 -r 500 -t both -s dns -s echo -c 2 -i 20ms "${PORTS[@]}" -o "$out" "$V4" \
  >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "--count run exits 0"
t_eq "$(count "$out/probes.csv" '$4 == "udp"')" 25 "--count 25: 25 UDP probes"
t_eq "$(count "$out/probes.csv" '$4 == "tcp"')" 25 "--count 25: 25 TCP probes"
t_eq "$(count "$out/probes.csv" '$8 != "ok"')" 0 "all ok"

# --- SIGINT / SIGTERM mid-run ----------------------------------------------------------
for sig in INT TERM; do
  out=$T_TMP/sig-$sig
  ip netns exec "$NS" "$P" -s dns -s echo -t both -r 1000 -c 4 -i 50ms -d 60s "${PORTS[@]}" \
    -o "$out" --summary-json "$out.json" "$V4" >"$out.sum" 2>"$out.err" &
  pid=$!
  T_PIDS+=("$pid")
  # Rows reach the file while the probe runs (flushed at least once a second).
  t_true "SIG$sig: rows on disk while running" t_wait_for 3 test -s "$out/probes.csv"
  sleep 1.5
  before=$(wc -l <"$out/probes.csv")
  t_true "SIG$sig: more than 500 rows flushed before the signal ($before)" [ "$before" -gt 500 ]
  start=$(date +%s%N)
  kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
  took=$((($(date +%s%N) - start) / 1000000))
  t_eq "$rc" 0 "SIG$sig: exit 0"
  t_true "SIG$sig: stopped within one timeout (+1 s margin) ($took ms)" [ "$took" -lt 2000 ]
  t_match "$(cat "$out.sum")" "summary: target $V4" "SIG$sig: summary printed"
  # Every probe sent is in the file: the summary's counts equal the rows.
  for g in "udp dns " "udp echo" "tcp dns " "tcp echo"; do
    n=$(sed -n "s/^  $g: \([0-9]*\) probes.*/\1/p" "$out.sum")
    set -- $g
    t_eq "$(count "$out/probes.csv" "\$4 == \"$1\" && \$5 == \"$2\"")" "${n:-missing}" \
      "SIG$sig: $1 $2 rows = probes in the summary ($n)"
  done
  t_eq "$(count "$out/probes.csv" '$8 != "ok"')" 0 "SIG$sig: no probe lost by stopping"
  t_eq "$(count "$out/connections.csv" '$8 == "end"')" 8 "SIG$sig: 8 connections ended by us"
  t_true "SIG$sig: summary JSON written" [ -s "$out.json" ]
done

# --- SIGINT while answers are outstanding: wait at most one timeout ------------------
out=$T_TMP/sig-stopped
ip netns exec "$NS" "$P" -s dns -t both -r 200 -c 2 -i 50ms --timeout 700ms -d 60s "${PORTS[@]}" \
  -o "$out" "$V4" >"$out.sum" 2>"$out.err" &
pid=$!
T_PIDS+=("$pid")
sleep 1
kill -STOP "$RPID"
sleep 0.3
start=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$RPID"
t_eq "$rc" 0 "SIGINT with a silent server: exit 0"
t_true "waited for the outstanding probes, at most one timeout ($took ms)" \
  [ "$took" -ge 300 ] && [ "$took" -lt 2000 ]
t_true "the unanswered probes are rows with result timeout" \
  [ "$(count "$out/probes.csv" '$8 == "timeout"')" -ge 50 ]
n=$(sed -n "s/^  udp dns : \([0-9]*\) probes.*/\1/p" "$out.sum")
t_eq "$(count "$out/probes.csv" '$4 == "udp"')" "${n:-missing}" "every UDP probe has its row ($n)"
t_done
