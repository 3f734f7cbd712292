#!/usr/bin/env bash
# The kernel's floor for a big lab's topology: how long iproute2 alone takes
# to create N network namespaces, one veth pair in each (both ends inside
# it, up), and to delete them all, with the work split over J parallel
# `ip -batch` shells. A 256 x 1024 lab has 2,305 namespaces (fabric, 256
# nodes, 1,024 routers, 1,024 clients) and about as many veth pairs, so this
# says how far anycast-lab's "up" is from what the kernel allows here
# (docs/anycast-lab.md, "Scale"). Names are NAMEPREFIX-<pid>-<i>, removed
# again whatever happens; nothing is created in the host namespace.
# Usage: bench/netns_floor.sh [N [J]]   (default 2305 namespaces, 2 shells)
set -uo pipefail
N=${1:-2305}
J=${2:-2}
[ "$(id -u)" -eq 0 ] || { echo "bench/netns_floor.sh: needs root" >&2; exit 2; }
pfx=ahfloor-$$
dir=$(mktemp -d /tmp/ahfloor.XXXXXX)
cleanup() {
  ip netns list | awk -v p="$pfx-" 'index($1, p) == 1 {print "netns del " $1}' >"$dir/left"
  [ -s "$dir/left" ] && ip -force -batch "$dir/left" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# batch KIND: J files of ip commands, namespace i in file i mod J.
batch() {
  local i
  for ((i = 1; i <= N; i++)); do
    case $1 in
      add) echo "netns add $pfx-$i" ;;
      veth) echo "link add name a netns $pfx-$i type veth peer name b netns $pfx-$i" ;;
      del) echo "netns del $pfx-$i" ;;
    esac >>"$dir/$1.$((i % J))"
  done
}

# phase KIND: runs the J files side by side; prints the wall time in ms and
# the ip processes' kernel CPU time in s (the namespaces' later freeing runs
# in kernel workers and is not in it).
phase() {
  local t0 t1 j
  batch "$1"
  t0=$(date +%s%N)
  for ((j = 0; j < J; j++)); do
    /usr/bin/time -o "$dir/$1.$j.time" -f "%S" ip -force -batch "$dir/$1.$j" \
      >/dev/null 2>"$dir/$1.$j.err" &
  done
  wait
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000)) $(cat "$dir/$1".*.time | awk '{s += $1} END {printf "%.1f", s}')"
}

[ -x /usr/bin/time ] || { echo "bench/netns_floor.sh: needs GNU time" >&2; exit 2; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
read -r add add_cpu < <(phase add)
read -r veth veth_cpu < <(phase veth)
read -r del del_cpu < <(phase del)
errs=$(cat "$dir"/*.err 2>/dev/null | wc -l)
echo "$N namespaces, $J shells (load $load0): netns add $add ms (kernel CPU $add_cpu s)," \
  "veth add $veth ms ($veth_cpu s), both $((add + veth)) ms; delete $del ms ($del_cpu s);" \
  "$errs error lines"
