# Helpers for the anycast-lab integration tests (4[0-9]-lab-*.sh), sourced
# after lib.sh. Every run writes its results under $T_TMP; whatever a run
# leaves (namespaces of its run id, processes) is removed on exit.

LAB=$AH_BIN/anycast-lab
LAB_RUNIDS=()

# The run ids of labs this test started are cleaned on exit, and only those:
# other labs on the machine are not this test's business.
lab_cleanup() {
  local id
  for id in "${LAB_RUNIDS[@]}"; do "$LAB" clean --all "$id" >/dev/null 2>&1; done
  t_cleanup
}
trap lab_cleanup EXIT

# lab_reaped LEFT CMD...: runs CMD as the child of a subreaper, so that
# whatever CMD leaves behind when it exits (a child it did not reap, now a
# zombie, or one still running) comes to the subreaper instead of init. That
# one lists them in the file LEFT, one "pid state comm" a line, right when
# CMD has exited, then kills and reaps them. SIGTERM, SIGINT and SIGHUP are
# passed on to CMD; CMD's pid is written to LEFT.pid. Returns CMD's exit
# status.
lab_reaped() {
  python3 -c '
import ctypes, os, signal, sys
left, argv = sys.argv[1], sys.argv[2:]
if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("lab_reaped: prctl(PR_SET_CHILD_SUBREAPER) failed")
pid = 0
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, lambda n, f: pid and os.kill(pid, n))
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
with open(left + ".pid", "w") as o:
    o.write("%d\n" % pid)
st = os.waitpid(pid, 0)[1]
rc = os.waitstatus_to_exitcode(st)
me, found = os.getpid(), []
for d in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open("/proc/%s/stat" % d).read()
    except OSError:
        continue
    f = stat[stat.rindex(")") + 2:].split()
    if int(f[1]) == me:
        found.append((int(d), f[0], stat[stat.index("(") + 1:stat.rindex(")")]))
with open(left, "w") as o:
    o.writelines("%d %s %s\n" % x for x in found)
for p, _, _ in found:
    try:
        os.kill(p, signal.SIGKILL)
        os.waitpid(p, 0)
    except OSError:
        pass
sys.exit(rc if rc >= 0 else 128 - rc)
' "$@"
}

# lab_run LABFILE [ARGS...]: runs the lab to its end; sets LAB_RC, LAB_DIR
# (the results directory), LAB_ID (its run id) and LAB_FILE (the file run). Output in $T_TMP/run.out/.err.
# Unless --keep-up is given, the run goes through lab_reaped and LAB_LEFT
# lists what it left behind (empty when it reaped every child).
#
# A lab file without its own `tolerance` runs from a copy with `tolerance: 2s`:
# these tests assert what a drill does, not how punctually a loaded CI machine
# (the sanitizer rerun on 2 cores) starts its steps, which the default 20 ms
# tolerance would turn into exit 1. 65-lab-late-step tests the tolerance itself.
lab_run() {
  local lab=$1 a; shift
  if ! grep -q '^tolerance:' "$lab"; then
    mkdir -p "$T_TMP/tolerant"
    { cat "$lab"; printf '\ntolerance: 2s\n'; } >"$T_TMP/tolerant/${lab##*/}"
    lab=$T_TMP/tolerant/${lab##*/}
  fi
  LAB_FILE=$lab
  LAB_LEFT=
  for a in "$@"; do [ "$a" = --keep-up ] && break; done
  if [ "${a:-}" = --keep-up ]; then
    "$LAB" run "$lab" --results "$T_TMP/results" "$@" >"$T_TMP/run.out" 2>"$T_TMP/run.err"
    LAB_RC=$?
  else
    lab_reaped "$T_TMP/run.left" "$LAB" run "$lab" --results "$T_TMP/results" "$@" \
      >"$T_TMP/run.out" 2>"$T_TMP/run.err"
    LAB_RC=$?
    LAB_LEFT=$(cat "$T_TMP/run.left" 2>/dev/null)
  fi
  LAB_DIR=$(sed -n 's/^results: //p' "$T_TMP/run.out" | tail -n 1)
  LAB_ID=
  if [ -n "$LAB_DIR" ] && [ -f "$LAB_DIR/run.json" ]; then
    LAB_ID=$(sed -n 's/.*"run_id": "\([a-z0-9]*\)".*/\1/p' "$LAB_DIR/run.json")
    LAB_RUNIDS+=("$LAB_ID")
  fi
  echo "--- anycast-lab run $lab: exit $LAB_RC, results $LAB_DIR"
  cat "$T_TMP/run.out"
  sed 's/^/    stderr| /' "$T_TMP/run.err"
  [ -z "$LAB_LEFT" ] || sed 's/^/    left behind| /' <<<"$LAB_LEFT"
}

# The two-node lab most tests use, for a lab file's unquoted heredoc: nodes a
# and b, vantage va preferring a and vb preferring b.
LAB_NODES_AB='nodes:
  - name: a
  - name: b'
LAB_VANTAGES_AB='vantages:
  - name: va
    prefer: [a, b]
  - name: vb
    prefer: [b, a]'

MS=1000000 # ns per ms, for windows over ts_ns columns

# resp_v6_dies V4 V6 LAB VANTAGE: a node's `responder: {command: ...}` value
# (for a YAML double-quoted string) that runs two anycast-responders named
# b, one per address, and kills the IPv6 one 0.3 s after VANTAGE's IPv6
# probe of the run of LAB under $T_TMP/results started (its result directory
# exists), so the readiness check saw both answer.
resp_v6_dies() {
  printf '%s' "R=$AH_BIN/anycast-responder; \$R --listen $1 --identity b & \$R --listen $2 --identity b & p=\$!; until ls -d $T_TMP/results/*-$3/probes-$4-ipv6 >/dev/null 2>&1; do sleep 0.05; done; sleep 0.3; kill \$p; wait"
}

# route_after V NODE TS: ts of the first route row at V's router to NODE after TS.
route_after() {
  awk -F, -v v="router=$1" -v n="$2" -v t="$3" \
    '$2 == "route" && $3 == n && index($4, v) == 1 && $1 > t { print $1; exit }' "$LAB_DIR/events.csv"
}

# ev_ts EVENT NODE [N]: ts_ns of the Nth (default 1st) EVENT row for NODE.
ev_ts() {
  awk -F, -v e="$1" -v n="$2" -v k="${3:-1}" \
    '$2 == e && $3 == n && ++c == k { print $1; exit }' "$LAB_DIR/events.csv"
}

# lab_phase V NODE FROM TO: "<ok by NODE> <ok by others> <failed>" for vantage
# V's UDP probes sent in (FROM, TO).
lab_phase() {
  awk -F, -v v="$1" -v n="$2" -v f="$3" -v t="$4" \
    '$2 == v && $4 == "udp" && $1 > f && $1 < t { if ($8 != "ok") x++; else if ($9 == n) a++; else o++ }
     END { print a + 0, o + 0, x + 0 }' "$LAB_DIR/probes.csv"
}

# The health checks of the tracked labs, for a lab file's unquoted heredoc;
# lab_track_moved's bounds follow from them.
LAB_TRACK='track: {service: dns, frequency: 300ms, timeout: 200ms, down: 2, up: 2}'

# lab_track_moved V NODE FROM WHAT: with the checks of LAB_TRACK (frequency
# 300 ms, down 2, timeout 200 ms), V's route moves to NODE after FROM (the
# event WHAT) within frequency x down + timeout + 500 ms and not before one
# frequency. Sets R to the ts_ns of that route row.
lab_track_moved() {
  local det
  R=$(route_after "$1" "$2" "$3")
  t_true "$1's route moved to $2" test -n "$R"
  det=$(( (R - $3) / MS ))
  echo "detection ($4 -> route change at $1): $det ms (bound 300 x 2 + 200 + 500)"
  t_true "route removed within frequency x down + timeout + 500 ms" test "$det" -le 1300
  t_true "not before the second failed check (>= 1 frequency)" test "$det" -ge 250
}

# lab_runid_of PID: the run id whose state names PID as its owner.
lab_runid_of() {
  local f
  for f in /run/anycast-lab/*/state; do
    [ -f "$f" ] || continue
    if grep -qx "owner $1" "$f"; then sed -n 's/^runid //p' "$f"; return 0; fi
  done
  return 1
}

# lab_leftovers RUNID: prints anything of that run still present.
lab_leftovers() {
  ls /run/netns 2>/dev/null | grep "^ah-lab-$1-"
  [ -e "/run/anycast-lab/$1" ] && echo "state /run/anycast-lab/$1"
  return 0
}

# host_snapshot: the host namespace's links, addresses, routes and the
# sysctls a lab writes inside its own namespaces.
host_snapshot() {
  ip -o link show | sed 's/ state [A-Z]*//; s/qlen [0-9]*//' | awk '{ $1 = ""; print }' |
    grep -v -e 'ah-' -e '@if' | sort
  ip -o addr show | awk '{ $1 = ""; print }' | grep -v 'ah-' | sort
  ip route show table all | sort
  ip -6 route show table all | sort
  sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter \
    net.ipv4.conf.default.rp_filter net.ipv4.fib_multipath_hash_policy \
    net.ipv6.fib_multipath_hash_policy 2>/dev/null
}
