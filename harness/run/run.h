/* Orchestration of `anycast-lab run` and `anycast-lab up`: build the
 * topology, start and check the responders, start the probes, play the
 * drill, stop, collect the results and tear everything down. */
#ifndef RUN_H
#define RUN_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
