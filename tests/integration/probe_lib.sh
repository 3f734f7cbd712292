# Helpers for the anycast-probe integration tests (2x-probe-*.sh), sourced
# after lib.sh: the programs and what they need, the anycast addresses and
# ports, one namespace with a responder to probe, and counting CSV rows.
# shellcheck shell=bash disable=SC2034 # the variables are for the tests

P=$AH_BIN/anycast-probe
R=$AH_BIN/anycast-responder
V4=198.51.100.53
V6=2001:db8:53::53
PORTS=(--dns-port 5300 --echo-port 5307)

# probe_need [TOOL...]: root, the tools and both programs. A missing
# anycast-probe is a failure (the test is about it: build first); a missing
# anycast-responder a skip.
# shellcheck disable=SC2120 # the tools are optional
probe_need() {
  t_need_root
  t_need "$@"
  [ -x "$P" ] || { echo "missing $P (build first)"; exit 1; }
  [ -x "$R" ] || t_skip "no $R yet"
}

# probe_ns: one namespace, its name in NS, with the anycast addresses on
# its lo; in_ns CMD... runs a command in it.
probe_ns() {
  t_netns NS
  t_anycast_lo "$NS"
}
in_ns() { ip netns exec "$NS" "$@"; }

# probe_responder VAR [ARGS...]: starts anycast-responder "node-a" in NS on
# $V4 with the ports of PORTS (plus ARGS), its PID in VAR, stderr appended to
# $T_TMP/responder.log; returns 0 once it answers, 1 when it does not within
# 5 s.
probe_responder() {
  local pidvar=$1; shift
  t_bg "$pidvar" ip netns exec "$NS" "$R" --listen "$V4" --identity node-a --dns-port 5300 \
    --echo-port 5307 "$@" 2>>"$T_TMP/responder.log"
  t_wait_for 5 in_ns "$P" --once -t udp -s dns --dns-port 5300 "$V4"
}

# count FILE AWK-CONDITION: how many data rows of a CSV file match.
count() { awk -F, "NR > 1 && ($2)" "$1" | wc -l; }
