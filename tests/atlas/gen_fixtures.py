#!/usr/bin/env python3
"""Writes the RIPE Atlas fixtures of tests/atlas/ (docs/atlas.md): DNS
results in the documented format whose answer buffers (abuf) are real DNS
wire built byte by byte here. Run it from anywhere: it writes next to
itself. The expected counts are in tests/integration/70-atlas-import.sh.
Also imported by bench/atlas_gen.py for the same wire."""
import base64
import json
import os
import struct
import sys

CH, IN, TXT, OPT, SOA = 3, 1, 16, 41, 6


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def reply(qname, answers=(), nsid=None, rcode=0, qtype=TXT, qclass=CH, qid=4711):
    """A response to qname: TXT answers (each a list of strings, bytes or
    str), an NSID option when nsid is given."""
    ar = 1 if nsid is not None else 0
    msg = struct.pack("!HHHHHH", qid, 0x8400 | rcode, 1, len(answers), 0, ar)
    msg += name(qname) + struct.pack("!HH", qtype, qclass)
    for strings in answers:
        rd = b""
        for s in strings:
            s = s.encode() if isinstance(s, str) else s
            rd += bytes([len(s)]) + s
        msg += b"\xc0\x0c" + struct.pack("!HHIH", TXT, qclass, 0, len(rd)) + rd
    if nsid is not None:
        nb = nsid.encode()
        opt = struct.pack("!HH", 3, len(nb)) + nb
        msg += b"\0" + struct.pack("!HHIH", OPT, 1232, 0, len(opt)) + opt
    return base64.b64encode(msg).decode()


T0 = 1700000000


def result(prb, ts, abuf=None, msm=5001, dst="198.51.100.53", af=4, proto="UDP", rt=12.5,
           error=None, res=None):
    r = {"fw": 5080, "lts": 12, "af": af, "dst_addr": dst, "from": "203.0.113.7",
         "msm_id": msm, "prb_id": prb, "proto": proto, "timestamp": ts, "type": "dns",
         "msm_name": "Tdig"}
    if error is not None:
        r["error"] = error
    elif res is not None:
        r["result"] = res
    else:
        r["result"] = {"ANCOUNT": 1, "ARCOUNT": 1, "ID": 4711, "NSCOUNT": 0, "QDCOUNT": 1,
                       "abuf": abuf, "rt": rt, "size": 60}
    return r


HOSTILE = '<script>alert(1)</script>,"x"\n=cmd|\x1b[2J'


def main_results():
    hb = "hostname.bind"
    return [
        result(1001, T0, reply(hb, [["ams-1"]])),
        result(1001, T0 + 240, reply(hb, [["lon-1"]])),
        result(1001, T0 + 480, reply(hb, [["lon-1"]])),
        result(1002, T0 + 1, reply("id.server", [["fra-1"]]), proto="TCP", rt=30.25),
        result(1003, T0 + 2, reply(hb, [], nsid="sin-1")),
        {"fw": 5080, "msm_id": 5001, "prb_id": 1004, "timestamp": T0 + 3, "type": "dns",
         "from": "203.0.113.8", "resultset": [
             {"af": 4, "dst_addr": "198.51.100.53", "lts": 5, "proto": "UDP", "time": T0 + 3,
              "subid": 1, "submax": 2,
              "result": {"abuf": reply(hb, [["ams-1"]]), "rt": 8.0, "size": 60, "ID": 4711}},
             {"af": 4, "dst_addr": "198.51.100.54", "lts": 5, "proto": "UDP", "time": T0 + 4,
              "subid": 2, "submax": 2, "error": {"timeout": 5000}}]},
        result(1005, T0 + 5, error={"timeout": 5000}),
        result(1006, T0 + 6, error={"socket": "connect failed Network is unreachable"}),
        result(1007, T0 + 7, res={"rt": 3.0, "size": 40, "ID": 4711}),
        result(1008, T0 + 8, reply(hb, [[HOSTILE]])),
        result(1009, T0 + 9, reply(hb, [], rcode=5)),
        {"type": "ping", "prb_id": 1010, "timestamp": T0 + 10, "msm_id": 1},
        "MALFORMED",
        result(1011, T0 + 11, "!!!not-base64!!!"),
    ]


def write_fixtures(d):
    parts = []
    for r in main_results():
        if r == "MALFORMED":
            parts.append('{"prb_id": 1010, "timestamp": , "type": "dns"}')
        else:
            parts.append(json.dumps(r))
    with open(os.path.join(d, "results.json"), "w") as f:
        f.write("[" + ",\n".join(parts) + "]\n")
    lines = [result(2001, T0 + 20, reply("hostname.bind", [["ams-1"]]), msm=5002,
                    dst="2001:db8:53::53", af=6),
             result(2002, T0 + 21, reply("hostname.bind", [["lon-1"]]), msm=5002,
                    dst="2001:db8:53::53", af=6),
             result(2001, T0 + 260, reply("hostname.bind", [["ams-1"]]), msm=5002,
                    dst="2001:db8:53::53", af=6)]
    with open(os.path.join(d, "lines.jsonl"), "w") as f:
        for r in lines:
            f.write(json.dumps(r) + "\n")
    trunc = [json.dumps(result(3001, T0 + 30 + i, reply("hostname.bind", [["ams-1"]])))
             for i in range(3)]
    text = "[" + ",".join(trunc) + "]"
    with open(os.path.join(d, "truncated.json"), "w") as f:
        f.write(text[:len(text) - len(trunc[2]) // 2])
    probes = {"count": 3, "next": None, "previous": None, "results": [
        {"id": 1001, "country_code": "NL", "asn_v4": 3333, "asn_v6": None, "status": {"id": 1}},
        {"id": 1002, "country_code": "DE", "asn_v4": 680, "asn_v6": 680},
        {"id": 9999, "country_code": "US", "asn_v4": 7018, "asn_v6": 7018}]}
    with open(os.path.join(d, "probes.json"), "w") as f:
        json.dump(probes, f, indent=1)


if __name__ == "__main__":
    write_fixtures(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
