#!/usr/bin/env bash
# Runs the test suite: Check unit programs, integration scripts (real
# processes in real network namespaces, root only) and a short libFuzzer run.
# Usage: tests/run.sh [all|LIST] [NAME-FILTER], LIST a comma list of
# unit, integration, fuzz.
# Prints one result line per test program and a closing "N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/.."
export AH_BUILD=${AH_BUILD:-build}
export AH_ROOT=$PWD
what=,${1:-all},
[ "$what" = ",all," ] && what=,unit,integration,fuzz,
filter=${2:-}
passed=0
failed=0
skipped=0
failures=()

run_one() { # name, command...
  local name=$1; shift
  local log start rc
  log=$(mktemp "${TMPDIR:-/tmp}/ah-test.XXXXXX")
  start=$(date +%s.%N)
  timeout --kill-after=10 "${AH_TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1
  rc=$?
  local secs
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  case $rc in
    0) passed=$((passed + 1)); printf 'PASS %-44s %6ss\n' "$name" "$secs" ;;
    77) skipped=$((skipped + 1)); printf 'SKIP %-44s %s\n' "$name" "$(tail -n 1 "$log")" ;;
    *) failed=$((failed + 1)); failures+=("$name")
       printf 'FAIL %-44s %6ss (exit %d)\n' "$name" "$secs" "$rc"
       sed 's/^/    | /' "$log" | tail -n 60 ;;
  esac
  if [ -n "${AH_TEST_VERBOSE:-}" ] && [ $rc -eq 0 ]; then sed 's/^/    | /' "$log"; fi
  rm -f "$log"
}

if [[ $what == *,unit,* ]]; then
  for t in "$AH_BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case $(basename "$t") in *"$filter"*) ;; *) continue ;; esac
    run_one "unit/$(basename "$t")" "$t"
  done
fi

if [[ $what == *,integration,* ]]; then
  for t in tests/integration/[0-9]*.sh; do
    [ -f "$t" ] || continue
    case $(basename "$t") in *"$filter"*) ;; *) continue ;; esac
    run_one "integration/$(basename "$t" .sh)" bash "$t"
  done
fi

if [[ $what == *,fuzz,* ]]; then
  secs=${FUZZ_SECONDS:-20}
  for f in "$AH_BUILD"/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    case $n in *"$filter"*) ;; *) continue ;; esac
    corpus=$(mktemp -d "${TMPDIR:-/tmp}/ah-fuzz.XXXXXX")
    seeds=tests/fuzz/seeds/${n#fuzz_}
    run_one "fuzz/$n (${secs}s)" "$f" -max_total_time="$secs" -rss_limit_mb=1024 \
      -artifact_prefix="$corpus/" "$corpus" $( [ -d "$seeds" ] && echo "$seeds" )
    rm -rf "$corpus"
  done
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
