#!/usr/bin/env bash
# anycast-probe's command line: --help and --version exit 0; every bad option
# or value exits 2 with a message that names the option and the value; a
# runtime failure (unwritable --out) exits 1. Needs no root.
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
  local want=$1; shift
  local err
  err=$("$P" "$@" 2>&1 >/dev/null)
  local rc=$?
  t_eq "$rc" 2 "exit 2 for: $*"
  t_match "$err" "$want" "message for: $*"
}
check_bad 'missing TARGET' -r 10
check_bad 'TARGET "example.org": expected an IPv4 or IPv6 address' example.org
check_bad 'one TARGET address' 198.51.100.53 198.51.100.54
check_bad -- '--service: "http": expected dns or echo' -s http 198.51.100.53
check_bad -- '--transport: "sctp"' --transport sctp 198.51.100.53
check_bad -- '--rate: "fast": expected probes per second' --rate fast 198.51.100.53
check_bad -- '--rate: "0": rate must be above 0' --rate 0 198.51.100.53
check_bad -- '--flows: "0"' --flows 0 198.51.100.53
check_bad -- '--timeout: "soon": expected a duration' --timeout soon 198.51.100.53
check_bad -- '--interval: "0": must be more than 0' --interval 0 198.51.100.53
check_bad -- '--dns-port: "99999": expected a port' --dns-port 99999 198.51.100.53
check_bad -- '--query: "version.bind": expected hostname.bind, id.server or nsid:NAME/TYPE' \
  --query version.bind 198.51.100.53
check_bad -- '--tcp-mode: "sometimes"' --tcp-mode sometimes 198.51.100.53
check_bad -- '--reconnect: "later"' --reconnect later 198.51.100.53
check_bad -- '--count: "many"' --count many 198.51.100.53
check_bad 'unknown option --frobnicate' --frobnicate 198.51.100.53
check_bad 'missing value' 198.51.100.53 --rate
check_bad 'different address families' --source 2001:db8::1 198.51.100.53

err=$("$P" -n 1 -o /proc/version/x 127.0.0.1 2>&1)
t_eq "$?" 1 "unwritable --out exits 1"
t_match "$err" "/proc/version/x" "the error names the directory"
t_done
