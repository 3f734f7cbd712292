/* The drill timeline: the lab's events expanded into single steps (a flap
 * becomes withdraw/announce pairs) on a monotonic schedule, and the executor
 * that plays them through a table of actions, logging each with the
 * CLOCK_REALTIME time the kernel acknowledged it. */
#ifndef DRILL_H
#define DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab.h"

#define DRILL_DETAIL_MAX 96

/* One action at one time. */
struct drill_step {
    uint64_t at_ns; /* from the drill's start */
    enum ah_verb verb;
    size_t node;
    size_t event;    /* index of the lab event it came from */
    unsigned flap_i; /* 1-based step of a flap (0 when not a flap) */
    unsigned flap_n;
    /* Filled when executed. */
    int rc;           /* 0 or negative errno */
    uint64_t ack_ns;  /* CLOCK_REALTIME of the kernel acknowledgement */
    uint64_t late_ns; /* how far after its scheduled time it started */
    char detail[DRILL_DETAIL_MAX];
    int done;
};

struct drill {
    struct drill_step *steps;
    size_t n;
    size_t next; /* first step not yet executed */
};

/* Expands lab->drill into steps sorted by time (stable: a lab's order is kept
 * for equal times). A flap {count, down, up} at t becomes, for i in
 * 0..count-1, withdraw at t + i*(down+up) and announce at t + i*(down+up) +
 * down. Returns 0 or -ENOMEM. */
int drill_expand(const struct lab *lab, struct drill *out);
void drill_free(struct drill *d);

/* The verb as written in events.csv: withdraw, announce, stop, ... */
const char *drill_step_event(const struct drill_step *s);

/* Actions the executor calls; each returns 0 or a negative errno, sets
 * *ack_ns (CLOCK_REALTIME) and may write a detail (pid, signal, ...). */
struct drill_ops {
    void *arg;
    int (*action)(void *arg, struct drill_step *step, uint64_t *ack_ns, char *detail,
                  size_t detail_len);
    /* The drill's clock (monotonic, from its start), read before each step so
     * that a step held up by the one before it has its own lateness. NULL:
     * every step due in one call starts at now_ns. */
    uint64_t (*now)(void *arg);
};

/* Executes every step due at or before now_ns (monotonic, relative to the
 * drill's start), recording how late each started. Returns the number
 * executed. */
size_t drill_run_due(struct drill *d, uint64_t now_ns, const struct drill_ops *ops);

/* Time of the next step relative to the start, or UINT64_MAX when none. */
uint64_t drill_next_at(const struct drill *d);

/* True when step s was executed and started more than tol_ns after its
 * time: the run did not keep its schedule there. */
bool drill_step_late(const struct drill_step *s, uint64_t tol_ns);

/* Counts the late steps; *worst (may be NULL) gets the index of the latest
 * one, or SIZE_MAX when none is late. */
size_t drill_late_count(const struct drill *d, uint64_t tol_ns, size_t *worst);

/* Step i as an expectation names it (docs/expect.md): "withdraw ams", or
 * "withdraw ams#2" for the second withdraw of ams (flap steps counted).
 * Returns 0 or -ENOSPC / -EINVAL. */
int drill_step_ref(const struct drill *d, const struct lab *lab, size_t i, char *buf, size_t len);

/* The one line that says the run missed its schedule: which step, by how
 * much, how many more, and the likely cause given the processes the run
 * started and the CPUs it has. Returns 0, or -ENOENT when no step is late. */
int drill_late_message(const struct drill *d, const struct lab *lab, uint64_t tol_ns, size_t nprocs,
                       long ncpus, char *buf, size_t len);

#endif
