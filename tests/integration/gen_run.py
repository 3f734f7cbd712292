# Generates a run directory for the report tests (55-report-scale.sh), shaped
# like a lab run: VANTAGES vantages probing over udp and tcp every STEP ms for
# 20 s, answered by NODES nodes, withdraws at 5, 10 and 15 s with a route
# change at every vantage's router, 2 TCP connections per vantage, run.json.
# Usage: gen_run.py DIR VANTAGES NODES [STEP_MS (100)]
import sys, os
d = sys.argv[1]; V = int(sys.argv[2]); N = int(sys.argv[3]); step_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 100
os.makedirs(d, exist_ok=True)
T = 1800000000000000000
S = 20
moves = [(5000, 0), (10000, 1), (15000, 2)]
def node_at(v, ms):
    n = v % N
    for t, k in moves:
        if ms >= t and n == k:
            n = (n + 1) % N
    return n
with open(f"{d}/probes.csv", "w") as f:
    f.write("ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n")
    for ms in range(0, S * 1000, step_ms):
        for v in sorted(range(V), key=lambda v: (v * 37) % step_ms):
            off = (v * 37) % step_ms
            for tr in ("udp", "tcp"):
                ts = T + (ms + off) * 1000000
                n = node_at(v, ms)
                f.write(f"{ts},vantage{v:04d},198.51.100.53,{tr},dns,{v * 2 + (tr == 'tcp')},{ms},ok,node{n:03d},120,\n")
with open(f"{d}/connections.csv", "w") as f:
    f.write("conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed\n")
    for v in range(V):
        for c in range(2):
            f.write(f"{v*2+c},vantage{v:04d},198.51.100.53,dns,{T + c * 1000000},node{v % N:03d},{T + S * 1000000000},end,100,0\n")
with open(f"{d}/events.csv", "w") as f:
    f.write("ts_ns,event,node,detail\n")
    for t, k in moves:
        f.write(f"{T + t * 1000000},withdraw,node{k:03d},\n")
        for v in range(V):
            f.write(f"{T + t * 1000000 + 100000 + v * 1000},route,node{(k + 1) % N:03d},router=vantage{v:04d} nexthop=x\n")
with open(f"{d}/run.json", "w") as f:
    f.write('{"drill_start_ns": %d, "end_ns": %d}\n' % (T, T + S * 1000000000))
