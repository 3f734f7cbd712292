#!/usr/bin/env bash
# A server whose identity is hostile (terminal escapes, a newline that would
# forge a line of our output, CR, invalid UTF-8, shell syntax): anycast-probe
# writes no raw control byte and no invalid UTF-8 to stdout or stderr (--once
# lines, live progress, summary: \xNN instead), keeps the exact bytes in
# probes.csv and writes a summary.json that parses. The server is a few
# lines of Python in a test namespace: anycast-responder accepts only
# printable identities, and a hostile server would not ask.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
probe_need python3

probe_ns
EVIL_DNS=$'\e]0;pwned\a\e[2J\nudp dns fake 0.001 ms\r\xe9`id`'
EVIL_ECHO=$'\x9b2J\xe9$(id)' # the echo word: any byte above space but DEL
cat >"$T_TMP/evil.py" <<'PY'
import socket, struct, sys, threading
addr, dns_port, echo_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ident = bytes.fromhex(sys.argv[4])
word = bytes.fromhex(sys.argv[5])

def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, dns_port))
    while True:
        q, peer = s.recvfrom(2048)
        end = 12
        while q[end] != 0:
            end += q[end] + 1
        end += 5  # the root label, qtype, qclass
        txt = b"".join(bytes([len(ident[i:i + 255])]) + ident[i:i + 255]
                       for i in range(0, len(ident), 255))
        hdr = q[:2] + b"\x84\x00" + struct.pack(">HHHH", 1, 1, 0, 0)
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 16, 3, 0, len(txt)) + txt
        s.sendto(hdr + q[12:end] + ans, peer)

def echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, echo_port))
    while True:
        line, peer = s.recvfrom(2048)
        s.sendto(word + b" " + line, peer)

threading.Thread(target=echo, daemon=True).start()
dns()
PY
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
t_bg SPID ip netns exec "$NS" python3 "$T_TMP/evil.py" "$V4" 5300 5307 \
  "$(hex "$EVIL_DNS")" "$(hex "$EVIL_ECHO")"
t_true "the hostile server answers" \
  t_wait_for 5 in_ns "$P" --once -t udp -s dns --dns-port 5300 "$V4"

# clean FILE: true when FILE has no byte below 0x20 but newline, no DEL, and
# is valid UTF-8.
clean() {
  python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
bad = [c for c in b if (c < 0x20 and c != 0x0a) or c == 0x7f]
try:
    b.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit(f"invalid UTF-8: {e}")
sys.exit(f"raw control bytes {sorted(set(bad))}" if bad else 0)
PY
}

in_ns "$P" --once -t udp -s dns -s echo --dns-port 5300 --echo-port 5307 "$V4" \
  >"$T_TMP/once.out" 2>"$T_TMP/once.err"
t_eq "$?" 0 "--once against the hostile server exits 0"
T_DUMP+=("$T_TMP/once.out" "$T_TMP/once.err")
t_true "--once stdout: no raw control byte, valid UTF-8" clean "$T_TMP/once.out"
t_true "--once stderr: no raw control byte, valid UTF-8" clean "$T_TMP/once.err"
t_eq "$(wc -l <"$T_TMP/once.out")" 2 "--once: two lines, the identity's newline forges none"
got=$(cat "$T_TMP/once.out")
t_match "$got" '^udp dns \\x1b]0;pwned\\x07\\x1b\[2J\\x0audp dns fake 0\.001 ms\\x0d\\xe9`id` [0-9.]+ ms
udp echo \\x9b2J\\xe9\$\(id\) [0-9.]+ ms$' "--once shows the identities escaped, literally"

out=$T_TMP/run
in_ns "$P" -t udp -s dns -s echo -r 20 -d 1s --progress always --dns-port 5300 --echo-port 5307 \
  -o "$out" --summary-json "$T_TMP/summary.json" "$V4" >"$T_TMP/run.out" 2>"$T_TMP/run.err"
t_eq "$?" 0 "a run against the hostile server exits 0"
T_DUMP+=("$T_TMP/run.err")
# The progress line redraws with \r: that one control byte is ours.
tr -d '\r' <"$T_TMP/run.err" >"$T_TMP/run.err.nocr"
t_true "progress on stderr: no raw control byte but \\r, valid UTF-8" \
  clean "$T_TMP/run.err.nocr"
t_true "summary on stdout: no raw control byte, valid UTF-8" clean "$T_TMP/run.out"
t_match "$(cat "$T_TMP/run.out")" 'nodes: \\x1b]0;pwned' "the summary shows the identity escaped"
t_true "probes.csv keeps the exact bytes; summary.json parses, with U+FFFD for the bad byte" \
  python3 - "$out/probes.csv" "$T_TMP/summary.json" "$(hex "$EVIL_DNS")" "$(hex "$EVIL_ECHO")" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="latin-1")))
want_dns = bytes.fromhex(sys.argv[3]).decode("latin-1")
want_echo = bytes.fromhex(sys.argv[4]).decode("latin-1")
nodes = {(r[4], r[8]) for r in rows[1:] if r[7] == "ok"}
assert nodes == {("dns", want_dns), ("echo", want_echo)}, nodes
j = json.load(open(sys.argv[2], encoding="utf-8"))
names = {n for g in j["groups"] for n in g["nodes"]}
assert bytes.fromhex(sys.argv[3]).replace(b"\xe9", "\ufffd".encode()).decode() in names, names
PY
t_done
