#!/usr/bin/env bash
# Collateral damage (docs/formats.md, "Metrics"): labs/ecmp.yaml and
# labs/ecmp-resilient.yaml, shortened to 5 s, with their own expectations.
# Withdrawing n1 under plain ECMP rehashes and moves UDP flows and breaks TCP
# connections that were on n2 and n3 (flows_moved_collateral and
# conns_broken_collateral > 0); a resilient nexthop group leaves them alone
# (== 0). Both figures are also computed here from probes.csv and
# connections.csv, independently of the metrics code.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need awk python3

# independent DIR: "<flows moved collateral> <conns broken collateral>" at
# withdraw n1, from the CSVs: a flow counts when the node of its last probe
# in the second before the withdraw answered it, was not n1, and a third
# node answered it before the announce; a connection counts when it was open
# at the withdraw, broke (not `end`) before the announce, and its node was
# not n1.
independent() {
  python3 - "$1" <<'PY'
import csv, sys
d = sys.argv[1]
ev = list(csv.DictReader(open(f"{d}/events.csv")))
W = int(next(e["ts_ns"] for e in ev if e["event"] == "withdraw" and e["node"] == "n1"))
A = int(next(e["ts_ns"] for e in ev if e["event"] == "announce" and e["node"] == "n1"))
last, moved = {}, set()
rows = sorted((int(r["ts_ns"]), r) for r in csv.DictReader(open(f"{d}/probes.csv"))
              if r["vantage"] == "client" and r["transport"] == "udp")
for ts, r in rows:
    f, node = r["conn"], r["node"] if r["result"] == "ok" else ""
    if W - 10**9 <= ts < W:
        last[f] = node
    elif W <= ts < A and node and last.get(f) and last[f] != "n1" and node not in (last[f], "n1"):
        moved.add(f)
broken = 0
for c in csv.DictReader(open(f"{d}/connections.csv")):
    o, cl = int(c["opened_ns"]), int(c["closed_ns"] or 0)
    if c["vantage"] == "client" and o <= W < cl < A and c["reason"] != "end" and c["node"] not in ("", "n1"):
        broken += 1
print(len(moved), broken)
PY
}

for mode in ecmp ecmp-resilient; do
  sed -e 's/^duration: 10s/duration: 5s/' -e 's/{at: 3s, withdraw: n1}/{at: 2s, withdraw: n1}/' \
    -e 's/{at: 6s, announce: n1}/{at: 4s, announce: n1}/' "$AH_ROOT/labs/$mode.yaml" >"$T_TMP/$mode.yaml"
  t_eq "$(grep -c 'at: [24]s' "$T_TMP/$mode.yaml")" 2 "$mode: the shortened drill"
  lab_run "$T_TMP/$mode.yaml"
  t_eq "$LAB_RC" 0 "$mode: the run passes its expectations"
  out=$(cat "$T_TMP/run.out")
  if [ "$mode" = ecmp ]; then op='>'; else op='=='; fi
  t_match "$out" "PASS  client udp flows_moved_collateral $op 0 at withdraw n1" "$mode: flows_moved_collateral $op 0"
  t_match "$out" "PASS  client tcp conns_broken_collateral $op 0 at withdraw n1" "$mode: conns_broken_collateral $op 0"
  read -r fm cb < <(python3 - "$LAB_DIR/summary.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["event"] == "withdraw" and r["vantage"] == "client"]
u = next(r for r in rows if r["transport"] == "udp")
t = next(r for r in rows if r["transport"] == "tcp")
print(u["flows_moved_collateral"], t["conns_broken_collateral"])
PY
)
  read -r ifm icb < <(independent "$LAB_DIR")
  echo "$mode: summary $fm flows moved, $cb connections broken; from the CSVs $ifm, $icb"
  t_eq "$fm" "$ifm" "$mode: flows_moved_collateral is what probes.csv shows"
  t_eq "$cb" "$icb" "$mode: conns_broken_collateral is what connections.csv shows"
  t_eq "$(lab_leftovers "$LAB_ID")" "" "$mode: nothing of the run is left"
done
t_done
