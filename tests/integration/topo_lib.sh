# Helpers for the topology tests (3x-topo-*.sh), sourced after lib.sh: drive
# tests/tools/topo_tool `run` through a FIFO, start one identity responder
# per node, ask from a vantage's client namespace which node answers, and
# take the lab down on exit whatever happened.

TT_TOOL=$AH_BIN/tests/tools/topo_tool
TT_RUN=""
TT_PID=""

tt_need() {
  t_need_root
  t_need socat ip
  [ -x "$TT_TOOL" ] || t_skip "needs $TT_TOOL (make unit)"
}

# Runs before lib.sh's cleanup: stop the tool, then remove whatever is left
# of the lab (processes inside it included) by its run id.
tt_cleanup() {
  local p
  # Our other processes first: a process of the lab holds it, and any of them
  # may hold the FIFO open, which keeps the tool from seeing its end.
  for p in "${T_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  exec 3>&- 2>/dev/null
  if [ -n "$TT_PID" ]; then
    for _ in $(seq 50); do kill -0 "$TT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TT_PID" 2>/dev/null
    wait "$TT_PID" 2>/dev/null
  fi
  [ -n "$TT_RUN" ] && "$TT_TOOL" down "$TT_RUN" >/dev/null 2>&1
  t_cleanup
}
trap tt_cleanup EXIT

# tt_start RUNID NODES VANTAGES ROUTING: builds the lab and waits for "ready".
tt_start() {
  TT_RUN=$1
  rm -f "$T_TMP/tt.in" "$T_TMP/tt.out"
  mkfifo "$T_TMP/tt.in"
  "$TT_TOOL" run "$@" <"$T_TMP/tt.in" >"$T_TMP/tt.out" 2>"$T_TMP/tt.err" &
  TT_PID=$!
  exec 3>"$T_TMP/tt.in"
  if ! t_wait_for 30 grep -q '^ready' "$T_TMP/tt.out"; then
    echo "topo_tool did not come up:"; cat "$T_TMP/tt.err"
    exit 1
  fi
}

tt_answers() { grep -c '^ok\|^error' "$T_TMP/tt.out"; }
tt_answers_gt() { [ "$(tt_answers)" -gt "$1" ]; }

# tt CMD...: sends one command and waits for its ok/error line.
tt() {
  local before
  before=$(tt_answers)
  echo "$*" >&3
  t_wait_for 10 tt_answers_gt "$before" || { echo "no answer to: $*"; return 1; }
  grep '^ok\|^error' "$T_TMP/tt.out" | tail -n 1 | grep -q '^ok'
}

# tt_stop: "quit" and wait for the tool to tear the lab down.
tt_stop() {
  local p
  for p in "${T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  T_PIDS=()
  echo quit >&3
  exec 3>&-
  local rc=0
  wait "$TT_PID" || rc=$?
  TT_PID=""
  return $rc
}

tt_ns() { # role name -> namespace name
  echo "ah-lab-$TT_RUN-$1-$2"
}

# tt_responders NODE...: one echo responder per node (port 7, UDP and TCP),
# identity = node name; anycast-responder if built, else socat.
tt_responders() {
  local n pid
  for n in "$@"; do
    if [ -x "$AH_BIN/anycast-responder" ]; then
      t_bg pid ip netns exec "$(tt_ns n "$n")" "$AH_BIN/anycast-responder" \
        -l 198.51.100.53 -l 2001:db8:53::53 -i "$n" --no-dns --echo-port 7 --log-level error 3>&-
    else
      printf '#!/bin/sh\nexec sed -u "s/^/%s /"\n' "$n" >"$T_TMP/echo-$n"
      chmod +x "$T_TMP/echo-$n"
      t_bg pid ip netns exec "$(tt_ns n "$n")" socat UDP4-RECVFROM:7,bind=198.51.100.53,fork \
        EXEC:"$T_TMP/echo-$n" 3>&-
      t_bg pid ip netns exec "$(tt_ns n "$n")" socat "UDP6-RECVFROM:7,bind=[2001:db8:53::53],fork" \
        EXEC:"$T_TMP/echo-$n" 3>&-
    fi
  done
  for n in "$@"; do
    t_wait_for 5 sh -c "ip netns exec $(tt_ns n "$n") ss -lun | grep -q ':7 '" ||
      { echo "responder on $n did not start"; exit 1; }
  done
}

# who VANTAGE [4|6] [SPORT]: the node answering an echo over UDP from the
# vantage's client namespace, or "none" (after 1 s).
who() {
  local v=$1 fam=${2:-4} sport=${3:-} r
  if [ -x "$AH_BIN/tests/tools/udp_flows" ]; then
    local dst=198.51.100.53
    [ "$fam" = 6 ] && dst="[2001:db8:53::53]"
    r=$(ip netns exec "$(tt_ns c "$v")" "$AH_BIN/tests/tools/udp_flows" -t 1000 "$dst" \
      "${sport:-$((20000 + RANDOM % 20000))}" 1 2>/dev/null)
    r=${r#* }
  else
    local dst opt=""
    if [ "$fam" = 6 ]; then dst="UDP6:[2001:db8:53::53]:7"; else dst="UDP4:198.51.100.53:7"; fi
    [ -n "$sport" ] && opt=",sourceport=$sport,reuseaddr"
    r=$(echo probe | ip netns exec "$(tt_ns c "$v")" timeout 3 socat -T1 - "$dst$opt" 2>/dev/null)
    r=${r%% *}
  fi
  echo "${r:-none}"
}

# who_is VANTAGE FAMILY NODE: true when NODE answers (for t_wait_for).
who_is() { [ "$(who "$1" "$2")" = "$3" ]; }

# who_tcp VANTAGE [4|6]: the node answering an echo over TCP, or "none".
who_tcp() {
  local dst="TCP4:198.51.100.53:7" r
  [ "${2:-4}" = 6 ] && dst="TCP6:[2001:db8:53::53]:7"
  r=$(echo probe | ip netns exec "$(tt_ns c "$1")" timeout 3 socat -T1 - "$dst" 2>/dev/null)
  r=${r%% *}
  echo "${r:-none}"
}
