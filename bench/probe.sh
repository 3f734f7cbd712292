#!/usr/bin/env bash
# anycast-probe benchmark, in a namespace it creates and removes:
#  1. dnsperf's maximum qps against anycast-responder (the reference: it keeps
#     no per-probe record), then anycast-probe at fixed UDP rates with every
#     probe written to probes.csv, each client pinned to one core and the
#     responder to the other;
#  2. TCP: 10,000 persistent connections at 1 probe/s each for 30 s: failed
#     probes, RSS and CPU of the probe;
#  3. CSV cost: bytes per row and rows/s of the writer alone and with the
#     statistics update (bench/probe_csv).
# Usage: bench/probe.sh   (env: AH_BUILD=build, UDP_RATES="100000 150000 200000",
#   UDP_SECS=10, DNSPERF_SECS=10, TCP_CONNS=10000, TCP_SECS=30). Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${AH_BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
P=$B/anycast-probe
R=$B/anycast-responder
QF=$B/bench/probe_qfile
CSVB=$B/bench/probe_csv
UDP_RATES=${UDP_RATES:-100000 150000 200000}
UDP_SECS=${UDP_SECS:-10}
DNSPERF_SECS=${DNSPERF_SECS:-10}
TCP_CONNS=${TCP_CONNS:-10000}
TCP_SECS=${TCP_SECS:-30}
V4=198.51.100.53

[ "$(id -u)" -eq 0 ] || { echo "bench/probe.sh: needs root (network namespace)" >&2; exit 2; }
for f in "$P" "$R" "$QF" "$CSVB"; do
  [ -x "$f" ] || { echo "bench/probe.sh: missing $f (make BUILD=$B all)" >&2; exit 2; }
done
command -v dnsperf >/dev/null || { echo "bench/probe.sh: needs dnsperf" >&2; exit 2; }

NS=ah-bench-probe-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ah-bench-probe.XXXXXX")
RPID=
cleanup() {
  [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$V4"/32 dev lo
in_ns() { ip netns exec "$NS" "$@"; }
# Enough descriptors for the TCP part (connections + a margin).
ulimit -n $((TCP_CONNS + 1024)) 2>/dev/null || ulimit -n 20000

# Started with ip netns exec directly (not through a shell function) so that
# $! is the responder itself.
ip netns exec "$NS" taskset -c 0 "$R" --listen "$V4" --identity bench-node --dns-port 5300 --echo-port 5307 \
  --workers 1 2>"$TMP/responder.log" &
RPID=$!
for _ in $(seq 50); do
  in_ns "$P" --once -t udp -s dns --dns-port 5300 "$V4" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "# anycast-probe benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
echo "# responder pinned to core 0 (1 worker), clients pinned to core 1"

# --- 1. UDP ---------------------------------------------------------------------
"$QF" "$TMP/q.bin" hostname.bind 64
dp=$(in_ns timeout $((DNSPERF_SECS + 20)) taskset -c 1 dnsperf -s "$V4" -p 5300 -B \
  -d "$TMP/q.bin" -l "$DNSPERF_SECS" -c 8 -T 1 -q 1000 2>&1)
dnsperf_qps=$(echo "$dp" | sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p')
dnsperf_lost=$(echo "$dp" | sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p')
printf 'udp dnsperf  max_qps %s (lost %s, -c 8 -q 1000, %ss)\n' "${dnsperf_qps:-?}" \
  "${dnsperf_lost:-?}" "$DNSPERF_SECS"

for rate in $UDP_RATES; do
  out=$TMP/udp-$rate
  in_ns timeout $((UDP_SECS + 30)) /usr/bin/time -f '%U %S %M %e' -o "$out.time" \
    taskset -c 1 "$P" -r "$rate" -f 8 -d "${UDP_SECS}s" --dns-port 5300 --progress never \
    -o "$out" --summary-json "$out.json" "$V4" 2>"$out.err"
  read -r ut st rss el < <(tail -n 1 "$out.time")
  rows=$(($(wc -l <"$out/probes.csv") - 1))
  ok=$(awk -F, 'NR > 1 && $8 == "ok"' "$out/probes.csv" | wc -l)
  bytes=$(stat -c %s "$out/probes.csv")
  p50=$(sed -n 's/.*"p50": \([0-9.]*\).*/\1/p' "$out.json" | head -n 1)
  p99=$(sed -n 's/.*"p99": \([0-9.]*\).*/\1/p' "$out.json" | head -n 1)
  awk -v r="$rate" -v rows="$rows" -v ok="$ok" -v s="$UDP_SECS" -v ut="$ut" -v st="$st" \
    -v el="$el" -v rss="$rss" -v b="$bytes" -v q="${dnsperf_qps:-0}" -v p50="$p50" -v p99="$p99" \
    'BEGIN {
       f = "udp probe    rate %d/s: sent %d (%.0f/s), ok %d (%.3f%%), %.1f B/row, "
       f = f "cpu %.0f%% of a core (user %.2fs sys %.2fs), rss %d KiB, rtt_us p50 %s p99 %s, "
       f = f "answered/s = %.2fx dnsperf\n"
       printf f, r, rows, rows / s, ok, 100 * ok / rows, b / (rows + 1), 100 * (ut + st) / el,
         ut, st, rss, p50, p99, (q > 0 ? (ok / s) / q : 0) }'
done

# --- 2. TCP ---------------------------------------------------------------------
out=$TMP/tcp
in_ns timeout $((TCP_SECS + 60)) /usr/bin/time -f '%U %S %M %e' -o "$out.time" \
  taskset -c 1 "$P" -s echo -t tcp -c "$TCP_CONNS" -i 1s -d "${TCP_SECS}s" --echo-port 5307 \
  --progress never -o "$out" --summary-json "$out.json" "$V4" 2>"$out.err"
read -r ut st rss el < <(tail -n 1 "$out.time")
rows=$(($(wc -l <"$out/probes.csv") - 1))
failed=$(awk -F, 'NR > 1 && $8 != "ok"' "$out/probes.csv" | wc -l)
conns=$(($(wc -l <"$out/connections.csv") - 1))
broken=$(awk -F, 'NR > 1 && $8 != "end"' "$out/connections.csv" | wc -l)
p99=$(sed -n 's/.*"p99": \([0-9.]*\).*/\1/p' "$out.json" | head -n 1)
awk -v n="$TCP_CONNS" -v s="$TCP_SECS" -v rows="$rows" -v f="$failed" -v c="$conns" \
  -v br="$broken" -v ut="$ut" -v st="$st" -v el="$el" -v rss="$rss" -v p99="$p99" \
  'BEGIN {
     fmt = "tcp probe    %d persistent connections x 1 probe/s x %ds: probes %d, failed %d, "
     fmt = fmt "connections %d (ended other than by us: %d), rss %d KiB (%.1f KiB/conn), "
     fmt = fmt "cpu %.0f%% of a core (user %.2fs sys %.2fs over %.1fs), rtt_us p99 %s\n"
     printf fmt, n, s, rows, f, c, br, rss, rss / n, 100 * (ut + st) / el, ut, st, el, p99 }'

# --- 3. CSV -----------------------------------------------------------------------
"$CSVB" "$TMP/rows.csv" 2000000 | awk '
  /^csv_bytes_per_row/ {b = $2} /^csv_rows_per_s/ {r = $2} /^csv_stats_rows_per_s/ {s = $2}
  END { printf "csv writer   %.1f B/row, %d rows/s alone, %d rows/s with statistics\n", b, r, s }'
