#!/usr/bin/env bash
# link-down / link-up of a node's fabric link over IPv6: while fra's link is
# down its vantage gets no answers (the static route stays: a black hole);
# link-up puts back what the kernel deleted (IPv6 addresses and routes), so
# IPv6 probes are answered by fra again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
t_need_root

lab_run "$AH_ROOT/tests/labs/lab-linkdown.yaml"
t_eq "$LAB_RC" 0 "run exits 0"
D=$(ev_ts link-down fra) U=$(ev_ts link-up fra)
t_match "$D" '^[0-9]{19}$' "link-down fra logged"
t_match "$U" '^[0-9]{19}$' "link-up fra logged"
P=$LAB_DIR/probes.csv
t_eq "$(awk -F, 'NR > 1 { print $3 }' "$P" | sort -u | tr '\n' ' ')" "198.51.100.53 2001:db8:53::53 " \
  "probes target both anycast addresses"
# "While down" leaves 50 ms at each end: the kernel changes the link before
# the step's acknowledgement time, and a probe sent a moment before link-up's
# acknowledgement can already find the link up.
read -r pre down post post_bad < <(awk -F, -v d="$D" -v u="$U" \
  'NR > 1 {
     if ($1 < d && $8 == "ok" && $9 == "fra") pre++
     if ($1 > d + 50000000 && $1 < u - 50000000 && $8 == "ok") down++
     if ($1 > u + 500000000) { if ($8 == "ok" && $9 == "fra") post++; else bad++ } }
   END { print pre + 0, down + 0, post + 0, bad + 0 }' "$P")
echo "fra answers: before link-down $pre, while down $down, after link-up $post (failed after: $post_bad)"
t_true "fra answered over IPv6 before link-down" test "$pre" -gt 100
t_eq "$down" 0 "no answers while fra's link is down"
t_true "fra answers over IPv6 again after link-up" test "$post" -gt 100
t_eq "$post_bad" 0 "every probe from 0.5 s after link-up is answered by fra"
t_eq "$(lab_leftovers "$LAB_ID")" "" "nothing of the run remains"
t_done
