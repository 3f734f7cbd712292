/* Internals of the failover metrics that lib/metrics.c (records in: events,
 * probes, connections) and lib/metrics_rows.c (rows out: the window figures,
 * the connection columns, the accessors) share. Not a public header. */
#ifndef AH_METRICS_INT_H
#define AH_METRICS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/metrics.h"

#define NS_PER_S  1000000000ULL
#define NS_PER_MS 1e6
#define TAIL      32 /* ok answers remembered to name the node "at the end" */

/* Time-weighted gap histogram for the resolution: 16 sub-buckets per power
 * of two (6% wide), weights in nanoseconds. A group's gaps span a few powers
 * of two, so the blocks of 16 are allocated as they are first used: a few
 * hundred bytes per group instead of 16 KB (memory per vantage, issue 9). */
#define GAP_SUB  16
#define GAP_POW2 64
struct gap_block {
    uint64_t w[GAP_SUB];
    double w2[GAP_SUB]; /* sum of gap squared, for the mean within a bucket */
};

/* ---- string interning (nodes, vantages) ---- */

struct strtab {
    char **s;
    size_t n, cap;
    uint32_t *slot; /* id + 1, 0 = empty */
    size_t nslot;
};

/* Returns the id of s, adding it when add is set; -ENOENT or -ENOMEM. */
long metrics_strtab_id(struct strtab *t, const char *s, bool add);

/* ---- records kept ---- */

struct event {
    uint64_t ts;
    char *event, *node;
    unsigned occ;
    size_t order; /* input order, for a stable sort */
    bool direct;  /* a route change the lab makes itself */
};

struct route {
    uint64_t ts;
    char *router, *nexthop;
    uint32_t *nodes; /* node ids the route leads to */
    size_t nnodes;
    size_t order;
};

struct conn {
    uint64_t opened, closed; /* closed UINT64_MAX: open at the end */
    uint8_t reason;
    bool established;
};

/* Counts per node id: (id, count) pairs, since a group's window sees a few
 * of the nodes, however many there are. */
struct counts {
    uint32_t *id, *c;
    size_t n, cap;
};

/* The count of id (0 when never counted). */
uint32_t metrics_counts_get(const struct counts *k, size_t id);

/* One (window, group): window 0 is the whole run, w >= 1 event w-1. */
struct acc {
    uint64_t probes, lost, flips;
    uint64_t fail_ts, ok_after_fail_ts;
    bool failed, recovered;
    bool before_done;
    long before; /* node id or -1 */
    bool switched;
    uint64_t switch_ts;
    struct counts pre, win;
    uint32_t tail[TAIL];
    unsigned ntail, tailpos;
    long route; /* index into routes or -1 */
    bool gt_done;
    uint64_t gt_ts;
};

struct group {
    size_t vantage; /* id */
    enum ah_transport tr;
    enum ah_service svc;
    struct acc *acc; /* nev + 1 */
    struct ah_flips flips;
    uint64_t last_ts;
    bool any;
    struct gap_block *gap[GAP_POW2];
    struct conn *conns;
    size_t nconns, capconns;
};

struct ah_metrics {
    struct ah_metrics_cfg cfg;
    struct strtab nodes, vantages;
    struct event *ev;
    size_t nev, capev;
    struct route *rt;
    size_t nrt, caprt;
    bool sealed, finished;
    struct group *g;
    size_t ng, capg;
    long (*gidx)[AH_TR_COUNT][AH_SVC_COUNT]; /* per vantage id: group index or -1 */
    size_t ngidx;
    uint64_t first_ts, last_ts, late;
    uint64_t start, end;
    struct ah_metrics_row *rows;
    size_t nrows;
};

/* Sorts the events and routes and numbers the occurrences, once: the first
 * probe or connection (or the finish) closes the event list. */
void metrics_seal(struct ah_metrics *m);
/* Start of window w: the run's start for w 0, else event w-1. */
uint64_t metrics_window_start(const struct ah_metrics *m, size_t w);
/* Fixes the node "before" an accumulator's window from the second before
 * it, once the window has started. */
void metrics_before_resolve(struct acc *a);

#endif
