#!/usr/bin/env bash
# A lab larger than the kernel's neighbour table measures properly, and
# `check` accepts exactly what `run` can build. The neighbour (ARP/ND) table
# is one table for all namespaces, bounded by the host's gc_thresh3 (1024 by
# default), and a lab needed 4-5 dynamic entries per vantage: past ~250
# vantages probes were lost. The topology now installs a permanent entry for
# every neighbour, so a 4 x 300 lab leaves (almost) no dynamic entry, every
# vantage gets answers, and the fabric's bridges (at most 960 ends each) are
# joined so that one node and 960 vantages reach each other. Its 300
# vantages are probed by five anycast-probe processes of 60 vantages each.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"

# gen NODES VANTAGES: a lab file of that size on stdout.
gen() {
  local i
  printf 'name: scale\nanycast: [198.51.100.53]\nrouting: static\nduration: 4s\n'
  printf 'probes:\n  udp: {service: dns, rate: 2, flows: 1}\n'
  printf 'nodes:\n'
  for ((i = 1; i <= $1; i++)); do printf '  - name: n%d\n' "$i"; done
  printf 'vantages:\n'
  for ((i = 1; i <= $2; i++)); do printf '  - {name: v%d, prefer: [n1, n2]}\n' "$i"; done
}

# check: the lab file's bounds are the topology's (docs/lab-file.md).
gen 256 1024 >"$T_TMP/max.yaml"
out=$("$LAB" check "$T_TMP/max.yaml" 2>&1)
t_eq "$?" 0 "check accepts 256 nodes x 1024 vantages ($out)"
gen 257 2 >"$T_TMP/nodes.yaml"
out=$("$LAB" check "$T_TMP/nodes.yaml" 2>&1)
t_eq "$?" 2 "check refuses 257 nodes"
t_match "$out" "^${T_TMP}/nodes\.yaml:8:3: nodes: 257 nodes, at most 256" "FILE:LINE:COL names the nodes list"
gen 2 1025 >"$T_TMP/vantages.yaml"
out=$("$LAB" check "$T_TMP/vantages.yaml" 2>&1)
t_eq "$?" 2 "check refuses 1025 vantages"
t_match "$out" "^${T_TMP}/vantages\.yaml:11:3: vantages: 1025 vantages, at most 1024" \
  "FILE:LINE:COL names the vantages list"

t_need_root
t_need python3

# A 4 x 300 lab, kept up after its run to look at its neighbour tables.
gen 4 300 >"$T_TMP/lab.yaml"
timeout 300 "$LAB" run "$T_TMP/lab.yaml" --results "$T_TMP/res" --keep-up --ready-timeout 60s \
  >"$T_TMP/run.out" 2>"$T_TMP/run.err"
rc=$?
LAB_DIR=$(sed -n 's/^results: //p' "$T_TMP/run.out" | tail -n 1)
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$LAB_DIR/run.json" 2>/dev/null)
[ -n "$id" ] && LAB_RUNIDS+=("$id")
t_eq "$rc" 0 "run of 4 x 300 exits 0 ($(tail -n 2 "$T_TMP/run.err" | tr '\n' ' '))"
t_true "the run id is known" test -n "$id"

# Every namespace of the lab: its permanent neighbour entries, and the
# resolved (dynamic) ones, which count against gc_thresh3 and cannot be
# evicted while in use. NOARP entries (multicast: the MLD reports every IPv6
# link sends) are not counted: the kernel evicts them first when full.
dyn=0 perm=0 nsn=0
for ns in $(ip netns list | awk '{print $1}' | grep "^ah-lab-$id-"); do
  nsn=$((nsn + 1))
  all=$(ip -n "$ns" neigh show nud all 2>/dev/null)
  perm=$((perm + $(grep -c ' PERMANENT' <<<"$all")))
  dyn=$((dyn + $(grep -v -c -e ' PERMANENT' -e ' NOARP' -e '^$' <<<"$all")))
done
t_eq "$nsn" 605 "605 namespaces kept up (fabric, 4 nodes, 300 routers, 300 clients)"
# Clients: 1 (router); routers: 1 (client) + 2 (n1, n2); n1 and n2: 300 each.
t_eq "$perm" 1800 "1800 permanent entries: each client's router, each router's client and nodes, n1's and n2's routers"
t_true "at most 40 resolved neighbour entries in the whole lab, not ~1200 ($dyn)" test "$dyn" -le 40
t_match "$(ip -n "ah-lab-$id-n-n1" neigh show 198.18.128.1)" "198.18.128.1 dev fab0 lladdr 02:61:68:02:00:00 PERMANENT" \
  "node n1 knows router v1's MAC from the plan"
t_match "$(ip -n "ah-lab-$id-c-v300" neigh show)" "198.19.4.173 dev up0 lladdr 02:61:68:03:01:2b PERMANENT" \
  "client v300 knows its router's MAC from the plan"

# Every vantage was answered, and (nearly) every probe.
read -r nv ok n < <(python3 - "$LAB_DIR/probes.csv" <<'EOF'
import csv, sys
ok = n = 0
answered = set()
for row in csv.DictReader(open(sys.argv[1])):
    if row["transport"] != "udp":
        continue
    n += 1
    if row["result"] == "ok":
        ok += 1
        answered.add(row["vantage"])
print(len(answered), ok, n)
EOF
)
t_eq "$nv" 300 "all 300 vantages got answers"
t_true "at least 98% of $n UDP probes answered ($ok)" test "$((ok * 100))" -ge "$((n * 98))"
# 300 vantages are more than 16: one anycast-probe drives each group of 60
# (probes: vantages-per-process, auto), each vantage still with its own rows,
# query in run.json and output directory, which the merge removes.
t_eq "$(ls "$LAB_DIR/logs" | grep -c '^probe-.*\.log$')" 5 "5 probe processes for 300 vantages"
t_eq "$(cat "$LAB_DIR"/logs/probe-*.log.vantages | cut -d@ -f1 | sort -u | wc -l)" 300 \
  "their vantage lists name each of the 300 vantages once"
t_eq "$(head -n 1 "$LAB_DIR/logs/probe-v61.log.vantages")" \
  "v61@/run/netns/ah-lab-$id-c-v61	$LAB_DIR/probes-v61" \
  "a list entry is NAME@/run/netns/CLIENT-NAMESPACE, a tab, and the vantage's own directory"
t_eq "$(python3 -c 'import json,sys; print(len({q["vantage"] for q in json.load(open(sys.argv[1]))["queries"]}))' \
  "$LAB_DIR/run.json")" 300 "run.json names the query of each of the 300 vantages"
t_eq "$(ls -d "$LAB_DIR"/probes-* 2>/dev/null | wc -l)" 0 "no probe output directory is left after the merge"
# The sysctls reach the last namespaces too (they are written through a
# private procfs), and the nodes' return routes each have their own metric
# (10 + the vantage's index), which keeps the kernel's route hash flat.
r300="ah-lab-$id-r-v300"
t_eq "$(ip netns exec "$r300" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding \
  /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv6/conf/all/accept_dad | tr '\n' ' ')" \
  "1 1 0 0 " "router v300: forwarding on (IPv4, IPv6), rp_filter and DAD off"
t_eq "$(ip -n "ah-lab-$id-n-n2" -4 route show | grep -o 'metric [0-9]*' | sort -u | wc -l)" 300 \
  "node n2: 300 IPv4 return routes with 300 metrics"
t_match "$(ip -n "ah-lab-$id-n-n2" -4 route show 198.19.4.172/30)" "via 198.18.129.50 .*metric 309" \
  "node n2's return route to v300's clients: via router v300, metric 10 + 299"
# Return routes only where traffic can come from: no vantage prefers n3,
# and the lab's anycast address is IPv4 only.
t_eq "$(ip -n "ah-lab-$id-n-n3" -4 route show | grep -c '^198\.19\.')" 0 \
  "node n3, which no vantage prefers, has no return route"
t_eq "$(ip -n "ah-lab-$id-n-n2" -6 route show | grep -c '^2001:db8:c:')" 0 \
  "node n2 has no IPv6 return route in an IPv4-only lab"
# What the lab process holds (a netlink socket per namespace, namespace
# files) does not reach the processes it starts: a responder kept up has its
# own descriptors only.
rpid=$(ip netns pids "ah-lab-$id-n-n1" | head -n 1)
t_true "the responder of n1 runs ($rpid)" test -n "$rpid"
nfd=$(ls "/proc/$rpid/fd" 2>/dev/null | wc -l)
t_true "the responder of n1 holds at most 64 descriptors, not the lab's 1,200 sockets ($nfd)" \
  test "$nfd" -gt 2 -a "$nfd" -le 64
t_eq "$(ls -l "/proc/$rpid/fd" 2>/dev/null | grep -c '/run/netns/')" 0 \
  "the responder of n1 holds no namespace file"
t_true "down removes the lab" "$LAB" down "$id"
t_eq "$(ip netns list | grep -c "^ah-lab-$id-")" 0 "no namespace of the run is left"

# The fabric: 1 node + 960 routers need two bridges joined by a veth pair;
# vantage 960 (the first end on br1) reaches the node over IPv4 and IPv6.
TT=$AH_BIN/tests/tools/topo_tool
if [ -x "$TT" ] && [ -x "$AH_BIN/anycast-responder" ] && [ -x "$AH_BIN/tests/tools/udp_flows" ]; then
  run=b$$
  LAB_RUNIDS+=("$run")
  out=$(timeout 300 "$TT" up "$run" 1 960 static 2>&1)
  t_match "$out" "^up [0-9.]+ ms \(1922 namespaces\)" "topo_tool builds 1 x 960 ($out)"
  bridges=$(ip -n "ah-lab-$run-f" -br link show type bridge | awk '{print $1}' | sort | tr '\n' ' ')
  t_eq "$bridges" "br0 br1 " "the fabric has two bridges"
  t_match "$(ip -n "ah-lab-$run-f" link show l1)" "master br0" "l1 is a port of br0"
  t_match "$(ip -n "ah-lab-$run-f" link show m1)" "master br1" "its peer m1 is a port of br1"
  t_match "$(ip -n "ah-lab-$run-f" link show r959)" "master br1" "vantage 960's router port is on br1"
  t_bg pid ip netns exec "ah-lab-$run-n-n1" "$AH_BIN/anycast-responder" -l 198.51.100.53 \
    -l 2001:db8:53::53 -i n1 --no-dns --echo-port 7 --log-level error
  t_true "the responder listens" t_wait_for 5 sh -c "ip netns exec ah-lab-$run-n-n1 ss -lun | grep -q ':7 '"
  for fam in 4 6; do
    dst=198.51.100.53
    [ "$fam" = 6 ] && dst="[2001:db8:53::53]"
    for v in v1 v960; do
      r=$(ip netns exec "ah-lab-$run-c-$v" "$AH_BIN/tests/tools/udp_flows" -t 1000 "$dst" 30000 1 2>/dev/null)
      t_eq "${r#* }" n1 "$v (IPv$fam, on br$([ $v = v1 ] && echo 0 || echo 1)) is answered by n1"
    done
  done
  t_match "$(ip -n "ah-lab-$run-r-v960" -6 neigh show 2001:db8:f::1:1)" "lladdr 02:61:68:01:00:00 PERMANENT" \
    "router v960's IPv6 neighbour entry for n1 is permanent"
  t_match "$(ip -n "ah-lab-$run-f" -d link show r959)" "mcast_flood off" \
    "multicast is not flooded to router ports"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  t_true "topo_tool down" "$TT" down "$run"
  t_eq "$(ip netns list | grep -c "^ah-lab-$run-")" 0 "no namespace of the topology is left"
fi
t_done
