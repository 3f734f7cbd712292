#!/usr/bin/env bash
# `make install` (docs/anycast-lab.md, "Installing"): the three programs, their
# man pages in section 1 (generated from their own --help, with one EXIT
# STATUS table), the lab file's page in section 5, and a bash completion that
# completes commands, options (from each program's --help) and values.
source "$(dirname "$0")/lib.sh"
t_need help2man lowdown man
[ -f /usr/share/bash-completion/bash_completion ] || t_skip "needs bash-completion"

DEST=$T_TMP/root
make -s -C "$AH_ROOT" BUILD="$AH_BUILD" install DESTDIR="$DEST" PREFIX=/usr >"$T_TMP/make.out" 2>&1
rc=$?
t_eq "$rc" 0 "make install DESTDIR=... exits 0"
[ "$rc" -eq 0 ] || sed 's/^/    make| /' "$T_TMP/make.out"
for p in anycast-lab anycast-probe anycast-responder; do
  t_true "bin/$p installed" test -x "$DEST/usr/bin/$p"
  t_true "man1/$p.1 installed" test -s "$DEST/usr/share/man/man1/$p.1"
  t_true "completion for $p installed" test -s "$DEST/usr/share/bash-completion/completions/$p"
  page=$(MANWIDTH=200 man -l "$DEST/usr/share/man/man1/$p.1" 2>/dev/null | tr -s " ")
  t_match "$page" "EXIT STATUS" "$p(1) has the shared EXIT STATUS section"
  t_match "$page" "bad usage: an unknown option or command" "$p(1): 2 is bad usage"
  t_match "$page" "SEE ALSO" "$p(1) points at the other pages"
  # Every option of the program's --help is in its page.
  missing=
  for o in $("$AH_BIN/$p" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -q -- "${o//-/\\\\-}" "$DEST/usr/share/man/man1/$p.1" || missing+=" $o"
  done
  t_eq "$missing" "" "$p(1) documents every option of $p --help"
done
lab1=$(MANWIDTH=200 man -l "$DEST/usr/share/man/man1/anycast-lab.1" 2>/dev/null | tr -s " ")
for c in check run up down exec list report diff drill atlas clean; do
  t_match "$lab1" "Usage: anycast-lab $c" "anycast-lab(1) has the $c command's own help"
done
t_true "man5/anycast-lab.yaml.5 installed" test -s "$DEST/usr/share/man/man5/anycast-lab.yaml.5"
page5=$(MANWIDTH=200 man -l "$DEST/usr/share/man/man5/anycast-lab.yaml.5" 2>/dev/null | tr -s " ")
t_match "$page5" "anycast-lab.yaml - the lab file of anycast-lab" "anycast-lab.yaml(5) has its NAME"
t_match "$page5" "tolerance" "anycast-lab.yaml(5) documents the keys"

# complete PROGRAM WORD...: what bash completion offers for the last word.
complete_words() {
  local prog=$1; shift
  PATH="$DEST/usr/bin:$PATH" bash -c '
    source /usr/share/bash-completion/bash_completion
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$(complete -p "$1" | awk "{ print \$3 }")" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$DEST/usr/share/bash-completion/completions/$prog" "$prog" "$@"
}
t_eq "$(complete_words anycast-lab ch)" "check" "anycast-lab ch<TAB>: check"
t_eq "$(complete_words anycast-lab run --re | tr '\n' ' ')" "--ready-timeout --results " \
  "anycast-lab run --re<TAB>: the run command's options"
t_eq "$(complete_words anycast-probe --tcp-m)" "--tcp-mode" "anycast-probe --tcp-m<TAB>"
t_eq "$(complete_words anycast-probe -t "" | tr '\n' ' ')" "both tcp udp " "anycast-probe -t <TAB>: the transports"
t_eq "$(complete_words anycast-responder --no-e)" "--no-echo" "anycast-responder --no-e<TAB>"
t_done
