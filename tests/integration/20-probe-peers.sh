#!/usr/bin/env bash
# anycast-probe against real DNS servers: NSD and Knot, each configured with
# an identity and NSID in a test namespace. Every probe over UDP and TCP must
# be ok with node = the server's identity; probes.csv and connections.csv
# must carry the docs/formats.md headers byte for byte and well-formed rows; the
# id.server and nsid:NAME/TYPE queries and --once work against both (the
# default --query auto keeps hostname.bind and says so); an NSD
# that hides its identity gives bad_reply with the rcode in detail.
source "$(dirname "$0")/lib.sh"
t_need_root
t_need nsd knotd dig

P=$AH_BIN/anycast-probe
[ -x "$P" ] || { echo "missing $P (build first)"; exit 1; }
V4=198.51.100.53
V6=2001:db8:53::53
PROBES_HDR='ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail'
CONNS_HDR='conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed'

t_netns NS
t_anycast_lo "$NS"
in_ns() { ip netns exec "$NS" "$@"; }

mkdir -p "$T_TMP/nsd" "$T_TMP/knot"
cat >"$T_TMP/nsd/nsd.conf" <<CONF
server:
  ip-address: $V4@5301
  ip-address: $V6@5301
  identity: "nsd-node"
  nsid: "ascii_nsd-node"
  hide-version: yes
  username: ""
  chroot: ""
  zonesdir: "$T_TMP/nsd"
  pidfile: "$T_TMP/nsd/nsd.pid"
  database: ""
  xfrdfile: "$T_TMP/nsd/xfrd.state"
  rrl-ratelimit: 0
  server-count: 1
remote-control:
  control-enable: no
CONF
cat >"$T_TMP/knot/knot.conf" <<CONF
server:
    rundir: "$T_TMP/knot"
    user: root:root
    listen: [ $V4@5302, $V6@5302 ]
    identity: "knot-node"
    nsid: "knot-node"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$T_TMP/knot"
log:
  - target: stderr
    any: error
CONF
t_bg NSD_PID ip netns exec "$NS" nsd -d -c "$T_TMP/nsd/nsd.conf" 2>"$T_TMP/nsd.log"
t_bg KNOT_PID ip netns exec "$NS" knotd -c "$T_TMP/knot/knot.conf" 2>"$T_TMP/knot.log"
t_true "nsd answers within 10 s" \
  t_wait_for 10 in_ns dig +short +time=1 +tries=1 -p 5301 @"$V4" CH TXT hostname.bind
t_true "knot answers within 10 s" \
  t_wait_for 10 in_ns dig +short +time=1 +tries=1 -p 5302 @"$V4" CH TXT hostname.bind

# check_run NAME IDENTITY DIR UDP_ROWS MIN_TCP_ROWS: the files of one run.
check_run() {
  local name=$1 ident=$2 dir=$3 udp_rows=$4 min_tcp=$5
  t_eq "$(head -n 1 "$dir/probes.csv")" "$PROBES_HDR" "$name: probes.csv header"
  t_eq "$(head -n 1 "$dir/connections.csv")" "$CONNS_HDR" "$name: connections.csv header"
  t_eq "$(awk -F, 'NR > 1 && NF != 11' "$dir/probes.csv" | wc -l)" 0 \
    "$name: every probes.csv row has 11 fields"
  t_eq "$(awk -F, 'NR > 1 && NF != 10' "$dir/connections.csv" | wc -l)" 0 \
    "$name: every connections.csv row has 10 fields"
  t_eq "$(awk -F, 'NR > 1 && $4 == "udp"' "$dir/probes.csv" | wc -l)" "$udp_rows" \
    "$name: $udp_rows UDP rows (rate x duration)"
  local tcp
  tcp=$(awk -F, 'NR > 1 && $4 == "tcp"' "$dir/probes.csv" | wc -l)
  t_true "$name: at least $min_tcp TCP rows (got $tcp)" [ "$tcp" -ge "$min_tcp" ]
  t_eq "$(awk -F, -v id="$ident" 'NR > 1 && !($8 == "ok" && $9 == id && $10 ~ /^[0-9]+$/ && ($11 == "" || $11 == "query=auto:hostname.bind"))' \
    "$dir/probes.csv" | head -n 3)" "" "$name: every probe ok, node $ident, rtt_us set"
  # --query auto (the default) names its choice in the first row of each transport.
  t_eq "$(awk -F, 'NR > 1 && $11 == "query=auto:hostname.bind" { print $4 }' "$dir/probes.csv" | sort | tr '\n' ' ')" \
    "tcp udp " "$name: the first UDP and TCP rows name the query auto chose"
  t_eq "$(awk -F, 'NR > 1 && !($1 ~ /^1[0-9]+$/ && length($1) == 19 && $2 == "t20" && $3 == "198.51.100.53" && $5 == "dns")' \
    "$dir/probes.csv" | head -n 3)" "" "$name: ts_ns, vantage, target, service columns"
  t_eq "$(awk -F, 'NR > 1 && $4 == "udp" {print $6}' "$dir/probes.csv" | sort -u | wc -l)" 2 \
    "$name: two UDP flows, one source port each"
  # seq counts 1, 2, 3... within each (transport, conn).
  t_eq "$(awk -F, 'NR > 1 { k = $4 "/" $6; n[k]++; if ($7 != n[k]) bad++ } END { print bad + 0 }' \
    "$dir/probes.csv")" 0 "$name: seq counts from 1 within each conn"
  t_eq "$(awk -F, -v id="$ident" 'NR > 1 && !($6 == id && $8 == "end" && $10 == 0 && $9 > 0)' \
    "$dir/connections.csv" | wc -l)" 0 "$name: connections ended by us, node $ident, no failures"
  t_eq "$(awk 'END { print NR - 1 }' "$dir/connections.csv")" 2 "$name: 2 TCP connections"
}

for spec in nsd:5301:nsd-node knot:5302:knot-node; do
  IFS=: read -r name port ident <<<"$spec"
  out=$T_TMP/$name
  in_ns "$P" -s dns -t both -r 50 -f 2 -c 2 -i 100ms -d 2s --dns-port "$port" --vantage t20 \
    -o "$out" --summary-json "$out.json" "$V4" >"$out.sum" 2>"$out.err"
  t_eq "$?" 0 "$name: probe run exits 0"
  check_run "$name" "$ident" "$out" 100 30
  t_match "$(cat "$out.sum")" "udp dns : 100 probes, 100 ok, 0 lost" "$name: summary on stdout"
  t_match "$(cat "$out.json")" "\"nodes\": \\{\"$ident\": 100\\}" "$name: summary JSON nodes"

  got=$(in_ns "$P" --once -s dns --dns-port "$port" "$V6")
  t_eq "$?" 0 "$name: --once over IPv6 exits 0"
  t_match "$got" "^udp dns $ident [0-9.]+ ms
tcp dns $ident [0-9.]+ ms$" "$name: --once prints node and RTT per transport"

  in_ns "$P" -q id.server -t both -n 3 -i 50ms -r 100 --dns-port "$port" -o "$out-ids" "$V4" \
    2>/dev/null
  t_eq "$(awk -F, -v id="$ident" 'NR > 1 && $8 == "ok" && $9 == id' "$out-ids/probes.csv" | wc -l)" \
    6 "$name: id.server identifies the node over UDP and TCP"

  # No zone is served: the answer is REFUSED, but NSID still names the node.
  in_ns "$P" -q nsid:example.com/SOA -n 3 -r 100 --dns-port "$port" -o "$out-nsid" "$V4" \
    2>/dev/null
  t_eq "$(awk -F, -v id="$ident" 'NR > 1 && $8 == "ok" && $9 == id && $11 == "REFUSED"' \
    "$out-nsid/probes.csv" | wc -l)" 3 "$name: nsid:example.com/SOA: node from NSID, rcode in detail"
done

# NSD that hides its identity answers hostname.bind with REFUSED and no
# name: bad_reply with the rcode in detail, and --once exits 1 saying so.
mkdir -p "$T_TMP/nsd-anon"
sed -e "s/@5301/@5303/" -e '/identity:/d' -e '/nsid:/d' -e "s|$T_TMP/nsd|$T_TMP/nsd-anon|g" \
  "$T_TMP/nsd/nsd.conf" >"$T_TMP/nsd-anon/nsd.conf"
sed -i 's/^server:$/server:\n  hide-identity: yes/' "$T_TMP/nsd-anon/nsd.conf"
t_bg ANON_PID ip netns exec "$NS" nsd -d -c "$T_TMP/nsd-anon/nsd.conf" 2>"$T_TMP/nsd-anon.log"
t_true "anonymous nsd answers within 10 s" t_wait_for 10 bash -c \
  "ip netns exec $NS dig +time=1 +tries=1 -p 5303 @$V4 CH TXT hostname.bind | grep -q 'status: REFUSED'"
got=$(in_ns "$P" --once -s dns --dns-port 5303 "$V4")
t_eq "$?" 1 "anonymous nsd: --once exits 1"
t_eq "$got" "udp dns - bad_reply REFUSED
tcp dns - bad_reply REFUSED" "anonymous nsd: --once prints bad_reply and the rcode"
in_ns "$P" -t both -n 4 -r 100 -i 50ms --dns-port 5303 -o "$T_TMP/anon" "$V4" 2>/dev/null
t_eq "$(awk -F, 'NR > 1 && $8 == "bad_reply" && $9 == "" && $10 == "" && $11 ~ /^REFUSED( query=auto:hostname.bind)?$/' \
  "$T_TMP/anon/probes.csv" | wc -l)" 8 "anonymous nsd: 8 rows (4 per transport) bad_reply, no node, detail REFUSED"
t_done
