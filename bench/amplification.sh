#!/usr/bin/env bash
# UDP amplification of anycast-responder's answers, next to NSD's with the
# same 255-byte identity and NSID: for each query kind, bytes received per
# byte sent, as DNS payload and on the wire (IPv4 + UDP headers, 28 bytes).
# The queries are the smallest a client can send for that answer (built by
# hand below, EDNS with the NSID option where NSID is asked). Root only; one
# namespace with 198.51.100.53 on lo, removed on exit. docs/security.md quotes
# the figures.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
AH_BUILD=${AH_BUILD:-build}
R=$AH_BUILD/anycast-responder
[ "$(id -u)" -eq 0 ] || { echo "bench/amplification.sh: needs root" >&2; exit 2; }
[ -x "$R" ] || { echo "bench/amplification.sh: build $R first (make responder)" >&2; exit 2; }
command -v nsd >/dev/null || { echo "bench/amplification.sh: needs nsd" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ah-bench-amp.XXXXXX")
NS=ah-bench-amp-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS" addr add 198.51.100.53/32 dev lo

# The longest identity a TXT string and the echo protocol carry: 255 bytes.
ID=$(printf 'n%.0s' $(seq 255))
ip netns exec "$NS" "$R" --listen 198.51.100.53 --dns-port 5300 --echo-port 5307 \
  --identity "$ID" --log-level error 2>"$TMP/responder.log" &
pids+=($!)
cat >"$TMP/nsd.conf" <<CONF
server:
  ip-address: 198.51.100.53@5301
  identity: "$ID"
  nsid: "ascii_$ID"
  hide-version: yes
  username: ""
  chroot: ""
  zonesdir: "$TMP"
  pidfile: "$TMP/nsd.pid"
  database: ""
  xfrdfile: "$TMP/xfrd.state"
  rrl-ratelimit: 0
  server-count: 1
remote-control:
  control-enable: no
CONF
ip netns exec "$NS" nsd -d -c "$TMP/nsd.conf" 2>"$TMP/nsd.log" &
pids+=($!)
sleep 1

ip netns exec "$NS" python3 - <<'PY'
import socket, struct

def query(name, qtype, qclass, nsid):
    q = struct.pack(">HHHHHH", 0x4242, 0x0000, 1, 0, 0, 1 if nsid else 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", qtype, qclass)
    if nsid:  # OPT RR: root name, type 41, 4096-byte buffer, NSID option empty
        q += b"\x00" + struct.pack(">HHIH", 41, 4096, 0, 4) + struct.pack(">HH", 3, 0)
    return q

def ask(port, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(payload, ("198.51.100.53", port))
    try:
        return len(s.recv(65535))
    except socket.timeout:
        return 0
    finally:
        s.close()

cases = [
    ("CH TXT hostname.bind +nsid", query("hostname.bind", 16, 3, True)),
    ("CH TXT id.server +nsid", query("id.server", 16, 3, True)),
    ("CH TXT hostname.bind, no EDNS", query("hostname.bind", 16, 3, False)),
    ("IN A example. +nsid (refused)", query("example", 1, 1, True)),
]
print("%-32s %6s | %-22s | %-22s" % ("query", "sent", "anycast-responder", "NSD"))
for label, q in cases:
    row = "%-32s %6d |" % (label, len(q))
    for port in (5300, 5301):
        n = ask(port, q)
        row += " %5d B %5.1fx %5.1fx |" % (n, n / len(q), (n + 28) / (len(q) + 28))
    print(row)
n = ask(5307, b"x\n")
print("%-32s %6d | %5d B %5.1fx %5.1fx | (no echo service)" % ("echo 'x\\n'", 2, n, n / 2, (n + 28) / 30))
print("columns: answer bytes, payload factor, on-wire factor (IPv4+UDP headers)")
PY
