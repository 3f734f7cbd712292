#!/usr/bin/env bash
# Runs the test suite: Check unit programs, integration scripts (real
# processes in real network namespaces, root only) and a short libFuzzer run.
# Usage: tests/run.sh [all|LIST] [NAME-FILTER], LIST a comma list of
# unit, integration, fuzz. Integration tests and fuzz targets run
# AH_TEST_JOBS at a time (default 2): each test owns its namespaces and
# ports, and most of their time is spent waiting on drills and timeouts.
# Prints one result line per test program and a closing "N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/.."
export AH_BUILD=${AH_BUILD:-build}
export AH_ROOT=$PWD
what=,${1:-all},
[ "$what" = ",all," ] && what=,unit,integration,fuzz,
filter=${2:-}
jobs_max=${AH_TEST_JOBS:-2}
res=$(mktemp -d "${TMPDIR:-/tmp}/ah-run.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$res"' EXIT
trap 'exit 130' INT TERM
seq_no=0

# run_one ID NAME CMD...: runs one test program and prints its result block
# in one piece (under a lock, so parallel tests never interleave), leaving
# the verdict in $res/ID.rc for the tally.
run_one() {
  local id=$1 name=$2; shift 2
  local log=$res/$id.log out=$res/$id.out start rc secs
  start=$(date +%s.%N)
  timeout --kill-after=10 "${AH_TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1
  rc=$?
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  case $rc in
    0) printf 'PASS %-44s %6ss\n' "$name" "$secs" >"$out" ;;
    77) printf 'SKIP %-44s %s\n' "$name" "$(tail -n 1 "$log")" >"$out" ;;
    *) { printf 'FAIL %-44s %6ss (exit %d)\n' "$name" "$secs" "$rc"
         sed 's/^/    | /' "$log" | tail -n 80; } >"$out"
       # The failed assertions alone (ours, Check's, a sanitizer's or
       # libFuzzer's summary), for the recap after the tally: a CI log that
       # keeps only its head and tail still shows them.
       { [ $rc -eq 124 ] && echo "timed out after ${AH_TEST_TIMEOUT:-300} s"
         grep -m 10 -e '^FAIL - ' -e ':[FE]:' -e '^SUMMARY: ' "$log"; } >"$res/$id.why" ;;
  esac
  if [ -n "${AH_TEST_VERBOSE:-}" ] && [ $rc -eq 0 ]; then sed 's/^/    | /' "$log" >>"$out"; fi
  { flock 9; cat "$out"; } 9>"$res/lock"
  printf '%s %s\n' "$rc" "$name" >"$res/$id.rc"
}

# launch PARALLEL NAME CMD...: starts run_one, at most PARALLEL at a time.
launch() {
  local par=$1; shift
  while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n; done
  seq_no=$((seq_no + 1))
  run_one "$(printf '%04d' "$seq_no")" "$@" &
}

if [[ $what == *,unit,* ]]; then
  for t in $(find "$AH_BUILD/tests" -path "$AH_BUILD/tests/tools" -prune -o -type f -name "test_*" -print | sort); do
    [ -x "$t" ] || continue
    case $(basename "$t") in *"$filter"*) ;; *) continue ;; esac
    launch 1 "unit/${t#"$AH_BUILD"/tests/}" "$t"
  done
  wait
fi

if [[ $what == *,integration,* ]]; then
  for t in tests/integration/[0-9]*.sh; do
    [ -f "$t" ] || continue
    case $(basename "$t") in *"$filter"*) ;; *) continue ;; esac
    launch "$jobs_max" "integration/$(basename "$t" .sh)" bash "$t"
  done
  wait
fi

if [[ $what == *,fuzz,* ]]; then
  secs=${FUZZ_SECONDS:-20}
  for f in "$AH_BUILD"/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    case $n in *"$filter"*) ;; *) continue ;; esac
    corpus=$res/corpus-$n
    mkdir -p "$corpus"
    seeds=tests/fuzz/seeds/${n#fuzz_}
    # libFuzzer's own exit status for a finding is 77, which this runner
    # reads as "skipped": a leak it found once passed as SKIP.
    launch "$jobs_max" "fuzz/$n (${secs}s)" "$f" -max_total_time="$secs" -rss_limit_mb=1024 \
      -error_exitcode=1 -artifact_prefix="$corpus/" "$corpus" $([ -d "$seeds" ] && echo "$seeds")
  done
  wait
fi

passed=0 failed=0 skipped=0
failures=()
for r in "$res"/*.rc; do
  [ -f "$r" ] || continue
  read -r rc name <"$r"
  case $rc in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)); failures+=("$name")
       { echo "why $name:"; sed 's/^/    /' "${r%.rc}.why" 2>/dev/null; } >>"$res/recap" ;;
  esac
done
if [ ${#failures[@]} -gt 0 ]; then
  cat "$res/recap"
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
