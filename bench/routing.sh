#!/usr/bin/env bash
# How long the self-removing routing modes take, from the fault (the drill
# row's acknowledgement) to the router's kernel route change (the `route`
# row), over BENCH_REPS runs (default 5) of small generated labs:
#   tracked stop   (frequency 300 ms, timeout 200 ms, down 2: refused checks)
#   tracked pause  (same, a brown-out: timed-out checks)
#   bgp withdraw   (birdc disable acknowledged -> route)
#   bgp kill-bgp   (SIGKILL: the node's kernel closes the TCP session)
#   bgp pause-bgp  hold 3 s / keepalive 1 s (hold timer) and BFD 100 ms x 3
#   bgp health     (stop with healthcheck interval 200 ms, fall 2)
# Prints min / median / max in ms per figure (docs/routing.md has them next to
# docs/bench.md). Root only; results go to a temporary directory that is removed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
AH_BUILD=${AH_BUILD:-build}
LAB=$AH_BUILD/anycast-lab
REPS=${BENCH_REPS:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench/routing.sh: needs root" >&2; exit 2; }
[ -x "$LAB" ] || { echo "bench/routing.sh: build $LAB first (make lab)" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ah-bench-routing.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# lab NAME ROUTING EXTRA DRILL: writes $TMP/NAME.yaml (nodes a, c; va prefers a).
lab() {
  cat >"$TMP/$1.yaml" <<YAML
name: $1
anycast: [198.51.100.53]
routing: $2
$3
duration: ${5:-4s}
nodes:
  - name: a
    ${6:-}
  - name: c
vantages:
  - name: va
    prefer: [a, c]
probes:
  udp: {service: dns, rate: 100, flows: 2, timeout: 200ms}
drill:
$4
YAML
}
lab trs tracked "track: {frequency: 300ms, timeout: 200ms, down: 2, up: 2}" "  - {at: 1s, stop: a}"
lab trp tracked "track: {frequency: 300ms, timeout: 200ms, down: 2, up: 2}" "  - {at: 1s, pause: a}"
lab bgw bgp "bgp: {hold: 3s, keepalive: 1s}" "  - {at: 1s, withdraw: a}
  - {at: 2s, announce: a}
  - {at: 3s, kill-bgp: a}"
lab bgh bgp "bgp: {hold: 3s, keepalive: 1s}" "  - {at: 0.5s, pause-bgp: a}" 4.5s
lab bgb bgp "bgp: {hold: 9s, keepalive: 3s, bfd: {interval: 100ms, multiplier: 3}}" \
  "  - {at: 1s, pause-bgp: a}"
lab bgc bgp "" "  - {at: 1s, stop: a}" 3s "healthcheck: {interval: 200ms, timeout: 100ms, rise: 2, fall: 2}"

# delta DIR EVENT: ms from the EVENT row (node a) to the next route row at va to c.
delta() {
  awk -F, -v e="$2" '$2 == e && $3 == "a" && !t { t = $1 }
    t && $2 == "route" && $3 == "c" && index($4, "router=va") == 1 { printf "%.2f\n", ($1 - t) / 1e6; exit }' \
    "$1/events.csv"
}

declare -A VALS
run() { # FIGURE LAB EVENT
  local out dir
  out=$("$LAB" run "$TMP/$2.yaml" --results "$TMP/res" 2>"$TMP/err") || {
    echo "bench/routing.sh: $2 failed:" >&2; tail -n 5 "$TMP/err" >&2; return 1; }
  dir=$(sed -n 's/^results: //p' <<<"$out" | tail -n 1)
  local v
  v=$(delta "$dir" "$3")
  [ -n "$v" ] && VALS[$1]+="$v "
  rm -rf "$dir"
}
for ((i = 0; i < REPS; i++)); do
  run "tracked stop (300ms x 2)" trs stop
  run "tracked pause (300ms x 2 + 200ms)" trp pause
  run "bgp withdraw (birdc ack)" bgw withdraw
  run "bgp kill-bgp (TCP closed)" bgw kill-bgp
  run "bgp pause-bgp, hold 3s" bgh pause-bgp
  run "bgp pause-bgp, BFD 100ms x 3" bgb pause-bgp
  run "bgp healthcheck stop (200ms x 2)" bgc stop
done
printf '%-36s %5s %10s %10s %10s\n' figure runs min_ms median_ms max_ms
for k in "tracked stop (300ms x 2)" "tracked pause (300ms x 2 + 200ms)" "bgp withdraw (birdc ack)" \
  "bgp kill-bgp (TCP closed)" "bgp pause-bgp, hold 3s" "bgp pause-bgp, BFD 100ms x 3" \
  "bgp healthcheck stop (200ms x 2)"; do
  # shellcheck disable=SC2086
  printf '%s\n' ${VALS[$k]:-} | sort -g | awk -v k="$k" 'NF { v[n++] = $1 }
    END { if (n) printf "%-36s %5d %10.2f %10.2f %10.2f\n", k, n, v[0], v[int((n - 1) / 2)], v[n - 1];
          else printf "%-36s %5d %10s %10s %10s\n", k, 0, "-", "-", "-" }'
done
