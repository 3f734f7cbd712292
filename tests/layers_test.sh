#!/usr/bin/env bash
# Shows that tests/layers.py catches what it is there to catch: a tree whose
# lab layer includes a run header, uses ../ or another folder's *_int.h, and
# archives whose lab layer calls a function of the run layer. Each case must
# fail with a line naming the offence; the clean variants must pass.
set -uo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ah-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
expect() { # expect WANT(0|1) PATTERN CMD...: exit status and a message line
  local want=$1 pat=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if { [ "$want" = 0 ] && [ $rc -eq 0 ]; } || { [ "$want" = 1 ] && [ $rc -eq 1 ] && grep -q -- "$pat" <<<"$out"; }; then
    echo "ok: $*"
  else
    echo "FAIL (exit $rc, wanted $want /$pat/): $*"; echo "$out" | sed 's/^/    /'
    fails=$((fails + 1))
  fi
}
tree() { # a minimal tree with one file in lab, one in run
  rm -rf "$tmp/t"; mkdir -p "$tmp/t/harness/lab" "$tmp/t/harness/run" "$tmp/t/include/ah"
  echo 'int run_go(void);' >"$tmp/t/harness/run/run.h"
  echo 'int run_x;' >"$tmp/t/harness/run/run_int.h"
  echo 'int lab_go(void);' >"$tmp/t/harness/lab/lab.h"
  printf '#include "harness/lab/lab.h"\nint run_go(void) { return lab_go(); }\n' >"$tmp/t/harness/run/run.c"
  printf '#include "lab.h"\nint lab_go(void) { return 0; }\n' >"$tmp/t/harness/lab/lab.c"
}
tree
expect 0 '' tests/layers.py includes "$tmp/t"
printf '#include "harness/run/run.h"\n' >>"$tmp/t/harness/lab/lab.c"
expect 1 'harness/lab may not include harness/run' tests/layers.py includes "$tmp/t"
tree; printf '#include "../run/run.h"\n' >>"$tmp/t/harness/lab/lab.c"
expect 1 'uses ../' tests/layers.py includes "$tmp/t"
tree; printf '#include "harness/run/run_int.h"\n' >>"$tmp/t/harness/run/run.c"
expect 0 '' tests/layers.py includes "$tmp/t"
tree; printf '#include "harness/run/run_int.h"\n' >"$tmp/t/harness/lab/x.c"
expect 1 'private to its folder' tests/layers.py includes "$tmp/t"

# Symbols: archives as the Makefile names them, empty for unused layers.
b=$tmp/b; mkdir -p "$b"
for a in libah libserver libclient libharness_sys libharness_topo libharness_routing \
  libharness_results libharness_cli; do ar rcs "$b/$a.a"; done
build() { # build LAB_BODY: lab.o with that body, run.o calling lab_go
  printf '%s\n' "$1" >"$tmp/lab.c"
  printf 'int lab_go(void);\nint run_go(void) { return lab_go(); }\n' >"$tmp/run.c"
  cc -c -o "$tmp/lab.o" "$tmp/lab.c" && cc -c -o "$tmp/run.o" "$tmp/run.c" &&
    rm -f "$b/libharness_lab.a" "$b/libharness_run.a" &&
    ar rcs "$b/libharness_lab.a" "$tmp/lab.o" && ar rcs "$b/libharness_run.a" "$tmp/run.o"
}
build 'int lab_go(void) { return 0; }'
expect 0 '' tests/layers.py symbols "$b"
build 'int run_go(void); int lab_go(void) { return run_go(); }'
expect 1 'calls run_go, defined in harness/run' tests/layers.py symbols "$b"

[ $fails -eq 0 ] && echo "layers_test: all cases behave" || echo "layers_test: $fails case(s) wrong"
exit $((fails > 0))
