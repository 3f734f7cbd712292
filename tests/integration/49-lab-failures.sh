#!/usr/bin/env bash
# Runs that fail: a responder that exits at once, one that never answers
# (bounded by --ready-timeout) and a run ended by SIGTERM. Each exits 1 with
# a message naming the node and its log, still writes run.json with the
# reason, and leaves nothing behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root

mklab() { # NAME COMMAND
  cat >"$T_TMP/$1.yaml" <<YAML
name: $1
anycast: [198.51.100.53]
duration: 3s
nodes:
  - name: good
  - name: bad
    responder: {command: "$2"}
vantages:
  - name: v
    prefer: [good, bad]
probes:
  udp: {service: dns, rate: 50, flows: 1}
YAML
}

mklab quits 'echo {node} cannot start on {addr} >&2; exit 3'
start=$SECONDS
lab_run "$T_TMP/quits.yaml"
t_eq "$LAB_RC" 1 "a responder that exits: run exits 1"
t_true "it fails fast" test $((SECONDS - start)) -lt 8
t_true "the error names the node" grep -q 'bad: responder exited before answering' "$T_TMP/run.err"
t_true "and shows its log with {node}/{addr} substituted" \
  grep -q 'bad cannot start on 198.51.100.53' "$T_TMP/run.err"
t_match "$(grep '"status"' "$LAB_DIR/run.json")" 'failed: bad: responder exited' "run.json has the reason"
t_eq "$(awk -F, '$2 == "exit" && $3 == "bad"' "$LAB_DIR/events.csv" | wc -l)" 1 "its death is an exit event"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the failed run remains"
t_eq "$LAB_LEFT" "" "and no process of it outlives anycast-lab"

mklab nocmd "no-such-responder-$$ --on {addr}"
lab_run "$T_TMP/nocmd.yaml"
t_eq "$LAB_RC" 1 "a responder command that does not exist: run exits 1"
t_true "the error names the node" grep -q 'bad: responder exited before answering' "$T_TMP/run.err"
t_true "and its log says which command is missing" grep -q "no-such-responder-$$: not found" "$T_TMP/run.err"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of that run remains"
t_eq "$LAB_LEFT" "" "and no process of it outlives anycast-lab"

mklab silent "exec sleep 29.$$"
start=$SECONDS
lab_run "$T_TMP/silent.yaml" --ready-timeout 1500ms
t_eq "$LAB_RC" 1 "a responder that never answers: run exits 1"
t_true "bounded by --ready-timeout" test $((SECONDS - start)) -lt 8
t_true "the error names node, service, address and timeout" \
  grep -q 'bad: no dns answer on 198.51.100.53 within 1500 ms' "$T_TMP/run.err"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the timed-out run remains"
t_eq "$LAB_LEFT" "" "and no process of it outlives anycast-lab"
t_eq "$(pgrep -f "^sleep 29\\.$$\$" | wc -l)" 0 "the silent responder was killed"

# SIGTERM is an orderly stop like SIGINT.
"$LAB" run "$AH_ROOT/tests/labs/lab-long.yaml" --results "$T_TMP/results" >"$T_TMP/term.out" 2>&1 &
pid=$!
T_PIDS+=("$pid")
t_wait_for 10 lab_runid_of "$pid"
id=$(lab_runid_of "$pid")
LAB_RUNIDS+=("$id")
t_wait_for 10 grep -q '^pid probe ' "/run/anycast-lab/$id/state"
sleep 1
kill -TERM "$pid"
for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?
cat "$T_TMP/term.out"
t_eq "$rc" 1 "SIGTERM: run exits 1"
dir=$(sed -n 's/^results: //p' "$T_TMP/term.out")
t_match "$(grep '"status"' "$dir/run.json" 2>/dev/null)" 'interrupted by TERM' "run.json says interrupted by TERM"
t_true "probes measured before SIGTERM are kept" test "$(wc -l <"$dir/probes.csv")" -gt 50
t_eq "$(lab_leftovers "$id")" "" "nothing of the terminated run remains"
t_done
