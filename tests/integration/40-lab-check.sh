#!/usr/bin/env bash
# anycast-lab's command line without root: `check` accepts the example labs
# and rejects bad lab files with exit 2 and FILE:LINE:COL messages; --help,
# --version, unknown commands and bad usage, and the one-line errors of a
# user's mistakes (missing or wrong files, unknown labs).
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

# Nesting deeper than 64 in a 1 MiB file (made here, not checked in): libyaml
# alone is quadratic in the flow depth (40,000 levels took 15 s, 1 MiB did not
# finish in a minute). The loader stops at the 65th level, at once.
for style in '[' '- '; do
  head -c $((1024 * 1024 - 2)) /dev/zero | tr '\0' '#' | sed "s/#/$style/g" |
    head -c $((1024 * 1024 - 2)) >"$T_TMP/deep.yaml"
  start=$(date +%s%N)
  out=$(timeout 60 "$LAB" check "$T_TMP/deep.yaml" 2>&1); rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  t_eq "$rc" 2 "1 MiB nested '$style': exit 2"
  t_match "$out" "^$T_TMP/deep\.yaml:1:[0-9]+: nested more than 64 lists or mappings deep\$" \
    "1 MiB nested '$style': one FILE:LINE:COL message"
  t_true "1 MiB nested '$style': refused in under 5 s (took ${ms} ms)" test "$ms" -lt 5000
done

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
t_match "$out" "summary\.csv.*summary\.json.*verdict.*report\.html" \
  "--help's first paragraph names the summary files, the verdicts and the report"

# A demanding user's mistakes: each a one-line error naming the object.
# one_line CMD...: runs CMD, sets rc and err (its stderr, which must be one line).
one_line() {
  "$@" >/dev/null 2>"$T_TMP/err"; rc=$?
  err=$(cat "$T_TMP/err")
  t_eq "$(wc -l <"$T_TMP/err")" 1 "$* says it in one line"
}
one_line "$LAB"
t_eq "$rc" 2 "no command: exit 2"
t_match "$err" "no command given: check, run, up, down, exec, list, report or clean" "no command: lists the commands"
one_line "$LAB" frobnicate
t_match "$err" '"frobnicate"' "unknown command named"
one_line "$LAB" run "$T_TMP/no-such-lab.yaml"
t_eq "$rc" 1 "run on a missing lab file: exit 1"
t_match "$err" "no-such-lab\.yaml: cannot open: No such file or directory" "and names it"
mkdir -p "$T_TMP/adir"
one_line "$LAB" run "$T_TMP/adir"
t_eq "$rc" 1 "run on a directory: exit 1"
t_match "$err" "adir: .*Is a directory" "and names it"
mkdir -p "$T_TMP/empty"
one_line "$LAB" report "$T_TMP/empty"
t_eq "$rc" 1 "report on an empty directory: exit 1"
t_match "$err" "report $T_TMP/empty: not a run's results directory \(it has no probes\.csv\)" "and names it"
one_line "$LAB" report --out "$T_TMP/o" "$T_TMP/gone"
t_eq "$rc" 1 "report on a missing path: exit 1"
t_match "$err" "report $T_TMP/gone: No such file or directory" "and names it"
if [ "$(id -u)" -eq 0 ]; then
  one_line "$LAB" down no-such-lab-$$
  t_eq "$rc" 1 "down of an unknown lab: exit 1"
  t_match "$err" "no-such-lab-$$: no such lab" "and names it"
  one_line "$LAB" exec no-such-lab-$$ n -- true
  t_eq "$rc" 1 "exec in an unknown lab: exit 1"
  t_match "$err" "no-such-lab-$$: no such lab" "and names it"
fi
t_done
