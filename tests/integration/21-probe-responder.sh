#!/usr/bin/env bash
# anycast-probe against anycast-responder in a test namespace: DNS and echo
# over UDP and TCP, IPv4 and IPv6, --once (also when some fail: exit 1, result
# and detail per line); then the responder paused (UDP and
# TCP probes time out, connections end with "timeout", answers come back
# after resume) and killed (TCP connections end with eof or reset, UDP probes
# are refused by ICMP port unreachable, reconnects are refused).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need socat

probe_ns
ctl() { echo "$1" | socat -t 2 - "UNIX-CONNECT:$T_TMP/ctl.sock"; }

# node-a on both addresses, with its control socket.
probe_responder RPID --listen "$V6" --control "$T_TMP/ctl.sock"
t_true "responder answers" [ $? -eq 0 ]

# --- everything answers -------------------------------------------------------
for target in "$V4" "$V6"; do
  got=$(in_ns "$P" --once "${PORTS[@]}" "$target")
  t_eq "$?" 0 "--once $target exits 0"
  t_match "$got" "^udp dns node-a [0-9.]+ ms
udp echo node-a [0-9.]+ ms
tcp dns node-a [0-9.]+ ms
tcp echo node-a [0-9.]+ ms$" "--once $target: four lines with node and RTT"
done

# --once when some of the four fail: exit 1, the others still printed, each
# failure with its result and detail.
got=$(in_ns "$P" --once --dns-port 5300 --echo-port 5399 "$V4")
t_eq "$?" 1 "--once with echo refused (2 of 4 fail) exits 1"
t_match "$got" "^udp dns node-a [0-9.]+ ms
udp echo - refused ECONNREFUSED
tcp dns node-a [0-9.]+ ms
tcp echo - refused ECONNREFUSED$" "--once: the answered lines and the refused ones with errno"

out=$T_TMP/ok
in_ns "$P" -s dns -s echo -t both -r 200 -f 4 -c 3 -i 100ms -d 2s "${PORTS[@]}" --vantage t21 \
  -o "$out" --summary-json "$out/summary.json" "$V6" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "IPv6 run exits 0"
t_eq "$(count "$out/probes.csv" '$4 == "udp"')" 400 "400 UDP probes (200/s for 2 s)"
t_eq "$(count "$out/probes.csv" '$4 == "udp" && $5 == "echo"')" 200 "half of them echo"
t_eq "$(count "$out/probes.csv" '!($8 == "ok" && $9 == "node-a")')" 0 "every probe ok from node-a"
t_eq "$(count "$out/probes.csv" '$3 != "2001:db8:53::53" || $2 != "t21"')" 0 \
  "target and vantage columns"
t_eq "$(count "$out/probes.csv" '$4 == "udp"' )" \
  "$(awk -F, 'NR > 1 && $4 == "udp" {print $6 "/" $7}' "$out/probes.csv" | sort -u | wc -l)" \
  "each UDP (conn, seq) appears once"
t_eq "$(count "$out/connections.csv" '$8 == "end" && $6 == "node-a"')" 6 \
  "6 TCP connections (3 per service), all ended by us"
tcp=$(count "$out/probes.csv" '$4 == "tcp"')
t_true "TCP: 6 connections x ~20 probes (got $tcp)" [ "$tcp" -ge 90 ] && [ "$tcp" -le 126 ]
t_match "$(cat "$out.sum")" "tcp echo: [0-9]+ probes, [0-9]+ ok, 0 lost" "summary on stdout"
t_match "$(cat "$out.sum")" "connections: 3 opened; ended: end 3" "summary counts connections"
t_match "$(tr -d '\n' <"$out/summary.json")" '"transport": "tcp", "service": "echo".*"ended": \{"end": 3' \
  "summary JSON"

# --- paused: alive but silent ---------------------------------------------------
paused_ctl=yes
ctl stats >/dev/null 2>&1 || paused_ctl=no
pause() { if [ $paused_ctl = yes ]; then ctl pause; else kill -STOP "$RPID"; fi; }
resume() { if [ $paused_ctl = yes ]; then ctl resume; else kill -CONT "$RPID"; fi; }
out=$T_TMP/paused
( sleep 1; pause >/dev/null; sleep 1.5; resume >/dev/null ) &
pauser=$!
in_ns "$P" -s dns -s echo -t both -r 100 -c 2 -i 100ms --timeout 300ms -d 4s "${PORTS[@]}" \
  -o "$out" "$V4" >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "paused run exits 0"
wait "$pauser"
t_true "UDP probes timed out while paused" [ "$(count "$out/probes.csv" '$4 == "udp" && $8 == "timeout"')" -ge 50 ]
t_true "UDP answers before the pause" \
  [ "$(head -n 50 "$out/probes.csv" | awk -F, '$4 == "udp" && $8 == "ok"' | wc -l)" -ge 20 ]
t_eq "$(sed 1d "$out/probes.csv" | sort -t, -k1,1n | tail -n 20 | awk -F, '$4 == "udp" && $8 != "ok"' | wc -l)" 0 \
  "UDP answers again after resume"
t_true "TCP probes timed out" [ "$(count "$out/probes.csv" '$4 == "tcp" && $8 == "timeout"')" -ge 4 ]
t_true "TCP connections ended with reason timeout" \
  [ "$(count "$out/connections.csv" '$8 == "timeout"')" -ge 4 ]
t_eq "$(count "$out/probes.csv" '$8 != "ok" && $8 != "timeout"')" 0 "no other failures"
t_true "TCP answers again after resume (reconnected)" \
  [ "$(count "$out/connections.csv" '$8 == "end" && $9 > 0')" -ge 2 ]

# --- killed ------------------------------------------------------------------------
out=$T_TMP/killed
( sleep 1; kill -TERM "$RPID" ) &
killer=$!
in_ns "$P" -s dns -s echo -t both -r 100 -c 2 -i 100ms -d 3s "${PORTS[@]}" -o "$out" "$V4" \
  >"$out.sum" 2>"$out.err"
t_eq "$?" 0 "run with the responder killed exits 0"
wait "$killer"
t_eq "$(count "$out/connections.csv" '$9 > 0 && $8 != "eof" && $8 != "reset"')" 0 \
  "established connections ended with eof or reset"
t_eq "$(count "$out/connections.csv" '$9 > 0')" 4 "4 established connections"
t_true "reconnects refused" [ "$(count "$out/connections.csv" '$8 == "refused" && $6 == ""')" -ge 10 ]
t_true "TCP probes refused after the kill" \
  [ "$(count "$out/probes.csv" '$4 == "tcp" && $8 == "refused" && $11 == "ECONNREFUSED"')" -ge 10 ]
udp_refused=$(count "$out/probes.csv" '$4 == "udp" && $8 == "refused" && $11 == "ECONNREFUSED"')
udp_bad=$(count "$out/probes.csv" '$4 == "udp" && $8 != "ok" && $8 != "refused" && $8 != "timeout"')
t_true "UDP probes refused by ICMP port unreachable ($udp_refused)" [ "$udp_refused" -ge 50 ]
t_eq "$udp_bad" 0 "UDP failures are refused or timeout only"
t_match "$(cat "$out.sum")" "udp dns : 150 probes, [0-9]+ ok, [0-9]+ lost \([^)]*refused [0-9]+" \
  "summary shows refused"

got=$(in_ns "$P" --once "${PORTS[@]}" "$V4")
t_eq "$?" 1 "--once with nothing listening exits 1"
t_match "$got" "udp dns - refused" "--once names the failure"
got=$(in_ns "$P" --once "${PORTS[@]}" "$V6")
t_eq "$?" 1 "--once over IPv6 with nothing listening exits 1"
t_eq "$got" "udp dns - refused ECONNREFUSED
udp echo - refused ECONNREFUSED
tcp dns - refused ECONNREFUSED
tcp echo - refused ECONNREFUSED" "IPv6: ICMPv6 port unreachable (IPV6_RECVERR) and TCP RST read as refused"
t_done
