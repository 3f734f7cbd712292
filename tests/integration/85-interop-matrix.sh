#!/usr/bin/env bash
# The interop matrix of docs/interop.md: BIND, NSD, Knot, Unbound, PowerDNS
# Authoritative and dnsdist in front of two NSD, each started in one
# namespace with the configuration of interop-lib.sh (an identity, nothing
# else). Per server: what hostname.bind, id.server and NSID (on a CH query and
# on an IN query the server refuses) answer, over UDP and TCP; then
# anycast-probe with its default query at 200/s over UDP and over TCP for 2 s
# (--query auto) gets at least 99 % answers naming the server: auto keeps
# hostname.bind everywhere but on BIND, whose built-in CHAOS rate limit it
# detects and avoids with NSID on an IN query, saying so in the summary, the
# JSON summary and the first rows; an explicit -q hostname.bind against BIND
# is still rate-limited over UDP, and the summary names it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/interop-lib.sh"
t_need_root
t_need named nsd knotd unbound pdns_server dnsdist dig

P=$AH_BIN/anycast-probe
t_built "$P" "build first"
V4=198.51.100.53
V6=2001:db8:53::53
t_netns NS
t_anycast_lo "$NS"
in_ns() { ip netns exec "$NS" "$@"; }

SERVERS=(bind nsd knot unbound pdns dnsdist)
declare -A PORT IDENT
PIDS=()
port=5400
for s in "${SERVERS[@]}"; do
  port=$((port + 10))
  PORT[$s]=$port
  IDENT[$s]=$s-node
  t_true "$s starts and answers within 15 s" srv_start "$s" "$port"
  T_DUMP+=("$T_TMP/$s/log")
done
IDENT[dnsdist]='dd-a-node|dd-b-node'

# ask S TCP ARGS...: "status txt nsid" of one dig answer ("-" when absent).
ask() {
  local s=$1 tcp=$2 out st txt nsid; shift 2
  out=$(in_ns dig +time=2 +tries=2 "$tcp" +nsid -p "${PORT[$s]}" @"$V4" "$@")
  st=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
  txt=$(awk '$4 == "TXT" { gsub(/"/, "", $5); print $5 }' <<<"$out")
  nsid=$(sed -n 's/.*NSID: .*("\(.*\)")$/\1/p' <<<"$out")
  echo "${st:--} ${txt:--} ${nsid:--}"
}

# The identity rows of the table: what each query answers, the same over
# UDP and TCP. PowerDNS answers id.server only (hostname.bind is REFUSED,
# still with NSID); Unbound cannot resolve ./SOA without a network (SERVFAIL)
# but names itself in NSID; every other server refuses the zone it does not
# serve and names itself in NSID.
for s in "${SERVERS[@]}"; do
  id=${IDENT[$s]}
  for tcp in +notcp +tcp; do
    hb_want="NOERROR ($id) ($id)"
    [ "$s" = pdns ] && hb_want="REFUSED - ($id)"
    t_match "$(ask "$s" "$tcp" CH TXT hostname.bind)" "^$hb_want$" "$s $tcp: hostname.bind and NSID on it"
    t_match "$(ask "$s" "$tcp" CH TXT id.server)" "^NOERROR ($id) ($id)$" "$s $tcp: id.server and NSID on it"
    in_want=REFUSED
    [ "$s" = unbound ] && in_want=SERVFAIL
    t_match "$(ask "$s" "$tcp" . SOA)" "^$in_want - ($id)$" "$s $tcp: NSID on an IN query"
  done
done

# The rate rows: 200/s over UDP and TCP together (4 connections at 20 ms) for
# 2 s, all six servers at once, each with the probe's default query.
for s in "${SERVERS[@]}"; do
  t_bg pid ip netns exec "$NS" "$P" -t both -r 200 -c 4 -i 20ms -d 2s --dns-port "${PORT[$s]}" \
    -o "$T_TMP/run-$s" --summary-json "$T_TMP/run-$s.json" "$V4" >"$T_TMP/run-$s.out" 2>"$T_TMP/run-$s.err"
  PIDS[${#PIDS[@]}]=$pid
done
for pid in "${PIDS[@]}"; do wait "$pid"; done

for s in "${SERVERS[@]}"; do
  for tr in udp tcp; do
    read -r n ok < <(awk -F, -v tr="$tr" -v id="${IDENT[$s]}" \
      'NR > 1 && $4 == tr { n++; if ($8 == "ok" && $9 ~ ("^(" id ")$")) ok++ }
       END { print n + 0, ok + 0 }' "$T_TMP/run-$s/probes.csv")
    echo "$s $tr: $ok of $n answered with the identity"
    # 400 are due; a loaded machine (the ASan rerun) slips TCP intervals.
    t_true "$s $tr: at least 200 probes sent ($n)" test "$n" -ge 200
    t_true "$s $tr: at least 99 % answered naming the server ($ok of $n)" \
      test "$((ok * 100))" -ge "$((n * 99))"
  done
  want=hostname.bind
  [ "$s" = bind ] && want=nsid:./SOA
  t_match "$(cat "$T_TMP/run-$s.out")" "dns query: ${want//./\\.} \\(auto: " "$s: the summary names the query auto chose"
  t_match "$(cat "$T_TMP/run-$s.json")" "\"query\": \"$want\", \"query_auto\": true" "$s: so does the JSON summary"
  t_eq "$(awk -F, 'NR > 1 && $11 ~ /query=auto:/ { print $4, $11 }' "$T_TMP/run-$s/probes.csv" | sort | sed 's/REFUSED //' | tr '\n' ' ')" \
    "tcp query=auto:$want udp query=auto:$want " "$s: and the first row of each transport"
done
t_match "$(cat "$T_TMP/run-bind.out")" "hostname\\.bind [0-7]/8" \
  "bind: auto saw hostname.bind answer less than its burst"

# Explicit -q keeps today's behaviour: BIND drops most of its CHAOS answers.
in_ns "$P" -q hostname.bind -r 200 -d 2s --dns-port "${PORT[bind]}" -o "$T_TMP/explicit" "$V4" \
  >"$T_TMP/explicit.out" 2>"$T_TMP/explicit.err"
ok=$(awk -F, 'NR > 1 && $8 == "ok"' "$T_TMP/explicit/probes.csv" | wc -l)
t_true "bind -q hostname.bind: at most 40 of 400 answered over UDP ($ok)" test "$ok" -le 40
t_match "$(cat "$T_TMP/explicit.out")" "dns query: hostname\\.bind
" "bind -q hostname.bind: the summary names the query, without auto"
t_match "$(cat "$T_TMP/explicit.out")" "udp dns : 400 probes, [0-9]+ ok, [0-9]+ lost \\(timeout [0-9]+\\), likely rate-limited by the server \\([0-9.]+ answered/s\\)" \
  "bind -q hostname.bind: the summary names the rate limit beside the loss"
t_done
