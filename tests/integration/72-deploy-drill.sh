#!/usr/bin/env bash
# A kind: deployment drill over real OpenSSH and real BIRD: a bgp lab brought
# up with `anycast-lab up` stands in for the hosts, sshd runs in each node's
# and vantage's namespace, and the controller runs `anycast-lab run` on a
# deployment file whose actions are `birdc disable/enable` on the nodes.
# Checked: the drill moves the route and meets its expectations, events.csv
# has each step's exit status and stderr, run.json lists the hosts; a failing
# action is a failed step and the run goes on; an unreachable host stops the
# run at preflight before any step; Ctrl-C mid-run leaves no anycast-probe in
# any namespace and keeps the rows; --dry-run prints the ssh commands only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
source "$(dirname "$0")/ssh-lib.sh"
t_need_root
t_need ssh ssh-keygen /usr/sbin/sshd birdc bird python3

NAME=deplab-$$
cat >"$T_TMP/lab.yaml" <<EOF
name: $NAME
anycast: [198.51.100.53]
routing: bgp
bgp: {hold: 3s, keepalive: 1s}
duration: 5s
nodes:
  - name: ams
  - name: nyc
vantages:
  - name: eu
    prefer: [ams, nyc]
  - name: us
    prefer: [nyc, ams]
probes:
  udp: {service: dns, rate: 50, flows: 2}
EOF
ssh_lab_up "$T_TMP/lab.yaml"
id=$SSH_LAB
A_AMS=$(ssh_addr "ah-lab-$id-n-ams" fab0)
A_NYC=$(ssh_addr "ah-lab-$id-n-nyc" fab0)
A_EU=$(ssh_addr "ah-lab-$id-c-eu" up0)
A_US=$(ssh_addr "ah-lab-$id-c-us" up0)
for x in "n-ams $A_AMS" "n-nyc $A_NYC" "c-eu $A_EU" "c-us $A_US"; do
  set -- $x
  ssh_sshd "ah-lab-$id-$1" "$2"
done
ssh_controller "$id"

BIRDC="birdc -s /run/anycast-lab/$id/bird-node"
# deployment FILE DURATION DRILL: a deployment file; $EU_PROBE, $AMS_HOST and
# $ON_FAILURE change eu's probe command, ams's host and on-failure.
deployment() {
  cat >"$1" <<EOF
name: dep-$$
kind: deployment
anycast: [198.51.100.53]
duration: $2
on-failure: ${ON_FAILURE:-continue}
ssh:
  config: $SSH_DIR/ssh_config
  user: root
  identity: $SSH_DIR/id_ed25519
  options: [StrictHostKeyChecking=yes, "UserKnownHostsFile=$SSH_DIR/known_hosts", Port=$SSH_PORT]
nodes:
  - name: ams
    host: "${AMS_HOST:-$A_AMS}"
    actions:
      withdraw: "$BIRDC-ams.ctl disable anycast4"
      announce: "$BIRDC-ams.ctl enable anycast4"
  - name: nyc
    host: "$A_NYC"
    actions:
      withdraw: "$BIRDC-nyc.ctl disable anycast4"
      announce: "$BIRDC-nyc.ctl enable anycast4"
vantages:
  - name: eu
    host: "$A_EU"
    probe: ${EU_PROBE:-$AH_BIN/anycast-probe}
  - name: us
    host: "$A_US"
    probe: $AH_BIN/anycast-probe
probes:
  udp: {service: dns, rate: 50, flows: 2}
drill:
$3
expect:
  - "eu udp after withdraw ams answered-by nyc"
  - "eu udp after announce ams answered-by ams"
  - "us udp never-answered-by ams"
EOF
}

DRILL='  - {at: 1.5s, withdraw: ams}
  - {at: 3.5s, announce: ams}'

# --dry-run: every ssh command, nothing run.
deployment "$T_TMP/dry.yaml" 6s "$DRILL"
dry=$("$LAB" run --dry-run "$T_TMP/dry.yaml" 2>&1); rc=$?
t_eq "$rc" 0 "--dry-run exits 0"
t_eq "$(grep -c -- 'ControlMaster=yes .* -N ' <<<"$dry")" 4 "--dry-run: one master per host"
t_match "$(grep -- 'disable anycast4' <<<"$dry" | head -n 1)" "^ssh .* -o Port=$SSH_PORT .* $A_AMS -- '.* -c '\\\\''[^']*disable anycast4'\\\\'' .*'$" \
  "--dry-run: the withdraw runs on ams's host, one word for its login shell in the step's wrapper"
t_eq "$(ls "$T_TMP/results" 2>/dev/null | wc -l)" 0 "--dry-run writes no results"

# 1. The drill: ams withdrawn and announced again through its actions.
deployment "$T_TMP/dep.yaml" 6s "$DRILL"
dep_run "$T_TMP/dep.yaml"
t_eq "$DEP_RC" 0 "deployment run exits 0 (expectations met)"
t_eq "$DEP_LEFT" "" "the run leaves no process behind"
t_eq "$(ls "$SSH_DIR/remote-tmp")" "" "the probes' remote directories are removed"
ev=$DEP_DIR/events.csv
t_match "$(awk -F, '$2 == "withdraw" && $3 == "ams"' "$ev")" 'exit 0 in [0-9.]+ms, started [0-9]{19}' \
  "events.csv: the withdraw row has its exit status, duration and start time"
t_true "probes.csv has rows of both vantages" \
  test "$(awk -F, 'NR > 1 { v[$2]++ } END { print length(v) }' "$DEP_DIR/probes.csv")" = 2
t_true "run.json lists the four hosts" \
  python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["hosts"]; sys.exit(len(h) != 4)' "$DEP_DIR/run.json"
t_true "run.json: every vantage has a clock offset and uncertainty" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["hosts"]
sys.exit(not all("offset_ns" in x and "uncertainty_ns" in x for x in h if x["role"] == "vantage"))' "$DEP_DIR/run.json"
t_true "run.json: ams's commands include the withdraw" grep -q 'disable anycast4' "$DEP_DIR/run.json"
t_true "report written" test -s "$DEP_DIR/report.html"
# Step latency over ssh: step start (its schedule) to the command's return.
python3 - "$DEP_DIR/run.json" "$ev" <<'EOF'
import csv, json, sys
run = json.load(open(sys.argv[1]))
for row in csv.reader(open(sys.argv[2])):
    if row[1] in ("withdraw", "announce"):
        print("step %s %s: %s" % (row[1], row[2], row[3]))
for h in run["hosts"]:
    if h["role"] == "vantage":
        print("clock %s: offset %.3f ms +- %.3f ms" % (h["name"], h["offset_ns"] / 1e6, h["uncertainty_ns"] / 1e6))
EOF

# 2. A failing action: a failed step, the run goes on.
deployment "$T_TMP/fail.yaml" 4s '  - {at: 1s, run: {node: nyc, command: "echo no such thing >&2; exit 1"}}
  - {at: 1.5s, withdraw: ams}
  - {at: 3s, announce: ams}'
dep_run "$T_TMP/fail.yaml"
t_eq "$DEP_RC" 1 "a failed step: exit 1"
t_match "$(awk -F, '$2 == "command" && $3 == "nyc"' "$DEP_DIR/events.csv")" 'exit 1 .*no such thing' \
  "events.csv: the failed step's exit status and stderr"
t_match "$(awk -F, '$2 == "withdraw" && $3 == "ams"' "$DEP_DIR/events.csv")" 'exit 0' \
  "the run went on: the next step ran"

# ... and with on-failure: stop, the drill ends at the failed step.
ON_FAILURE=stop deployment "$T_TMP/stop.yaml" 4s '  - {at: 1s, run: {node: nyc, command: "exit 1"}}
  - {at: 1.5s, withdraw: ams}
  - {at: 3s, announce: ams}'
dep_run "$T_TMP/stop.yaml"
t_eq "$DEP_RC" 1 "on-failure: stop: exit 1"
t_eq "$(awk -F, '$2 == "withdraw"' "$DEP_DIR/events.csv" | wc -l)" 0 "on-failure: stop: no step after the failed one"
t_eq "$DEP_LEFT$(ssh_probes_left)" "" "on-failure: stop: nothing left behind"

# 3. An unreachable host at preflight: ams's host is the controller's own
# address, where no sshd listens.
AMS_HOST=198.18.250.1 deployment "$T_TMP/unreach.yaml" 4s "$DRILL"
dep_run "$T_TMP/unreach.yaml"
t_eq "$DEP_RC" 1 "unreachable host: exit 1"
t_match "$(cat "$T_TMP/dep.err")" "preflight: ams \\(198\\.18\\.250\\.1\\): unreachable: .*refused" \
  "the message names the host and the reason"
t_eq "$(awk -F, '$2 == "withdraw"' "$DEP_DIR/events.csv" | wc -l)" 0 "no drill step ran"

# 5. A vantage whose clock is 5 s ahead: libfaketime on eu's probe (the wall
# clock only: a host's monotonic clock is not shifted with it). Its
# offset is measured, its rows are rebased by the report and still meet the
# expectations timed against the controller's drill.
# libfaketime preloaded ahead of the sanitizer's runtime makes an ASan probe
# refuse to start, so the sanitizer build skips this part. libfaketime shifts
# only what user space reads: the kernel's packet stamps keep the true time
# (on a real host they share its clock), so this probe times its rows with
# the user-space clock (--timestamps user) to be consistently 5 s ahead.
if command -v faketime >/dev/null && ! t_asan "$AH_BIN/anycast-probe"; then
  EU_PROBE="env FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f +5s $AH_BIN/anycast-probe --timestamps user" \
    deployment "$T_TMP/fake.yaml" 6s "$DRILL"
  dep_run "$T_TMP/fake.yaml"
  t_eq "$DEP_RC" 0 "a vantage 5 s ahead: the expectations are met"
  t_true "eu's offset is 5 s within its uncertainty (+ 50 ms for faketime's own start)" python3 -c '
import json, sys
h = {x["name"]: x for x in json.load(open(sys.argv[1]))["hosts"]}
e = h["eu"]
print("eu offset %.3f ms +- %.3f ms" % (e["offset_ns"] / 1e6, e["uncertainty_ns"] / 1e6))
sys.exit(abs(e["offset_ns"] - 5e9) > e["uncertainty_ns"] + 50e6)' "$DEP_DIR/run.json"
  # Both vantages' probes start together: their first rows, rebased, are
  # within the start's spread (the sessions start one after the other, a few
  # ms apart here; 5 s apart without the rebasing).
  t_true "eu's first row, rebased, lines up with us's within 250 ms" python3 -c '
import csv, json, sys
h = {x["name"]: x for x in json.load(open(sys.argv[1]))["hosts"]}
first = {}
for r in csv.DictReader(open(sys.argv[2])):
    first.setdefault(r["vantage"], int(r["ts_ns"]))
eu = first["eu"] - h["eu"]["offset_ns"]
print("first rows: eu (rebased) - us = %.3f ms" % ((eu - first["us"]) / 1e6))
sys.exit(abs(eu - first["us"]) > 250e6)' "$DEP_DIR/run.json" "$DEP_DIR/probes.csv"
else
  echo "skip the shifted clock: no faketime, or a sanitizer build"
fi

# 6. Measured (docs/deployment.md): a trivial command's step latency over the
# master, from the step's start to the command's return, median of 20; and
# the clocks' uncertainty on one machine.
steps=$(for i in $(seq 0 19); do echo "  - {at: $((i * 400))ms, run: {node: ams, command: \"true\"}}"; done)
deployment "$T_TMP/lat.yaml" 9s "$steps"
sed -i '/^expect:/,$d' "$T_TMP/lat.yaml"
dep_run "$T_TMP/lat.yaml" >/dev/null
t_eq "$DEP_RC" 0 "20 trivial steps over ssh"
t_true "drill-step latency over ssh: median under 1 s" python3 -c '
import csv, json, re, statistics, sys
ms = [float(re.search(r"in ([0-9.]+)ms", r[3]).group(1))
      for r in csv.reader(open(sys.argv[1])) if r[1] == "command"]
unc = [h["uncertainty_ns"] / 1e6 for h in json.load(open(sys.argv[2]))["hosts"] if h["role"] == "vantage"]
print("drill-step latency over ssh (n=%d): median %.1f ms, min %.1f ms, max %.1f ms" %
      (len(ms), statistics.median(ms), min(ms), max(ms)))
print("clock uncertainty: %s ms" % ", ".join("%.3f" % u for u in unc))
sys.exit(len(ms) != 20 or statistics.median(ms) >= 1000)' "$DEP_DIR/events.csv" "$DEP_DIR/run.json"

# 4. Ctrl-C mid-run: no remote probe left, the rows kept.
# A step that hangs (sleep 60 on nyc) is running when Ctrl-C comes: it is
# given up at once, and it ends on nyc too.
deployment "$T_TMP/intr.yaml" 30s '  - {at: 1.5s, withdraw: ams}
  - {at: 2s, run: {node: nyc, command: "sleep 60"}}
  - {at: 3.5s, announce: ams}'
rm -f "$T_TMP/dep.err" "$T_TMP/dep.left.pid"
( sleep 0; dep_run "$T_TMP/intr.yaml" ) &
bg=$!
t_wait_for 20 test -s "$T_TMP/dep.left.pid"
t_wait_for 30 grep -q 'drill of' "$T_TMP/dep.err"
t_true "the probes run on the vantages" test -n "$(ssh_probes_left)"
sleep 3
kill -INT "$(cat "$T_TMP/dep.left.pid")"
t0=$SECONDS
wait "$bg"
t_true "Ctrl-C during a hanging step: the run ends within 15 s" test $((SECONDS - t0)) -le 15
DEP_DIR=$(sed -n 's/^results: //p' "$T_TMP/dep.out" | tail -n 1)
t_eq "$(ssh_probes_left)" "" "after Ctrl-C no anycast-probe is left in any namespace"
t_eq "$(for p in $(ip netns pids "ah-lab-$id-n-nyc"); do tr '\0' ' ' </proc/$p/cmdline; echo; done | grep -c '^sleep 60')" 0 \
  "after Ctrl-C the hanging step's command is not left on nyc"
t_match "$(awk -F, '$2 == "command" && $3 == "nyc"' "$DEP_DIR/events.csv")" 'interrupted, started [0-9]+; ended on its host' \
  "events.csv: the interrupted step ended on its host"
t_true "run.json says interrupted" grep -q '"interrupted by INT"' "$DEP_DIR/run.json"
t_true "the rows measured before Ctrl-C are kept" \
  test "$(awk -F, 'NR > 1 && $2 == "eu"' "$DEP_DIR/probes.csv" | wc -l)" -gt 50

# 7. A dead master: eu's connection killed mid-run. Its probe session ends
# with it, the probe on eu stops, the run fails naming it and still fetches
# eu's rows over a new connection.
deployment "$T_TMP/dead.yaml" 8s "$DRILL"
rm -f "$T_TMP/dep.err" "$T_TMP/dep.left.pid"
( dep_run "$T_TMP/dead.yaml" ) &
bg=$!
t_wait_for 30 grep -q 'drill of' "$T_TMP/dep.err"
ctl=$(cat "$T_TMP/dep.left.pid")
master=$(for p in $(ip netns pids "$CTL_NS"); do
  [ "$(awk '{ print $4 }' /proc/$p/stat 2>/dev/null)" = "$ctl" ] &&
    tr '\0' ' ' </proc/$p/cmdline | grep -q -- "ControlMaster=yes .* $A_EU \$" && echo "$p"
done)
t_match "$master" '^[0-9]+$' "eu's master found"
sleep 1
kill -KILL "$master"
t_true "eu's probe stops when its master dies" \
  t_wait_for 10 sh -c "! ip netns pids ah-lab-$id-c-eu | xargs -r -I{} cat /proc/{}/comm | grep -q anycast-probe"
wait "$bg"
DEP_DIR=$(sed -n 's/^results: //p' "$T_TMP/dep.out" | tail -n 1)
t_match "$(cat "$T_TMP/dep.err")" "probe eu .*ended early" "the run says eu's probe ended early"
t_true "eu's rows up to the master's death are kept" \
  test "$(awk -F, 'NR > 1 && $2 == "eu"' "$DEP_DIR/probes.csv" | wc -l)" -gt 20
t_eq "$(ssh_probes_left)" "" "no anycast-probe left after the dead master"

# 8. A dead controller: anycast-lab killed with SIGKILL mid-run. Its ssh
# clients get SIGTERM (parent-death signal), every session closes and every
# remote probe stops; the rows stay in the hosts' directories.
deployment "$T_TMP/kill.yaml" 20s "$DRILL"
rm -f "$T_TMP/dep.err" "$T_TMP/dep.left.pid"
( dep_run "$T_TMP/kill.yaml" >/dev/null ) &
bg=$!
t_wait_for 30 grep -q 'drill of' "$T_TMP/dep.err"
sleep 1
ctl=$(cat "$T_TMP/dep.left.pid")
# The run's state directory outlives a killed controller: `clean` on exit.
LAB_RUNIDS+=("$(lab_runid_of "$ctl")")
kill -KILL "$ctl"
wait "$bg"
t_true "no anycast-probe left in any namespace after the controller died" \
  t_wait_for 10 sh -c "[ -z \"\$(for ns in ${SSH_NS[*]}; do ip netns pids \$ns; done | xargs -r -I{} cat /proc/{}/comm 2>/dev/null | grep anycast-probe)\" ]"
t_eq "$(for p in $(ip netns pids "$CTL_NS"); do cat /proc/$p/comm; done)" "" \
  "no ssh client of the dead controller is left"
t_true "the rows are kept on the vantage" sh -c "cat $SSH_DIR/remote-tmp/anycast-probe.*/probes.csv | grep -q ,eu,"

t_done
