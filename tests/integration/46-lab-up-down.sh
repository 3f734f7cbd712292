#!/usr/bin/env bash
# A lab left up for manual work: `up` builds it and returns, `list` shows it,
# `exec` runs commands in a vantage, a node or a router, `clean` leaves it
# alone, `down` removes every namespace and process of it. `run --keep-up`
# hands a finished run over the same way.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need dig

# A lab name of its own: other runs of the quickstart may be up meanwhile.
NAME=updown-$$
QUICK=$T_TMP/$NAME.yaml
sed "s/^name: quick\$/name: $NAME/" "$AH_ROOT/tests/labs/lab-quick.yaml" >"$QUICK"
out=$("$LAB" up "$QUICK" 2>&1); rc=$?
echo "$out"
t_eq "$rc" 0 "up exits 0"
id=$(printf '%s\n' "$out" | sed -n 's/.*(run id \([a-z0-9]*\)).*/\1/p' | head -n 1)
t_match "$id" '^[a-z0-9]+$' "up prints the run id"
t_match "$(printf '%s\n' "$out" | head -n 1)" ": run id $id" "the run id is the first thing said, before the topology is built"
LAB_RUNIDS+=("$id")
t_true "up lists the namespaces" grep -q "ah-lab-$id-n-ams" <<<"$out"
pids=$(awk '$1 == "pid" { print $4 }' "/run/anycast-lab/$id/state")
t_eq "$(echo $pids | wc -w)" 3 "state records the three responders"

list=$("$LAB" list)
echo "$list"
t_true "list shows the lab as up" grep -Eq "^$id +$NAME +up +up " <<<"$list"
json=$("$LAB" list --json)
got=$(python3 -c 'import json, sys
for l in json.load(sys.stdin):
    if l["run_id"] == sys.argv[1]:
        print(l["name"], l["mode"], l["state"], l["namespaces"] > 0)' "$id" <<<"$json")
t_eq "$got" "$NAME up up True" "list --json: the lab, up, with its namespaces"

ans=$("$LAB" exec "$NAME" eu -- dig +short +tries=1 +time=2 CH TXT hostname.bind @198.51.100.53)
t_eq "$ans" '"ams"' "exec in vantage eu: ams answers"
ans=$("$LAB" exec "$id" us -- dig +short +tries=1 +time=2 CH TXT hostname.bind @2001:db8:53::53)
t_eq "$ans" '"nyc"' "exec by run id in vantage us over IPv6: nyc answers"
err=$("$LAB" exec "$NAME" nosuch -- true 2>&1 >/dev/null); rc=$?
t_eq "$rc" 2 "exec in an unknown node: exit 2"
t_eq "$err" "anycast-lab: nosuch: lab $NAME has no node or vantage \"nosuch\"" "in one line naming node and lab"
ans=$("$LAB" exec "$NAME" sin -- ip -o addr show dev lo)
t_match "$ans" '198\.51\.100\.53/32' "exec in node sin: the anycast address is on lo"
ans=$("$LAB" exec "$NAME" router:eu -- ip route show 198.51.100.53)
t_match "$ans" 'metric' "exec in router eu: the floating static routes"
ans=$(echo 'echo shell-in-$(stat -L -c %i /proc/self/ns/net)' | SHELL=/bin/sh "$LAB" exec "$NAME" eu)
t_eq "$ans" "shell-in-$(stat -L -c %i "/run/netns/ah-lab-$id-c-eu")" \
  "exec without a command runs a shell in the namespace"
"$LAB" exec "$NAME" nowhere -- true 2>/dev/null; t_eq "$?" 2 "exec into an unknown node exits 2"
"$LAB" exec nolab eu -- true 2>/dev/null; t_eq "$?" 1 "exec into an unknown lab exits 1"

out=$("$LAB" clean "$id" 2>&1)
t_match "$out" "nothing to clean" "clean leaves a lab that is up alone"
t_true "still up after clean" test -e "/run/netns/ah-lab-$id-n-ams"

out=$("$LAB" down "$NAME" 2>&1); rc=$?
echo "$out"
t_eq "$rc" 0 "down exits 0"
t_match "$out" "removed namespace ah-lab-$id-f" "down says what it removed"
t_eq "$(lab_leftovers "$id")" "" "nothing of the lab remains after down"
n=0; for p in $pids; do [ -d "/proc/$p" ] && [ "$(awk '{ print $3 }' /proc/$p/stat)" != Z ] && n=$((n + 1)); done
t_eq "$n" 0 "no responder of the lab remains"
"$LAB" down "$NAME" 2>/dev/null; t_eq "$?" 1 "down of a lab that is not up exits 1"

# run --keep-up: measured, then left up.
lab_run "$QUICK" --keep-up
t_eq "$LAB_RC" 0 "run --keep-up exits 0"
t_true "results written" test -s "$LAB_DIR/probes.csv"
t_true "its namespaces are still up" test -e "/run/netns/ah-lab-$LAB_ID-n-ams"
ans=$("$LAB" exec "$LAB_ID" sin -- dig +short +tries=1 +time=2 CH TXT hostname.bind @198.51.100.53)
t_eq "$ans" '"sin"' "its responders still answer (sin, inside its node)"
"$LAB" down "$LAB_ID" >/dev/null; t_eq "$?" 0 "down after --keep-up"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing remains after down"
t_done
