#!/usr/bin/env bash
# anycast-lab atlas import on the RIPE Atlas fixtures of tests/atlas/ (no
# root): probes.csv rows and counts worked out by hand (hostname.bind,
# id.server, NSID-only, a resultset of two, timeout and socket errors, a
# result without abuf, REFUSED, bad base64, a non-DNS and a malformed element,
# a truncated file, the one-per-line form), hostile identities kept exact in
# the CSVs and escaped on the page, flips and catchment in the summary's run
# rows, expectations from --lab, an element over the bound skipped, and
# `atlas spec` checked with jq.
source "$(dirname "$0")/lib.sh"
LAB=$AH_BIN/anycast-lab
[ -x "$LAB" ] || { echo "missing $LAB"; exit 1; }
t_need python3 jq
F=$AH_ROOT/tests/atlas
D=$T_TMP/fx
mkdir -p "$D"
python3 "$F/gen_fixtures.py" "$D" || { echo "fixture generator failed"; exit 1; }
t_eq "$(cd "$D" && sha256sum results.json lines.jsonl truncated.json probes.json)" \
  "$(cd "$F" && sha256sum results.json lines.jsonl truncated.json probes.json)" \
  "the checked-in fixtures are what the generator writes"

O=$T_TMP/out
"$LAB" atlas import --probes "$F/probes.json" --out "$O" \
  "$F/results.json" "$F/lines.jsonl" "$F/truncated.json" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
t_eq "$?" 0 "import exits 0 (skipped elements are reported, not fatal)"
T_DUMP+=("$T_TMP/stdout" "$T_TMP/stderr" "$O/probes.csv")
# results.json: 14 elements, 2 skipped (type ping, malformed), 13 rows (the
# resultset gives 2); lines.jsonl: 3; truncated.json: 3 elements, the last
# cut: 2 rows.
t_match "$(cat "$T_TMP/stdout")" \
  "imported 17 results of 20 elements \(3 skipped\): 18 rows \(ok 12, timeout 2, bad_reply 3, error 1\)" \
  "counts printed"
t_match "$(cat "$T_TMP/stderr")" "results.json:12: not a DNS result" "a ping result is FILE:12"
t_match "$(cat "$T_TMP/stderr")" "results.json:13: not JSON" "malformed JSON is FILE:13"
t_match "$(cat "$T_TMP/stderr")" "truncated.json:3: truncated by the end of the file" \
  "the truncated element is FILE:3"
t_eq "$(wc -l <"$O/probes.csv")" 20 "probes.csv: header and 18 rows (one identity holds a newline)"
t_eq "$(head -1 "$O/probes.csv")" "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail" \
  "probes.csv has the usual columns"

# The rows, read back with a CSV parser (the hostile identity spans lines).
python3 - "$O" >"$T_TMP/rows" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1] + "/probes.csv", newline="")))
c = collections.Counter(r["result"] for r in rows)
print("results", " ".join(f"{k}={c[k]}" for k in sorted(c)))
by = {}
for r in rows:
    by.setdefault(r["vantage"], []).append(r)
def one(v, i=0):
    r = by[v][i]
    return f'{r["result"]}|{r["node"]}|{r["transport"]}|{r["rtt_us"]}|{r["detail"]}|{r["target"]}'
for v, i in [("atlas-1001", 1), ("atlas-1002", 0), ("atlas-1003", 0), ("atlas-1004", 0),
             ("atlas-1004", 1), ("atlas-1005", 0), ("atlas-1006", 0), ("atlas-1007", 0),
             ("atlas-1009", 0), ("atlas-1011", 0), ("atlas-2001", 0)]:
    print(v, i, one(v, i))
print("hostile", repr(by["atlas-1008"][0]["node"]))
print("nrows", len(rows))
PY
R=$(cat "$T_TMP/rows")
t_match "$R" "results bad_reply=3 error=1 ok=12 timeout=2" "results by kind"
t_match "$R" "atlas-1001 1 ok\|lon-1\|udp\|12500\|\|198.51.100.53" "hostname.bind TXT, rt 12.5 ms"
t_match "$R" "atlas-1002 0 ok\|fra-1\|tcp\|30250\|" "id.server TXT over TCP"
t_match "$R" "atlas-1003 0 ok\|sin-1\|" "NSID only"
t_match "$R" "atlas-1004 0 ok\|ams-1\|udp\|8000\|\|198.51.100.53" "resultset entry 1"
t_match "$R" "atlas-1004 1 timeout\|\|udp\|\|timeout: 5000\|198.51.100.54" "resultset entry 2"
t_match "$R" "atlas-1005 0 timeout\|\|udp\|\|timeout: 5000" "timeout error"
t_match "$R" "atlas-1006 0 error\|\|udp\|\|socket: connect failed Network is unreachable" \
  "socket error"
t_match "$R" "atlas-1007 0 bad_reply\|\|udp\|3000\|no abuf" "no abuf: bad_reply"
t_match "$R" "atlas-1009 0 bad_reply\|\|udp\|12500\|REFUSED" "REFUSED: bad_reply"
t_match "$R" "atlas-1011 0 bad_reply\|\|udp\|12500\|abuf: not base64" "bad base64: bad_reply"
t_match "$R" "atlas-2001 0 ok\|ams-1\|udp\|12500\|\|2001:db8:53::53" "one-per-line form, IPv6"
t_eq "$(grep '^hostile' <<<"$R")" \
  "hostile '<script>alert(1)</script>,\"x\"\\n=cmd|\\x1b[2J'" "a hostile identity stays exact data"

# atlas-probes.csv: the two probes of the metadata seen in the results.
t_eq "$(cat "$O/atlas-probes.csv")" "vantage,country,asn_v4,asn_v6
atlas-1001,NL,3333,
atlas-1002,DE,680,680" "atlas-probes.csv"

# Summary: one run row per vantage; atlas-1001 went ams-1 -> lon-1 -> lon-1
# (one flip, catchment lon-1 at the end), atlas-2001 stayed on ams-1.
S=$O/summary.csv
run_row() { awk -F, -v v="$1" '$2 == "run" && $4 == v { print $8 "," $10 "," $14 }' "$S"; }
t_eq "$(awk -F, '$2 == "run"' "$S" | grep -c '^[0-9]')" 13 "13 run rows (one per probe)"
t_eq "$(run_row atlas-1001)" ",3,1" "atlas-1001: 3 results, 1 flip"
t_eq "$(run_row atlas-2001)" ",2,0" "atlas-2001: 2 results, no flip"
t_eq "$(awk -F, '$2 == "run" && $4 == "atlas-1001" { print $9 }' "$S")" "lon-1" \
  "atlas-1001's catchment at the end: lon-1"
t_true "report.html written" test -s "$O/report.html"
t_true "summary.json parses" jq -e '.rows | length > 0' "$O/summary.json"
t_true "no raw <script> from an identity on the page" \
  bash -c "! grep -q '<script>alert' '$O/report.html'"
t_true "the identity is shown escaped" grep -q '&lt;script&gt;alert(1)' "$O/report.html"
t_true "the page groups the probes by country: NL, 3 results, 1 flip, lon-1" \
  grep -q '<tr><td>NL</td><td class="n">1</td><td class="n">3</td><td class="n">0</td><td class="n">1</td><td>lon-1 1</td>' "$O/report.html"
t_true "... and by ASN" grep -q '<tr><td>AS680</td><td class="n">1</td><td class="n">1</td>' \
  "$O/report.html"

# Expectations from --lab: both pass (exit 0); a wrong one fails (exit 1).
O2=$T_TMP/out2
"$LAB" atlas import --lab "$F/lab.yaml" --out "$O2" "$F/results.json" "$F/lines.jsonl" \
  >"$T_TMP/stdout2" 2>/dev/null
t_eq "$?" 0 "expectations from --lab pass: exit 0"
t_match "$(cat "$T_TMP/stdout2")" "expectations: 2 passed, 0 failed" "verdict table printed"
t_true "without --probes, no Atlas groups on the page" \
  bash -c "! grep -q 'atlas-groups' '$O2/report.html'"
sed 's/never-answered-by sin-1/never-answered-by lon-1/' "$F/lab.yaml" >"$T_TMP/wrong.yaml"
"$LAB" atlas import --lab "$T_TMP/wrong.yaml" --out "$T_TMP/out3" "$F/results.json" \
  >"$T_TMP/stdout3" 2>/dev/null
t_eq "$?" 1 "a failed expectation: exit 1"
t_match "$(cat "$T_TMP/stdout3")" "FAIL +atlas-1001 udp never-answered-by lon-1" "it names itself"

# An element over the 1 MiB bound is skipped and counted; the rest imported.
python3 - "$F/results.json" "$T_TMP/big.json" <<'PY'
import json, sys
first = json.loads(open(sys.argv[1]).read().split(",\n")[0][1:])
big = dict(first, pad="x" * (1100 * 1024))
open(sys.argv[2], "w").write("[" + json.dumps(big) + "," + json.dumps(first) + "]")
PY
"$LAB" atlas import --out "$T_TMP/out4" "$T_TMP/big.json" >"$T_TMP/stdout4" 2>"$T_TMP/stderr4"
t_eq "$?" 0 "an oversized element does not stop the import"
t_match "$(cat "$T_TMP/stderr4")" "big.json:1: element over 1048576 bytes" "FILE:1 names it"
t_match "$(cat "$T_TMP/stdout4")" "imported 1 results of 2 elements \(1 skipped\): 1 rows" \
  "the next element is imported"

# Many batches on the decoding threads: rows come out in file order.
python3 "$AH_ROOT/bench/atlas_gen.py" "$T_TMP/many.json" 5000 300 || exit 1
"$LAB" atlas import -q --out "$T_TMP/out6" "$T_TMP/many.json" >/dev/null 2>&1
t_eq "$?" 0 "5000 generated results import"
t_eq "$(python3 -c '
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
src = json.load(open(sys.argv[2]))
ok = len(rows) == len(src) and all(
    r["vantage"] == "atlas-%d" % s["prb_id"] and int(r["seq"]) == i + 1 and
    int(r["ts_ns"]) == s["timestamp"] * 10**9 for i, (r, s) in enumerate(zip(rows, src)))
print(len(rows), ok)' "$T_TMP/out6/probes.csv" "$T_TMP/many.json")" "5000 True" \
  "5000 rows in the order of the file"

# Usage and missing files.
"$LAB" atlas import --out "$T_TMP/out5" >/dev/null 2>&1
t_eq "$?" 2 "no files: exit 2"
"$LAB" atlas frobnicate >/dev/null 2>&1
t_eq "$?" 2 "unknown atlas command: exit 2"
"$LAB" atlas import --out "$T_TMP/out5" "$T_TMP/nonexistent.json" >/dev/null 2>&1
t_eq "$?" 1 "a missing file: exit 1"

# atlas spec: one DNS definition per anycast address, the defaults.
"$LAB" atlas spec "$F/lab.yaml" >"$T_TMP/spec.json" 2>"$T_TMP/spec.err"
t_eq "$?" 0 "atlas spec exits 0"
T_DUMP+=("$T_TMP/spec.json" "$T_TMP/spec.err")
t_eq "$(jq -c '[.definitions[] | [.type, .af, .target, .query_class, .query_type,
  .query_argument, .set_nsid_bit, .use_probe_resolver, .interval]]' "$T_TMP/spec.json")" \
  '[["dns",4,"198.51.100.53","CHAOS","TXT","hostname.bind",true,false,240],["dns",6,"2001:db8:53::53","CHAOS","TXT","hostname.bind",true,false,240]]' \
  "definitions: CHAOS TXT hostname.bind, NSID bit, both families"
t_eq "$(jq -c '[.probes, .is_oneoff, has("start_time"), (.definitions[0].description | length > 0)]' "$T_TMP/spec.json")" \
  '[[{"requested":500,"type":"area","value":"WW"}],false,false,true]' "probes and timing defaults"
# The file's atlas: block: probe count, area, interval, start and stop (an
# ISO 8601 time turned into unix seconds).
"$LAB" atlas spec "$AH_ROOT/tests/labs/deploy-full.yaml" >"$T_TMP/spec2.json" 2>>"$T_TMP/spec.err"
t_eq "$?" 0 "atlas spec of a deployment file with an atlas: block exits 0"
t_eq "$(jq -c '[.probes, ([.definitions[].interval] | unique), .start_time, .stop_time,
  [.definitions[].target]]' "$T_TMP/spec2.json")" \
  '[[{"requested":50000,"type":"area","value":"North-East"}],[60],1796292000,1796299200,["198.51.100.53","2001:db8::53","198.18.0.53"]]' \
  "the atlas: block sets probes, area, interval, start and stop"
"$LAB" atlas spec "$T_TMP/nonexistent.yaml" >/dev/null 2>&1
t_eq "$?" 2 "spec of a missing file: exit 2 (a bad lab file)"
t_done
