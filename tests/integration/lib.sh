# Shared helpers for integration tests (sourced, bash). Each test creates its
# own network namespaces and processes through these helpers, which remove
# them all on exit, whether the test passed, failed or was interrupted.
# Exit status 77 means "skipped" to tests/run.sh.

set -uo pipefail
AH_ROOT=${AH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AH_BUILD=${AH_BUILD:-build}
case $AH_BUILD in /*) AH_BIN=$AH_BUILD ;; *) AH_BIN=$AH_ROOT/$AH_BUILD ;; esac
T_NETNS=()
T_PIDS=()
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ah-it.XXXXXX")
T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_DUMP=() # files whose head t_done prints when an assertion failed

t_cleanup() {
  local p ns
  for p in "${T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${T_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  for ns in "${T_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

t_skip() { echo "skip: $*"; exit 77; }
t_need_root() { [ "$(id -u)" -eq 0 ] || t_skip "needs root (network namespaces)"; }
t_need() { local c; for c in "$@"; do command -v "$c" >/dev/null || t_skip "needs $c"; done; }

# t_netns VAR: creates namespace "ah-t<pid>-<n>" with lo up and strict-free
# rp_filter, stores its name in VAR.
t_netns() {
  local ns="ah-t$$-${#T_NETNS[@]}"
  ip netns add "$ns" || { echo "cannot create netns $ns"; exit 1; }
  T_NETNS+=("$ns")
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  printf -v "$1" '%s' "$ns"
}

# t_anycast_lo NS: puts the standard anycast addresses on NS's lo.
t_anycast_lo() {
  ip -n "$1" addr add 198.51.100.53/32 dev lo
  ip -n "$1" addr add 2001:db8:53::53/128 dev lo nodad
}

# t_built PROG HINT: a test of PROG fails at once (exit 1, not skipped) when it
# is not built; HINT says how to build it.
t_built() { [ -x "$1" ] || { echo "missing $1 ($2)"; exit 1; }; }

# t_asan PROG: true when PROG is built with AddressSanitizer, whose quarantine
# and shadow memory make its RSS say nothing about its own buffers. (Not
# "| grep -q": under pipefail, ldd killed by SIGPIPE would fail it.)
t_asan() { [[ $(ldd "$1" 2>/dev/null) == *libasan* ]]; }

# t_responder_ns: what the anycast-responder tests start from. R is the built
# responder, V4 and V6 the anycast addresses, on the lo of a new namespace NS;
# in_ns CMD... runs CMD in NS.
t_responder_ns() {
  V4=198.51.100.53
  V6=2001:db8:53::53
  R=$AH_BIN/anycast-responder
  t_built "$R" "build first"
  t_netns NS
  t_anycast_lo "$NS"
  in_ns() { ip netns exec "$NS" "$@"; }
}

# t_responder_ctl: the responder's control socket is CTL ($T_TMP/ctl.sock);
# ctl LINE [SOCKET] sends it (or SOCKET) one request from NS and prints the
# reply, stat_of KEY [SOCKET] prints one counter of its stats line.
t_responder_ctl() {
  CTL=$T_TMP/ctl.sock
  ctl() { echo "$1" | in_ns socat -t 2 - "UNIX-CONNECT:${2:-$CTL}"; }
  stat_of() { ctl stats "${2:-$CTL}" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
}

# t_rss_kb PID: the process's resident set size in kB.
t_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# t_bg VAR CMD...: starts CMD in the background, records its PID for cleanup.
t_bg() {
  local var=$1; shift
  "$@" &
  T_PIDS+=("$!")
  printf -v "$var" '%s' "$!"
}

# t_wait_for SECONDS CMD...: retries CMD every 50 ms until it succeeds.
t_wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.05
  done
}

# Assertions: each prints what it checked; failures are counted and make the
# test exit 1 at t_done.
t_ok() { echo "ok   - $*"; }
t_fail() { echo "FAIL - $*"; T_FAILS=$((T_FAILS + 1)); }
t_eq() { # got want message
  if [ "$1" = "$2" ]; then t_ok "$3"; else t_fail "$3: got '$1', want '$2'"; fi
}
t_match() { # got regex message
  if [[ $1 =~ $2 ]]; then t_ok "$3"; else t_fail "$3: '$1' does not match /$2/"; fi
}
t_true() { # message cmd...
  local m=$1; shift
  if "$@"; then t_ok "$m"; else t_fail "$m"; fi
}
t_done() {
  if [ "$T_FAILS" -gt 0 ]; then
    local f
    for f in "${T_DUMP[@]}"; do echo "--- $f"; head -n 60 "$f" 2>&1; done
    echo "$T_NAME: $T_FAILS assertion(s) failed"
    exit 1
  fi
  echo "$T_NAME: all assertions passed"
  exit 0
}
