#!/usr/bin/env bash
# State files are checked, not trusted: a crafted state file whose runid is
# ../victimdir and that names a namespace the lab does not own, and a run
# directory that is a link to the victim, are reported (one line naming the
# file) and skipped by `clean`, `down` and `list`. After them the victim
# directory, the foreign namespace and the process in it are all still there.
# The state directory is private (AH_LAB_STATE_DIR) and every clean names
# its run, so no other lab on the machine is touched.
source "$(dirname "$0")/lib.sh"
t_need_root
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }

export AH_LAB_STATE_DIR=$T_TMP/state
mkdir -p "$AH_LAB_STATE_DIR" "$T_TMP/victimdir"
echo "keep me" >"$T_TMP/victimdir/precious"

# The namespace the lab does not own, with a process in it.
t_netns VICTIM_NS
t_bg VICTIM_PID ip netns exec "$VICTIM_NS" sleep 120
t_wait_for 5 test "$(stat -L -c %i "/proc/$VICTIM_PID/ns/net" 2>/dev/null)" = \
  "$(stat -L -c %i "/run/netns/$VICTIM_NS")"

# 1: runid from the file content pointing out of the state directory; the
# owner is not alive, so an unchecked clean would tear it down.
ID=crafted$$
mkdir "$AH_LAB_STATE_DIR/$ID"
cat >"$AH_LAB_STATE_DIR/$ID/state" <<STATE
runid ../victimdir
name $ID
mode run
lab /nonexistent.yaml
results /nonexistent
owner 999999999
started_ns 1
netns node a $VICTIM_NS
pid responder a $VICTIM_PID
STATE
# 2: the right runid, but a foreign namespace and the process in it.
ID2=foreign$$
mkdir "$AH_LAB_STATE_DIR/$ID2"
sed -e "s|^runid .*|runid $ID2|" -e "s|^name .*|name $ID2|" \
  "$AH_LAB_STATE_DIR/$ID/state" >"$AH_LAB_STATE_DIR/$ID2/state"
# 3: a run directory that is a link to the victim, whose state would pass.
ID3=link$$
cat >"$T_TMP/victimdir/state" <<STATE
runid $ID3
name $ID3
mode run
owner 999999999
STATE
ln -s "$T_TMP/victimdir" "$AH_LAB_STATE_DIR/$ID3"

for id in "$ID" "$ID2" "$ID3"; do
  out=$("$LAB" clean "$id" 2>&1); rc=$?
  echo "$out"
  t_eq "$rc" 0 "clean $id exits 0"
  t_eq "$(grep -cE "^anycast-lab: $AH_LAB_STATE_DIR/$id/state: bad state file: .+; skipped$" <<<"$out")" 1 \
    "clean $id: one line naming the bad state file"
  t_match "$out" "nothing to clean" "clean $id: nothing cleaned"
  t_true "after clean $id: the victim directory is still there" test -f "$T_TMP/victimdir/precious"
  t_true "after clean $id: the link target's state is still there" test -f "$T_TMP/victimdir/state"
  t_true "after clean $id: the foreign namespace is still there" test -e "/run/netns/$VICTIM_NS"
  t_true "after clean $id: the process in it still runs" kill -0 "$VICTIM_PID"
done
out=$("$LAB" clean "$ID" 2>&1)
t_match "$out" "runid \"\.\./victimdir\" is not its directory's name $ID" "the reason: runid is not the directory"
out=$("$LAB" clean "$ID2" 2>&1)
t_match "$out" "netns \"$VICTIM_NS\" is not a namespace of run $ID2" "the reason: a foreign namespace"

out=$("$LAB" down "$ID2" 2>&1); rc=$?
t_eq "$rc" 1 "down of the crafted lab: exit 1 (no such lab)"
t_match "$out" "$ID2/state: bad state file" "down reports the bad state file"
t_true "after down: the process still runs" kill -0 "$VICTIM_PID"

# A good lab beside them is still listed; the bad ones are reported once each.
GOOD=good$$
mkdir "$AH_LAB_STATE_DIR/$GOOD"
printf 'runid %s\nname %s\nmode up\nowner 1\nstarted_ns 1\nnetns node a ah-lab-%s-n-a\n' \
  "$GOOD" "$GOOD" "$GOOD" >"$AH_LAB_STATE_DIR/$GOOD/state"
out=$("$LAB" list 2>&1); rc=$?
echo "$out"
t_eq "$rc" 0 "list exits 0"
t_match "$out" "$GOOD +$GOOD +up" "list shows the good lab"
t_eq "$(grep -c 'bad state file' <<<"$out")" 3 "list reports each bad state file once"
t_true "the crafted state files were left for the owner to look at" \
  test -f "$AH_LAB_STATE_DIR/$ID/state" -a -f "$AH_LAB_STATE_DIR/$ID2/state"
t_done
