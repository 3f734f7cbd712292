#!/usr/bin/env bash
# The ssh destination forms of a kind: deployment file (docs/deployment.md),
# over real OpenSSH in the namespaces of a dual-stack lab, and a drill step
# that does not return. One run reaches: node a as root@[IPv6]:port,
# vantage va as [IPv6]:port, vantage vb by a Host alias of the file's
# ssh: config, and vantage vc through ProxyJump: vc's sshd listens only on
# its client address, to which the controller has no route (a direct ssh
# fails first), and the jump host is vc's router namespace running sshd on
# the fabric. The run completes its drill and merges the rows of all three
# vantages. Its drill has a step that hangs (a shell with a child that
# ignores TERM): at step-timeout it is a failed step "timed out after 1 s",
# every process of it ends on the host, and the run goes on to its next
# step.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
source "$(dirname "$0")/ssh-lib.sh"
t_need_root
t_need ssh ssh-keygen /usr/sbin/sshd python3

cat >"$T_TMP/lab.yaml" <<EOF
name: dest-$$
anycast: [198.51.100.53, "2001:db8:53::53"]
routing: static
duration: 5s
nodes:
  - name: a
  - name: b
vantages:
  - name: va
    prefer: [a, b]
  - name: vb
    prefer: [b, a]
  - name: vc
    prefer: [a, b]
EOF
ssh_lab_up "$T_TMP/lab.yaml"
id=$SSH_LAB
A6=$(ssh_addr6 "ah-lab-$id-n-a" fab0)
VA6=$(ssh_addr6 "ah-lab-$id-c-va" up0)
VB=$(ssh_addr "ah-lab-$id-c-vb" up0)
VC=$(ssh_addr "ah-lab-$id-c-vc" up0)
JUMP=$(ssh_addr "ah-lab-$id-r-vc" fab0)
t_match "$A6 $VA6" '^2001:db8:[0-9a-f:]+ 2001:db8:[0-9a-f:]+$' "the dual-stack lab gives node a and va IPv6 addresses"
ssh_sshd "ah-lab-$id-n-a" "$A6"
ssh_sshd "ah-lab-$id-c-va" "$VA6"
ssh_sshd "ah-lab-$id-c-vb" "$VB"
ssh_sshd "ah-lab-$id-c-vc" "$VC"
ssh_sshd "ah-lab-$id-r-vc" "$JUMP"
# The controller reaches the fabric (node a, the jump host), va's client net
# over IPv6 and vb's over IPv4; vc's only through the jump host.
ssh_controller "$id" bare
ip -n "$CTL_NS" -6 route add "$(ip -n "ah-lab-$id-c-va" -6 route show dev up0 | awk '/^2001:db8/ { print $1; exit }')" \
  via "$(ssh_addr6 "ah-lab-$id-r-va" fab0)"
ip -n "$CTL_NS" -4 route add "$VB/32" via "$(ssh_addr "ah-lab-$id-r-vb" fab0)"

# ssh_config: the aliases. ProxyJump starts an ssh of its own for the jump
# host that reads this file but none of the run's -i/-o words: the jump
# host's entry carries them.
cat >"$SSH_DIR/ssh_config" <<EOF
Host vantage-b
  HostName $VB
  Port $SSH_PORT
Host jump
  HostName $JUMP
  Port $SSH_PORT
  User root
  IdentityFile $SSH_DIR/id_ed25519
  UserKnownHostsFile $SSH_DIR/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
Host vantage-c
  HostName $VC
  Port $SSH_PORT
  ProxyJump jump
EOF
SSHW=(ssh -F "$SSH_DIR/ssh_config" -i "$SSH_DIR/id_ed25519" -l root -o BatchMode=yes
  -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$SSH_DIR/known_hosts" -o ConnectTimeout=3)
t_true "vc is not reachable from the controller directly" \
  sh -c '! "$@" 2>/dev/null' sh ip netns exec "$CTL_NS" "${SSHW[@]}" -p "$SSH_PORT" "$VC" true
t_eq "$(ip netns exec "$CTL_NS" "${SSHW[@]}" vantage-c echo via-jump 2>&1)" via-jump \
  "vc is reachable through the jump host"

HANG="sleep 301 & sh -c 'trap \\\"\\\" TERM; sleep 302' & sleep 300"
cat >"$T_TMP/dep.yaml" <<EOF
name: dest-$$
kind: deployment
anycast: [198.51.100.53]
duration: 6s
tolerance: 10s
step-timeout: 1s
ssh:
  config: $SSH_DIR/ssh_config
  user: root
  identity: $SSH_DIR/id_ed25519
  options: [StrictHostKeyChecking=yes, "UserKnownHostsFile=$SSH_DIR/known_hosts"]
nodes:
  - name: a
    host: "root@[$A6]:$SSH_PORT"
vantages:
  - name: va
    host: "[$VA6]:$SSH_PORT"
    probe: $AH_BIN/anycast-probe
  - name: vb
    host: vantage-b
    probe: $AH_BIN/anycast-probe
  - name: vc
    host: vantage-c
    probe: $AH_BIN/anycast-probe
probes:
  udp: {service: dns, rate: 50, flows: 2}
drill:
  - {at: 1s, run: {node: a, command: "echo first-step"}}
  - {at: 1.5s, run: {node: a, command: "$HANG"}}
  - {at: 2s, run: {node: a, command: "echo after-the-hang"}}
EOF

dry=$("$LAB" run --dry-run "$T_TMP/dep.yaml" 2>&1)
t_match "$(grep -- 'ControlMaster=yes' <<<"$dry" | head -n 1)" \
  "^ssh -F .* -i .* -p $SSH_PORT .* -N -T root@$A6\$" "--dry-run: [IPv6]:port is -p and the bare address"

dep_run "$T_TMP/dep.yaml"
t_eq "$DEP_RC" 1 "the run exits 1 (the hung step failed)"
t_eq "$DEP_LEFT" "" "the run leaves no process behind on the controller"
ev=$DEP_DIR/events.csv
t_match "$(grep -F 'first-step' "$DEP_DIR/run.json" | head -n 1)" 'echo first-step' "run.json records the user's command"
hung=$(awk -F, '$2 == "command" && $4 ~ /timed out/' "$ev")
t_match "$hung" 'timed out after 1 s, started [0-9]{19}; ended on its host \(exit 143\)' \
  "events.csv: the hung step timed out and its host says it ended"
t_eq "$(for p in $(ip netns pids "ah-lab-$id-n-a"); do tr '\0' ' ' </proc/$p/cmdline; echo; done | grep -c '^sleep 30[012]')" 0 \
  "no process of the hung step is left on node a (the one ignoring TERM included)"
t_match "$(awk -F, '$2 == "command" && $4 ~ /exit 0/' "$ev" | wc -l)" '^2$' \
  "the steps before and after the hung one ran (the run went on)"
for v in va vb vc; do
  t_true "probes.csv has rows of $v" \
    test "$(awk -F, -v v=$v 'NR > 1 && $2 == v && $8 == "ok"' "$DEP_DIR/probes.csv" | wc -l)" -gt 20
done
t_eq "$(ls "$SSH_DIR/remote-tmp")" "" "the probes' remote directories are removed"
t_true "run.json: every vantage has a clock offset (also through the jump host)" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["hosts"]
sys.exit(not all(x.get("offset_ns") is not None for x in h if x["role"] == "vantage"))' "$DEP_DIR/run.json"
t_eq "$(python3 -c '
import json, sys
q = json.load(open(sys.argv[1]))["queries"]
print(" ".join(sorted(x["vantage"] + "=" + x["query"] for x in q)))' "$DEP_DIR/run.json")" \
  "va=hostname.bind vb=hostname.bind vc=hostname.bind" \
  "run.json: the query each remote probe chose (--query auto), fetched with its rows"

t_done
