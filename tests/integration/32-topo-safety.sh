#!/usr/bin/env bash
# Topology safety: building, changing and removing a lab leaves the host
# namespace's addresses, routes, links and the sysctls the lab writes exactly
# as they were; a lab whose owner was killed with SIGKILL (processes still
# inside) is removed by `down` with every process in it; `up` leaves a lab
# that `down` removes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo_lib.sh"
tt_need

SYSCTLS="ipv4/conf/all/rp_filter ipv4/conf/default/rp_filter ipv4/conf/lo/rp_filter
ipv6/conf/all/accept_dad ipv6/conf/default/accept_dad ipv4/ip_forward ipv6/conf/all/forwarding
ipv4/fib_multipath_hash_policy ipv6/fib_multipath_hash_policy ipv4/fib_multipath_hash_fields
ipv6/fib_multipath_hash_fields ipv4/fib_multipath_hash_seed"
host_state() {
  # Lifetimes count down by themselves: not a change.
  ip addr | grep -v 'valid_lft\|preferred_lft'
  ip route
  ip -6 route | sed 's/ expires [0-9]*sec//'
  ip link
  local k
  for k in $SYSCTLS; do echo "$k=$(cat "/proc/sys/net/$k" 2>/dev/null)"; done
}
lab_ns() { ip netns list | grep -c "^ah-lab-$1-"; }

host_state >"$T_TMP/host.before"

run=h$$
tt_start "$run" 4 3 ecmp-resilient
t_eq "$(lab_ns "$run")" 11 "lab of 4 nodes x 3 vantages is up (11 namespaces)"
t_eq "$(ip netns exec "$(tt_ns r v2)" cat /proc/sys/net/ipv4/ip_forward)" 1 "forwarding on inside the router"
t_true "withdraw" tt withdraw n2
t_true "announce" tt announce n2
t_true "link-down" tt link-down n3
t_true "link-up" tt link-up n3
t_true "down" tt_stop
host_state >"$T_TMP/host.after"
t_true "host addresses, routes, links and sysctls unchanged" cmp -s "$T_TMP/host.before" "$T_TMP/host.after"
diff "$T_TMP/host.before" "$T_TMP/host.after" | head -n 20
t_eq "$(lab_ns "$run")" 0 "no namespace of the run is left"

# SIGKILL of the owner: the lab stays, with a process inside; `down` removes both.
run=k$$
tt_start "$run" 2 1 static
ip netns exec "$(tt_ns n n1)" sleep 300 3>&- &
sleeper=$!
T_PIDS+=("$sleeper")
t_wait_for 5 kill -0 "$sleeper"
kill -KILL "$TT_PID"
wait "$TT_PID" 2>/dev/null
TT_PID=""
t_eq "$(lab_ns "$run")" 5 "after SIGKILL of its owner the lab is still there"
t_true "a process still runs inside it" kill -0 "$sleeper"
t_match "$("$TT_TOOL" down "$run")" "^down .* \\(5 namespaces\\)" "down removes the 5 namespaces"
wait "$sleeper" 2>/dev/null
t_true "the process inside was killed" test ! -e "/proc/$sleeper"
t_eq "$(lab_ns "$run")" 0 "no namespace of the killed run is left"

# up exits and leaves the lab; down removes it.
run=u$$
TT_RUN=$run
t_match "$("$TT_TOOL" up "$run" 3 2 ecmp)" "^up [0-9.]+ ms \\(8 namespaces\\)" "up builds and exits"
t_eq "$(lab_ns "$run")" 8 "the lab stays up after topo_tool exits"
"$TT_TOOL" up "$run" 3 2 ecmp >"$T_TMP/up2.out" 2>"$T_TMP/up2.err"
t_eq "$?" 1 "a second lab with the same run id fails"
t_match "$(cat "$T_TMP/up2.err")" "netns ah-lab-$run-f: create .*File exists" "and names the namespace that exists"
t_eq "$(lab_ns "$run")" 8 "the failed build removed nothing of the first lab"
t_eq "$(ip -n "ah-lab-$run-r-v1" route show 198.51.100.53 | grep -c 'nexthop via')" 3 "the first lab still routes"
t_match "$("$TT_TOOL" down "$run")" "\\(8 namespaces\\)" "down removes it"
t_eq "$(lab_ns "$run")" 0 "nothing left"
# A run whose state names a live anycast-lab owner is not removed by down.
run=o$$
TT_RUN=$run
"$TT_TOOL" up "$run" 2 1 static >/dev/null
cp /bin/sleep "$T_TMP/anycast-lab"
t_bg owner "$T_TMP/anycast-lab" 30
sed -i "s/^owner .*/owner $owner/" "/run/anycast-lab/$run/state"
t_match "$("$TT_TOOL" down "$run")" "\\(0 namespaces\\)" "down skips a run whose owner is alive"
t_eq "$(lab_ns "$run")" 5 "its namespaces stay"
t_true "and its state" test -f "/run/anycast-lab/$run/state"
kill "$owner"
wait "$owner" 2>/dev/null
t_match "$("$TT_TOOL" down "$run")" "\\(5 namespaces\\)" "once the owner is gone, down removes it"
t_eq "$(lab_ns "$run")" 0 "nothing left"
t_true "nor its state" test ! -e "/run/anycast-lab/$run"

host_state >"$T_TMP/host.after2"
t_true "host still unchanged" cmp -s "$T_TMP/host.before" "$T_TMP/host.after2"
t_done
