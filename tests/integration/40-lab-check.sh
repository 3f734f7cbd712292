#!/usr/bin/env bash
# anycast-lab's command line without root: `check` accepts the example labs
# and deployments and rejects bad lab files with exit 2 and FILE:LINE:COL
# messages; report --lab with a deployment file and hand-collected CSVs; --help,
# --version, unknown commands and bad usage, and the one-line errors of a
# user's mistakes (missing or wrong files, unknown labs).
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || t_skip "no $LAB"

for f in "$AH_ROOT"/labs/*.yaml "$AH_ROOT"/tests/labs/lab-*.yaml "$AH_ROOT"/tests/labs/deploy-*.yaml; do
  out=$("$LAB" check "$f" 2>&1); rc=$?
  t_eq "$rc" 0 "check $(basename "$f") exits 0"
  t_match "$out" ': ok: (lab|deployment) ' "check $(basename "$f") says ok"
done
out=$("$LAB" check "$AH_ROOT/labs/deployment.yaml" 2>&1)
t_match "$out" ': ok: deployment staging-drill, 2 nodes, 2 vantages, 5 drill events \(8 steps\)$' \
  "check of a deployment names its kind and no routing"

out=$("$LAB" check "$AH_ROOT/tests/labs/bad-indent.yaml" 2>&1)
t_match "$out" "bad-indent.yaml:7:4: YAML: .*check this line's indentation" "an indentation error says so"
t_match "$out" "    7 |    prefer: \[a\]" "and shows the line"
n=0
for f in "$AH_ROOT"/tests/labs/bad-*.yaml; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  out=$("$LAB" check "$f" 2>&1); rc=$?
  t_eq "$rc" 2 "check $(basename "$f") exits 2"
  # Every line is FILE:LINE:COL: message, naming the file as given, or the
  # excerpt under a YAML syntax error (the line, then a caret).
  bad=$(printf '%s\n' "$out" | grep -v -E "^${f//./\\.}:[0-9]+:[0-9]+: .+|^ +[0-9]+ \| |^ +\| +\^$" || true)
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
sed -i 's/amsx/ams/' "$T_TMP/typo.yaml"
out=$("$LAB" check "$T_TMP/typo.yaml" 2>&1)
t_match "$out" ", 1 node, 1 vantage, 1 drill event \(1 step\)$" "check counts in the singular for one"

# A deployment written here (docs/deployment.md): real addresses outside the
# lab's ranges, hosts, actions and a run: step check clean; a verb the node
# has no action for is refused at its position, naming node, verb and the
# node's actions, and so is run: in a lab file.
D=$T_TMP/deploy
mkdir -p "$D/a" "$D/b"
cat >"$D/deploy.yaml" <<'YAML'
name: real
kind: deployment
anycast: [203.0.113.53, "2001:db8::53"]
duration: 4s
ssh: {user: drill, identity: keys/id_ed25519}
nodes:
  - {name: fra, host: fra1.example.net, actions: {withdraw: "birdc disable a4", announce: "birdc enable a4"}}
  - {name: ams, host: "[2001:db8::10]:2222"}
vantages:
  - {name: eu-west, host: probe@eu.example.net}
  - {name: us-east, host: probe@us.example.net, probe: /opt/bin/anycast-probe}
probes: {udp: {service: dns, rate: 10, flows: 1}}
drill:
  - {at: 2s, withdraw: fra}
  - {at: 2500ms, run: {node: fra, command: "sudo tc qdisc del dev eth0 root"}}
expect:
  - "eu-west udp after withdraw fra answered-by ams"
  - "us-east * never-answered-by fra"
YAML
out=$("$LAB" check "$D/deploy.yaml" 2>&1); rc=$?
t_eq "$rc" 0 "check of a deployment exits 0"
t_match "$out" "deploy\.yaml: ok: deployment real, 2 nodes, 2 vantages, 2 drill events \(2 steps\)" \
  "check of a deployment says ok"
sed -e 's/  - {at: 2s, withdraw: fra}/  - {at: 2s, stop: fra}/' "$D/deploy.yaml" >"$D/bad.yaml"
out=$("$LAB" check "$D/bad.yaml" 2>&1); rc=$?
t_eq "$rc" 2 "a verb the node has no action for: exit 2"
t_eq "$out" "$D/bad.yaml:14:14: drill: node \"fra\" has no \"stop\" action (its actions: withdraw, announce)" \
  "named at its position with the node's actions"
printf 'name: l\nanycast: 198.51.100.53\nduration: 5s\nnodes: [{name: a}]\nvantages: [{name: v}]\ndrill: [{at: 1s, run: {node: a, command: "true"}}]\n' >"$D/lab-run.yaml"
out=$("$LAB" check "$D/lab-run.yaml" 2>&1); rc=$?
t_eq "$rc" 2 "run: in a lab file: exit 2"
t_eq "$out" "$D/lab-run.yaml:6:18: run: only in kind: deployment (this file is kind: lab)" "run: in a lab file says so"

# Files collected by hand from the hosts, merged against the deployment
# file: its anycast addresses are real ones, not the lab's ranges.
T=1800000000000000000
{ echo "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail"
  for i in $(seq 0 39); do
    node=fra; [ "$i" -ge 20 ] && node=ams
    echo "$((T + i * 100000000)),eu-west,203.0.113.53,udp,dns,5353,$i,ok,$node,250,"
  done; } >"$D/a/probes.csv"
{ echo "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail"
  for i in $(seq 0 39); do
    echo "$((T + i * 100000000 + 7000000)),us-east,203.0.113.53,udp,dns,5353,$i,ok,ams,250,"
  done; } >"$D/b/probes.csv"
printf 'ts_ns,event,node,detail\n%s,withdraw,fra,exit=0\n%s,command,fra,exit=0\n' \
  "$((T + 1950000000))" "$((T + 2500000000))" >"$D/events.csv"
out=$("$LAB" report --lab "$D/deploy.yaml" --out "$D/out" "$D/a/probes.csv" "$D/b/probes.csv" \
  "$D/events.csv" 2>&1); rc=$?
t_eq "$rc" 0 "report --lab with a deployment file exits 0"
t_match "$out" "expectations: 2 passed, 0 failed" "and meets its expectations"
t_true "and writes the report" test -s "$D/out/report.html"
t_true "the page names it a deployment, with its hosts" grep -q '<th>kind</th><td>deployment' "$D/out/report.html"
t_eq "$(grep -c '<th>routing</th>' "$D/out/report.html")" 0 "and shows no lab routing for it"
t_match "$(cat "$D/out/summary.csv")" "withdraw,fra,eu-west,udp,dns,ipv4,fra,ams," "the withdraw's row: fra before, ams after"

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
t_match "$err" "no command given: check, run, up, down, exec, drill, list, report, diff, atlas, clean, help" "no command: lists the commands"
one_line "$LAB" frobnicate
t_match "$err" '"frobnicate" \(commands: check, run,' "unknown command named, with the commands"
one_line "$LAB" chekc
t_eq "$rc" 2 "a mistyped command: exit 2"
t_match "$err" '"chekc": did you mean "check"\?' "a mistyped command gets a did-you-mean"
one_line "$LAB" run "$T_TMP/no-such-lab.yaml"
t_eq "$rc" 2 "run on a missing lab file: exit 2 (a bad lab file)"
t_match "$err" "no-such-lab\.yaml: cannot open: No such file or directory" "and names it"
mkdir -p "$T_TMP/adir"
one_line "$LAB" run "$T_TMP/adir"
t_eq "$rc" 2 "run on a directory: exit 2"
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
