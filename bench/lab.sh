#!/usr/bin/env bash
# Lab topology up/down times: in-process netlink (topo_tool, the code
# anycast-lab uses) against the same topology built with iproute2 commands
# (bench/lab_ip.sh, one `ip -batch` per namespace; BENCH_NAIVE=1 adds the
# one-process-per-command variant), for the quickstart size (3 nodes x 2
# vantages) and for 50 nodes x 50 vantages (151 namespaces, 2,500 router
# routes per address family). Prints the median of BENCH_REPS runs (default 3).
# up_ms/down_ms: wall clock of the command (process start included). After
# down returns the kernel still frees the namespaces in the background
# (cleanup_net); docs/topology.md says what that costs. BENCH_SETTLE seconds
# (default 2) between runs keep that work out of the next measurement.
# Root only; every lab it makes is removed again, also on failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
AH_BUILD=${AH_BUILD:-build}
TOOL=$AH_BUILD/tests/tools/topo_tool
REPS=${BENCH_REPS:-3}
SIZES=${BENCH_SIZES:-"3x2 50x50"}
[ "$(id -u)" -eq 0 ] || { echo "bench/lab.sh: needs root" >&2; exit 2; }
[ -x "$TOOL" ] || { echo "bench/lab.sh: build $TOOL first (make unit)" >&2; exit 2; }

RUNS=()
cleanup() {
  local r
  for r in "${RUNS[@]}"; do
    "$TOOL" down "$r" >/dev/null 2>&1
    bench/lab_ip.sh down "$r" >/dev/null 2>&1
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { echo $(($(date +%s%N) / 1000)); }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
settle() { sleep "${BENCH_SETTLE:-2}"; } # the kernel frees namespaces asynchronously

# measure KIND N V -> "UP_MS DOWN_MS" (wall clock, process start included)
measure() {
  local kind=$1 n=$2 v=$3 run t0 t1 t2
  run=b$RANDOM$$
  RUNS+=("$run")
  t0=$(now_us)
  case $kind in
    netlink) "$TOOL" up "$run" "$n" "$v" static >/dev/null || return 1 ;;
    ip-batch) bench/lab_ip.sh up "$run" "$n" "$v" batch || return 1 ;;
    ip-naive) bench/lab_ip.sh up "$run" "$n" "$v" naive || return 1 ;;
  esac
  t1=$(now_us)
  local routes
  routes=$(ip -n "ah-lab-$run-r-v1" route show 198.51.100.53 | wc -l)
  [ "$routes" -eq "$n" ] || { echo "$kind: router v1 has $routes routes, want $n" >&2; return 1; }
  case $kind in
    netlink) "$TOOL" down "$run" >/dev/null || return 1 ;;
    *) bench/lab_ip.sh down "$run" || return 1 ;;
  esac
  t2=$(now_us)
  [ "$(ip netns list | grep -c "^ah-lab-$run-")" -eq 0 ] || { echo "$kind: leftovers" >&2; return 1; }
  echo "$(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2")"
}

kinds="netlink ip-batch"
[ -n "${BENCH_NAIVE:-}" ] && kinds="$kinds ip-naive"
printf '%-8s %-9s %5s %8s %8s %9s\n' size method nsns up_ms down_ms up_ratio
for size in $SIZES; do
  n=${size%x*} v=${size#*x}
  base_up=""
  for kind in $kinds; do
    ups=() downs=()
    for ((k = 0; k < REPS; k++)); do
      settle
      r=$(measure "$kind" "$n" "$v") || { echo "bench/lab.sh: $kind $size failed" >&2; exit 1; }
      ups+=("${r% *}")
      downs+=("${r#* }")
    done
    up=$(printf '%s\n' "${ups[@]}" | median)
    down=$(printf '%s\n' "${downs[@]}" | median)
    [ -z "$base_up" ] && base_up=$up
    printf '%-8s %-9s %5d %8d %8d %8.1fx\n' "$size" "$kind" $((1 + n + 2 * v)) "$up" "$down" \
      "$(awk -v a="$up" -v b="$base_up" 'BEGIN { print a / b }')"
  done
done

# Drill actions on the 50x50 lab (or the last size): microseconds from the
# call to the last kernel ACK, at every router that prefers the node (all of
# them here), median of BENCH_DRILLS withdraw/announce pairs.
DRILLS=${BENCH_DRILLS:-10}
size=${SIZES##* }
n=${size%x*} v=${size#*x}
echo
printf '%-8s %-15s %12s %12s %12s\n' size routing withdraw_us announce_us link_down_us
for mode in static ecmp ecmp-resilient; do
  settle
  run=d$RANDOM$$
  RUNS+=("$run")
  out=$( {
    for ((k = 0; k < DRILLS; k++)); do
      echo "withdraw n1"; echo "announce n1"; echo "link-down n2"; echo "link-up n2"
    done
    echo quit
  } | "$TOOL" run "$run" "$n" "$v" "$mode") || { echo "bench/lab.sh: drill $mode failed" >&2; exit 1; }
  med() { echo "$out" | awk -v w="$1" '$1 == "ok" && $2 == w { print $5 }' | median; }
  printf '%-8s %-15s %12s %12s %12s\n' "$size" "$mode" "$(med withdraw)" "$(med announce)" "$(med link-down)"
done
