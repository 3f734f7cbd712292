#!/usr/bin/env bash
# Live progress of anycast-lab run (docs/anycast-lab.md, "Live progress"): on a
# terminal (a pty from script(1)) the drill shows elapsed/total time, the next
# step and each vantage's answered share and node, redrawn in place; with CI
# set, with -q, or without a terminal, nothing of it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root
t_need script

cat >"$T_TMP/prog.yaml" <<YAML
name: prog
anycast: [198.51.100.53]
routing: static
duration: 3s
tolerance: 2s
$LAB_NODES_AB
$LAB_VANTAGES_AB
probes:
  udp: {service: dns, rate: 100, flows: 2}
drill:
  - {at: 1500ms, withdraw: a}
YAML
# on_tty OUT [ENV...]: runs the lab on a pseudo-terminal, its screen in OUT.
on_tty() {
  local out=$1; shift
  env -u CI "$@" script -qec "'$LAB' run '$T_TMP/prog.yaml' --results '$T_TMP/results'" "$out" \
    >/dev/null 2>&1
}
on_tty "$T_TMP/tty.txt"
t_eq "$?" 0 "run on a terminal exits 0"
screen=$(tr '\r' '\n' <"$T_TMP/tty.txt")
t_match "$screen" "[0-9]\.[0-9]/3\.0 s  next withdraw a in [0-9.]+ s  va 100% a  vb 100% b" \
  "before the withdraw: elapsed, the next step, each vantage answered by its node"
t_match "$screen" "/3\.0 s  drill done  va [0-9]+% b  vb 100% b" "after it: va answered by b"
t_true "redrawn in place (carriage returns, many redraws)" \
  test "$(tr -cd '\r' <"$T_TMP/tty.txt" | wc -c)" -ge 5
t_true "the tables come after the line is cleared" grep -q "^event .*acknowledged" <(tr '\r' '\n' <"$T_TMP/tty.txt")

on_tty "$T_TMP/ci.txt" CI=true
t_eq "$(tr '\r' '\n' <"$T_TMP/ci.txt" | grep -c 'next withdraw')" 0 "CI set: no progress"
env -u CI script -qec "'$LAB' -q run '$T_TMP/prog.yaml' --results '$T_TMP/results'" "$T_TMP/q.txt" >/dev/null 2>&1
t_eq "$(tr '\r' '\n' <"$T_TMP/q.txt" | grep -c 'next withdraw')" 0 "-q: no progress"
env -u CI "$LAB" run "$T_TMP/prog.yaml" --results "$T_TMP/results" >"$T_TMP/plain.out" 2>"$T_TMP/plain.err"
t_eq "$(grep -c 'next withdraw' "$T_TMP/plain.err")" 0 "stderr not a terminal: no progress"
t_done
