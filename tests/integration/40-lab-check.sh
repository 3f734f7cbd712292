#!/usr/bin/env bash
# anycast-lab's command line without root: `check` accepts the example labs
# and rejects bad lab files with exit 2 and FILE:LINE:COL messages; --help,
# --version, unknown commands and bad usage.
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || t_skip "no $LAB"

for f in "$AH_ROOT"/labs/*.yaml "$AH_ROOT"/tests/labs/lab-*.yaml; do
  out=$("$LAB" check "$f" 2>&1); rc=$?
  t_eq "$rc" 0 "check $(basename "$f") exits 0"
  t_match "$out" ': ok: lab ' "check $(basename "$f") says ok"
done

n=0
for f in "$AH_ROOT"/tests/labs/bad-*.yaml; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  out=$("$LAB" check "$f" 2>&1); rc=$?
  t_eq "$rc" 2 "check $(basename "$f") exits 2"
  # Every line is FILE:LINE:COL: message, naming the file as given.
  bad=$(printf '%s\n' "$out" | grep -v -E "^${f//./\\.}:[0-9]+:[0-9]+: .+" || true)
  t_eq "$bad" "" "check $(basename "$f"): every message is FILE:LINE:COL: message"
done
t_true "bad lab fixtures exist" test "$n" -ge 5

# A lab written here: an unknown node in the drill, named with its line.
cat >"$T_TMP/typo.yaml" <<'YAML'
name: typo
anycast: [198.51.100.53]
duration: 5s
nodes:
  - name: ams
vantages:
  - name: eu
drill:
  - {at: 1s, withdraw: amsx}
YAML
out=$("$LAB" check "$T_TMP/typo.yaml" 2>&1); rc=$?
t_eq "$rc" 2 "unknown drill node: exit 2"
t_match "$out" "typo\.yaml:9:[0-9]+: .*amsx" "unknown drill node named with file:line"
out=$("$LAB" run "$T_TMP/typo.yaml" 2>&1); rc=$?
t_eq "$rc" 2 "run of a bad lab exits 2 before building anything"
t_match "$out" "typo\.yaml:9:" "run reports file:line too"

out=$("$LAB" check "$T_TMP/missing.yaml" 2>&1); rc=$?
t_true "missing lab file is an error" test "$rc" -ne 0
t_match "$out" "missing\.yaml" "missing lab file named"

out=$("$LAB" --version); t_match "$out" '^anycast-lab [0-9]+\.[0-9]+\.[0-9]+' "--version"
out=$("$LAB" --help); t_eq "$?" 0 "--help exits 0"
for c in check run up down exec list clean; do t_match "$out" "  $c" "--help lists $c"; done
"$LAB" frobnicate >/dev/null 2>&1; t_eq "$?" 2 "unknown command exits 2"
"$LAB" >/dev/null 2>&1; t_eq "$?" 2 "no command exits 2"
"$LAB" run >/dev/null 2>&1; t_eq "$?" 2 "run without a lab exits 2"
"$LAB" run "$AH_ROOT/labs/quickstart.yaml" --bogus >/dev/null 2>&1; t_eq "$?" 2 "unknown run option exits 2"
"$LAB" run "$AH_ROOT/labs/quickstart.yaml" --ready-timeout xyz >/dev/null 2>&1
t_eq "$?" 2 "bad --ready-timeout exits 2"
"$LAB" exec >/dev/null 2>&1; t_eq "$?" 2 "exec without arguments exits 2"
t_done
