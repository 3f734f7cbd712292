#!/usr/bin/env bash
# anycast-probe when the target loses its route: client -- router -- node in
# three namespaces. The router's route turning "unreachable" makes it answer
# with ICMP host unreachable, which IP_RECVERR turns into "unreachable" for
# UDP probes, established TCP connections and new connects (the kernel sends
# those ICMP errors at 1/s after a burst of 5 per source address, so UDP and
# TCP run from different sources and the rest may time out); a local
# unreachable route fails at once; a blackhole is only seen by
# TCP_USER_TIMEOUT (reason timeout, ETIMEDOUT). Restoring the route brings
# the answers back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need

t_netns C
t_netns RT
t_netns N
ip link add c0 netns "$C" type veth peer name r0 netns "$RT"
ip link add n0 netns "$N" type veth peer name r1 netns "$RT"
ip -n "$C" addr add 203.0.113.1/29 dev c0
ip -n "$C" addr add 203.0.113.3/29 dev c0
ip -n "$RT" addr add 203.0.113.2/29 dev r0
ip -n "$RT" addr add 203.0.113.9/30 dev r1
ip -n "$N" addr add 203.0.113.10/30 dev n0
for l in "$C c0" "$RT r0" "$RT r1" "$N n0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$C" route add default via 203.0.113.2
ip -n "$N" route add default via 203.0.113.9
ip -n "$N" addr add "$V4"/32 dev lo
ip netns exec "$RT" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
for ns in "$RT" "$N" "$C"; do
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip -n "$RT" route add "$V4"/32 via 203.0.113.10

t_bg RPID ip netns exec "$N" "$R" --listen "$V4" --identity node-n --dns-port 5300 \
  --echo-port 5307 2>"$T_TMP/responder.log"
in_c() { ip netns exec "$C" "$@"; }
t_true "node answers through the router" \
  t_wait_for 5 in_c "$P" --once -s dns -s echo --dns-port 5300 --echo-port 5307 "$V4"

# --- ICMP host unreachable from the router ---------------------------------------
# flip [tcp]: the router's route turns unreachable after 1 s and comes back
# 1 s later. With "tcp" the first second counts from the first established
# connection rather than from now (a probe slow to start on a loaded machine
# still has connections up when the route goes), and the route stays
# unreachable until no connection is established any more (a connection
# learns of the ICMP error on its next send, which a probe under the
# sanitizer on a loaded machine may make late; at most 4 s), then 1 s more
# for reconnects to fail. The time the route is back (epoch ns) goes to
# $T_TMP/restored: "answers again" counts from there, not from the run's
# end, so a flip that a loaded machine makes late only shortens that window.
established() { [ -n "$(ip netns exec "$C" ss -Htn state established dst "$V4")" ]; }
flip() {
  ( if [ "${1:-}" = tcp ] && ! t_wait_for 5 established; then
      echo "flip: no connection to $V4 established within 5 s"
    fi
    sleep 1; ip -n "$RT" route replace unreachable "$V4"/32
    if [ "${1:-}" = tcp ] && ! t_wait_for 4 eval '! established'; then
      echo "flip: connections to $V4 still established 4 s after the route went"
    fi
    sleep 1; ip -n "$RT" route replace "$V4"/32 via 203.0.113.10
    date +%s%N >"$T_TMP/restored" ) &
  flipper=$!
}
# after_restore FILE: the probes sent from 300 ms after the route came back
# (a reconnect waits for the next probe tick), as "ok" and "all" counts.
after_restore() {
  awk -F, -v from="$(($(cat "$T_TMP/restored") + 300000000))" \
    'NR > 1 && $1 >= from {all++; if ($8 == "ok") ok++} END {print ok + 0, all + 0}' "$1"
}
out=$T_TMP/icmp-tcp
flip tcp
in_c "$P" -s echo -t tcp -c 2 -i 100ms -d 6s --source 203.0.113.1 "${PORTS[@]}" -o "$out" \
  "$V4" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "TCP run exits 0"
wait "$flipper"
t_true "established TCP connections ended unreachable" \
  [ "$(count "$out/connections.csv" '$8 == "unreachable" && $9 > 0')" -ge 1 ]
t_true "their probes: unreachable EHOSTUNREACH" \
  [ "$(count "$out/probes.csv" '$8 == "unreachable" && $11 == "EHOSTUNREACH"')" -ge 1 ]
t_true "reconnects failed unreachable" \
  [ "$(count "$out/connections.csv" '$8 == "unreachable" && $9 == 0')" -ge 1 ]
t_eq "$(count "$out/probes.csv" '$8 != "ok" && $8 != "unreachable" && $8 != "timeout"')" 0 \
  "no failure other than unreachable or timeout"
read -r ok all < <(after_restore "$out/probes.csv")
t_true "TCP answers again once the route is back ($ok of $all probes ok)" \
  [ "$all" -ge 4 -a "$ok" -eq "$all" ]
# From the first probe that failed to the end of its connection: one ICMP
# round trip, far below a second.
first_end=$(awk -F, 'NR > 1 && $8 == "unreachable" && $9 > 0 {print $7}' \
  "$out/connections.csv" | sort -n | head -n 1)
first_probe=$(awk -F, 'NR > 1 && $8 == "unreachable" {print $1}' "$out/probes.csv" \
  | sort -n | head -n 1)
t_true "connection ends within 1 s of its failed probe" \
  [ $(( (${first_end:-0} - ${first_probe:-0}) / 1000000 )) -lt 1000 ]

out=$T_TMP/icmp-udp
flip
in_c "$P" -s dns -t udp -r 20 -d 3.5s --source 203.0.113.3 "${PORTS[@]}" -o "$out" "$V4" \
  >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "UDP run exits 0"
wait "$flipper"
t_true "UDP probes unreachable (EHOSTUNREACH via IP_RECVERR)" \
  [ "$(count "$out/probes.csv" '$8 == "unreachable" && $11 == "EHOSTUNREACH"')" -ge 3 ]
t_eq "$(count "$out/probes.csv" '$8 != "ok" && $8 != "unreachable" && $8 != "timeout"')" 0 \
  "no failure other than unreachable or timeout"
read -r ok all < <(after_restore "$out/probes.csv")
t_true "UDP answers again once the route is back ($ok of $all probes ok)" \
  [ "$all" -ge 5 -a "$ok" -eq "$all" ]

# --- a local unreachable route --------------------------------------------------
ip -n "$C" route add unreachable 203.0.113.99/32
out=$T_TMP/local
in_c "$P" -s dns -t both -r 20 -i 100ms -d 1s -o "$out" 203.0.113.99 >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "run against a target without route exits 0"
t_eq "$(count "$out/probes.csv" '$4 == "udp" && $8 == "unreachable"')" 20 \
  "every UDP probe unreachable at once"
t_true "every TCP probe unreachable" \
  [ "$(count "$out/probes.csv" '$4 == "tcp" && $8 == "unreachable"')" -ge 8 ]
t_eq "$(count "$out/probes.csv" '$8 != "unreachable"')" 0 "nothing else"

# --- blackhole: silence, bounded by TCP_USER_TIMEOUT -------------------------------
out=$T_TMP/blackhole
( sleep 1; ip -n "$RT" route replace blackhole "$V4"/32 ) &
flipper=$!
in_c "$P" -s echo -t tcp -c 2 -i 200ms --timeout 5s --tcp-user-timeout 500ms --reconnect never \
  -d 4s "${PORTS[@]}" -o "$out" "$V4" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "blackhole run exits 0"
wait "$flipper"
t_eq "$(count "$out/connections.csv" '$8 == "timeout"')" 2 \
  "both connections ended by TCP_USER_TIMEOUT"
t_eq "$(count "$out/probes.csv" '$8 == "timeout" && $11 == "ETIMEDOUT"')" 2 \
  "their last probes: timeout ETIMEDOUT (before the 5 s probe timeout)"
t_done
