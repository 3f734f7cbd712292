#!/usr/bin/env bash
# `anycast-lab drill` on a lab that is up: withdraw moves the vantage's
# route (its router, then a dig) from a to b and announce moves it back;
# stop/start replace the responder's process; pause/resume silence it; the
# rows it prints and appends to the lab's events.csv have the shape of a
# scripted drill's rows (from a `run` of the same lab); bad usage exits 2
# with the lab file check's messages, a step the kernel refuses exits 1;
# `down` keeps the events.csv in the results and leaves nothing of the lab.
# With ecmp, withdraws by separate commands add up (the state's marks).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need dig ip

NAME=drillup-$$
cat >"$T_TMP/lab.yaml" <<YAML
name: $NAME
anycast: [198.51.100.53]
routing: static
duration: 3s
nodes:
  - name: a
  - name: b
    responder: {command: "exec $AH_BIN/anycast-responder --listen {addr} --identity {node}"}
vantages:
  - name: v
    prefer: [a, b]
probes:
  udp: {service: dns, rate: 50, timeout: 300ms}
YAML
# The same lab as a scripted drill, for the rows' shape.
{ cat "$T_TMP/lab.yaml"; cat <<'YAML'
drill:
  - {at: 500ms, withdraw: a}
  - {at: 1s, announce: a}
  - {at: 1500ms, stop: a}
  - {at: 2s, start: a}
  - {at: 2200ms, pause: b}
  - {at: 2400ms, resume: b}
  - {at: 2600ms, delay: {node: a, ms: 100}}
YAML
} >"$T_TMP/scripted.yaml"
lab_run "$T_TMP/scripted.yaml"
t_eq "$LAB_RC" 0 "the scripted drill runs"
# A row's shape: its event, node and detail with numbers as N.
shape() { awk -F, '$2 != "route" || $4 !~ /^initial/ { print $2 "," $3 "," $4 }' | sed -E 's/[0-9]+/N/g'; }
shape <"$LAB_DIR/events.csv" | grep -Ev '^(exit|probe|health|bgp)' >"$T_TMP/scripted.shape"

cd "$T_TMP" || exit 1
out=$("$LAB" up "$T_TMP/lab.yaml" 2>&1); rc=$?
t_eq "$rc" 0 "up exits 0"
id=$(printf '%s\n' "$out" | sed -n 's/.*(run id \([a-z0-9]*\)).*/\1/p' | head -n 1)
LAB_RUNIDS+=("$id")
STATE=/run/anycast-lab/$id
t_true "up keeps a copy of the lab file in its state directory" cmp -s "$STATE/lab.yaml" "$T_TMP/lab.yaml"
# The user's file may change afterwards: drill goes by the copy.
echo "broken: [" >>"$T_TMP/lab.yaml"

dig_v() { "$LAB" exec "$NAME" v -- dig +short +tries=1 +time=1 CH TXT hostname.bind @198.51.100.53; }
answers() { [ "$(dig_v)" = "\"$1\"" ]; }
silent() { ! answers "$1"; }
# gone PID: the process has ended (a zombie waiting for init counts).
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
route_v() { ip netns exec "ah-lab-$id-r-v" ip route show 198.51.100.53 | sort -t' ' -k7n | head -n 1; }
t_eq "$(dig_v)" '"a"' "a answers before the drill"
t_match "$(route_v)" '^198\.51\.100\.53 via 198\.18\.1\.1 ' "v's router points at a"

drill() { "$LAB" drill "$@" 2>"$T_TMP/drill.err" | tee -a "$T_TMP/drill.out"; }
row=$(drill "$NAME" withdraw a); rc=${PIPESTATUS[0]}
t_eq "$rc" 0 "drill withdraw a exits 0"
t_match "$row" '^[0-9]{19},withdraw,a,' "it prints the withdraw row with the acknowledgement time"
t_match "$row" $'\n[0-9]{19},route,b,router=v nexthop=b$' "and the route row of v's router"
t_match "$(route_v)" '^198\.51\.100\.53 via 198\.18\.1\.2 ' "v's router now points at b"
t_eq "$(dig_v)" '"b"' "b answers v after withdraw a"
t_true "the state remembers a withdrawn" grep -qx 'mark withdrawn a' "$STATE/state"
drill "$id" withdraw a >/dev/null
t_eq "$(route_v | awk '{ print $3 }')" 198.18.1.2 "a second withdraw (by run id) changes nothing"
drill "$NAME" announce a >/dev/null; t_eq "$?" 0 "drill announce a exits 0"
t_match "$(route_v)" '^198\.51\.100\.53 via 198\.18\.1\.1 ' "v's router points at a again"
t_eq "$(dig_v)" '"a"' "a answers again after announce"
t_true "the mark is gone" test "$(grep -c '^mark ' "$STATE/state")" -eq 0

old=$(awk '$1 == "pid" && $3 == "a" { p = $4 } END { print p }' "$STATE/state")
row=$(drill "$NAME" stop a)
t_eq "$row" "$(sed -n '$p' "$T_TMP/drill.out")" "stop prints its row"
t_match "$row" ",stop,a,pid $old SIGKILL\$" "stop kills a's responder by its recorded pid"
t_wait_for 3 gone "$old" || t_fail "a's responder is gone after stop"
t_true "nothing answers v while a is stopped (the route stays)" silent a
t_match "$(drill "$NAME" stop a)" ',stop,a,not running$' "a second stop: not running"
row=$(drill "$NAME" start a)
new=$(sed -n 's/.*,start,a,pid \([0-9]*\)$/\1/p' <<<"$row")
t_match "$new" '^[0-9]+$' "start prints the new pid"
t_true "the pid changed" test "$new" != "$old"
t_true "the new pid is recorded" grep -qx "pid responder a $new" "$STATE/state"
t_wait_for 5 answers a || t_fail "a answers again after start"
t_eq "$(dig_v)" '"a"' "a answers after start"

drill "$NAME" pause a >/dev/null; t_eq "$?" 0 "pause a (control socket) exits 0"
t_true "paused a does not answer" silent a
drill "$NAME" resume a >/dev/null
t_eq "$(dig_v)" '"a"' "a answers after resume"
t_match "$(drill "$NAME" pause b)" ',pause,b,SIGSTOP pid [0-9]+$' "pause of a command responder: SIGSTOP"
drill "$NAME" resume b >/dev/null
t_match "$(drill "$NAME" delay a 100)" ',delay,a,delay 100; control: ok' "delay a 100 through the control socket"
drill "$NAME" delay a 0 >/dev/null

# Bad usage: exit 2, the lab file check's words.
bad() { # want-regex args...
  local want=$1; shift
  "$LAB" drill "$@" >/dev/null 2>"$T_TMP/bad.err"; local rc=$?
  t_eq "$rc" 2 "drill $* exits 2"
  t_match "$(cat "$T_TMP/bad.err")" "$want" "drill $*: says why"
}
bad "no such lab \\(labs up: .*$NAME \\($id\\)" nolab-$$ withdraw a
bad "lab $NAME has no node \"c\": did you mean \"a\"\\? \\(nodes: a, b\\)|lab $NAME has no node \"c\" \\(nodes: a, b\\)" "$NAME" withdraw c
bad 'drill: delay needs the builtin responder \(node b runs a command\)' "$NAME" delay b 10
bad 'drill: kill-bgp needs routing: bgp \(routing is static\)' "$NAME" kill-bgp a
bad 'flap is a sequence' "$NAME" flap a
bad 'unknown verb "withdrw"' "$NAME" withdrw a
bad 'delay needs MS' "$NAME" delay a
bad 'usage: anycast-lab drill' "$NAME" withdraw
t_match "$("$LAB" drill --help)" '^Usage: anycast-lab drill NAME\|RUNID VERB NODE \[MS\]' "drill --help"
t_match "$("$LAB" --help)" 'drill NAME\|RUNID VERB NODE \[MS\]' "anycast-lab --help lists drill"

# Bash completion (harness/cli/anycast-harness.bash): verbs from drill
# --help, the lab's nodes from its state.
complete_words() {
  [ -f /usr/share/bash-completion/bash_completion ] || { echo skip; return; }
  PATH="$AH_BIN:$PATH" bash -c '
    source /usr/share/bash-completion/bash_completion
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _anycast_lab "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$AH_ROOT/harness/cli/anycast-harness.bash" anycast-lab "$@"
}
got=$(complete_words drill "$NAME" "")
if [ "$got" != skip ]; then
  t_eq "$(complete_words dr)" "drill" "anycast-lab dr<TAB>: drill"
  t_eq "$(complete_words drill "$NAME" w)" "withdraw" "drill NAME w<TAB>: withdraw"
  t_eq "$(complete_words drill "$NAME" withdraw "" | tr '\n' ' ')" "a b " "drill NAME withdraw <TAB>: the nodes"
  t_true "drill <TAB>: the lab" grep -qx "$NAME" <<<"$(complete_words drill "")"
fi

# The rows: in the lab's events.csv, shaped as the scripted drill's.
t_eq "$(head -n 1 "$STATE/events.csv")" "ts_ns,event,node,detail" "events.csv in the state directory, with its header"
t_eq "$(tail -n +2 "$STATE/events.csv")" "$(cat "$T_TMP/drill.out")" "it holds exactly the rows printed"
shape <"$STATE/events.csv" | tail -n +2 >"$T_TMP/drill.shape"
for s in 'withdraw,a,' 'route,b,router=v nexthop=b' 'announce,a,' 'route,a,router=v nexthop=a' \
  'stop,a,pid N SIGKILL' 'start,a,pid N' 'pause,b,SIGSTOP pid N' 'resume,b,SIGCONT pid N' \
  'delay,a,delay N; control: ok delay N'; do
  t_true "scripted drill has row $s" grep -qxF "$s" "$T_TMP/scripted.shape"
  t_true "drill command has row $s" grep -qxF "$s" "$T_TMP/drill.shape"
done

# The kernel refusing a step: exit 1, the row written with why.
ip netns exec "ah-lab-$id-n-a" ip link del fab0
row=$("$LAB" drill "$NAME" link-down a 2>/dev/null); rc=$?
t_eq "$rc" 1 "a step the kernel refuses exits 1"
t_match "$row" ',link-down,a,failed: ' "its row says it failed and why"
echo "$row" >>"$T_TMP/drill.out"

out=$("$LAB" down "$NAME" 2>&1); rc=$?
echo "$out"
t_eq "$rc" 0 "down exits 0"
kept=$(sed -n 's/^drill events: //p' <<<"$out")
t_match "$kept" "^results/[0-9]{8}T[0-9]{6}Z-$NAME/events.csv\$" "down says where it kept the events"
t_true "the kept events.csv is the lab's" cmp -s "$kept" <(printf 'ts_ns,event,node,detail\n%s\n' "$(cat "$T_TMP/drill.out")")
t_eq "$(lab_leftovers "$id")" "" "nothing of the lab remains after down"
t_wait_for 3 gone "$new"; t_true "no responder remains" gone "$new"

# ecmp: the route set depends on every node withdrawn before, by earlier
# commands (the state's marks).
E=ecmp-$$
cat >"$T_TMP/ecmp.yaml" <<YAML
name: $E
anycast: [198.51.100.53]
routing: ecmp
duration: 3s
nodes: [{name: a}, {name: b}, {name: c}]
vantages: [{name: v}]
YAML
out=$("$LAB" up "$T_TMP/ecmp.yaml" 2>&1); t_eq "$?" 0 "up of an ecmp lab"
eid=$(printf '%s\n' "$out" | sed -n 's/.*(run id \([a-z0-9]*\)).*/\1/p' | head -n 1)
LAB_RUNIDS+=("$eid")
gws() { ip netns exec "ah-lab-$eid-r-v" ip route show 198.51.100.53 | grep -o 'via [0-9.]*' | awk '{ print $2 }' | sort | tr '\n' ' '; }
t_eq "$(gws)" "198.18.1.1 198.18.1.2 198.18.1.3 " "ecmp: three nexthops"
t_match "$("$LAB" drill "$E" withdraw a)" ',route,b\+c,router=v nexthop=b\+c$' "withdraw a: b+c"
t_match "$("$LAB" drill "$E" withdraw b)" ',route,c,router=v nexthop=c$' "withdraw b in another command: c alone"
t_eq "$(gws)" "198.18.1.3 " "the router has c only"
t_match "$("$LAB" drill "$E" announce a)" ',route,a\+c,router=v nexthop=a\+c$' "announce a: a+c, b still withdrawn"
t_eq "$(gws)" "198.18.1.1 198.18.1.3 " "the router has a and c"
"$LAB" down "$E" >/dev/null; t_eq "$?" 0 "down of the ecmp lab"
t_eq "$(lab_leftovers "$eid")" "" "nothing of the ecmp lab remains"
"$LAB" drill "$NAME" withdraw a 2>/dev/null; t_eq "$?" 2 "drill on a lab that is down exits 2"
t_done
