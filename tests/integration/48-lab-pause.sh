#!/usr/bin/env bash
# Brown-outs: `pause`/`resume` of a builtin responder (its control socket)
# and of a `command:` responder (SIGSTOP/SIGCONT of its process group). The
# command line is the user's, with {node} and {addr} substituted. While
# paused a node answers nothing, its route stays; after resume it answers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root

cat >"$T_TMP/pause.yaml" <<YAML
name: pause
anycast: [198.51.100.53]
routing: static
duration: 5s
nodes:
  - name: a
  - name: b
    responder: {command: "exec $AH_BIN/anycast-responder --listen {addr} --identity {node}-cmd"}
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 200, flows: 2, timeout: 300ms}
drill:
  - {at: 1s, pause: a}
  - {at: 2s, resume: a}
  - {at: 3s, pause: b}
  - {at: 4s, resume: b}
YAML
lab_run "$T_TMP/pause.yaml"
t_eq "$LAB_RC" 0 "run exits 0"
PA=$(ev_ts pause a) RA=$(ev_ts resume a) PB=$(ev_ts pause b) RB=$(ev_ts resume b)
t_match "$(awk -F, '$2 == "pause" && $3 == "a" { print $4 }' "$LAB_DIR/events.csv")" '^control' \
  "builtin paused through its control socket"
t_match "$(awk -F, '$2 == "pause" && $3 == "b" { print $4 }' "$LAB_DIR/events.csv")" '^SIGSTOP pid [0-9]+' \
  "command responder paused with SIGSTOP"
read -r ok other bad < <(lab_phase va a 0 $((PA - 5 * MS))); echo "va before pause: a $ok other $other failed $bad"
t_true "va answered by builtin a before pause" test "$ok" -gt 50 -a "$bad" -eq 0
# The responder resumes before its reply reaches us: 5 ms margin.
read -r ok other bad < <(lab_phase va a $((PA + 5 * MS)) $((RA - 5 * MS))); echo "va paused: a $ok other $other failed $bad"
t_eq "$((ok + other))" 0 "no answer to va while a is paused (the route stays)"
t_true "va's probes failed while a was paused" test "$bad" -gt 50
read -r ok other bad < <(lab_phase va a $((RA + 400 * MS)) "$PB"); echo "va resumed: a $ok failed $bad"
t_true "a answers again after resume" test "$ok" -gt 50 -a "$bad" -eq 0
read -r ok other bad < <(lab_phase vb b-cmd 0 $((PB - 5 * MS))); echo "vb before pause: b-cmd $ok other $other"
t_true "the command responder answered as b-cmd ({node} substituted)" test "$ok" -gt 50 -a "$other" -eq 0
# A stopped process keeps its socket: queries queued in the last probe
# timeout (300 ms) before SIGCONT are answered in time after it, and the
# probe notices a timeout only at its next sweep (every timeout/10), later
# still on a loaded machine: the window ends 400 ms before SIGCONT.
read -r ok other bad < <(lab_phase vb b-cmd $((PB + 5 * MS)) $((RB - 400 * MS))); echo "vb stopped: b-cmd $ok failed $bad"
t_eq "$((ok + other))" 0 "no answer to vb while b is stopped"
t_true "vb's probes failed while b was stopped" test "$bad" -gt 50
read -r ok other bad < <(lab_phase vb b-cmd $((RB + 400 * MS)) 9999999999999999999); echo "vb resumed: b-cmd $ok failed $bad"
t_true "b answers again after SIGCONT" test "$ok" -gt 20 -a "$bad" -eq 0
t_eq "$(awk -F, '$2 == "exit"' "$LAB_DIR/events.csv" | wc -l)" 0 "no exit events"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run remains"
t_done
