#!/usr/bin/env bash
# A run that cannot keep its schedule fails loudly. The lab process is
# stopped (SIGSTOP, as an overloaded machine would hold it up) across the
# time of its first drill step and continued 4 s later: that step starts a
# second or more late, over the lab's 500 ms tolerance (generous, so that
# the second step, due after the lab is continued, is on time even on a busy
# machine). The run
# must exit non-zero with one stderr line naming the step, its lateness and
# the likely cause; run.json records the lateness; the expectation on that
# step is "not measured" (not "failed with none") in the verdict table,
# summary.json and run.json, while the expectation on the later, punctual
# step is judged as usual. `anycast-lab report` on the directory agrees.
# The drill's clock starts only after the start barrier (responders answer,
# probes probe), whose times run.json reports.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need python3

# The tolerance key: its bounds are checked like every duration.
for tol in 0 2h "-1ms" soon; do
  printf 'name: t\nanycast: [198.51.100.53]\nduration: 5s\ntolerance: %s\nnodes: [{name: a}]\nvantages: [{name: v}]\n' \
    "$tol" >"$T_TMP/tol.yaml"
  out=$("$LAB" check "$T_TMP/tol.yaml" 2>&1)
  t_true "tolerance $tol is rejected ($out)" test $? -eq 2
done
printf 'name: t\nanycast: [198.51.100.53]\nduration: 5s\ntolerance: 1ns\nnodes: [{name: a}]\nvantages: [{name: v}]\n' \
  >"$T_TMP/tol.yaml"
t_true "tolerance 1ns is accepted" "$LAB" check "$T_TMP/tol.yaml"

cat >"$T_TMP/late.yaml" <<'YAML'
name: late
anycast: [198.51.100.53]
routing: static
duration: 7s
tolerance: 500ms
nodes:
  - name: a
  - name: b
vantages:
  - {name: va, prefer: [a, b]}
probes:
  udp: {service: dns, rate: 100, flows: 2, timeout: 300ms}
drill:
  - {at: 3s, withdraw: a}
  - {at: 5500ms, announce: a}
expect:
  - "va udp after withdraw a answered-by b"
  - "va udp after announce a answered-by a"
YAML

# The stopper: once the drill's clock runs (the "drill of" line), stop the
# lab for 4 s. Stopped at x < 3 s, continued at x + 4 s: the withdraw at 3 s
# starts at least 1 s late; the announce at 5.5 s is on time again. The
# EXIT trap continues the lab whatever happens to the stopper.
stopper() {
  local pid
  t_wait_for 60 test -s "$T_TMP/run.left.pid" || return 1
  pid=$(cat "$T_TMP/run.left.pid")
  trap 'kill -CONT "$pid" 2>/dev/null' EXIT
  t_wait_for 60 grep -q "drill of" "$T_TMP/run.err" || return 1
  kill -STOP "$pid" && echo "stopper: stopped pid $pid" >"$T_TMP/stopper.log"
  sleep 4
}
rm -f "$T_TMP/run.left.pid"
t_bg STOPPER stopper
lab_run "$T_TMP/late.yaml"
cat "$T_TMP/stopper.log" 2>/dev/null
t_true "the lab was stopped across the step" grep -q "stopped pid" "$T_TMP/stopper.log"
t_eq "$LAB_RC" 1 "a late step fails the run (exit 1)"
t_eq "$LAB_LEFT" "" "no process left behind"
t_eq "$(lab_leftovers "$LAB_ID")" "" "no namespace or state left behind"

err=$(cat "$T_TMP/run.err")
t_eq "$(grep -c 'drill step' <<<"$err")" 1 "one stderr line about the schedule"
t_match "$(grep 'drill step' <<<"$err")" \
  'drill step withdraw a at 3\.000s started [0-9]+\.[0-9]{3} ms late, over the 500ms tolerance; likely cause: the machine is overloaded \([0-9]+ processes on [0-9]+ cores\)' \
  "the line names the step, its lateness, the tolerance and the likely cause"
t_match "$err" "startup: topology [0-9]+ ms, 2 responders [0-9]+ ms, 1 probe [0-9]+ ms" \
  "startup times on stderr"

# run.json: startup, tolerance, per-step lateness, late steps, not measured.
py() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); $1" "$2"; }
J=$LAB_DIR/run.json
t_eq "$(py 'print(r["tolerance_ns"])' "$J")" 500000000 "run.json: tolerance_ns"
t_eq "$(py 'print(all(isinstance(r["startup"][k], int) and r["startup"][k] > 0 for k in ("topology_ns", "responders_ns", "probes_ns")))' "$J")" \
  True "run.json: startup times"
late0=$(py 'print(r["drill"][0]["late_ns"])' "$J")
echo "withdraw a started $((late0 / MS)) ms late"
t_true "run.json: withdraw a late by over 900 ms" test "$late0" -gt $((900 * MS))
t_eq "$(py 'print(r["drill"][0]["late"], r["drill"][1]["late"])' "$J")" "True False" \
  "run.json: the withdraw is late, the announce is not"
t_eq "$(py 'print([s["step"] for s in r["late_steps"]])' "$J")" "['withdraw a']" "run.json: late_steps"
t_eq "$(py 'print([(n["line"], n["step"]) for n in r["not_measured"]])' "$J")" "[(17, 'withdraw a')]" \
  "run.json: the expectation on line 17 is not measured"
t_match "$(py 'print(r["status"])' "$J")" "^failed: drill step withdraw a" "run.json: status says why"
t_eq "$(py 'print(r["exit_code"])' "$J")" 1 "run.json: exit code 1"

# The verdicts: not measured is its own verdict, not a failure.
out=$(cat "$T_TMP/run.out")
t_match "$out" "expectations: 1 passed, 0 failed, 1 not measured" "verdict table counts"
t_match "$out" "NOT MEASURED +va udp after withdraw a answered-by b +not measured +withdraw a started [0-9.]+ ms late \(tolerance 500ms\)" \
  "verdict table: not measured, with the step's lateness"
t_match "$out" "PASS +va udp after announce a answered-by a" "the punctual step's expectation is judged"
S=$LAB_DIR/summary.json
t_eq "$(py 'print([e["verdict"] for e in r["expectations"]])' "$S")" "['not measured', 'pass']" \
  "summary.json: verdicts"
t_eq "$(py 'print(r["expectations_failed"], r["expectations_not_measured"], r["passed"])' "$S")" \
  "0 1 False" "summary.json: counts"
t_true "report.html shows it" grep -q "NOT MEASURED" "$LAB_DIR/report.html"

# The report made again from the directory reads the late steps from run.json.
"$LAB" report "$LAB_DIR" >"$T_TMP/rep.out" 2>"$T_TMP/rep.err"
t_eq "$?" 1 "anycast-lab report: exit 1 (an expectation is not measured)"
t_match "$(cat "$T_TMP/rep.out")" "1 passed, 0 failed, 1 not measured" "anycast-lab report: same verdicts"
t_done
