#!/usr/bin/env bash
# UDP GRO on both ends: anycast-probe sends each DNS flow's batch as one UDP
# GSO message and anycast-responder answers a run to one peer the same way;
# with GRO on (the default) each side reads such a run as one buffer and
# splits it. Every probe still gets its own row, answered, with the RTT from
# kernel stamps; the responder's udp_dns_coalesced counts the queries that
# came in a shared buffer, the probe's debug log the answers per buffer read.
# With --no-udp-gro on either side, nothing is coalesced on that side, and
# every probe is still answered. IPv4 and IPv6.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need socat

probe_ns
CTL=$T_TMP/ctl.sock
CTL2=$T_TMP/ctl2.sock
stat_of() { echo stats | in_ns socat -t 2 - "UNIX-CONNECT:$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
probe_responder RPID --listen "$V6" --no-echo --control "$CTL"
t_true "responder answers" [ $? -eq 0 ]
t_bg R2PID ip netns exec "$NS" "$R" --listen "$V4" --identity node-b --dns-port 5301 --no-echo \
  --no-udp-gro --control "$CTL2" 2>>"$T_TMP/responder.log"
t_true "--no-udp-gro responder answers" \
  t_wait_for 5 in_ns "$P" --once -t udp -s dns --dns-port 5301 "$V4"
T_DUMP+=("$T_TMP/responder.log")

# run NAME PORT TARGET [probe options...]: 20,000 DNS probes at 20k/s on one
# flow, so each timer tick (one a millisecond) sends about 20 queries as one
# message.
# Sets OK (rows ok), KS (RTTs from kernel stamps), BUFS and DGRAMS (answer
# buffers read and the answers in them, from the debug log).
run() {
  local name=$1 port=$2 target=$3 out=$T_TMP/$1
  shift 3
  in_ns "$P" -s dns -r 20000 -n 20000 --timeout 5s --dns-port "$port" -q hostname.bind \
    --progress never --log-level debug -o "$out" --summary-json "$out.json" "$@" "$target" \
    >"$out.sum" 2>"$out.err"
  t_eq "$?" 0 "$name: anycast-probe exits 0"
  T_DUMP+=("$out.err")
  t_eq "$(($(wc -l <"$out/probes.csv") - 1))" 20000 "$name: one row per probe"
  OK=$(count "$out/probes.csv" '$8 == "ok"')
  t_eq "$OK" 20000 "$name: every probe answered"
  KS=$(sed -n 's/.*"timestamps": {"mode": "kernel", "kernel": \([0-9]*\).*/\1/p' "$out.json")
  t_eq "$KS" 20000 "$name: every RTT from kernel stamps (one receive stamp per buffer)"
  read -r DGRAMS BUFS < <(sed -n 's/.*udp: \([0-9]*\) answers read in \([0-9]*\) buffers.*/\1 \2/p' "$out.err")
  t_eq "${DGRAMS:-}" 20000 "$name: every answer read and counted"
}

for target in "$V4" "$V6"; do
  c0=$(stat_of udp_dns_coalesced "$CTL")
  q0=$(stat_of udp_dns_requests "$CTL")
  run "gro-$target" 5300 "$target"
  c=$(($(stat_of udp_dns_coalesced "$CTL") - c0))
  q=$(($(stat_of udp_dns_requests "$CTL") - q0))
  t_eq "$q" 20000 "$target: the responder read 20000 queries"
  # About 20 a batch in practice; a loaded machine makes batches larger.
  t_true "$target: GRO at the responder: most queries came coalesced ($c of $q)" \
    test "$c" -ge $((q / 2))
  t_true "$target: GRO at the probe: at least 4 answers a buffer ($DGRAMS in ${BUFS:-?})" \
    test "${BUFS:-0}" -gt 0 -a "$((DGRAMS / ${BUFS:-1}))" -ge 4
done

# The probe without GRO against the GRO responder: the answers one by one.
c0=$(stat_of udp_dns_coalesced "$CTL")
run probe-off 5300 "$V4" --no-udp-gro
t_eq "$BUFS" 20000 "probe --no-udp-gro: one answer a buffer"
t_true "probe --no-udp-gro: the responder still coalesced" \
  test "$(($(stat_of udp_dns_coalesced "$CTL") - c0))" -ge 10000

# The GRO probe against the --no-udp-gro responder: its queries are read one
# by one, and its answers, still grouped by UDP GSO, come coalesced.
run responder-off 5301 "$V4"
t_eq "$(stat_of udp_dns_coalesced "$CTL2")" 0 "responder --no-udp-gro: nothing coalesced"
t_eq "$(stat_of udp_dns_answers "$CTL2")" "$(stat_of udp_dns_requests "$CTL2")" \
  "responder --no-udp-gro: every query answered"
t_true "responder --no-udp-gro: the probe still reads runs ($DGRAMS in ${BUFS:-?})" \
  test "${BUFS:-0}" -gt 0 -a "${BUFS:-0}" -lt 20000
t_done
