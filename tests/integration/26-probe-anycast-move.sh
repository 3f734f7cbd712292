#!/usr/bin/env bash
# The anycast case itself: one client behind a router, two nodes with the
# same address. When the router's route moves from node-a to node-b, every
# UDP flow's answers move too (one flip per flow, docs/formats.md, "Metrics"), and every
# established TCP connection is reset by node-b on its next write, then
# reconnects to node-b.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need

t_netns C
t_netns RT
t_netns A
t_netns B
ip link add c0 netns "$C" type veth peer name r0 netns "$RT"
ip link add a0 netns "$A" type veth peer name ra netns "$RT"
ip link add b0 netns "$B" type veth peer name rb netns "$RT"
ip -n "$C" addr add 203.0.113.1/30 dev c0
ip -n "$RT" addr add 203.0.113.2/30 dev r0
ip -n "$RT" addr add 203.0.113.5/30 dev ra
ip -n "$A" addr add 203.0.113.6/30 dev a0
ip -n "$RT" addr add 203.0.113.9/30 dev rb
ip -n "$B" addr add 203.0.113.10/30 dev b0
for l in "$C c0" "$RT r0" "$RT ra" "$RT rb" "$A a0" "$B b0"; do
  set -- $l
  ip -n "$1" link set "$2" up
done
ip -n "$C" route add default via 203.0.113.2
ip -n "$A" route add default via 203.0.113.5
ip -n "$B" route add default via 203.0.113.9
for ns in "$C" "$RT" "$A" "$B"; do
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip netns exec "$RT" sysctl -qw net.ipv4.ip_forward=1
ip -n "$RT" route add "$V4"/32 via 203.0.113.6
for n in A B; do
  ns=${!n}
  ip -n "$ns" addr add "$V4"/32 dev lo
  t_bg pid ip netns exec "$ns" "$R" --listen "$V4" --identity "node-${n,,}" --dns-port 5300 \
    --echo-port 5307 2>>"$T_TMP/responder.log"
done
in_c() { ip netns exec "$C" "$@"; }
t_true "node-a answers through the router" \
  t_wait_for 5 in_c "$P" --once -s dns -s echo --dns-port 5300 --echo-port 5307 "$V4"

out=$T_TMP/move
( sleep 1.5; ip -n "$RT" route replace "$V4"/32 via 203.0.113.10 ) &
mover=$!
in_c "$P" -s dns -s echo -t both -r 80 -f 4 -c 2 -i 100ms -d 3s --dns-port 5300 --echo-port 5307 \
  --vantage c -o "$out" --summary-json "$out.json" "$V4" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "run exits 0"
wait "$mover"
T_DUMP+=("$out/connections.csv" "$out.err")
sorted=$(sed 1d "$out/probes.csv" | sort -t, -k1,1n)
t_eq "$(echo "$sorted" | head -n 20 | awk -F, '$9 != "node-a"' | wc -l)" 0 "node-a answers first"
t_eq "$(echo "$sorted" | tail -n 20 | awk -F, '$9 != "node-b"' | wc -l)" 0 "node-b answers last"
t_eq "$(count "$out/probes.csv" '$4 == "udp" && $8 != "ok"')" 0 "no UDP probe lost"
t_match "$(cat "$out.sum")" "udp dns : 120 probes, 120 ok, 0 lost; .*flips 4" \
  "udp dns: each of the 4 flows flipped once"
t_match "$(cat "$out.sum")" "udp echo: 120 probes, 120 ok, 0 lost; .*flips 4" \
  "udp echo: each of the 4 flows flipped once"
t_match "$(tr -d '\n' <"$out.json")" '"nodes": \{"node-a": [0-9]+, "node-b": [0-9]+\}, "flips": 4' \
  "summary JSON nodes and flips"
# Per flow, the nodes in send order switch exactly once, from a to b.
t_eq "$(echo "$sorted" | awk -F, '$4 == "udp" { k = $5 "/" $6
  if (last[k] != "" && last[k] != $9) { sw[k]++; if ($9 != "node-b") bad++ } last[k] = $9 }
  END { for (k in last) if (sw[k] != 1) bad++; print bad + 0 }')" 0 "each flow: a...a b...b"
t_eq "$(count "$out/connections.csv" '$6 == "node-a" && $8 == "reset"')" 4 \
  "the 4 connections on node-a were reset by node-b"
t_eq "$(count "$out/probes.csv" '$4 == "tcp" && $8 == "reset" && $11 == "ECONNRESET"')" 4 \
  "one probe per broken connection: reset ECONNRESET"
t_eq "$(count "$out/connections.csv" '$6 == "node-b" && $8 == "end"')" 4 \
  "4 reconnected connections on node-b, ended by us"
t_done
