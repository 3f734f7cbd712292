# Bash completion for anycast-lab, anycast-probe and anycast-responder, on top
# of Debian's bash-completion. Options come from each program's own --help
# (_parse_help), so they never drift from the option tables; lab names from
# `anycast-lab list --json`. Installed by `make install` under
# share/bash-completion/completions/ for each of the three names.

_anycast_harness_labs()
{
    # Names and run ids of the labs up or running, for down, exec, clean.
    "$1" list --json 2>/dev/null |
        sed -n 's/.*"run_id": "\([a-z0-9]*\)", "name": "\([A-Za-z0-9_-]*\)".*/\1 \2/p'
}

_anycast_harness_nodes()
{
    # The nodes of lab $2 (a name or run id) that is up: its state file's
    # "netns node NAME ..." lines (root only, as `drill` is).
    local dir=${AH_LAB_STATE_DIR:-/run/anycast-lab} f
    for f in "$dir"/*/state; do
        [[ -r $f ]] || continue
        grep -qx -e "runid $2" -e "name $2" "$f" &&
            sed -n 's/^netns node \([A-Za-z0-9_-]*\) .*/\1/p' "$f"
    done
}

_anycast_lab()
{
    local cur prev words cword
    _init_completion || return
    local i cmd=
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} != -* ]]; then
            cmd=${words[i]}
            break
        fi
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$("$1" --help 2>/dev/null |
                sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }')" -- "$cur"))
        fi
        return
    fi
    case $prev in
    --results | --out | -o | --baseline | -b)
        _filedir -d
        return
        ;;
    --lab)
        _filedir 'y?(a)ml'
        return
        ;;
    --ready-timeout | --clock-offset | --threshold-ms | --threshold-pct)
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '$(_parse_help "$1" "$cmd --help")' -- "$cur"))
        return
    fi
    case $cmd in
    check | run | up) _filedir 'y?(a)ml' ;;
    drill)
        # drill NAME|RUNID VERB NODE [MS]: the verbs are those of its --help.
        case $((cword - i)) in
        1) COMPREPLY=($(compgen -W "$(_anycast_harness_labs "$1")" -- "$cur")) ;;
        2) COMPREPLY=($(compgen -W "$("$1" drill --help 2>/dev/null |
            sed -n 's/^Verbs: //p' | tr -d ',')" -- "$cur")) ;;
        3) COMPREPLY=($(compgen -W "$(_anycast_harness_nodes "$1" "${words[i + 1]}")" -- "$cur")) ;;
        esac
        ;;
    down | exec | clean) COMPREPLY=($(compgen -W "$(_anycast_harness_labs "$1")" -- "$cur")) ;;
    report) _filedir ;;
    diff) _filedir -d ;;
    atlas) [[ $prev == atlas ]] && COMPREPLY=($(compgen -W 'import spec' -- "$cur")) || _filedir ;;
    esac
}
complete -F _anycast_lab anycast-lab

_anycast_probe()
{
    local cur prev words cword
    _init_completion || return
    case $prev in
    -s | --service)
        COMPREPLY=($(compgen -W 'dns echo' -- "$cur"))
        return
        ;;
    -t | --transport)
        COMPREPLY=($(compgen -W 'udp tcp both' -- "$cur"))
        return
        ;;
    --tcp-mode)
        COMPREPLY=($(compgen -W 'persistent per-query' -- "$cur"))
        return
        ;;
    --reconnect)
        COMPREPLY=($(compgen -W 'immediate backoff never' -- "$cur"))
        return
        ;;
    --progress)
        COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
        return
        ;;
    --log-level)
        COMPREPLY=($(compgen -W 'error warn info debug' -- "$cur"))
        return
        ;;
    -o | --out)
        _filedir -d
        return
        ;;
    --summary-json)
        _filedir
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
    fi
}
complete -F _anycast_probe anycast-probe

_anycast_responder()
{
    local cur prev words cword
    _init_completion || return
    case $prev in
    --zone)
        _filedir
        return
        ;;
    --log-level)
        COMPREPLY=($(compgen -W 'error warn info debug' -- "$cur"))
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
    fi
}
complete -F _anycast_responder anycast-responder
