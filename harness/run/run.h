/* Orchestration of `anycast-lab run` and `anycast-lab up`: build the
 * topology, start and check the responders, start the probes, play the
 * drill, stop, collect the results and tear everything down. */
#ifndef RUN_H
#define RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/schema.h"

struct run_opts {
    const char *lab_path;
    const char *results_base; /* "results" by default */
    bool keep_up;             /* run: leave the lab up afterwards */
    bool up_only;             /* up: no probes, no drill, leave it up */
    bool dry_run;             /* run --dry-run (deployment): print the ssh commands only */
    bool pcap;                /* run --pcap: a capture per vantage into the results */
    uint64_t ready_timeout_ns;
    const char *baseline; /* --baseline RUN_DIR: for `baseline-run` expectations */
    const char *junit;    /* --junit FILE: the verdicts as JUnit XML */
};

/* Returns the process exit status: 0 ok, 1 runtime failure or interrupted,
 * 2 bad lab file. */
int run_lab(const struct run_opts *o);

/* `anycast-lab drill NAME|RUNID VERB NODE [MS]` (root): one verb applied to
 * a lab that is up, as a scripted drill applies it; its events.csv rows
 * appended to the lab's events.csv in its state directory and printed.
 * ms is delay's argument (NULL for the other verbs). Returns the exit
 * status: 0 done, 1 the kernel or the responder refused (or a runtime
 * failure), 2 bad usage (unknown lab, node or verb, or one the lab's
 * routing or responder cannot do), each said on stderr. */
int run_drill_up(const char *lab, const char *verb, const char *node, const char *ms);

/* The verb and delay's MS of `drill`: withdraw, announce, link-down,
 * link-up, stop, start, pause, resume, or delay with MS (0..60000). Returns
 * 0, or -EINVAL with why in err; pure. */
int run_drill_parse(const char *verb, const char *ms, enum ah_verb *v, unsigned *delay_ms,
                    char *err, size_t len);

struct state;
/* `down`: the events.csv the drills of lab s wrote, kept before its state
 * directory goes: as drill-events.csv in its results (a `run --keep-up`
 * lab) or as events.csv of a new results_base/<UTC>-<name>/. Returns 0 with
 * the copy's path in kept ("" when no drill ran), or a negative errno. */
int run_drill_keep_events(const struct state *s, const char *results_base, char *kept, size_t len);

#endif
