# Real DNS servers from Debian started with the smallest configuration that
# gives them an identity (sourced after lib.sh, bash). Each srv_start NAME
# PORT writes NAME's configuration under $T_TMP/NAME, starts it in namespace
# $NS on $V4 and $V6 port PORT as a child removed by lib.sh's cleanup, and
# waits until it answers. The identity of every server is "<name>-node";
# docs/interop.md quotes these configurations.

PATH=$PATH:/usr/sbin:/usr/local/sbin

# The configuration lines the table in docs/interop.md is about: each
# server's identity, and nothing else it would not have by default.
srv_conf_bind() {
  cat <<CONF
options {
  directory "$1";
  pid-file "$1/named.pid";
  session-keyfile "$1/session.key";
  listen-on port $2 { $V4; };
  listen-on-v6 port $2 { $V6; };
  recursion no;
  server-id "bind-node";
  hostname "bind-node";
};
CONF
}

srv_conf_nsd() {
  cat <<CONF
server:
  ip-address: $V4@$2
  ip-address: $V6@$2
  identity: "nsd-node"
  nsid: "ascii_nsd-node"
  username: ""
  chroot: ""
  zonesdir: "$1"
  pidfile: "$1/nsd.pid"
  database: ""
  xfrdfile: "$1/xfrd.state"
  server-count: 1
remote-control:
  control-enable: no
CONF
}

srv_conf_knot() {
  cat <<CONF
server:
    rundir: "$1"
    user: root:root
    listen: [ $V4@$2, $V6@$2 ]
    identity: "knot-node"
    nsid: "knot-node"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$1"
log:
  - target: stderr
    any: error
CONF
}

srv_conf_unbound() {
  cat <<CONF
server:
  interface: $V4@$2
  interface: $V6@$2
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  identity: "unbound-node"
  nsid: "ascii_unbound-node"
  username: ""
  chroot: ""
  directory: "$1"
  pidfile: "$1/unbound.pid"
  use-syslog: no
  logfile: ""
  num-threads: 1
  do-daemonize: no
remote-control:
  control-enable: no
CONF
}

srv_conf_pdns() {
  cat <<CONF
launch=bind
bind-config=$1/named.conf
local-address=$V4:$2, [$V6]:$2
server-id=pdns-node
socket-dir=$1
daemon=no
guardian=no
write-pid=no
setuid=
setgid=
disable-syslog=yes
loglevel=3
CONF
}

# dnsdist in front of two backends (two NSD, "dd-a-node" and "dd-b-node", on
# ports PORT+1 and PORT+2); the identity is the answering backend's.
srv_conf_dnsdist() {
  cat <<CONF
setLocal("$V4:$2")
addLocal("[$V6]:$2")
newServer({address="$V4:$(($2 + 1))", name="a"})
newServer({address="$V4:$(($2 + 2))", name="b"})
setServerPolicy(roundrobin)
addACL("0.0.0.0/0")
addACL("::/0")
setSecurityPollSuffix("")
CONF
}

# srv_cmd NAME DIR: the command line that runs NAME in the foreground.
srv_cmd() {
  case $1 in
  bind) echo named -g -u root -c "$2/named.conf" ;;
  nsd) echo nsd -d -c "$2/nsd.conf" ;;
  knot) echo knotd -c "$2/knot.conf" ;;
  unbound) echo unbound -d -c "$2/unbound.conf" ;;
  pdns) echo pdns_server --config-dir="$2" ;;
  dnsdist) echo dnsdist --supervised --disable-syslog -C "$2/dnsdist.conf" ;;
  esac
}

srv_binary() {
  case $1 in bind) echo named ;; knot) echo knotd ;; pdns) echo pdns_server ;; *) echo "$1" ;; esac
}

# srv_wait PORT: true once something answers CH TXT hostname.bind or an IN
# query (any rcode) on PORT over UDP within 15 s.
srv_wait() {
  local i
  for i in $(seq 1 75); do
    if ip netns exec "$NS" dig +time=1 +tries=1 -p "$1" @"$V4" . SOA 2>/dev/null | grep -q 'status:'; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# srv_start NAME PORT: writes, starts and waits for server NAME.
srv_start() {
  local name=$1 port=$2 dir=$T_TMP/$1 file pid
  mkdir -p "$dir"
  case $name in
  bind) file=named.conf ;; pdns) file=pdns.conf ;; *) file=$name.conf ;;
  esac
  if [ "$name" = pdns ]; then
    : >"$dir/named.conf"
  fi
  if [ "$name" = dnsdist ]; then
    srv_nsd_as dd-a "$((port + 1))"
    srv_nsd_as dd-b "$((port + 2))"
  fi
  "srv_conf_$name" "$dir" "$port" >"$dir/$file"
  # shellcheck disable=SC2046
  t_bg pid ip netns exec "$NS" $(srv_cmd "$name" "$dir") >"$dir/log" 2>&1
  srv_wait "$port"
}

# srv_nsd_as NAME PORT: an NSD identified as NAME-node (a dnsdist backend).
srv_nsd_as() {
  local dir=$T_TMP/$1 pid
  mkdir -p "$dir"
  srv_conf_nsd "$dir" "$2" | sed -e "s/nsd-node/$1-node/" -e "/server-count/a\\  rrl-ratelimit: 0" \
    >"$dir/nsd.conf"
  t_bg pid ip netns exec "$NS" nsd -d -c "$dir/nsd.conf" >"$dir/log" 2>&1
  srv_wait "$2"
}
