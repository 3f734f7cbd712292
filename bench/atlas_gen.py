#!/usr/bin/env python3
"""Writes N RIPE Atlas DNS results (the results API's array form) for
bench/atlas_import.sh: PROBES probes asking hostname.bind every 240 s, each
answered by one of four nodes (a probe moves now and then), every 50th a
timeout; the abufs are real DNS wire from tests/atlas/gen_fixtures.py.
Usage: atlas_gen.py OUT N [PROBES]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "atlas"))
import gen_fixtures as g  # noqa: E402

out, n = sys.argv[1], int(sys.argv[2])
probes = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
nodes = ["ams-1", "lon-1", "fra-1", "sin-1"]
abufs = [g.reply("hostname.bind", [[x]], nsid=x) for x in nodes]
ok = ('{"fw":5080,"lts":12,"af":4,"dst_addr":"198.51.100.53","from":"203.0.113.%d",'
      '"msm_id":5001,"prb_id":%d,"proto":"UDP","timestamp":%d,"type":"dns",'
      '"msm_name":"Tdig","result":{"ANCOUNT":1,"ARCOUNT":1,"ID":4711,"NSCOUNT":0,'
      '"QDCOUNT":1,"abuf":"%s","rt":%d.%03d,"size":70}}')
timeout = ('{"fw":5080,"lts":12,"af":4,"dst_addr":"198.51.100.53","from":"203.0.113.%d",'
           '"msm_id":5001,"prb_id":%d,"proto":"UDP","timestamp":%d,"type":"dns",'
           '"error":{"timeout":5000}}')
with open(out, "w") as f:
    f.write("[")
    for i in range(n):
        rnd, p = divmod(i, probes)
        prb = 10000 + p
        ts = g.T0 + rnd * 240 + p % 240
        if i % 50 == 49:
            s = timeout % (p % 250, prb, ts)
        else:
            node = (p + rnd // 97) % 4 if p % 7 == 0 else p % 4
            s = ok % (p % 250, prb, ts, abufs[node], 5 + p % 90, i % 1000)
        f.write(s if i == 0 else ",\n" + s)
    f.write("]\n")
