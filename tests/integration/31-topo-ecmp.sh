#!/usr/bin/env bash
# Topology, routing ecmp and ecmp-resilient: 3 nodes x 2 vantages. With
# several UDP source ports, more than one node answers a vantage, and a flow
# (source port) keeps its node (the routers hash the packets' 5-tuple:
# fib_multipath_hash_policy=3, fields 0x37; see docs/topology.md). ecmp: withdraw takes the node
# out of the multipath route. ecmp-resilient: the routers hold a resilient
# nexthop group; withdraw removes only that member, and flows that were on the
# other nodes stay where they were.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo_lib.sh"
tt_need

FLOWS=32
UF=$AH_BIN/tests/tools/udp_flows
[ -x "$UF" ] || t_skip "needs $UF (make unit)"
flows() { # vantage [4|6] -> "sport=node" per flow, one UDP socket per source port
  local dst=198.51.100.53
  [ "${2:-4}" = 6 ] && dst="[2001:db8:53::53]"
  ip netns exec "$(tt_ns c "$1")" "$UF" "$dst" 41000 "$FLOWS" | tr ' ' =
}
distinct() { cut -d= -f2 | sort -u | grep -v '^none$' | wc -l; }

# --- plain ecmp ---
run=e$$
tt_start "$run" ams,nyc,sin 2 ecmp
tt_responders ams nyc sin
r=$(tt_ns r v1)
t_eq "$(ip netns exec "$r" cat /proc/sys/net/ipv4/fib_multipath_hash_policy)" 3 "router: IPv4 multipath hash on the 5-tuple"
t_eq "$(ip netns exec "$r" cat /proc/sys/net/ipv6/fib_multipath_hash_policy)" 3 "router: IPv6 multipath hash on the 5-tuple"
t_eq "$(ip netns exec "$r" cat /proc/sys/net/ipv4/fib_multipath_hash_fields)" 55 "router: hash fields addresses, protocol, ports"
t_eq "$(ip -n "$r" route show 198.51.100.53 | grep -c 'nexthop via')" 3 "router: one multipath route with 3 nexthops"
before=$(flows v1)
t_true "several nodes answer v1 across $FLOWS source ports ($(echo "$before" | distinct))" \
  test "$(echo "$before" | distinct)" -ge 2
t_eq "$(echo "$before" | grep -c '=none$')" 0 "every flow answered"
t_eq "$(flows v1)" "$before" "each flow (new socket, same source port) lands on the same node again"
before6=$(flows v1 6)
t_true "IPv6: several nodes answer ($(echo "$before6" | distinct))" test "$(echo "$before6" | distinct)" -ge 2
t_true "withdraw ams (the first nexthop)" tt withdraw ams
t_eq "$(ip -n "$r" route show 198.51.100.53 | grep -c 'nexthop via')" 2 "IPv4 multipath route down to 2 nexthops"
t_eq "$(ip -n "$r" -6 route show 2001:db8:53::53 | grep -c 'nexthop via')" 2 "IPv6 multipath route down to 2 nexthops"
after=$(flows v1)
t_eq "$(echo "$after" | grep -c '=ams$')" 0 "after withdraw: no flow lands on ams"
t_eq "$(echo "$after" | grep -c '=none$')" 0 "after withdraw: every flow answered"
moved=$(join -t= <(echo "$before" | grep -v '=ams$' | sort) <(echo "$after" | sort) | awk -F= '$2 != $3' | wc -l)
echo "info - plain ecmp: $moved of $(echo "$before" | grep -vc '=ams$') flow(s) not on ams moved to another node (rehash)"
t_true "monitor: v1 router now sends to nyc+sin" t_wait_for 5 grep -q '^route v1 nyc+sin ' "$T_TMP/tt.out"
t_true "withdraw every node" tt withdraw nyc
t_true "withdraw every node" tt withdraw sin
t_eq "$(ip -n "$r" route show 198.51.100.53 | wc -l)" 0 "no route left when nothing is announced"
t_true "monitor: none" t_wait_for 5 grep -q '^route v1 none ' "$T_TMP/tt.out"
t_true "announce nyc" tt announce nyc
t_eq "$(who v1 6)" nyc "announce after an empty set: IPv6 answered by nyc"
t_true "topo_tool tears down" tt_stop

# --- ecmp-resilient ---
T_PIDS=()
run=r$$
tt_start "$run" ams,nyc,sin 2 ecmp-resilient
tt_responders ams nyc sin
r=$(tt_ns r v1)
t_match "$(ip -n "$r" nexthop show id 1048580)" "group 1/2/3 type resilient buckets 128" "IPv4 resilient group of the 3 nodes"
t_match "$(ip -n "$r" nexthop show id 1048582)" "group 65536/65537/65538 type resilient" "IPv6 resilient group of the 3 nodes"
t_match "$(ip -n "$r" route show 198.51.100.53)" "nhid 1048580" "anycast route uses the group"
before=$(flows v1)
t_true "several nodes answer v1 ($(echo "$before" | distinct))" test "$(echo "$before" | distinct)" -ge 2
t_true "withdraw nyc" tt withdraw nyc
t_match "$(ip -n "$r" nexthop show id 1048580)" "group 1/3 type resilient" "withdraw removed only nyc from the IPv4 group"
t_match "$(ip -n "$r" nexthop show id 1048582)" "group 65536/65538 type resilient" "and from the IPv6 group"
t_eq "$(ip -n "$r" nexthop show | grep -c '^id [0-9]* via')" 6 "the nodes' nexthop objects stay"
after=$(flows v1)
t_eq "$(echo "$after" | grep -c '=nyc$')" 0 "after withdraw: no flow lands on nyc"
t_eq "$(echo "$after" | grep -c '=none$')" 0 "after withdraw: every flow answered"
moved=$(join -t= <(echo "$before" | grep -v '=nyc$' | sort) <(echo "$after" | sort) | awk -F= '$2 != $3' | wc -l)
t_eq "$moved" 0 "resilient: flows on ams and sin stayed where they were"
t_true "some flows were on nyc before (the withdraw mattered)" grep -q '=nyc$' <<<"$before"
t_true "monitor: v1 router now sends to ams+sin" t_wait_for 5 grep -q '^route v1 ams+sin ' "$T_TMP/tt.out"
t_true "announce nyc" tt announce nyc
t_match "$(ip -n "$r" nexthop show id 1048580)" "group 1/2/3 type resilient" "announce put nyc back"
t_true "monitor: back to all three" t_wait_for 5 grep -q '^route v1 ams+nyc+sin ' "$T_TMP/tt.out"
t_true "topo_tool tears down" tt_stop
t_eq "$(ip netns list | grep -c "^ah-lab-[er]$$-")" 0 "no namespace of either run is left"
t_done
