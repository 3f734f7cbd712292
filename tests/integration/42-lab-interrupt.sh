#!/usr/bin/env bash
# Interrupted and killed runs: SIGINT mid-run tears everything down and keeps
# what was measured (results with status "interrupted"); a responder killed
# behind the lab's back is an `exit` event; after SIGKILL of anycast-lab its
# processes die with it and `anycast-lab clean` removes the namespaces and
# state, leaving nothing of the run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
LONG=$AH_ROOT/tests/labs/lab-long.yaml

# state_pids RUNID: every pid recorded in the run's state.
state_pids() { awk '$1 == "pid" { print $4 }' "/run/anycast-lab/$1/state" 2>/dev/null; }
probes_up() { grep -q '^pid probe ' "/run/anycast-lab/$1/state" 2>/dev/null; }
# alive PID...: how many still run (a zombie waiting for its new parent to
# reap it has already died).
alive() {
  local p n=0
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
    n=$((n + 1))
  done
  echo "$n"
}

# --- SIGINT, with a responder killed from outside first. The run goes
# through lab_reaped, which lists any process the lab leaves behind.
lab_reaped "$T_TMP/int.left" "$LAB" run "$LONG" --results "$T_TMP/results" \
  >"$T_TMP/int.out" 2>"$T_TMP/int.err" &
wrap=$!
T_PIDS+=("$wrap")
t_wait_for 10 test -s "$T_TMP/int.left.pid" || t_fail "anycast-lab started"
pid=$(cat "$T_TMP/int.left.pid")
T_PIDS+=("$pid")
t_wait_for 10 lab_runid_of "$pid" || t_fail "run recorded its state"
id=$(lab_runid_of "$pid")
LAB_RUNIDS+=("$id")
t_true "probes started (state lists them)" t_wait_for 10 probes_up "$id"
pids=$(state_pids "$id")
rb=$(awk '$1 == "pid" && $2 == "responder" && $3 == "b" { print $4 }' "/run/anycast-lab/$id/state")
t_match "$rb" '^[0-9]+$' "state names responder b's pid"
pv=$(awk '$1 == "pid" && $2 == "probe" { print $4; exit }' "/run/anycast-lab/$id/state")
t_match "$pv" '^[0-9]+$' "state names a probe's pid"
sleep 1
# From the probes' start to the drill's end the lab process is in the
# real-time class, so that a step's timer runs it at once; what it starts
# is not (SCHED_RESET_ON_FORK).
t_match "$(chrt -p "$pid")" "SCHED_FIFO" "the lab process runs SCHED_FIFO during the drill"
t_match "$(chrt -p "$rb")" "SCHED_OTHER" "its responders run SCHED_OTHER"
t_match "$(chrt -p "$pv")" "SCHED_OTHER" "its probes run SCHED_OTHER"
kill -KILL "$rb"
kill -KILL "$pv"
sleep 1
kill -INT "$pid"
for _ in $(seq 1 150); do kill -0 "$wrap" 2>/dev/null || break; sleep 0.1; done
wait "$wrap"; rc=$?
cat "$T_TMP/int.out"; sed 's/^/    stderr| /' "$T_TMP/int.err"
t_eq "$rc" 1 "interrupted run exits 1"
t_eq "$(cat "$T_TMP/int.left")" "" "the interrupted lab reaped every process it started before it exited"
dir=$(sed -n 's/^results: //p' "$T_TMP/int.out")
t_true "results path printed" test -d "$dir"
t_match "$(grep '"status"' "$dir/run.json" 2>/dev/null)" 'interrupted by INT' "run.json says interrupted"
rows=$(($(wc -l <"$dir/probes.csv") - 1))
echo "probes.csv rows: $rows"
t_true "what was measured is kept (>= 100 probe rows)" test "$rows" -ge 100
t_eq "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["expectations"][0]["verdict"])' "$dir/summary.json")" \
  "not reached" "an expectation on a step after the interrupt is not reached, not failed"
t_match "$(cat "$T_TMP/int.out")" "NOT REACHED  v udp outage_ms < 1000 at withdraw a .*withdraw a never ran" \
  "the table says the step never ran"
t_true "per-vantage files merged and removed" test ! -e "$dir/probes-v-udp"
t_eq "$(awk -F, '$2 == "exit" && $3 == "b"' "$dir/events.csv" | wc -l)" 1 \
  "the killed responder is an exit event"
t_match "$(awk -F, '$2 == "exit" && $3 == "b" { print $4 }' "$dir/events.csv")" "pid $rb signal 9" \
  "exit event names pid and signal"
t_match "$(awk -F, '$2 == "exit" && $3 == "v" { print $4 }' "$dir/events.csv")" "^probe pid $pv signal 9$" \
  "a probe killed behind the lab's back is an exit event of its vantage"
t_true "and the run says so" grep -q "probe v .*(pid $pv) ended early: signal 9" "$T_TMP/int.err"
t_eq "$(lab_leftovers "$id")" "" "nothing of the interrupted run remains"
t_eq "$(alive $pids)" 0 "no process of the interrupted run remains"

# --- SIGKILL, then clean.
"$LAB" run "$LONG" --results "$T_TMP/results" >"$T_TMP/kill.out" 2>"$T_TMP/kill.err" &
pid=$!
T_PIDS+=("$pid")
t_wait_for 10 lab_runid_of "$pid" || t_fail "second run recorded its state"
id=$(lab_runid_of "$pid")
LAB_RUNIDS+=("$id")
t_true "probes started" t_wait_for 10 probes_up "$id"
pids=$(state_pids "$id")
t_true "state lists responders and probes" test "$(echo $pids | wc -w)" -ge 4
kill -KILL "$pid"
wait "$pid" 2>/dev/null
sleep 0.5
t_eq "$(alive $pids)" 0 "the run's processes died with it (parent-death signal)"
t_true "its namespaces are still there before clean" test -n "$(lab_leftovers "$id")"
out=$("$LAB" clean "$id" 2>&1); rc=$?
echo "$out"
t_eq "$rc" 0 "clean exits 0"
t_match "$out" "removed namespace ah-lab-$id-n-a" "clean says what it removed"
t_eq "$(lab_leftovers "$id")" "" "no namespace or state of the killed run remains"
t_eq "$(alive $pids)" 0 "no process of the killed run remains"
out=$("$LAB" clean "$id" 2>&1)
t_match "$out" "nothing to clean" "a second clean finds nothing"
t_done
