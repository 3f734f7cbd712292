#!/usr/bin/env bash
# The lab topology of docs/topology.md built with iproute2 commands instead of
# netlink from one process: the baseline bench/lab.sh compares against.
# Same namespaces, links, addresses, sysctls and routes (static routing).
#
# usage: bench/lab_ip.sh up RUNID NODES VANTAGES [batch|naive]
#        bench/lab_ip.sh down RUNID
# batch (default): one `ip -batch` per namespace for its addresses and
# routes (the fast way to script it); naive: one `ip` process per command.
set -euo pipefail

usage() { echo "usage: $0 up RUNID NODES VANTAGES [batch|naive] | down RUNID" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 run=$2
pre="ah-lab-$run"

if [ "$cmd" = down ]; then
  for ns in $(ip netns list | awk '{print $1}' | grep "^$pre-"); do
    ip netns pids "$ns" | xargs -r kill -KILL
    ip netns del "$ns"
  done
  exit 0
fi
if [ "$cmd" != up ] || [ $# -lt 4 ]; then usage; fi
N=$3 V=$4 mode=${5:-batch}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ah-lab-ip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

node4() { echo "198.18.$((1 + $1 / 250)).$((1 + $1 % 250))"; }
node6() { printf '2001:db8:f::1:%x' $(($1 + 1)); }
rtr4() { echo "198.18.$((128 + $1 / 250)).$((1 + $1 % 250))"; }
rtr6() { printf '2001:db8:f::2:%x' $(($1 + 1)); }
cli4() { local b=$((4 * $1 + $2)); echo "198.19.$((b / 256)).$((b % 256))"; } # v, offset
cli6() { printf '2001:db8:c:%x::%x' "$1" "$2"; }

# run NS FILE: the commands of FILE in namespace NS, one way or the other.
run() {
  if [ "$mode" = naive ]; then
    local line
    while read -r line; do
      # shellcheck disable=SC2086
      ip -n "$1" $line
    done <"$2"
  else
    ip -n "$1" -batch "$2"
  fi
}

mkns() { # name router?
  ip netns add "$1"
  if [ "$2" = 1 ]; then
    ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.lo.rp_filter=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  else
    ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.lo.rp_filter=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  fi
}

f=$pre-f
mkns "$f" 0
for ((i = 0; i < N; i++)); do mkns "$pre-n-n$((i + 1))" 0; done
for ((v = 0; v < V; v++)); do mkns "$pre-r-v$((v + 1))" 1; mkns "$pre-c-v$((v + 1))" 0; done

{
  echo "link set lo up"
  echo "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0"
  echo "link set br0 up"
  for ((i = 0; i < N; i++)); do
    echo "link add n$i master br0 up type veth peer name fab0 netns $pre-n-n$((i + 1))"
  done
  for ((v = 0; v < V; v++)); do
    echo "link add r$v master br0 up type veth peer name fab0 netns $pre-r-v$((v + 1))"
  done
} >"$tmp/fabric"
run "$f" "$tmp/fabric"

for ((v = 0; v < V; v++)); do
  {
    echo "link set lo up"
    echo "link set fab0 up"
    echo "link add cli0 up type veth peer name up0 netns $pre-c-v$((v + 1))"
    echo "addr add $(rtr4 $v)/16 dev fab0"
    echo "addr add $(rtr6 $v)/64 dev fab0 nodad"
    echo "addr add $(cli4 $v 1)/30 dev cli0"
    echo "addr add $(cli6 $v 1)/64 dev cli0 nodad"
    for ((r = 0; r < N; r++)); do
      i=$(((v + r) % N))
      echo "route add 198.51.100.53/32 via $(node4 $i) dev fab0 metric $((100 + r)) proto static"
      echo "route add 2001:db8:53::53/128 via $(node6 $i) dev fab0 metric $((100 + r)) proto static"
    done
  } >"$tmp/r$v"
  run "$pre-r-v$((v + 1))" "$tmp/r$v"
  {
    echo "link set lo up"
    echo "link set up0 up"
    echo "addr add $(cli4 $v 2)/30 dev up0"
    echo "addr add $(cli6 $v 2)/64 dev up0 nodad"
    echo "route add default via $(cli4 $v 1) dev up0 metric 10"
    echo "route add default via $(cli6 $v 1) dev up0 metric 10"
  } >"$tmp/c$v"
  run "$pre-c-v$((v + 1))" "$tmp/c$v"
done

for ((i = 0; i < N; i++)); do
  {
    echo "link set lo up"
    echo "link set fab0 up"
    echo "addr add 198.51.100.53/32 dev lo"
    echo "addr add 2001:db8:53::53/128 dev lo nodad"
    echo "addr add $(node4 $i)/16 dev fab0"
    echo "addr add $(node6 $i)/64 dev fab0 nodad"
    for ((v = 0; v < V; v++)); do
      echo "route add $(cli4 $v 0)/30 via $(rtr4 $v) dev fab0 metric 10"
      echo "route add $(cli6 $v 0)/64 via $(rtr6 $v) dev fab0 metric 10"
    done
  } >"$tmp/n$i"
  run "$pre-n-n$((i + 1))" "$tmp/n$i"
done
