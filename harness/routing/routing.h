/* The routing that removes itself (docs/routing.md), as one object the runner
 * drives: routing: tracked (tracked.c) or routing: bgp (bgp.c). It hands the
 * runner a single pollable fd (an epoll set of its timer and sockets), takes
 * the drill verbs that depend on the routing mode, and reports its state
 * changes (track-down/up, bgp, health-down/up) through a callback. */
#ifndef ROUTING_H
#define ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/lab/lab.h"
#include "harness/topo/topo.h"

typedef void (*routing_event_cb)(void *arg, uint64_t ts_ns, const char *event, const char *node,
                                 const char *detail);

struct routing_opts {
    const struct lab *lab;
    struct topo *topo;
    const char *rundir;   /* BIRD configs and control sockets */
    const char *logdir;   /* BIRD logs (the results' logs directory) */
    bool die_with_parent; /* false for `up` / --keep-up */
    uint64_t ready_timeout_ns;
    routing_event_cb cb;
    void *arg;
};

struct routing;

/* Starts the lab's routing: for tracked, installs the routes and starts the
 * checks; for bgp, writes the configs, starts BIRD everywhere and waits until
 * every router has its routes. *out is NULL (and 0 returned) for the other
 * modes. Returns 0 or -errno (described in the log). */
int routing_start(const struct routing_opts *o, struct routing **out);

/* The fd to poll for POLLIN (-1 when r is NULL); when it is readable, call
 * routing_handle(). */
int routing_fd(const struct routing *r);
void routing_handle(struct routing *r);

/* Whether the routing takes this drill verb (withdraw/announce in tracked
 * and bgp, the *-bgp verbs in bgp). */
bool routing_takes(const struct routing *r, enum ah_verb verb);
/* Executes such a verb: returns 0 or -errno, sets *ack_ns (CLOCK_REALTIME of
 * the acknowledgement) and may write a detail. */
int routing_action(struct routing *r, enum ah_verb verb, size_t node, uint64_t *ack_ns,
                   char *detail, size_t dlen);

/* Stops it (BIRD gets SIGTERM) and frees it. With keep, processes stay
 * (`up`). Safe on NULL. */
void routing_stop(struct routing *r, bool keep);

#endif
