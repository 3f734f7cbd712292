#!/usr/bin/env bash
# anycast-probe's command line: --help and --version exit 0; every bad option
# or value exits 2 with a message that names the option and the value; a
# runtime failure (unwritable --out or --summary-json) exits 1 before any
# probe is sent; --progress always draws one line in place with \r (no
# terminal escapes into a file) ending in a newline; SIGTERM at start-up
# stops the run cleanly with the CSV files written. Needs no root.
source "$(dirname "$0")/lib.sh"

P=$AH_BIN/anycast-probe
[ -x "$P" ] || { echo "missing $P (build first)"; exit 1; }

out=$("$P" --help)
t_eq "$?" 0 "--help exits 0"
t_match "$out" "Usage: anycast-probe \[OPTION\]\.\.\. TARGET" "--help shows the usage"
for o in --service --transport --dns-port --echo-port --query --rate --flows --timeout \
  --connections --interval --tcp-mode --tcp-user-timeout --reconnect --duration --count --out \
  --vantage --summary-json --once --progress; do
  t_match "$out" "$o" "--help documents $o"
done
t_eq "$(echo "$out" | awk 'length($0) > 79' | wc -l)" 0 "--help fits 79 columns"
t_match "$("$P" --version)" "^anycast-probe [0-9]+\.[0-9]+\.[0-9]+" "--version"

# bad ARGS... / expected message (regex)
check_bad() {
  [ "$1" = -- ] && shift # a regex that starts with "--"
  local want=$1; shift
  local err
  err=$("$P" "$@" 2>&1 >/dev/null)
  local rc=$?
  t_eq "$rc" 2 "exit 2 for: $*"
  t_match "$err" "$want" "message for: $*"
}
check_bad 'missing TARGET' -r 10
check_bad 'TARGET "no-such-host.invalid": not an IPv4 or IPv6 address, and ' no-such-host.invalid
check_bad 'unexpected argument "198.51.100.54" after TARGET "198.51.100.53"' \
  198.51.100.53 198.51.100.54
check_bad -- '--service: "http": expected dns or echo' -s http 198.51.100.53
check_bad -- '--transport: "sctp"' --transport sctp 198.51.100.53
check_bad -- '--rate: "fast": expected probes per second' --rate fast 198.51.100.53
check_bad -- '--rate: "0": rate must be above 0' --rate 0 198.51.100.53
check_bad -- '--flows: "0"' --flows 0 198.51.100.53
check_bad -- '--timeout: "soon": expected a duration' --timeout soon 198.51.100.53
check_bad -- '--interval: "0": must be more than 0' --interval 0 198.51.100.53
check_bad -- '--dns-port: "99999": expected a port' --dns-port 99999 198.51.100.53
check_bad -- '--query: "version.bind": expected auto, hostname.bind, id.server or nsid:NAME/TYPE' \
  --query version.bind 198.51.100.53
check_bad -- '--tcp-mode: "sometimes"' --tcp-mode sometimes 198.51.100.53
check_bad -- '--reconnect: "later"' --reconnect later 198.51.100.53
check_bad -- '--count: "many"' --count many 198.51.100.53
check_bad 'unknown option --frobnicate' --frobnicate 198.51.100.53
check_bad -- '--rate: missing argument' 198.51.100.53 --rate
check_bad 'different address families' --source 2001:db8::1 198.51.100.53
check_bad -- '--once sends one probe each: it cannot be combined with --count' \
  --once -n 5 198.51.100.53

err=$("$P" -n 1 -o /proc/version/x 127.0.0.1 2>&1)
t_eq "$?" 1 "unwritable --out exits 1"
t_match "$err" "/proc/version/x" "the error names the directory"

# An unwritable --summary-json is found before the run, not after it: no
# probe is sent (probes.csv holds only its header).
err=$("$P" -n 1 -o "$T_TMP/sj" --summary-json "$T_TMP/no/such/dir/s.json" 127.0.0.1 2>&1)
t_eq "$?" 1 "unwritable --summary-json exits 1"
t_match "$err" "--summary-json $T_TMP/no/such/dir/s.json: No such file or directory" \
  "the error names --summary-json and the path"
t_eq "$(wc -l <"$T_TMP/sj/probes.csv")" 1 "no probe was sent (probes.csv: the header only)"
t_true "no summary printed" bash -c "[[ '$err' != *summary:* ]]"
"$P" -n 1 --dns-port 9 -o "$T_TMP/in-out" --summary-json "$T_TMP/in-out/s.json" 127.0.0.1 2>/dev/null
t_match "$(cat "$T_TMP/in-out/s.json" 2>&1)" '"probes": 1,' "--summary-json inside a new --out dir"
"$P" -n 1 --dns-port 9 --summary-json "$T_TMP/ok.json" 127.0.0.1 2>/dev/null
t_match "$(cat "$T_TMP/ok.json" 2>&1)" '"probes": 1,' "a writable --summary-json is still written"
# Outputs never follow a symlink planted at their names (docs/security.md):
# the run refuses before probing and the symlinks' targets stay untouched.
mkdir "$T_TMP/links"
echo precious >"$T_TMP/victim"
ln -s "$T_TMP/victim" "$T_TMP/links/s.json"
err=$("$P" -n 1 --dns-port 9 --summary-json "$T_TMP/links/s.json" 127.0.0.1 2>&1)
t_eq "$?" 1 "a symlink at --summary-json exits 1"
t_match "$err" "symbolic links" "the error says why"
rm "$T_TMP/links/s.json"
ln -s "$T_TMP/victim" "$T_TMP/links/probes.csv"
"$P" -n 1 --dns-port 9 -o "$T_TMP/links" 127.0.0.1 >/dev/null 2>&1
t_true "a symlink at probes.csv is not written through" [ "$(cat "$T_TMP/victim")" = precious ]

# Nothing listens on 127.0.0.1:9 (discard) here, or something does: either
# way each probe ends at once (refused or an answer).
PORT=9
# --progress always when stderr is a file: \r redraws, no escape sequence,
# and the last status line ends with a newline; the summary goes to stdout.
"$P" --progress always -n 6 -r 10 --dns-port $PORT 127.0.0.1 >"$T_TMP/prog.out" 2>"$T_TMP/prog.err"
t_eq "$?" 0 "--progress always run exits 0"
t_eq "$(grep -c $'\033' "$T_TMP/prog.err")" 0 "no terminal escapes in a non-terminal stderr"
t_true "the status line is redrawn with \\r" grep -q $'\r *[0-9.]*s sent' "$T_TMP/prog.err"
t_match "$(head -n 1 "$T_TMP/prog.err")" $'\r *[0-9.]+s sent 6 ok [0-9.]+% \\|.* [0-9]+/s *$' \
  "the first line is the status line, last drawn with all 6 probes sent"
t_eq "$(wc -l <"$T_TMP/prog.err")" 1 "stderr holds only the status line, ended by a newline"
t_match "$(head -n 1 "$T_TMP/prog.out")" '^anycast-probe: summary:' "the summary is on stdout"

# The summary's other homes: none with --quiet, stderr when the JSON summary
# takes stdout; --max-loss turns loss above it into exit 1.
"$P" --quiet -n 3 -r 10 --dns-port $PORT 127.0.0.1 >"$T_TMP/q.out" 2>"$T_TMP/q.err"
t_eq "$?" 0 "--quiet run exits 0"
t_eq "$(cat "$T_TMP/q.out" "$T_TMP/q.err")" "" "--quiet: nothing printed"
(cd "$T_TMP" && "$P" -n 3 -r 10 --dns-port $PORT --summary-json - 127.0.0.1 >j.out 2>j.err)
t_eq "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["groups"][0]["probes"])' "$T_TMP/j.out")" 3 \
  "--summary-json -: the JSON on stdout, nothing else"
t_match "$(cat "$T_TMP/j.err")" "summary: target 127.0.0.1" "--summary-json -: the text summary on stderr"
t_true "--summary-json -: no file named -" test ! -e "$T_TMP/-"
# Nothing listens on the unused port 9 of a namespace of our own: every
# probe is refused, a 100 % loss.
[ "$(id -u)" -eq 0 ] || t_skip "the rest needs root (a namespace of its own)"
t_netns LNS
ip netns exec "$LNS" "$P" -n 3 -r 10 --dns-port 9 --max-loss 50 127.0.0.1 >/dev/null 2>"$T_TMP/ml.err"
t_eq "$?" 1 "--max-loss 50 with every probe lost: exit 1"
t_match "$(cat "$T_TMP/ml.err")" "udp dns: 100.00 % of 3 probes lost, above --max-loss 50 %" "and says which"
ip netns exec "$LNS" "$P" -n 3 -r 10 --dns-port 9 --max-loss 100 127.0.0.1 >/dev/null 2>&1
t_eq "$?" 0 "--max-loss 100: exit 0 whatever is lost"
check_bad '--max-loss: "101": expected a percentage 0..100' --max-loss 101 127.0.0.1
# A host name TARGET is resolved (getaddrinfo; localhost from /etc/hosts).
out=$(ip netns exec "$LNS" "$P" --once -t udp -s dns --dns-port 9 localhost 2>&1)
t_match "$out" "localhost is (127\.0\.0\.1|::1)" "a host name TARGET is resolved and said"

# SIGTERM right at start-up: a signal that is already pending when the probe
# starts (blocked by its parent, as a supervisor may leave it) stops the run
# at once with exit 0, the summary and both CSV files with their headers.
start=$SECONDS
python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
os.kill(os.getpid(), signal.SIGTERM)
os.execv(sys.argv[1], sys.argv[1:])' "$P" --transport both -r 100 -d 10s --dns-port $PORT \
  -o "$T_TMP/term" 127.0.0.1 >"$T_TMP/term.out" 2>"$T_TMP/term.err"
t_eq "$?" 0 "SIGTERM pending at start-up: exit 0"
t_true "SIGTERM pending at start-up: stopped at once, not after --duration 10s" \
  [ $((SECONDS - start)) -lt 5 ]
t_eq "$(head -n 1 "$T_TMP/term/probes.csv" 2>&1)" \
  'ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail' \
  "SIGTERM at start-up: probes.csv has its header"
t_eq "$(head -n 1 "$T_TMP/term/connections.csv" 2>&1)" \
  'conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed' \
  "SIGTERM at start-up: connections.csv has its header"
t_match "$(cat "$T_TMP/term.out")" 'summary:' "SIGTERM at start-up: summary printed"
t_done
