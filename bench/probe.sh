#!/usr/bin/env bash
# anycast-probe benchmark, in a namespace it creates and removes:
#  1. dnsperf's maximum qps against anycast-responder (the reference: it keeps
#     no per-probe record), then at each UDP rate anycast-probe with every
#     probe written to probes.csv, RTT from user-space clocks and from kernel
#     stamps (--timestamps user|kernel), and dnsperf limited to that rate:
#     CPU-us per probe, RTT p50/p99 and answers per CPU-second, each client
#     pinned to one core and the responder to the other;
#  2. TCP: 10,000 persistent connections at 1 probe/s each for 30 s: failed
#     probes, RSS and CPU of the probe;
#  3. CSV cost: bytes per row and rows/s of the writer alone and with the
#     statistics update (bench/probe_csv).
# Usage: bench/probe.sh   (env: AH_BUILD=build, UDP_RATES="100000 200000",
#   UDP_SECS=5, UDP_REPS=3, DNSPERF_SECS=10, TCP_CONNS=10000 (0: no TCP part),
#   TCP_SECS=30, PROBE_ARGS and RESPONDER_ARGS: extra options for every UDP probe
#   run and for the responder, e.g. --no-udp-gro). Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${AH_BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
P=$B/anycast-probe
R=$B/anycast-responder
QF=$B/bench/probe_qfile
CSVB=$B/bench/probe_csv
UDP_RATES=${UDP_RATES:-100000 200000}
UDP_SECS=${UDP_SECS:-5}
UDP_REPS=${UDP_REPS:-3}
DNSPERF_SECS=${DNSPERF_SECS:-10}
TCP_CONNS=${TCP_CONNS:-10000}
TCP_SECS=${TCP_SECS:-30}
read -ra PROBE_EXTRA <<<"${PROBE_ARGS:-}"
read -ra RESPONDER_EXTRA <<<"${RESPONDER_ARGS:-}"
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
  --workers 1 "${RESPONDER_EXTRA[@]}" 2>"$TMP/responder.log" &
RPID=$!
for _ in $(seq 50); do
  in_ns "$P" --once -t udp -s dns --dns-port 5300 "$V4" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "# anycast-probe benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
echo "# responder pinned to core 0 (1 worker), clients pinned to core 1"
echo "# PROBE_ARGS '${PROBE_ARGS:-}', RESPONDER_ARGS '${RESPONDER_ARGS:-}'"

# --- 1. UDP ---------------------------------------------------------------------
# CPU per probe is (user + system time) / probes sent, from /usr/bin/time; on
# this one-namespace loopback the system time includes the kernel delivering
# each query to the responder's socket, which dnsperf pays the same way.
# Each figure is the median of UDP_REPS runs; dnsperf runs at the same rate
# (-Q) in between, so both see the same machine.
"$QF" "$TMP/q.bin" hostname.bind 64
# dnsperf_run QPS-LIMIT SECS: prints "answered_qps cpu_s lost".
dnsperf_run() {
  local lim=()
  [ "$1" -gt 0 ] && lim=(-Q "$1")
  in_ns timeout $(($2 + 20)) /usr/bin/time -f 'TIME %U %S' taskset -c 1 dnsperf -s "$V4" -p 5300 \
    -B -d "$TMP/q.bin" -l "$2" -c 8 -T 1 -q 1000 "${lim[@]}" 2>&1 |
    awk '/Queries per second:/ {q = $4} /Queries lost:/ {l = $3} /^TIME/ {c = $2 + $3}
         END {printf "%s %s %s\n", (q == "" ? 0 : q), (c == "" ? 0 : c), (l == "" ? "?" : l)}'
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR ? v[int((NR + 1) / 2)] : 0)}'; }
read -r dq dc dl < <(dnsperf_run 0 "$DNSPERF_SECS")
printf 'udp dnsperf  max_qps %s (lost %s, -c 8 -q 1000, %ss), %.2f cpu-us/query\n' "$dq" "$dl" \
  "$DNSPERF_SECS" "$(awk -v q="$dq" -v c="$dc" -v s="$DNSPERF_SECS" 'BEGIN {print (q > 0 ? 1e6 * c / (q * s) : 0)}')"
dnsperf_qps=$dq

# probe_run RATE MODE N: one anycast-probe run; prints "rows ok cpu_s p50 p99 bytes rss".
probe_run() {
  local out=$TMP/udp-$1-$2-$3
  in_ns timeout $((UDP_SECS + 30)) /usr/bin/time -f '%U %S %M %e' -o "$out.time" \
    taskset -c 1 "$P" -r "$1" -f 8 -d "${UDP_SECS}s" --dns-port 5300 --progress never \
    --timestamps "$2" "${PROBE_EXTRA[@]}" -o "$out" --summary-json "$out.json" "$V4" >"$out.sum" 2>"$out.err"
  local ut st rss el rows ok
  read -r ut st rss el < <(tail -n 1 "$out.time")
  rows=$(($(wc -l <"$out/probes.csv") - 1))
  ok=$(awk -F, 'NR > 1 && $8 == "ok"' "$out/probes.csv" | wc -l)
  echo "$rows $ok $(awk -v u="$ut" -v s="$st" 'BEGIN {print u + s}') \
$(sed -n 's/.*"p50": \([0-9.]*\).*/\1/p' "$out.json" | head -n 1) \
$(sed -n 's/.*"p99": \([0-9.]*\).*/\1/p' "$out.json" | head -n 1) $(stat -c %s "$out/probes.csv") $rss"
  rm -rf "$out"
}

printf '%-40s %8s %8s %7s %9s %11s %11s %9s %9s\n' "udp probe (median of $UDP_REPS x ${UDP_SECS}s)" \
  sent/s ok% cpu% cpu-us/p "p50 us" "p99 us" "B/row" "ans/cpu-s"
for rate in $UDP_RATES; do
  for mode in user kernel; do
    : >"$TMP/runs"
    for n in $(seq "$UDP_REPS"); do
      probe_run "$rate" "$mode" "$n" >>"$TMP/runs"
    done
    col() { awk -v c="$1" '{print $c}' "$TMP/runs" | median; }
    # Per-run ratios first, then their median.
    cpp=$(awk '$1 > 0 {print 1e6 * $3 / $1}' "$TMP/runs" | median)
    apc=$(awk '$3 > 0 {print $2 / $3}' "$TMP/runs" | median)
    awk -v r="$rate" -v m="$mode" -v rows="$(col 1)" -v ok="$(col 2)" -v cpu="$(col 3)" \
      -v s="$UDP_SECS" -v cpp="$cpp" -v p50="$(col 4)" -v p99="$(col 5)" -v b="$(col 6)" \
      -v apc="$apc" 'BEGIN {
        printf "%-40s %8.0f %8.3f %7.0f %9.2f %11.0f %11.0f %9.1f %9.0f\n",
          sprintf("  rate %d/s, --timestamps %s", r, m), rows / s, (rows ? 100 * ok / rows : 0),
          100 * cpu / s, cpp, p50, p99, (rows ? b / (rows + 1) : 0), apc }'
  done
  read -r dq dc dl < <(dnsperf_run "$rate" "$UDP_SECS")
  awk -v r="$rate" -v q="$dq" -v c="$dc" -v s="$UDP_SECS" -v l="$dl" -v apc="$apc" 'BEGIN {
    d = (c > 0 ? q * s / c : 0)
    printf "%-40s %8.0f %8s %7.0f %9.2f %11s %11s %9s %9.0f\n", sprintf("  rate %d/s, dnsperf -Q (lost %s)", r, l),
      q, "-", 100 * c / s, (q > 0 ? 1e6 * c / (q * s) : 0), "-", "-", "-", d
    printf "  rate %d/s: anycast-probe (kernel) answers per cpu-second = %.2fx dnsperf\n", r,
      (d > 0 ? apc / d : 0) }'
done

# --- 2. TCP ---------------------------------------------------------------------
if [ "$TCP_CONNS" -gt 0 ]; then
out=$TMP/tcp
in_ns timeout $((TCP_SECS + 60)) /usr/bin/time -f '%U %S %M %e' -o "$out.time" \
  taskset -c 1 "$P" -s echo -t tcp -c "$TCP_CONNS" -i 1s -d "${TCP_SECS}s" --echo-port 5307 \
  --progress never -o "$out" --summary-json "$out.json" "$V4" >"$out.sum" 2>"$out.err"
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
fi

# --- 3. CSV -----------------------------------------------------------------------
"$CSVB" "$TMP/rows.csv" 2000000 | awk '
  /^csv_bytes_per_row/ {b = $2} /^csv_rows_per_s/ {r = $2} /^csv_stats_rows_per_s/ {s = $2}
  END { printf "csv writer   %.1f B/row, %d rows/s alone, %d rows/s with statistics\n", b, r, s }'
