#!/usr/bin/env bash
# anycast-probe --metrics (docs/anycast-probe.md, "Metrics endpoint"): the
# probe serves its statistics in the Prometheus text format, `promtool check
# metrics` accepts them, a real Prometheus scrapes them and answers a query
# with the probe's counts, a hostile identity stays one label value, and a
# bad address is a usage error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need python3 promtool prometheus
probe_ns
probe_responder RPID --identity 'node-a"x\y' || t_fail "responder answers"

get() { # URL: the body, or nothing
  in_ns python3 -c 'import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")
except Exception as e:
    print("ERROR", e, file=sys.stderr)' "$1"
}
t_bg PPID_ ip netns exec "$NS" "$P" -s dns -s echo -t both -r 50 -c 2 -i 100ms -d 30s "${PORTS[@]}" \
  --vantage eu --metrics 127.0.0.1:9153 --progress never -o "$T_TMP/out" "$V4"
# Fetched anew on every try: 503 until the probe's loop has rendered once.
has_ok() { get http://127.0.0.1:9153/metrics | grep -q 'result="ok"} [1-9]'; }
t_wait_for 10 has_ok || t_fail "the endpoint reports ok probes"
get http://127.0.0.1:9153/metrics >"$T_TMP/m.txt"
head -n 5 "$T_TMP/m.txt"
t_true "promtool check metrics accepts the exposition" in_ns promtool check metrics <"$T_TMP/m.txt"
t_true "answers by node, the identity escaped as one label value" \
  grep -q '^anycast_probe_answers_total{vantage="eu",target="198.51.100.53",transport="udp",service="dns",node="node-a\\"x\\\\y"} [1-9]' "$T_TMP/m.txt"
t_true "an RTT histogram per transport and service" \
  grep -q '^anycast_probe_rtt_seconds_bucket{vantage="eu",target="198.51.100.53",transport="tcp",service="echo",le="+Inf"} [1-9]' "$T_TMP/m.txt"
t_true "tcp connections by end reason" grep -q '^anycast_probe_connections_ended_total{.*reason="reset"} 0' "$T_TMP/m.txt"
t_eq "$(in_ns python3 -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:9153/other", timeout=5)
except urllib.error.HTTPError as e:
    print(e.code)')" 404 "another path: 404"

# A real Prometheus in the same namespace scrapes it every second.
cat >"$T_TMP/prom.yml" <<'YAML'
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: probe
    static_configs: [{targets: ["127.0.0.1:9153"]}]
YAML
t_bg PROM ip netns exec "$NS" prometheus --config.file="$T_TMP/prom.yml" --storage.tsdb.path="$T_TMP/tsdb" \
  --web.listen-address=127.0.0.1:9090 --log.level=warn 2>>"$T_TMP/prometheus.log"
q='sum(anycast_probe_probes_total{job="probe",result="ok",transport="udp"})'
scraped() {
  get "http://127.0.0.1:9090/api/v1/query?query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and float(r[0]["value"][1]) > 0 else 1)' 2>/dev/null
}
t_true "Prometheus scraped the probe: its query has the ok udp probes" t_wait_for 20 scraped
t_eq "$(get 'http://127.0.0.1:9090/api/v1/targets' | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["activeTargets"][0]["health"])')" \
  up "the scrape target is up"
kill -INT "$PPID_"
wait "$PPID_"; t_eq "$?" 0 "the probe exits 0 after SIGINT"

out=$(in_ns "$P" --metrics 127.0.0.1 "$V4" 2>&1); rc=$?
t_eq "$rc" 2 "--metrics without a port: exit 2"
t_match "$out" "expected ADDR:PORT" "and says what it wants"
t_done
