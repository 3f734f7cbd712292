#!/usr/bin/env bash
# Lab scale benchmark: generates a lab of N nodes x M vantages (static
# routing, one YAML, UDP and TCP probes per vantage, a three-step drill and
# one expectation), runs it with `anycast-lab run` and reports, from run.json,
# the startup times (topology, responders, probes; "up" is their sum, the
# time until the drill's clock starts), "down" (the run's own log: probes
# stopped, responders stopped, namespaces removed), the peak of the summed
# resident memory of every process the run starts (sampled twice a second),
# each drill step's lateness, the share of UDP probes answered and whether
# the run kept its schedule. The question it answers:
# what is the largest lab this machine runs on time (docs/anycast-lab.md,
# "Scale")?
# Usage: bench/lab_scale.sh NxM [NxM...]   e.g. bench/lab_scale.sh 10x30 100x300
# Env: AH_BUILD (build), RATE (UDP probes/s per vantage, 50), CONNS (TCP
# connections per vantage, 2), DURATION (s, 12), TOLERANCE (lab key, 20ms),
# PER_PROCESS (lab key probes.vantages-per-process: 1 for a process per
# vantage, default auto), SPREAD=1 (vantage i prefers node i mod N, then the
# next, instead of every vantage n1: the load spread over all responders),
# KEEP=1 keeps the results. Root only. Every run is bounded by `timeout` and
# its namespaces are removed by `anycast-lab clean` whatever happens.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
B=${AH_BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
LAB=$B/anycast-lab
RATE=${RATE:-50}
CONNS=${CONNS:-2}
DURATION=${DURATION:-12}
TOLERANCE=${TOLERANCE-20ms}
[ "$(id -u)" -eq 0 ] || { echo "bench/lab_scale.sh: needs root" >&2; exit 2; }
[ -x "$LAB" ] || { echo "bench/lab_scale.sh: build $LAB first (make)" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: bench/lab_scale.sh NxM [NxM...]" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench/lab_scale.sh: needs python3" >&2; exit 2; }

dir=$(mktemp -d /tmp/anycast-lab-scale.XXXXXX)
RUNIDS=()
cleanup() {
  local id
  for id in "${RUNIDS[@]}"; do "$LAB" clean --all "$id" >/dev/null 2>&1; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# gen N M FILE: the lab. Node n1 is every vantage's first choice, n2 the
# second, so withdrawing n1 moves every vantage to n2.
gen() {
  local n=$1 m=$2 f=$3 i prefer="n1"
  for ((i = 2; i <= n && i <= 3; i++)); do prefer+=", n$i"; done
  # SPREAD=1: vantage i's first choice is node (i-1) mod n + 1, its second
  # the next one, so v1 still prefers n1 then n2.
  pref() {
    if [ "${SPREAD:-0}" = 1 ] && [ "$n" -gt 1 ]; then
      echo "n$((($1 - 1) % n + 1)), n$(($1 % n + 1))"
    else
      echo "$prefer"
    fi
  }
  {
    echo "name: scale${n}x$m"
    echo "anycast: [198.51.100.53]"
    echo "routing: static"
    echo "duration: ${DURATION}s"
    [ -z "$TOLERANCE" ] || echo "tolerance: $TOLERANCE"
    echo "nodes:"
    for ((i = 1; i <= n; i++)); do echo "  - name: n$i"; done
    echo "vantages:"
    for ((i = 1; i <= m; i++)); do echo "  - {name: v$i, prefer: [$(pref "$i")]}"; done
    echo "probes:"
    [ -z "${PER_PROCESS:-}" ] || echo "  vantages-per-process: $PER_PROCESS"
    echo "  udp: {service: dns, rate: $RATE, flows: 2}"
    echo "  tcp: {service: dns, connections: $CONNS, interval: 200ms}"
    echo "drill:"
    echo "  - {at: 3s, withdraw: n1}"
    echo "  - {at: 6s, announce: n1}"
    echo "  - {at: 9s, withdraw: n1}"
    echo "expect:"
    echo "  - \"v1 udp after withdraw n1 answered-by n2\""
  } >"$f"
}

# rss_peak PID OUT AVAIL0: until PID is gone, sums VmRSS over PID and every
# process below it twice a second; writes the peak (MB) to OUT, with the sum
# of their proportional set sizes (PSS: shared pages divided among their
# users) then, and the largest drop of the machine's MemAvailable below
# AVAIL0 (kB, read before the run): what the run costs the machine, the
# kernel's share (namespaces, devices, routes, socket buffers) included.
rss_peak() {
  python3 - "$1" "$2" "$3" <<'EOF'
import os, sys, time
root, out, peak, peak_pss = int(sys.argv[1]), sys.argv[2], 0, 0
avail0, drop = int(sys.argv[3]), 0
def avail():
    for l in open("/proc/meminfo"):
        if l.startswith("MemAvailable:"):
            return int(l.split()[1])
    return avail0
while os.path.exists("/proc/%d" % root):
    drop = max(drop, avail0 - avail())
    kids, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        kids.setdefault(int(st["PPid"]), []).append(int(d))
        rss[int(d)] = int(st.get("VmRSS", "0 kB").split()[0])
    total, pss, todo = 0, 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(kids.get(p, []))
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                pss += sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
        except (OSError, ValueError, IndexError):
            pass
    if total > peak:
        peak, peak_pss = total, pss
    time.sleep(0.5)
open(out, "w").write("%.0f MB (PSS %.0f MB), MemAvailable down %.0f MB" %
                     (peak / 1024, peak_pss / 1024, drop / 1024))
EOF
}

# summary RUN_JSON: one line from run.json (the keys docs/anycast-lab.md lists).
summary() {
  DURATION=$DURATION python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r.get("startup") or {}
def ms(k):
    v = s.get(k)
    return "-" if v is None else "%.0f" % (v / 1e6)
late = [d.get("late_ns") for d in r.get("drill", [])]
known = [x for x in late if x is not None]
worst = "%.1f" % (max(known) / 1e6) if known else "-"
steps = " ".join("-" if x is None else "%.1f" % (x / 1e6) for x in late)
rows = r.get("rows") or {}
# The share of UDP probes answered: a lab on time can still be too big for
# its responders or for the machine's packet path.
import csv, os
ok = n = tcp = 0
# Probes per second: every probe row (UDP and TCP) sent within the drill
# (its start plus the lab's duration; run.json's end_ns also covers the
# stop, which takes seconds in a big lab), over that span.
t0 = r.get("drill_start_ns")
t1 = t0 + int(os.environ["DURATION"]) * 10**9 if t0 else None
inside = 0
pc = os.path.join(os.path.dirname(sys.argv[1]), "probes.csv")
if os.path.exists(pc):
    for row in csv.DictReader(open(pc)):
        if t0 and t1 and t0 <= int(row["ts_ns"]) < t1:
            inside += 1
        if row["transport"] == "udp":
            n += 1
            ok += row["result"] == "ok"
rate = "%.0f/s" % (inside / ((t1 - t0) / 1e9)) if t0 and t1 and t1 > t0 else "-"
parts = [s.get(k) for k in ("topology_ns", "responders_ns", "probes_ns")]
up = "%.0f" % (sum(parts) / 1e6) if None not in parts else "-"
print("up %s ms (topology %s, responders %s, probes %s); step lateness ms: %s "
      "(max %s, tolerance %s ms); probes %s; UDP answered %s; status: %s" % (up,
      ms("topology_ns"), ms("responders_ns"), ms("probes_ns"), steps, worst,
      "%.0f" % (r["tolerance_ns"] / 1e6) if r.get("tolerance_ns") is not None else "-", rate,
      "%.1f%% of %d" % (100.0 * ok / n, n) if n else "-", r.get("status")))
EOF
}

# The CPU time of the run and every process it waited for (user+system), when
# GNU time is there.
TIMEIT=()
[ ! -x /usr/bin/time ] || TIMEIT=(/usr/bin/time -o "$dir/cpu" -f "%U %S")

rc_all=0
for size in "$@"; do
  case $size in *x*) ;; *) echo "bench/lab_scale.sh: $size: want NxM" >&2; exit 2 ;; esac
  n=${size%x*} m=${size#*x}
  gen "$n" "$m" "$dir/lab-$size.yaml"
  # Build, startup (the barrier's own bound), the drill and the teardown.
  limit=$((DURATION + 300))
  avail0=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
  t0=$(date +%s%N)
  timeout -k 10 "$limit" "${TIMEIT[@]}" "$LAB" run "$dir/lab-$size.yaml" --results "$dir/results" \
    >"$dir/run-$size.out" 2>"$dir/run-$size.err" &
  pid=$!
  rss_peak "$pid" "$dir/rss-$size" "$avail0" &
  wait "$pid"
  rc=$?
  t1=$(date +%s%N)
  wait
  down=$(sed -n 's/.*: down in \([0-9]*\) ms.*/\1/p' "$dir/run-$size.err" | tail -n 1)
  extra="down ${down:--} ms, RSS peak $(cat "$dir/rss-$size" 2>/dev/null || echo -)"
  [ ${#TIMEIT[@]} -eq 0 ] ||
    extra+=", CPU $(tail -n 1 "$dir/cpu" 2>/dev/null |
      awk '{printf "%.1f s (user %.1f, system %.1f)", $1 + $2, $1, $2}')"
  res=$(sed -n 's/^results: //p' "$dir/run-$size.out" | tail -n 1)
  if [ -n "$res" ] && [ -f "$res/run.json" ]; then
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$res/run.json")
    RUNIDS+=("$id")
    "$LAB" clean --all "$id" >/dev/null 2>&1
    echo "$size: exit $rc, wall $(((t1 - t0) / 1000000)) ms; $(summary "$res/run.json"); $extra"
  else
    echo "$size: exit $rc, wall $(((t1 - t0) / 1000000)) ms; no run.json (see below); $extra"
    tail -n 5 "$dir/run-$size.err" >&2
    # Without run.json the run id is unknown: clean every lab this lab name left.
    "$LAB" clean --all "scale${n}x$m" >/dev/null 2>&1
  fi
  grep -E 'late|startup|overloaded' "$dir/run-$size.err" | head -n 3 | sed 's/^/  /'
  [ "$rc" -eq 0 ] || rc_all=1
  left=$(ip netns list | grep -c "^ah-lab-" || true)
  [ "$left" -eq 0 ] || echo "  warning: $left ah-lab-* namespaces on the machine" >&2
  sleep 2 # the kernel frees namespaces in the background
done
exit $rc_all
