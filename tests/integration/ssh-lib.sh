# Helpers for the deployment tests (7[2-9]-deploy-*.sh), sourced after
# lib.sh and lab-lib.sh: a lab brought up with `anycast-lab up` stands in for
# real hosts, each node and vantage namespace runs Debian's sshd on its own
# unicast address with keys made here, and the controller (anycast-lab run)
# runs in a namespace of its own joined to the lab's fabric. Everything is
# removed on exit: the sshds, every process in the lab's namespaces, the
# controller's namespace and the lab.

SSH_DIR=$T_TMP/ssh
SSH_PORT=2222
SSH_PIDS=()
SSH_NS=()          # namespaces whose processes are ours to kill on exit
SSH_RUNSSHD=       # set when we made /run/sshd (sshd's privilege separation dir)
CTL_NS=

# Every process in the lab's namespaces is this test's: the sshds, what
# their sessions left (there should be nothing) and the lab's own, which
# `anycast-lab clean` would stop anyway.
ssh_cleanup() {
  local p ns
  for p in "${SSH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for ns in "${SSH_NS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  for p in "${SSH_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "$CTL_NS" ] && ip netns del "$CTL_NS" 2>/dev/null
  [ -n "$SSH_RUNSSHD" ] && rmdir /run/sshd 2>/dev/null
  lab_cleanup
}
trap ssh_cleanup EXIT

# ssh_lab_up FILE: `anycast-lab up FILE`, its run id in SSH_LAB (cleaned on
# exit), then ssh_keys; exits the test when the lab does not come up.
ssh_lab_up() {
  local out rc
  out=$("$LAB" up "$1" 2>&1); rc=$?
  SSH_LAB=$(printf '%s\n' "$out" | sed -n 's/.*(run id \([a-z0-9]*\)).*/\1/p' | head -n 1)
  [ -n "$SSH_LAB" ] && LAB_RUNIDS+=("$SSH_LAB")
  [ "$rc" -eq 0 ] && [ -n "$SSH_LAB" ] || { echo "$out"; echo "lab up failed"; exit 1; }
  ssh_keys
}

# ssh_keys: the controller's key and the hosts' key, and an empty ssh_config
# so that no user's configuration takes part.
ssh_keys() {
  mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR"
  ssh-keygen -q -t ed25519 -N '' -C ah-deploy-test -f "$SSH_DIR/id_ed25519" || exit 1
  ssh-keygen -q -t ed25519 -N '' -C ah-deploy-host -f "$SSH_DIR/host_ed25519" || exit 1
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
  : >"$SSH_DIR/ssh_config"
  : >"$SSH_DIR/known_hosts"
  # The hosts' TMPDIR (the probes' directories) and HOME: an empty one, so
  # that this machine's ~/.bashrc (which bash reads for ssh commands) takes
  # no part in what is measured.
  mkdir -p "$SSH_DIR/remote-tmp" "$SSH_DIR/remote-home"
  if [ ! -d /run/sshd ]; then mkdir -m 755 /run/sshd && SSH_RUNSSHD=1; fi
}

# ssh_sshd NS ADDR: Debian's sshd in namespace NS on ADDR:$SSH_PORT (ADDR
# IPv4 or IPv6), root logins by our key only, TMPDIR and HOME in our
# directory; its host key goes to known_hosts.
ssh_sshd() {
  local ns=$1 addr=$2 cfg="$SSH_DIR/sshd-$1.conf" sock
  case $addr in *:*) sock="[$addr]:$SSH_PORT" ;; *) sock="$addr:$SSH_PORT" ;; esac
  cat >"$cfg" <<EOF
ListenAddress $sock
HostKey $SSH_DIR/host_ed25519
PidFile $SSH_DIR/sshd-$ns.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PrintMotd no
MaxSessions 64
MaxStartups 64
SetEnv TMPDIR=$SSH_DIR/remote-tmp HOME=$SSH_DIR/remote-home
EOF
  ip netns exec "$ns" /usr/sbin/sshd -D -f "$cfg" -E "$SSH_DIR/sshd-$ns.log" &
  SSH_PIDS+=($!)
  SSH_NS+=("$ns")
  echo "[$addr]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519.pub")" >>"$SSH_DIR/known_hosts"
  t_wait_for 5 ip netns exec "$ns" sh -c "ss -ltn | grep -qF '$sock'" ||
    { echo "sshd in $ns did not listen"; cat "$SSH_DIR/sshd-$ns.log"; exit 1; }
}

# ssh_addr NS DEV: the IPv4 address of DEV in NS; ssh_addr6: its global IPv6
# address.
ssh_addr() { ip -n "$1" -4 -o addr show dev "$2" | awk '{ split($4, a, "/"); print a[1]; exit }'; }
ssh_addr6() {
  ip -n "$1" -6 -o addr show dev "$2" scope global | awk '{ split($4, a, "/"); print a[1]; exit }'
}

# ssh_controller ID [bare]: namespace CTL_NS on the lab's fabric bridge
# (addresses 198.18.250.1 and, in a dual-stack lab, 2001:db8:f::fa:1) with
# the routes a node has to the vantages' client nets; "bare": no route
# beyond the fabric (the caller adds the ones it wants).
ssh_controller() {
  local id=$1 f="ah-lab-$1-f" node
  CTL_NS="ahdep-$$-ctl"
  ip netns add "$CTL_NS" || exit 1
  ip -n "$CTL_NS" link set lo up
  ip -n "$CTL_NS" link add c0 type veth peer name "dc$$" netns "$f" || exit 1
  ip -n "$f" link set "dc$$" master br0 up
  ip -n "$CTL_NS" addr add 198.18.250.1/16 dev c0
  ip -n "$CTL_NS" addr add 2001:db8:f::fa:1/64 dev c0 nodad
  ip -n "$CTL_NS" link set c0 up
  ssh_controller_neigh6 "$id"
  [ "${2:-}" = bare ] && return 0
  node=$(ls /run/netns | grep "^ah-lab-$id-n-" | head -n 1)
  ip -n "$node" -4 route show | awk '/ via / { print $1, $2, $3 }' | while read -r net via gw; do
    ip -n "$CTL_NS" route add "$net" via "$gw"
  done
}

# ssh_controller_neigh6 ID: the lab answers no IPv6 neighbour discovery on
# its fabric (every end has permanent entries for the ends it talks to), so
# the controller and each node and router with an IPv6 fabric address get
# permanent entries for each other.
ssh_controller_neigh6() {
  local ns a m cm
  cm=$(ip -n "$CTL_NS" -o link show c0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  for ns in $(ls /run/netns | grep "^ah-lab-$1-[nr]-"); do
    a=$(ssh_addr6 "$ns" fab0)
    [ -n "$a" ] || continue
    m=$(ip -n "$ns" -o link show fab0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    ip -n "$ns" neigh replace 2001:db8:f::fa:1 lladdr "$cm" dev fab0 nud permanent
    ip -n "$CTL_NS" neigh replace "$a" lladdr "$m" dev c0 nud permanent
  done
}

# ssh_probes_left: "NS pid" for every anycast-probe in the lab's namespaces.
ssh_probes_left() {
  local ns p
  for ns in "${SSH_NS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      [ "$(cat /proc/$p/comm 2>/dev/null)" = anycast-probe ] && echo "$ns $p"
    done
  done
  return 0
}

# dep_run FILE [ARGS...]: `anycast-lab run FILE` as the controller, through
# lab_reaped; sets DEP_RC, DEP_DIR, DEP_LEFT. Output in $T_TMP/dep.out/.err.
dep_run() {
  local f=$1; shift
  lab_reaped "$T_TMP/dep.left" ip netns exec "$CTL_NS" "$LAB" run "$f" \
    --results "$T_TMP/results" "$@" >"$T_TMP/dep.out" 2>"$T_TMP/dep.err"
  DEP_RC=$?
  DEP_LEFT=$(cat "$T_TMP/dep.left" 2>/dev/null)
  DEP_DIR=$(sed -n 's/^results: //p' "$T_TMP/dep.out" | tail -n 1)
  echo "--- anycast-lab run $f: exit $DEP_RC, results $DEP_DIR"
  cat "$T_TMP/dep.out"
  sed 's/^/    stderr| /' "$T_TMP/dep.err"
  [ -z "$DEP_LEFT" ] || sed 's/^/    left behind| /' <<<"$DEP_LEFT"
}
