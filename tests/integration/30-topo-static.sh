#!/usr/bin/env bash
# Topology, routing static: 3 nodes x 2 vantages built over netlink by
# topo_tool. Each vantage reaches its preferred node over IPv4 and IPv6; a
# withdraw moves it to the next one, announce moves it back; the route
# monitor reports each change; link-down/link-up of a node's fabric link
# comes back with IPv6 working; teardown leaves no namespace.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo_lib.sh"
tt_need

run=s$$
tt_start "$run" ams,nyc,sin "eu=ams/nyc/sin,us=nyc/ams/sin" static
tt_responders ams nyc sin

t_eq "$(grep -c . <(ip netns list | grep "^ah-lab-$run-"))" 8 "8 namespaces (fabric, 3 nodes, 2 routers, 2 clients)"
rp=$(for ns in $(ip netns list | awk '{print $1}' | grep "^ah-lab-$run-"); do
  ip netns exec "$ns" sh -c 'grep -H . /proc/sys/net/ipv4/conf/*/rp_filter'; done)
t_eq "$(echo "$rp" | wc -l)" 39 "rp_filter of all/default/every interface in the 8 namespaces"
t_eq "$(echo "$rp" | grep -vc ':0$')" 0 "every rp_filter is 0"
t_eq "$(ip netns exec "$(tt_ns r eu)" cat /proc/sys/net/ipv6/conf/all/forwarding)" 1 "router forwards IPv6"
t_eq "$(ip netns exec "$(tt_ns n ams)" cat /proc/sys/net/ipv4/ip_forward)" 0 "a node does not forward"
t_match "$(ip -n "$(tt_ns n ams)" addr show dev lo)" "inet6 2001:db8:53::53/128 scope global nodad" "anycast IPv6 on lo, nodad"
t_eq "$(who eu 4)" ams "eu (IPv4) answered by its first preference"
t_eq "$(who eu 6)" ams "eu (IPv6) answered by its first preference"
t_eq "$(who us 4)" nyc "us (IPv4) answered by its first preference"
t_eq "$(who us 6)" nyc "us (IPv6) answered by its first preference"
if [ -x "$AH_BIN/anycast-responder" ]; then
  t_eq "$(who_tcp eu 4)" ams "eu over TCP (IPv4) reaches ams"
  t_eq "$(who_tcp us 6)" nyc "us over TCP (IPv6) reaches nyc"
fi
t_match "$(ip -n "$(tt_ns r eu)" route show 198.51.100.53 | tr '\n' ' ')" \
  "via 198.18.1.1 .*metric 100 .*via 198.18.1.2 .*metric 101 .*via 198.18.1.3 .*metric 102" \
  "eu router: floating statics in prefer order"

t_true "withdraw ams acknowledged" tt withdraw ams
t_match "$(grep '^ok withdraw ams' "$T_TMP/tt.out")" '^ok withdraw ams [0-9]{19} [0-9.]+$' "withdraw returns the ACK time"
t_eq "$(who eu 4)" nyc "after withdraw ams: eu (IPv4) answered by nyc"
t_eq "$(who eu 6)" nyc "after withdraw ams: eu (IPv6) answered by nyc"
t_eq "$(who us 4)" nyc "after withdraw ams: us unchanged"
t_true "monitor: eu router now sends to nyc" t_wait_for 5 grep -q '^route eu nyc ' "$T_TMP/tt.out"
t_eq "$(grep -c '^route us' "$T_TMP/tt.out")" 0 "monitor: nothing changed at us"

t_true "announce ams acknowledged" tt announce ams
t_eq "$(who eu 4)" ams "after announce ams: eu back on ams"
t_true "monitor: eu router back to ams" t_wait_for 5 grep -q '^route eu ams ' "$T_TMP/tt.out"

t_true "withdraw nyc acknowledged" tt withdraw nyc
t_eq "$(who us 6)" ams "after withdraw nyc: us (IPv6) answered by ams"
t_true "withdraw ams too" tt withdraw ams
t_eq "$(who eu 4)" sin "with ams and nyc withdrawn: eu answered by sin"
t_eq "$(who us 4)" sin "with ams and nyc withdrawn: us answered by sin"
t_true "announce both" tt announce nyc
t_true "announce both" tt announce ams
t_true "monitor: state is back to the start" tt state
t_eq "$(grep '^state' "$T_TMP/tt.out" | tail -n 2 | tr '\n' ' ')" "state eu ams state us nyc " \
  "monitor state after announcing all"

# link-down deletes the node's IPv6 address and its routes; link-up puts them back.
t_true "link-down ams" tt link-down ams
t_eq "$(ip -n "$(tt_ns n ams)" -6 addr show dev fab0 scope global | grep -c 2001:db8:f::1:1)" 0 \
  "link-down removed the node's IPv6 fabric address (kernel behaviour)"
t_eq "$(who eu 6)" none "eu gets no answer while ams's link is down (static route stays)"
t_true "link-up ams" tt link-up ams
t_eq "$(ip -n "$(tt_ns n ams)" -6 addr show dev fab0 scope global | grep -c 2001:db8:f::1:1)" 1 \
  "link-up put the IPv6 fabric address back"
t_true "eu (IPv6) answered by ams again" t_wait_for 5 who_is eu 6 ams
t_eq "$(who eu 4)" ams "eu (IPv4) answered by ams again"

t_true "topo_tool quits and tears down" tt_stop
t_eq "$(ip netns list | grep -c "^ah-lab-$run-")" 0 "no namespace of the run is left"
t_eq "$(ls /run/anycast-lab/"$run" 2>/dev/null | wc -l)" 0 "no state of the run is left"

# A prefer list that leaves nodes out: they get no route at that router.
run=p$$
T_PIDS=()
tt_start "$run" ams,nyc,sin "eu=ams/nyc,us=sin" static
t_eq "$(ip -n "$(tt_ns r eu)" route show 198.51.100.53 | awk '{print $3, $NF}' | tr '\n' ' ')" \
  "198.18.1.1 100 198.18.1.2 101 " "eu: routes to ams and nyc only"
t_eq "$(ip -n "$(tt_ns r us)" -6 route show 2001:db8:53::53 | grep -c via)" 1 "us: one route (sin)"
t_true "withdraw sin" tt withdraw sin
t_true "monitor: us has no node left" grep -q '^route us none ' "$T_TMP/tt.out"
t_eq "$(grep -c '^route eu' "$T_TMP/tt.out")" 0 "monitor: eu unaffected"
t_true "withdraw nyc (not preferred by us)" tt withdraw nyc
t_true "state" tt state
t_eq "$(grep '^state' "$T_TMP/tt.out" | tr '\n' ' ')" "state eu ams state us none " "monitor state"
t_true "teardown" tt_stop
t_eq "$(ip netns list | grep -c "^ah-lab-$run-")" 0 "no namespace of the second run is left"
t_done
