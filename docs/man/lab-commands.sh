#!/usr/bin/env bash
# Prints a help2man include with a COMMANDS section for anycast-lab(1): each
# subcommand's own --help, verbatim, so the man page and the program never
# disagree. Usage: docs/man/lab-commands.sh PATH/TO/anycast-lab
set -euo pipefail
lab=$1
echo "[COMMANDS]"
echo "Each command takes \\fB\\-\\-help\\fR and prints what follows."
# The commands as the program's own --help lists them.
cmds=$("$lab" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "lab-commands.sh: no commands in $lab --help" >&2; exit 1; }
for cmd in $cmds; do
  echo ".SS $cmd"
  echo ".nf"
  # Roff escapes: a backslash is \e; a line starting with . or ' is not a request.
  "$lab" "$cmd" --help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
  echo ".fi"
done
