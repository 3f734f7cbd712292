#!/usr/bin/env bash
# Rootless mode: anycast-lab run as an unprivileged user (nobody) enters a
# user namespace of its own and builds the same lab; the results belong to
# that user and the host keeps no namespace, mount or process of the run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need setpriv unshare
USER_=nobody
GROUP_=$(id -gn nobody 2>/dev/null) || t_skip "no user nobody"
as_user() { setpriv --reuid="$USER_" --regid="$GROUP_" --clear-groups "$@"; }
if ! as_user unshare --user --map-root-user --net --mount true 2>"$T_TMP/userns.err"; then
  t_skip "unprivileged user namespaces are disabled here ($(head -n 1 "$T_TMP/userns.err"); needs user.max_user_namespaces > 0 and kernel.unprivileged_userns_clone=1)"
fi
# The user must reach the binaries and the lab file.
as_user test -x "$LAB" -a -r "$AH_ROOT/tests/labs/lab-quick.yaml" ||
  t_skip "$USER_ cannot read $LAB or the lab file"

work=$T_TMP/rootless
chmod 755 "$T_TMP"
mkdir -p "$work"
chown "$USER_:$GROUP_" "$work"
# With lab_run's tolerance (lab-lib.sh): this test is about rootless mode,
# not about how punctually a loaded machine starts the drill's steps.
{ cat "$AH_ROOT/tests/labs/lab-quick.yaml"; printf '\ntolerance: 2s\n'; } >"$work/lab-quick.yaml"
chmod 644 "$work/lab-quick.yaml"
host_snapshot >"$T_TMP/host.before"
# Under a subreaper (lab_reaped): a child the lab did not reap before it
# exited would be listed, where under init it would pass unnoticed.
(cd "$work" && lab_reaped "$T_TMP/run.left" setpriv --reuid="$USER_" --regid="$GROUP_" \
  --clear-groups env -i PATH=/usr/bin:/bin HOME="$work" "$LAB" run \
  "$work/lab-quick.yaml" --results "$work/results") >"$T_TMP/run.out" 2>"$T_TMP/run.err"
rc=$?
cat "$T_TMP/run.out"; sed 's/^/    stderr| /' "$T_TMP/run.err"
t_eq "$rc" 0 "rootless run exits 0"
t_eq "$(cat "$T_TMP/run.left")" "" "the lab reaped every process it started before it exited"
t_true "it said it runs rootless" grep -q 'rootless mode' "$T_TMP/run.err"
LAB_DIR=$(sed -n 's/^results: //p' "$T_TMP/run.out")
t_true "results written" test -s "$LAB_DIR/probes.csv"
t_eq "$(stat -c %U "$LAB_DIR" "$LAB_DIR/probes.csv" "$LAB_DIR/run.json" | sort -u)" "$USER_" \
  "results belong to the calling user"
t_match "$(grep '"rootless"' "$LAB_DIR/run.json")" 'true' "run.json records rootless"
id=$(sed -n 's/.*"run_id": "\([a-z0-9]*\)".*/\1/p' "$LAB_DIR/run.json")
W=$(ev_ts withdraw ams)
read -r pre post < <(awk -F, -v w="$W" \
  '$2 == "eu" && $4 == "udp" && $8 == "ok" { if ($1 < w - 5000000 && $9 == "ams") a++; if ($1 > w + 20000000 && $9 == "nyc") n++ }
   END { print a + 0, n + 0 }' "$LAB_DIR/probes.csv")
t_true "eu answered by ams before withdraw ($pre) and nyc after ($post)" test "$pre" -gt 100 -a "$post" -gt 100
t_eq "$(ls /run/netns 2>/dev/null | grep -c "^ah-lab-$id-")" 0 "no namespace of the run on the host"
# A child that exited as the lab ended may stay a zombie until init collects
# it: allow a few seconds for that, then list whatever is still there.
run_procs() { pgrep -u "$USER_" -f 'anycast-(responder|probe|lab)'; }
t_wait_for 5 eval '! run_procs' || ps -o pid,ppid,stat,etimes,comm -u "$USER_"
t_eq "$(run_procs | wc -l)" 0 "no process of the run remains"
t_eq "$(grep -c -e "ah-lab-$id-" -e ' anycast-lab ' /proc/self/mountinfo)" 0 "no mount of the run on the host"
host_snapshot >"$T_TMP/host.after"
t_true "host namespace unchanged" diff "$T_TMP/host.before" "$T_TMP/host.after"
# up needs root: a rootless lab cannot outlive its run.
out=$(cd "$work" && as_user "$LAB" up "$AH_ROOT/tests/labs/lab-quick.yaml" 2>&1); rc=$?
t_eq "$rc" 2 "rootless up is refused"
t_match "$out" 'needs root' "and says why"
t_done
