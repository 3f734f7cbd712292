# Helpers for the anycast-lab integration tests (4[0-9]-lab-*.sh), sourced
# after lib.sh. Every run writes its results under $T_TMP; whatever a run
# leaves (namespaces of its run id, processes) is removed on exit.

LAB=$AH_BIN/anycast-lab
LAB_RUNIDS=()

# The run ids of labs this test started are cleaned on exit, and only those:
# other labs on the machine are not this test's business.
lab_cleanup() {
  local id
  for id in "${LAB_RUNIDS[@]}"; do "$LAB" clean --all "$id" >/dev/null 2>&1; done
  t_cleanup
}
trap lab_cleanup EXIT

# lab_run LABFILE [ARGS...]: runs the lab to its end; sets LAB_RC, LAB_DIR
# (the results directory) and LAB_ID (its run id). Output in $T_TMP/run.out/.err.
lab_run() {
  local lab=$1; shift
  "$LAB" run "$lab" --results "$T_TMP/results" "$@" >"$T_TMP/run.out" 2>"$T_TMP/run.err"
  LAB_RC=$?
  LAB_DIR=$(sed -n 's/^results: //p' "$T_TMP/run.out" | tail -n 1)
  LAB_ID=
  if [ -n "$LAB_DIR" ] && [ -f "$LAB_DIR/run.json" ]; then
    LAB_ID=$(sed -n 's/.*"run_id": "\([a-z0-9]*\)".*/\1/p' "$LAB_DIR/run.json")
    LAB_RUNIDS+=("$LAB_ID")
  fi
  echo "--- anycast-lab run $lab: exit $LAB_RC, results $LAB_DIR"
  cat "$T_TMP/run.out"
  sed 's/^/    stderr| /' "$T_TMP/run.err"
}

# ev_ts EVENT NODE [N]: ts_ns of the Nth (default 1st) EVENT row for NODE.
ev_ts() {
  awk -F, -v e="$1" -v n="$2" -v k="${3:-1}" \
    '$2 == e && $3 == n && ++c == k { print $1; exit }' "$LAB_DIR/events.csv"
}

# lab_runid_of PID: the run id whose state names PID as its owner.
lab_runid_of() {
  local f
  for f in /run/anycast-lab/*/state; do
    [ -f "$f" ] || continue
    if grep -qx "owner $1" "$f"; then sed -n 's/^runid //p' "$f"; return 0; fi
  done
  return 1
}

# lab_leftovers RUNID: prints anything of that run still present.
lab_leftovers() {
  ls /run/netns 2>/dev/null | grep "^ah-lab-$1-"
  [ -e "/run/anycast-lab/$1" ] && echo "state /run/anycast-lab/$1"
  return 0
}

# host_snapshot: the host namespace's links, addresses, routes and the
# sysctls a lab writes inside its own namespaces.
host_snapshot() {
  ip -o link show | sed 's/ state [A-Z]*//; s/qlen [0-9]*//' | awk '{ $1 = ""; print }' |
    grep -v -e 'ah-' -e '@if' | sort
  ip -o addr show | awk '{ $1 = ""; print }' | grep -v 'ah-' | sort
  ip route show table all | sort
  ip -6 route show table all | sort
  sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter \
    net.ipv4.conf.default.rp_filter net.ipv4.fib_multipath_hash_policy \
    net.ipv6.fib_multipath_hash_policy 2>/dev/null
}
