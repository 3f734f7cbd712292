#!/usr/bin/env bash
# Benchmarks anycast-responder against NSD, Knot and the machine's UDP ceiling (a plain
# recvmmsg/sendmmsg echo loop), all under the same load, and prints the answered rates side
# by side with their ratios to the targets in docs/bench.md. Runs as root in a network namespace
# of its own (198.51.100.53/32 on its lo) that it removes on exit with every process in it.
# See docs/bench.md for what each figure means.
set -uo pipefail

usage() {
  cat <<'EOF'
Usage: bench/responder.sh [--quick] [--help]
Runs, in one invocation (root; about 5-6 minutes, --quick about 1 minute):
  1. UDP CH TXT hostname.bind, answered qps: NSD, anycast-responder 1 worker (each of its
     --udp-io paths, and the default one with --no-udp-gso and with --no-udp-gro), 2
     workers, and the mmsg_echo ceiling (1 thread, 1 thread with UDP GSO, 2 threads); each
     with flood and dnsperf;
     median of BENCH_REPS rounds; 1-process servers pinned to BENCH_SERVER_CPU, the load
     generators to BENCH_LOAD_CPU.
  2. TCP, BENCH_TCP_CONNS connections with BENCH_TCP_DEPTH pipelined queries each
     (tcp_load): anycast-responder vs Knot and NSD.
  3. BENCH_HOLD_CONNS concurrent idle TCP connections held by anycast-responder for
     BENCH_HOLD_SECONDS (tcp_hold), and its VmRSS while they are held.
Environment (defaults in brackets):
  AH_BUILD [build]            build dir holding anycast-responder and bench/ tools
  BENCH_SECONDS [4]           seconds per measurement (1..60)
  BENCH_REPS [3]              rounds; the median of each measurement is reported
  BENCH_QUICK                 non-empty: 2 s, 1 round, 5 s hold (same as --quick)
  BENCH_ONLY [udp,tcp,hold]   which parts to run
  BENCH_SERVER_CPU [0]        CPU for 1-process servers (2-worker ones get every CPU)
  BENCH_LOAD_CPU [1]          CPU for the load generators
  BENCH_FLOOD_ARGS [-c 8 -w 32]     flood options (sockets, queries in flight per socket)
  BENCH_DNSPERF_ARGS [-c 8 -q 256]  dnsperf options
  BENCH_TCP_CONNS [100]  BENCH_TCP_DEPTH [16]
  BENCH_HOLD_CONNS [10000]  BENCH_HOLD_SECONDS [10]
  BENCH_RESPONDER_ARGS        extra anycast-responder options for every run
  BENCH_PRIORITY              non-empty: run servers and load at nice -20 in autogroups of
                              nice -20, so that other work on a shared machine barely takes
                              CPU time from the benchmark (it slows that work down)
  BENCH_KEEP_LOGS             non-empty: keep the raw logs (the path is printed at the end)
EOF
}

case ${1:-} in
  -h | --help) usage; exit 0 ;;
  --quick) BENCH_QUICK=1 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${AH_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECS=${BENCH_SECONDS:-4}
REPS=${BENCH_REPS:-3}
HOLD_SECS=${BENCH_HOLD_SECONDS:-10}
if [ -n "${BENCH_QUICK:-}" ]; then
  SECS=${BENCH_SECONDS:-2}; REPS=${BENCH_REPS:-1}; HOLD_SECS=${BENCH_HOLD_SECONDS:-5}
fi
ONLY=,${BENCH_ONLY:-udp,tcp,hold},
SCPU=${BENCH_SERVER_CPU:-0}
LCPU=${BENCH_LOAD_CPU:-1}
FLOOD_ARGS=${BENCH_FLOOD_ARGS:--c 8 -w 32}
DNSPERF_ARGS=${BENCH_DNSPERF_ARGS:--c 8 -q 256}
TCP_CONNS=${BENCH_TCP_CONNS:-100}
TCP_DEPTH=${BENCH_TCP_DEPTH:-16}
HOLD_CONNS=${BENCH_HOLD_CONNS:-10000}
NICE=0
[ -n "${BENCH_PRIORITY:-}" ] && NICE=-20
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
ADDR=198.51.100.53

die() { echo "responder.sh: $*" >&2; exit 1; }
log() { echo "responder.sh: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (it creates a network namespace)"
[[ $SECS =~ ^[0-9]+$ ]] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || die "BENCH_SECONDS must be 1..60"
[[ $REPS =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] && [ "$REPS" -le 9 ] || die "BENCH_REPS must be 1..9"
[[ $HOLD_SECS =~ ^[0-9]+$ ]] && [ "$HOLD_SECS" -ge 1 ] && [ "$HOLD_SECS" -le 120 ] ||
  die "BENCH_HOLD_SECONDS must be 1..120"
for t in flood mmsg_echo tcp_load tcp_hold; do
  [ -x "$BUILD/bench/$t" ] || die "$BUILD/bench/$t missing (run: make BUILD=$BUILD bench-bins)"
done
RESP=$BUILD/anycast-responder
if [ ! -x "$RESP" ]; then
  log "warning: $RESP missing: the responder rows are skipped"
  RESP=
fi
HAVE_NSD=$(command -v nsd || true)
HAVE_KNOT=$(command -v knotd || true)
HAVE_DNSPERF=$(command -v dnsperf || true)

NS=ah-bench-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ah-bench.XXXXXX")

# Stops every process in the namespace (only this script starts processes there), then
# removes the namespace and the temp dir; runs on every exit path.
cleanup() {
  local p pids
  pids=$(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')
  for p in $pids; do kill -TERM "$p" 2>/dev/null; done
  for p in $pids; do
    for _ in $(seq 1 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  wait 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  if [ -n "${BENCH_KEEP_LOGS:-}" ]; then log "raw logs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || die "cannot create namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add $ADDR/32 dev lo
ip netns exec "$NS" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
# The responder and tcp_hold need over 10,000 descriptors: take the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((HOLD_CONNS + 100)) ] &&
  log "warning: descriptor limit $(ulimit -n) is below $((HOLD_CONNS + 100))"

inns() { ip netns exec "$NS" "$@"; }
# With autogroup scheduling (kernel.sched_autogroup_enabled=1) nice only ranks processes
# within one session; the session's autogroup must be reniced too.
prioritize() { # PID
  [ -n "${BENCH_PRIORITY:-}" ] && echo -20 >"/proc/$1/autogroup" 2>/dev/null
  return 0
}
prioritize $$
# load CMD...: runs a load generator in the namespace, pinned, niced, bounded in time.
load() { ip netns exec "$NS" nice -n "$NICE" timeout $((SECS + 15)) taskset -c "$LCPU" "$@"; }

# ---- servers --------------------------------------------------------------------------
# Every configuration runs as its own process group (setsid) on its own port, and all of
# them stay up while the rounds run: each round measures every server once, so a burst of
# background load on this shared machine hits all of them alike. Idle servers sleep.

declare -A PID PORT_OF
# start_server NAME CPULIST PORT TCP CMD...: starts CMD pinned to CPULIST in the namespace
# and waits until it answers CH TXT hostname.bind over UDP (and TCP when TCP is "tcp").
start_server() {
  local name=$1 cpus=$2 port=$3 tcp=$4; shift 4
  # Not through inns: a backgrounded shell function would be a subshell, and $! must be
  # the server itself (ip netns exec, setsid and taskset all exec in place).
  ip netns exec "$NS" setsid nice -n "$NICE" taskset -c "$cpus" "$@" >"$TMP/$name.out" 2>&1 &
  PID[$name]=$!
  PORT_OF[$name]=$port
  prioritize "${PID[$name]}"
  local i
  for i in $(seq 1 100); do
    if inns dig +tries=1 +time=1 -p "$port" @$ADDR CH TXT hostname.bind >/dev/null 2>&1 &&
      { [ "$tcp" != tcp ] ||
        inns dig +tcp +tries=1 +time=1 -p "$port" @$ADDR CH TXT hostname.bind >/dev/null 2>&1; }; then
      return 0
    fi
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not come up on port $port; its output:"
  sed 's/^/    | /' "$TMP/$name.out" >&2
  stop_server "$name"
  return 1
}

# stop_server NAME: stops that configuration's process group (NSD runs three processes).
stop_server() {
  local pid=${PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "PID[$1]"
}

stop_all() {
  local name
  for name in "${!PID[@]}"; do stop_server "$name"; done
}

nsd_conf() { # port
  mkdir -p "$TMP/nsd"
  cat >"$TMP/nsd/nsd.conf" <<EOF
server:
  ip-address: $ADDR@$1
  identity: "nsd-node"
  nsid: "ascii_nsd-node"
  hide-version: yes
  username: ""
  chroot: ""
  zonesdir: "$TMP/nsd"
  pidfile: "$TMP/nsd/nsd.pid"
  database: ""
  xfrdfile: "$TMP/nsd/xfrd.state"
  rrl-ratelimit: 0
  server-count: 1
  verbosity: 0
remote-control:
  control-enable: no
EOF
  echo "$TMP/nsd/nsd.conf"
}

knot_conf() { # port
  mkdir -p "$TMP/knot"
  cat >"$TMP/knot/knot.conf" <<EOF
server:
    rundir: "$TMP/knot"
    user: root:root
    listen: [ $ADDR@$1 ]
    identity: "knot-node"
    nsid: "knot-node"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$TMP/knot"
log:
  - target: stderr
    any: error
EOF
  echo "$TMP/knot/knot.conf"
}

RESP_HELP=
[ -n "$RESP" ] && RESP_HELP=$("$RESP" --help 2>&1)
resp_has() { [[ $RESP_HELP == *"$1"* ]]; }

# resp_cmd PORT WORKERS UDP_IO [extra...]: the responder command line, one word a line.
resp_cmd() {
  local port=$1 workers=$2 io=$3; shift 3
  local cmd=("$RESP" --listen $ADDR --dns-port "$port" --identity bench-node --workers "$workers")
  if resp_has --no-echo; then cmd+=(--no-echo); else cmd+=(--echo-port $((port + 1))); fi
  [ "$io" != default ] && cmd+=(--udp-io "$io")
  # shellcheck disable=SC2206
  cmd+=(${BENCH_RESPONDER_ARGS:-} "$@")
  printf '%s\n' "${cmd[@]}"
}

# start_named NAME: starts configuration NAME unless it is already running.
start_named() {
  local name=$1 all cmd
  [ -n "${PID[$name]:-}" ] && return 0
  all=$(seq -s, 0 $((NCPU - 1)))
  case $name in
    nsd) start_server nsd "$SCPU" 5301 tcp nsd -d -c "$(nsd_conf 5301)" ;;
    knot) start_server knot "$SCPU" 5302 tcp knotd -c "$(knot_conf 5302)" ;;
    echo1) start_server echo1 "$SCPU" 5399 udp "$BUILD/bench/mmsg_echo" -a $ADDR -p 5399 -l 900 -T 1 ;;
    echo2) start_server echo2 "$all" 5398 udp "$BUILD/bench/mmsg_echo" -a $ADDR -p 5398 -l 900 -T 2 ;;
    echo1-gso) start_server echo1-gso "$SCPU" 5397 udp "$BUILD/bench/mmsg_echo" -a $ADDR -p 5397 -l 900 -T 1 -g ;;
    resp1-mmsg) mapfile -t cmd < <(resp_cmd 5310 1 mmsg); start_server "$name" "$SCPU" 5310 tcp "${cmd[@]}" ;;
    resp1-uv) mapfile -t cmd < <(resp_cmd 5320 1 uv); start_server "$name" "$SCPU" 5320 tcp "${cmd[@]}" ;;
    resp1-onesock) mapfile -t cmd < <(resp_cmd 5360 1 mmsg-onesock); start_server "$name" "$SCPU" 5360 tcp "${cmd[@]}" ;;
    resp1-nogso) mapfile -t cmd < <(resp_cmd 5370 1 mmsg --no-udp-gso); start_server "$name" "$SCPU" 5370 tcp "${cmd[@]}" ;;
    resp1-nogro) mapfile -t cmd < <(resp_cmd 5380 1 mmsg --no-udp-gro); start_server "$name" "$SCPU" 5380 tcp "${cmd[@]}" ;;
    resp1) mapfile -t cmd < <(resp_cmd 5340 1 default); start_server "$name" "$SCPU" 5340 tcp "${cmd[@]}" ;;
    resp2) mapfile -t cmd < <(resp_cmd 5330 2 default); start_server "$name" "$all" 5330 tcp "${cmd[@]}" ;;
    *) die "unknown configuration $name" ;;
  esac
}

label() {
  case $1 in
    nsd) echo "NSD 4.6 (1 server process)" ;;
    knot) echo "Knot 3.2 (1 udp + 1 tcp worker)" ;;
    echo1) echo "mmsg_echo ceiling (1 thread)" ;;
    echo2) echo "mmsg_echo ceiling (2 threads, 2 CPUs)" ;;
    echo1-gso) echo "mmsg_echo ceiling, UDP GSO (1 thread)" ;;
    resp1-mmsg) echo "anycast-responder 1w --udp-io mmsg" ;;
    resp1-uv) echo "anycast-responder 1w --udp-io uv" ;;
    resp1-onesock) echo "anycast-responder 1w --udp-io mmsg-onesock" ;;
    resp1-nogso) echo "anycast-responder 1w mmsg --no-udp-gso" ;;
    resp1-nogro) echo "anycast-responder 1w mmsg --no-udp-gro" ;;
    resp1) echo "anycast-responder 1 worker" ;;
    resp2) echo "anycast-responder 2 workers (2 CPUs)" ;;
  esac
}

# ---- measurements ---------------------------------------------------------------------

median() { sort -n | awk '{v[NR]=$1} END{if(NR==0){print "";exit} print v[int((NR+1)/2)]}'; }
field() { # KEY: the word following KEY on the line read from stdin
  awk -v k="$1" '{for(i=1;i<NF;i++) if($i==k){print $(i+1); exit}}'
}

# cpu_ticks NAME: CPU time (clock ticks, user+system) used so far by the server's processes
# and threads. Softirq work the kernel does while the server is in a syscall (on loopback:
# delivering its answers) is charged to it too.
cpu_ticks() {
  local p t=0 v
  for p in $(pgrep -g "${PID[$1]}"); do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
    t=$((t + ${v:-0}))
  done
  echo $t
}

# record NAME KIND QPS TICKS: stores one run's answered rate, the server's CPU share and its
# answers per CPU-second (the server's efficiency; unlike the rate it does not depend on
# how much CPU the server got, which matters on a shared machine).
record() {
  echo "$3" >>"$TMP/$1.$2.vals"
  [ -n "$3" ] && [ "$4" -gt 0 ] || return 0
  awk -v t="$4" -v hz="$HZ" -v s="$SECS" 'BEGIN{printf "%.0f\n", 100 * t / hz / s}' >>"$TMP/$1.$2.cpu.vals"
  awk -v q="$3" -v t="$4" -v hz="$HZ" -v s="$SECS" 'BEGIN{printf "%.0f\n", q * s / (t / hz)}' \
    >>"$TMP/$1.$2.eff.vals"
}

run_flood() { # name round
  local out t0 qps
  t0=$(cpu_ticks "$1")
  out=$(load "$BUILD/bench/flood" -s $ADDR -p "${PORT_OF[$1]}" -l "$SECS" $FLOOD_ARGS 2>&1)
  echo "$1 flood #$2: $out" >>"$TMP/raw.log"
  qps=$(echo "$out" | field qps_answered)
  log "  $1 flood: $qps qps (lost $(echo "$out" | field lost), rcode errors" \
    "$(echo "$out" | field errors), empty answers $(echo "$out" | field empty))"
  record "$1" flood "$qps" $(($(cpu_ticks "$1") - t0))
}

run_dnsperf() { # name round
  local out qps t0
  t0=$(cpu_ticks "$1")
  out=$(load dnsperf -s $ADDR -p "${PORT_OF[$1]}" -B \
    -d "$TMP/query.bin" -l "$SECS" $DNSPERF_ARGS 2>&1)
  echo "$1 dnsperf #$2: $out" >>"$TMP/raw.log"
  qps=$(echo "$out" | awk '/Queries per second:/{printf "%.0f", $4}')
  log "  $1 dnsperf: ${qps:-?} qps"
  record "$1" dnsperf "$qps" $(($(cpu_ticks "$1") - t0))
}

run_tcp() { # name round
  local out t0 qps
  t0=$(cpu_ticks "$1")
  out=$(load "$BUILD/bench/tcp_load" -s $ADDR \
    -p "${PORT_OF[$1]}" -l "$SECS" -c "$TCP_CONNS" -d "$TCP_DEPTH" 2>&1)
  echo "$1 tcp_load #$2: $out" >>"$TMP/raw.log"
  qps=$(echo "$out" | field qps_answered)
  log "  $1 tcp_load: $qps qps (closed $(echo "$out" | field closed), rcode errors" \
    "$(echo "$out" | field errors), empty answers $(echo "$out" | field empty))"
  record "$1" tcp "$qps" $(($(cpu_ticks "$1") - t0))
}

# result NAME KIND[.cpu|.eff]: the median of the recorded runs, empty if there were none.
result() {
  [ -f "$TMP/$1.$2.vals" ] || return 0
  grep -E '^[0-9]+$' "$TMP/$1.$2.vals" | median
}

# rounds KINDS NAME...: starts every NAME, then runs REPS rounds, each measuring every
# running NAME once with each kind of load in KINDS (flood, dnsperf, tcp).
rounds() {
  local kinds=$1; shift
  local name rep kind up=()
  for name in "$@"; do
    log "starting $(label "$name")"
    start_named "$name" && up+=("$name")
  done
  for rep in $(seq 1 "$REPS"); do
    log "round $rep/$REPS"
    for name in "${up[@]}"; do
      for kind in $kinds; do
        [ "$kind" = dnsperf ] && [ -z "$HAVE_DNSPERF" ] && continue
        run_"$kind" "$name" "$rep"
      done
    done
  done
}

# Share of the CPUs busy with other work on this (shared) machine, over one second.
busy_pct() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
  echo "$a $b" | awk '{d=$4-$2; printf "%.0f", (d > 0 ? 100*($3-$1)/d : 0)}'
}

ref_name() { case $1 in echo1) echo ceiling ;; echo1-gso) echo "GSO ceiling" ;; *) echo "$1" ;; esac; }
fmt() { if [ -n "${1:-}" ]; then echo "$1"; else echo "-"; fi; }
ratio() { # a b: a/b with 2 decimals, or "-"
  if [ -n "${1:-}" ] && [ -n "${2:-}" ] && [ "$2" != 0 ]; then
    awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'
  else
    echo "-"
  fi
}
verdict() { # ratio target
  [ "$1" = - ] && { echo "n/a"; return; }
  awk -v r="$1" -v t="$2" 'BEGIN{print (r >= t) ? "met" : "MISSED"}'
}

"$BUILD/bench/flood" --write-query "$TMP/query.bin" || die "cannot write the query file"
export LC_ALL=C
T_START=$SECONDS
BUSY_BEFORE=$(busy_pct)
[ "$BUSY_BEFORE" -gt 10 ] && log "warning: the machine is ${BUSY_BEFORE}% busy before the run: figures will be noisy"

# The responder's 1-worker UDP rows: one per UDP I/O path it offers (--udp-io).
RESP1=()
if [ -n "$RESP" ]; then
  if resp_has --udp-io; then
    RESP1=(resp1-mmsg)
    resp_has --no-udp-gso && RESP1+=(resp1-nogso)
    resp_has --no-udp-gro && RESP1+=(resp1-nogro)
    resp_has mmsg-onesock && RESP1+=(resp1-onesock)
    RESP1+=(resp1-uv)
  else
    RESP1=(resp1)
  fi
fi

UDP_ROWS=()
if [[ $ONLY == *,udp,* ]]; then
  [ -n "$HAVE_NSD" ] && UDP_ROWS+=(nsd)
  UDP_ROWS+=("${RESP1[@]}")
  [ -n "$RESP" ] && [ "$NCPU" -ge 2 ] && UDP_ROWS+=(resp2)
  UDP_ROWS+=(echo1)
  "$BUILD/bench/mmsg_echo" --help 2>&1 | grep -q -- --gso && UDP_ROWS+=(echo1-gso)
  [ "$NCPU" -ge 2 ] && UDP_ROWS+=(echo2)
  rounds "flood dnsperf" "${UDP_ROWS[@]}"
fi

TCP_ROWS=()
TCP_RESP=
if [[ $ONLY == *,tcp,* ]]; then
  [ -n "$HAVE_NSD" ] && TCP_ROWS+=(nsd)
  [ -n "$HAVE_KNOT" ] && TCP_ROWS+=(knot)
  [ -n "$RESP" ] && TCP_RESP=${RESP1[0]} && TCP_ROWS+=("$TCP_RESP")
  rounds tcp "${TCP_ROWS[@]}"
fi
stop_all

HOLD_LINE=
RSS_IDLE=
if [[ $ONLY == *,hold,* ]] && [ -n "$RESP" ]; then
  log "anycast-responder holding $HOLD_CONNS idle TCP connections for $HOLD_SECS s"
  extra=()
  resp_has --tcp-idle-timeout && extra+=(--tcp-idle-timeout "$((HOLD_SECS + 60))s")
  resp_has --max-tcp-clients && extra+=(--max-tcp-clients "$((HOLD_CONNS + 1000))")
  mapfile -t cmd < <(resp_cmd 5350 1 default "${extra[@]}")
  if start_server hold "$SCPU" 5350 tcp "${cmd[@]}"; then
    RSS_IDLE=$(awk '/^VmRSS:/{print $2}' "/proc/${PID[hold]}/status")
    HOLD_LINE=$(inns nice -n "$NICE" timeout $((HOLD_SECS + 60)) taskset -c "$LCPU" "$BUILD/bench/tcp_hold" \
      -s $ADDR -p 5350 -c "$HOLD_CONNS" -l "$HOLD_SECS" -r "${PID[hold]}" -q 2>>"$TMP/raw.log")
    echo "tcp_hold: $HOLD_LINE" >>"$TMP/raw.log"
    log "  $HOLD_LINE"
    stop_server hold
  fi
fi
BUSY_AFTER=$(busy_pct)

# ---- report ---------------------------------------------------------------------------

echo
echo "anycast-responder benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  kernel $(uname -r)  ${NCPU} CPUs"
echo "medians of $REPS round(s) x $SECS s; 1-process servers on CPU $SCPU, 2-worker/2-thread" \
  "ones on all CPUs; load generators on CPU $LCPU; nice $NICE"
echo "other load on the machine: ${BUSY_BEFORE}% before, ${BUSY_AFTER}% after the run" \
  "(qps/cpu-s, answers per CPU-second of the server, does not depend on it)"
if [ ${#UDP_ROWS[@]} -gt 0 ]; then
  echo
  echo "1. UDP CH TXT hostname.bind, answered queries per second"
  echo "   flood $FLOOD_ARGS (closed loop, sendmmsg/recvmmsg); dnsperf -B $DNSPERF_ARGS (reference)"
  printf '   %-40s %10s %5s %10s | %10s %5s\n' "server" "flood" "cpu%" "qps/cpu-s" "dnsperf" "cpu%"
  for r in "${UDP_ROWS[@]}"; do
    printf '   %-40s %10s %5s %10s | %10s %5s\n' "$(label "$r")" "$(fmt "$(result "$r" flood)")" \
      "$(fmt "$(result "$r" flood.cpu)")" "$(fmt "$(result "$r" flood.eff)")" \
      "$(fmt "$(result "$r" dnsperf)")" "$(fmt "$(result "$r" dnsperf.cpu)")"
  done
  echo
  printf '   %-40s %10s %5s %10s | %10s   %s\n' "ratio" "flood" "" "qps/cpu-s" "dnsperf" \
    "target: flood, qps/cpu-s"
  for r in "${RESP1[@]}"; do
    for ref in nsd echo1 echo1-gso; do
      [[ " ${UDP_ROWS[*]} " == *" $ref "* ]] || continue
      target=1.2
      [ $ref != nsd ] && target=0.8
      rf=$(ratio "$(result "$r" flood)" "$(result $ref flood)")
      re=$(ratio "$(result "$r" flood.eff)" "$(result $ref flood.eff)")
      rd=$(ratio "$(result "$r" dnsperf)" "$(result $ref dnsperf)")
      printf '   %-40s %10s %5s %10s | %10s   >=%s: %s, %s\n' \
        "$(label "$r" | sed 's/anycast-//') / $(ref_name $ref)" \
        "$rf" "" "$re" "$rd" "$target" "$(verdict "$rf" $target)" "$(verdict "$re" $target)"
    done
  done
  if [[ " ${UDP_ROWS[*]} " == *" resp2 "* ]]; then
    printf '   %-40s %10s %5s %10s | %10s\n' "responder 2w / ceiling (2 threads)" \
      "$(ratio "$(result resp2 flood)" "$(result echo2 flood)")" "" \
      "$(ratio "$(result resp2 flood.eff)" "$(result echo2 flood.eff)")" \
      "$(ratio "$(result resp2 dnsperf)" "$(result echo2 dnsperf)")"
    best1=$(for r in "${RESP1[@]}"; do result "$r" flood; done | sort -n | tail -n 1)
    printf '   %-40s %10s\n' "responder 2w / 1w (best 1w path)" "$(ratio "$(result resp2 flood)" "$best1")"
  fi
fi
if [ ${#TCP_ROWS[@]} -gt 0 ]; then
  echo
  echo "2. TCP, $TCP_CONNS connections x $TCP_DEPTH pipelined queries (tcp_load), answered qps"
  printf '   %-40s %10s %5s %10s\n' "server" "tcp_load" "cpu%" "qps/cpu-s"
  for r in "${TCP_ROWS[@]}"; do
    printf '   %-40s %10s %5s %10s\n' "$(label "$r")" "$(fmt "$(result "$r" tcp)")" \
      "$(fmt "$(result "$r" tcp.cpu)")" "$(fmt "$(result "$r" tcp.eff)")"
  done
  for ref in knot nsd; do
    rt=$(ratio "$([ -n "$TCP_RESP" ] && result "$TCP_RESP" tcp)" "$(result $ref tcp)")
    re=$(ratio "$([ -n "$TCP_RESP" ] && result "$TCP_RESP" tcp.eff)" "$(result $ref tcp.eff)")
    printf '   %-40s %10s %5s %10s   >=1.0: %s, %s\n' "responder / $ref" "$rt" "" "$re" \
      "$(verdict "$rt" 1.0)" "$(verdict "$re" 1.0)"
  done
fi
if [[ $ONLY == *,hold,* ]]; then
  echo
  echo "3. $HOLD_CONNS concurrent idle TCP connections held by anycast-responder for $HOLD_SECS s"
  if [ -n "$HOLD_LINE" ]; then
    rss=$(echo "$HOLD_LINE" | field rss_kb)
    echo "   opened $(echo "$HOLD_LINE" | field opened), failed $(echo "$HOLD_LINE" | field failed)," \
      "still open after $HOLD_SECS s $(echo "$HOLD_LINE" | field held)," \
      "answered a query at the end $(echo "$HOLD_LINE" | field answered)"
    printf '   VmRSS while held: %s MB (idle before: %s MB)   target < 100 MB: %s\n' \
      "$(awk -v k="${rss:-0}" 'BEGIN{printf "%.1f", k/1024}')" \
      "$(awk -v k="${RSS_IDLE:-0}" 'BEGIN{printf "%.1f", k/1024}')" \
      "$(awk -v k="${rss:-0}" 'BEGIN{print (k > 0 && k < 100*1024) ? "met" : "MISSED"}')"
  else
    echo "   not measured (responder missing or did not start)"
  fi
fi
echo
echo "total time $((SECONDS - T_START)) s"
