#!/usr/bin/env bash
# The interop matrix of docs/interop.md, measured: BIND, NSD, Knot, Unbound,
# PowerDNS Authoritative and dnsdist (in front of two NSD) are started in a
# namespace this script creates and removes, each with the configuration of
# tests/integration/interop-lib.sh (an identity and nothing else), and
# anycast-probe asks each of them who it is with every identity query at
# RATE/s over UDP and over TCP for SECS seconds. A cell is "answered with the
# right identity / sent", then what happened to the rest (timeouts, replies
# without an identity, TC=1) and the answered rate when it is capped.
# Usage: bench/interop.sh [SERVER...]   (env: AH_BUILD=build, RATE=200,
#   SECS=2, QUERIES="hostname.bind id.server nsid:./SOA auto"). Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
AH_BUILD=${AH_BUILD:-build}
source tests/integration/lib.sh
source tests/integration/interop-lib.sh
RATE=${RATE:-200}
SECS=${SECS:-2}
QUERIES=${QUERIES:-hostname.bind id.server nsid:./SOA auto}
P=$AH_BIN/anycast-probe
[ "$(id -u)" -eq 0 ] || { echo "bench/interop.sh: needs root (network namespace)" >&2; exit 2; }
[ -x "$P" ] || { echo "bench/interop.sh: missing $P (make all)" >&2; exit 2; }
V4=198.51.100.53
V6=2001:db8:53::53
t_netns NS
t_anycast_lo "$NS"

# cell DIR TRANSPORT IDENT_REGEX: "ok/sent" and the other results.
cell() {
  awk -F, -v tr="$2" -v id="$3" -v secs="$SECS" '
    NR > 1 && $4 == tr { n++; if ($8 == "ok" && $9 ~ ("^(" id ")$")) ok++
      else { k = $8 ($11 != "" ? " " $11 : ""); other[k]++ } }
    END { s = (ok + 0) "/" (n + 0)
      for (k in other) s = s ", " other[k] " " k
      if (n > 0 && ok < n * 0.99 && ok > 0) s = s sprintf(" (%.1f answered/s)", ok / secs)
      print s }' "$1/probes.csv"
}

servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(bind nsd knot unbound pdns dnsdist)
port=5400
printf '%-8s %-14s %-34s %s\n' server query UDP TCP
for s in "${servers[@]}"; do
  port=$((port + 10))
  command -v "$(srv_binary "$s")" >/dev/null || { echo "$s: not installed"; continue; }
  if ! srv_start "$s" "$port"; then
    echo "$s: did not start"; tail -n 5 "$T_TMP/$s/log"; continue
  fi
  ident="$s-node"
  [ "$s" = dnsdist ] && ident='dd-a-node|dd-b-node'
  for q in $QUERIES; do
    out=$T_TMP/$s-${q//[^a-z]/_}
    ip netns exec "$NS" "$P" -q "$q" -t both -r "$RATE" -c 4 -i "$((4000 / RATE))ms" \
      -d "${SECS}s" --dns-port "$port" -o "$out" "$V4" 2>"$out.err"
    printf '%-8s %-14s %-34s %s\n' "$s" "$q" "$(cell "$out" udp "$ident")" \
      "$(cell "$out" tcp "$ident")"
    grep -h 'query\|rate-limited' "$out.err" | sed 's/^/           /'
  done
done
