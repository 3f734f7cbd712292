#!/usr/bin/env bash
# Hostile names never become gnuplot (or shell) code: server identities with
# backticks, both quote kinds, system(...), <script>, 255 bytes, invalid
# UTF-8 and a newline followed by !cmd, sent by real anycast-responders and a
# small DNS peer, recorded by anycast-probe under hostile vantage names, plus
# a hostile events.csv, output directory and run directory name, then
# `anycast-lab report`; and `anycast-lab run` of a lab whose node answers
# with a hostile identity. No marker file appears anywhere, the identities
# stay exact in probes.csv, the page shows them literally (HTML-escaped,
# controls and invalid UTF-8 as \xNN), the SVG stays well-formed, and the
# report is complete.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_lib.sh"
source "$(dirname "$0")/lab-lib.sh"
probe_need python3

mkdir -p "$T_TMP/mark" "$T_TMP/cwd"
MK=$T_TMP/mark/ahpwn # every attack creates a file whose name starts with this
# markers: every file anywhere we can look whose name says an attack worked.
markers() {
  find "$T_TMP" /tmp -maxdepth 4 -name 'ahpwn*' 2>/dev/null
  find "$T_TMP/cwd" -name '*ahpwn*' 2>/dev/null
}

# --- real responders, one identity each (printable ASCII, no space) ---------
IDS=(
  "\`touch\${IFS}$MK.bt\`"
  "\";system\"touch\${IFS}$MK.dq\";#"
  "'.system(\"touch\${IFS}$MK.sq\").'"
  "system(\"touch\${IFS}$MK.fn\")"
  "<script>alert(1)</script>"
)
long="\";system\"touch\${IFS}$MK.long\";#"
while [ ${#long} -lt 255 ]; do long="L$long"; done
IDS+=("$long")
t_eq "${#long}" 255 "a 255-byte identity"

probe_ns
for i in "${!IDS[@]}"; do
  t_bg pid ip netns exec "$NS" "$R" --listen "$V4" --identity "${IDS[$i]}" \
    --dns-port $((5400 + i)) --echo-port $((5500 + i)) 2>>"$T_TMP/responder.log"
done

# --- a DNS peer for the bytes anycast-responder refuses -----------------------
# Answers CH TXT hostname.bind with each of these in turn.
cat >"$T_TMP/peer.py" <<'PY'
import socket, sys
addr, port, mk = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
ids = [b'"; system "touch ' + mk + b'.dq2"; #',
       b"x' . system('touch " + mk + b".sq2') . 'y",
       b'bad\xff\xfe<b>&amp;',
       b'line\n!touch ' + mk + b'.nl',
       b'tab\there back\\slash @x ^_{} %s %n']
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
n = 0
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 17:
        continue
    i = 12
    while i < len(q) and q[i] != 0:
        i += 1 + q[i]
    qend = i + 5
    ident = ids[n % len(ids)]
    n += 1
    ans = b'\xc0\x0c' + q[i + 1:qend] + b'\x00\x00\x00\x00' + \
        (len(ident) + 1).to_bytes(2, 'big') + bytes([len(ident)]) + ident
    s.sendto(q[:2] + b'\x84\x00\x00\x01\x00\x01\x00\x00\x00\x00' + q[12:qend] + ans, peer)
PY
t_bg ppid ip netns exec "$NS" python3 "$T_TMP/peer.py" "$V4" 5399 "$MK"
for i in "${!IDS[@]}"; do
  t_true "responder $i answers" t_wait_for 5 in_ns "$P" --once -t udp -s dns --dns-port $((5400 + i)) "$V4"
done
t_true "the DNS peer answers" t_wait_for 5 in_ns "$P" --once -t udp -s dns --dns-port 5399 "$V4"

# --- probes under hostile vantage names ---------------------------------------
VS=(
  "\" 0);system \"touch $MK.v0"
  $'nl\n!touch '"$MK.v1"
  "'.system(\"touch $MK.v2\").'"
  "\`touch $MK.v3\`"
  "<img src=x onerror=alert(1)>"
  "ok-v5"
  $'esc\e[2Jv6'
)
probes=() ppids=()
for i in "${!IDS[@]}" peer; do
  if [ "$i" = peer ]; then port=5399 v=${VS[6]}; else port=$((5400 + i)) v=${VS[$i]}; fi
  d=$T_TMP/p-$i
  in_ns "$P" -t udp -s dns --dns-port "$port" -r 100 -d 1s --vantage "$v" -o "$d" "$V4" \
    2>"$d.err" &
  ppids+=($!)
  probes+=("$d/probes.csv")
done
wait "${ppids[@]}"
for f in "${probes[@]}"; do t_true "$f written" test -s "$f"; done

# Identities stay exact in the CSVs (any byte a server sends, CSV-quoted).
exact() { # identity file -> 0 when some row of file has exactly it as node
  python3 - "$1" "$2" <<'PY'
import csv, sys
want = sys.argv[1].encode("utf-8", "surrogateescape")
with open(sys.argv[2], newline="", encoding="utf-8", errors="surrogateescape") as f:
    rows = [r for r in csv.reader(f)][1:]
sys.exit(0 if any(r[8].encode("utf-8", "surrogateescape") == want for r in rows) else 1)
PY
}
for i in "${!IDS[@]}"; do
  t_true "identity $i recorded exactly" exact "${IDS[$i]}" "$T_TMP/p-$i/probes.csv"
done
t_true "invalid UTF-8 recorded exactly" \
  grep -q $'bad\xff\xfe<b>&amp;' "$T_TMP/p-peer/probes.csv"

# A hostile events.csv and a hand-made probes.csv for the bytes no probe
# records (a newline in a node name).
T0=$(awk -F, 'NR == 2 { print $1 }' "$T_TMP/p-0/probes.csv")
{
  echo "ts_ns,event,node,detail"
  echo "$((T0 + 300000000)),withdraw,\"\"\"; system \"\"touch $MK.e1\"\"; #\","
  echo "$((T0 + 400000000)),\"\"\"; system \"\"touch $MK.e2\"\"; #\",n1,"
  printf '%s,route,"\n!touch %s.e3",router=x nexthop=y\n' "$((T0 + 500000000))" "$MK"
  printf '%s,track-down,"x\x27.system(\x22\x22touch %s.e4\x22\x22).\x27",\n' "$((T0 + 600000000))" "$MK"
} >"$T_TMP/events.csv"
{
  echo "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail"
  for k in 1 2 3 4 5; do
    printf '%s,"v\n!touch %s.cv",198.51.100.53,udp,dns,1,%s,ok,"n\n!touch %s.cn",100,\n' \
      "$((T0 + k * 100000000))" "$MK" "$k" "$MK"
  done
} >"$T_TMP/nl-probes.csv"

# --- anycast-lab report: files, hostile output directory ----------------------
# (a file name has no '/': these markers would land in gnuplot's directory)
O="$T_TMP/out'.system(\"touch ahpwn.od\").'\"; system \"touch ahpwn.od2\"; #"
(cd "$T_TMP/cwd" && "$LAB" report -o "$O" "${probes[@]}" "$T_TMP/nl-probes.csv" \
  "$T_TMP/events.csv" >"$T_TMP/rep.out" 2>"$T_TMP/rep.err")
t_eq "$?" 0 "report on the hostile files exits 0"
T_DUMP+=("$T_TMP/rep.err")
t_eq "$(markers)" "" "no marker file: nothing ran"
for f in summary.csv summary.json report.html timeline.svg timeline.png; do
  t_true "$f written, not empty" test -s "$O/$f"
done
H=$O/report.html
t_true "the page has the timeline inline" grep -q '<figure id="timeline-plot">' "$H"
t_eq "$(grep -c 'No plot' "$H")" 0 "no plot error on the page"
has() { grep -qF -- "$2" "$1"; }
html() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&#39;/g" <<<"$1"; }
t_true "<script> identity shown escaped" has "$H" '&lt;script&gt;alert(1)&lt;/script&gt;'
t_eq "$(grep -ci '<script' "$H")" 0 "no raw <script in the page"
t_eq "$(grep -ci '<img' "$H")" 0 "no raw <img in the page"
t_true "backtick identity shown literally" has "$H" "\`touch\${IFS}$MK.bt\`"
t_true "double-quote identity shown literally" has "$H" "&quot;;system&quot;touch\${IFS}$MK.dq&quot;;#"
t_true "single-quote identity shown literally" has "$H" "&#39;.system(&quot;touch\${IFS}$MK.sq&quot;).&#39;"
t_true "the 255-byte identity shown whole" has "$H" "$(html "$long")"
# As HTML text in a table, or as the text of the inlined plot's legend
# (gnuplot's SVG: text content, where a quote is plain text): which rows show
# it depends on where the identities' rotation stands at each event.
shown_dq2() {
  has "$H" "&quot;; system &quot;touch $MK.dq2&quot;; #" ||
    has "$H" "<text>\"; system \"touch $MK.dq2\"; #</text>"
}
t_true "the peer's quotes and spaces shown literally" shown_dq2
t_true "invalid UTF-8 shown as \\xNN (the plot's key)" has "$H" 'bad\xff\xfe&lt;b'
t_eq "$(grep -c $'\xff' "$H")" 0 "no invalid UTF-8 in the page"
t_true "a newline in a CSV node shown as \\x0a" has "$H" "n\\x0a!touch $MK.cn"
t_true "hostile events.csv node shown literally" has "$H" "&quot;; system &quot;touch $MK.e1&quot;; #"
t_true "hostile events.csv observation shown literally" has "$H" "x&#39;.system(&quot;touch $MK.e4&quot;).&#39;"
t_eq "$(grep -c 'rows skipped' "$T_TMP/rep.err")" 0 "no row of the hostile files was skipped"
t_true "hostile vantage shown literally" has "$H" "&quot; 0);system &quot;touch $MK.v0"
t_true "an escape sequence in a vantage shown as \\x1b" has "$H" 'esc\x1b[2Jv6'
t_true "summary.json is valid JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$O/summary.json"
t_true "timeline.svg is well-formed XML" python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$O/timeline.svg"
S=$O/timeline.svg
t_true "the SVG labels show a double-quote identity literally" has "$S" "\";system\"touch\${IFS}$MK.dq\";#"
t_true "the SVG labels show <script> escaped" has "$S" '&lt;script>alert(1)&lt;/script>'
t_true "the SVG labels show a newline as \\x0a" has "$S" "v\\x0a!touch $MK.cv"
# Drill events are numbers in the plots; their names are listed on the page.
t_eq "$(grep -c "touch $MK.e1" "$S")" 0 "the hostile drill event is a number in the SVG, not its name"
t_true "the page lists the numbered event with its name shown literally" \
  has "$H" "<li value=\"1\">withdraw &quot;; system &quot;touch $MK.e1&quot;; #"
t_eq "$(grep -c $'\xff' "$S")" 0 "no invalid UTF-8 in the SVG"
t_true "stdout names the report" grep -q '^report: ' "$T_TMP/rep.out"
t_eq "$(grep -c $'\e' "$T_TMP/rep.err" "$T_TMP/rep.out" | awk -F: '{ s += $2 } END { print s }')" 0 \
  "no raw escape byte on the terminal"

# --- a run directory with a hostile name --------------------------------------
RD="$T_TMP/run'.system(\"touch ahpwn.rd\").'\`touch ahpwn.rd2\`"
mkdir -p "$RD"
{ cat "${probes[0]}"; for f in "${probes[@]:1}"; do tail -n +2 "$f"; done; } >"$RD/probes.csv"
cp "$T_TMP/events.csv" "$RD/"
(cd "$T_TMP/cwd" && "$LAB" report -q -w 2s "$RD" >/dev/null 2>"$T_TMP/rd.err")
t_eq "$?" 0 "report in a hostile run directory exits 0"
t_eq "$(markers)" "" "no marker file after the run directory report"
for f in report.html timeline.svg timeline.png; do t_true "$f in the run directory" test -s "$RD/$f"; done

# --- anycast-lab run: a node answering with a hostile identity ----------------
printf '%s' "\`touch\${IFS}$MK.lab\`\";system\"touch\${IFS}$MK.lab2\";#" >"$T_TMP/ident-lab"
cat >"$T_TMP/hostile-node.sh" <<EOF
#!/bin/sh
exec "$R" --listen "\$1" --identity "\$(cat "$T_TMP/ident-lab")"
EOF
chmod +x "$T_TMP/hostile-node.sh"
cat >"$T_TMP/hostile.yaml" <<YAML
name: hostile
anycast: [198.51.100.53]
routing: static
duration: 3s
nodes:
  - name: good
  - name: evil
    responder: {command: "exec $T_TMP/hostile-node.sh {addr}"}
vantages:
  - name: va
    prefer: [good, evil]
probes:
  udp: {service: dns, rate: 200, flows: 2}
drill:
  - {at: 1s, withdraw: good}
YAML
pushd "$T_TMP/cwd" >/dev/null && lab_run "$T_TMP/hostile.yaml"
popd >/dev/null
t_eq "$(markers)" "" "no marker file after anycast-lab run"
t_match "$LAB_DIR" "." "the run made a results directory"
t_true "the hostile identity answered the vantage" exact "$(cat "$T_TMP/ident-lab")" "$LAB_DIR/probes.csv"
for f in report.html timeline.svg timeline.png summary.json; do
  t_true "lab run: $f written" test -s "$LAB_DIR/$f"
done
t_true "lab run: the page shows the identity literally" \
  has "$LAB_DIR/report.html" "\`touch\${IFS}$MK.lab\`&quot;;system&quot;touch\${IFS}$MK.lab2&quot;;#"
t_eq "$(grep -c 'No plot' "$LAB_DIR/report.html")" 0 "lab run: no plot error"
t_done
