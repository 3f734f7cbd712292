/* The drill timeline: the lab's events expanded into single steps (a flap
 * becomes withdraw/announce pairs) on a monotonic schedule, and the executor
 * that plays them through a table of actions, logging each with the
 * CLOCK_REALTIME time the kernel acknowledged it. */
#ifndef DRILL_H
#define DRILL_H

#include <stddef.h>
#include <stdint.h>

#include "lab.h"

#define DRILL_DETAIL_MAX 96

/* One action at one time. */
struct drill_step {
    uint64_t at_ns; /* from the drill's start */
    enum lab_verb verb;
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
};

/* Executes every step due at or before now_ns (monotonic, relative to the
 * drill's start). Returns the number executed. */
size_t drill_run_due(struct drill *d, uint64_t now_ns, const struct drill_ops *ops);

/* Time of the next step relative to the start, or UINT64_MAX when none. */
uint64_t drill_next_at(const struct drill *d);

#endif
