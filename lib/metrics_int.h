/* Internals of the failover metrics that lib/metrics.c (records in: events,
 * probes, connections) and lib/metrics_rows.c (rows out: the window figures,
 * the connection columns, the accessors) share. Not a public header. */
#ifndef AH_METRICS_INT_H
#define AH_METRICS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/metrics.h"
#include "ah/clock.h"

#define TAIL 32 /* ok answers remembered to name the node "at the end" */
/* Probes sent after an event, come in, that settle the node before it when
 * its window received no probe (see before_settle in lib/metrics_acc.c). */
#define BEFORE_SETTLE 16

/* Log-scale buckets shared by the gap and RTT histograms: LOG_SUB
 * sub-buckets per power of two (below 2^4 every value has its own), kept as
 * sparse blocks of LOG_SUB, one per power of two set in *mask, in
 * increasing order. metrics_log_slot() finds the block of v > 0 in *blocks
 * (each size bytes), inserted zeroed when missing, and its sub-bucket in
 * *sub. Returns the block's index or -ENOMEM. */
#define LOG_SUB 16
long metrics_log_slot(void **blocks, uint64_t *mask, uint64_t v, size_t size, unsigned *sub);

/* Time-weighted gap histogram for the resolution: 16 sub-buckets per power
 * of two (6% wide), weights in nanoseconds. A group's gaps span a few powers
 * of two, so the blocks of 16 are allocated as they are first used: a few
 * hundred bytes per group instead of 16 KB (memory per vantage, docs/security.md). */
#define GAP_SUB LOG_SUB
struct gap_block {
    uint64_t w[GAP_SUB];
    double w2[GAP_SUB]; /* sum of gap squared, for the mean within a bucket */
};

/* RTT histogram of a window, in microseconds: 16 sub-buckets per power of
 * two, so a percentile (the middle of its bucket, clamped to the window's
 * min and max) is within 1/32 (3.1%) of the true value; exact below 16 us.
 * Blocks are allocated per power of two used, as for the gaps. */
#define RTT_SUB LOG_SUB
struct rtt_hist {
    uint32_t (*blk)[RTT_SUB]; /* the powers of two in mask, increasing */
    uint64_t mask;
    uint64_t n, zero, min, max;
};

int metrics_rtt_add(struct rtt_hist *h, uint64_t us);
/* Nearest-rank percentile in ms (p in (0, 100]); NaN when empty. */
double metrics_rtt_ms(const struct rtt_hist *h, double p);

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

/* A route row: router and nexthop are interned (a route is 24 bytes, the
 * limit on route rows allows a million), and the nodes a nexthop leads to
 * are parsed once per distinct nexthop. */
struct route {
    uint64_t ts;
    uint32_t router, nexthop; /* ids in m->routers, m->nexthops */
    uint32_t order;
};

struct nh_nodes {
    uint32_t *id; /* node ids the nexthop leads to */
    size_t n;
};

/* An established connection (attempts that never were one are not kept). */
struct conn {
    uint64_t opened, closed; /* closed UINT64_MAX: open at the end */
    uint64_t interval;       /* its mean probe interval, 0: unknown */
    int32_t node;            /* the node that answered on it, or -1 */
    uint8_t reason;
};

/* Counts per node id: (id, count) pairs, since a window sees a few of the
 * nodes, however many there are. */
struct kv {
    uint32_t id, c;
};
struct counts {
    struct kv *kv;
    uint32_t n, cap;
};

/* The count of id (0 when never counted). */
uint32_t metrics_counts_get(const struct counts *k, size_t id);
int metrics_counts_add(struct counts *k, size_t id, int d);

/* One (window, group) that received a probe: window 0 is the whole run,
 * w >= 1 event w-1. Kept in m->acc, found by (group, window) through a hash
 * table: windows no probe of the group fell into have none (their rows are
 * made from nothing when asked). */
struct acc {
    uint32_t g, w;
    uint64_t probes, lost, flips;
    uint64_t ratelimited; /* of lost: a server's rate limiter answered (TC=1 slip) */
    uint64_t fail_ts, ok_after_fail_ts, switch_ts, gt_ts;
    int32_t before; /* node id or -1 */
    int32_t route;  /* index into routes or -1 */
    bool failed, recovered, switched, gt_done;
    uint8_t ntail, tailpos;
    struct counts win;
    uint32_t tail[TAIL];
    struct rtt_hist rtt;
    double base_p50, base_p99, base_max; /* ms, NaN: no baseline */
    uint64_t moved_coll;                 /* flows_moved_collateral */
};

/* The node "before" each window of a group (the most frequent among the
 * answers to its flows' last probes in the second before its event), as
 * change points: window w has the value of the last point at or before it,
 * -1 before the first. Consecutive windows mostly agree, so this stays small
 * however many events there are. */
struct before_pt {
    uint32_t w;
    int32_t node;
};

/* A probe sent in the second before an event not yet passed. */
struct recent {
    uint64_t ts;
    uint64_t conn;   /* its flow */
    uint32_t node;   /* UINT32_MAX: not answered */
    uint32_t rtt_us; /* UINT32_MAX: none (larger values are clamped below it) */
};

/* A flow's state for flows_moved_collateral (lib/metrics_flow.c): its last
 * probe, and in window w the node that answered its last probe before the
 * window's event (-1: none in the second before, or that probe failed) and
 * whether it has moved since. */
struct flow {
    uint64_t key; /* conn + 1, 0 = empty slot */
    uint64_t last_ts;
    int32_t last_node, wbefore; /* last_node -1: the last probe failed */
    uint32_t w;
    bool moved;
};

struct flowtab {
    struct flow *f;
    size_t cap, used;
};

struct group {
    size_t vantage; /* id */
    enum ah_transport tr;
    enum ah_service svc;
    enum ah_family fam;
    long router;    /* id in m->routers of the vantage's name, or -1 */
    uint32_t acc0;  /* the run-level accumulator */
    uint32_t lastw; /* window and accumulator of the latest probe */
    uint32_t lastacc;
    struct ah_flips flips;
    uint64_t last_ts;
    bool any;
    uint64_t res; /* resolution in ns, set by finish */
    /* The blocks of the powers of two in gapmask, in increasing order. */
    struct gap_block *gap;
    uint64_t gapmask;
    /* "before": the windows of events before ev_next are settled (into bp,
     * or their accumulator); recent holds the probes sent from a second
     * before event ev_next on (sorted by time, from rhead). */
    size_t ev_next;
    struct recent *recent;
    size_t rhead, rn, rcap;
    struct flowtab flows;
    struct before_pt *bp;
    size_t nbp, capbp;
    /* Connections, sorted by opening at the finish; byclose: a copy sorted
     * by closing. */
    struct conn *conns;
    struct conn *byclose;
    size_t nconns, capconns;
};

struct delta {
    uint64_t t;
    int d;
};

struct ah_metrics {
    struct ah_metrics_cfg cfg;
    struct strtab nodes, vantages, routers, nexthops;
    struct nh_nodes *nhn; /* per nexthop id */
    size_t nnhn, capnhn;
    struct event *ev;
    size_t nev, capev;
    struct route *rt;
    size_t nrt, caprt;
    uint32_t *rt_by_router; /* route indices grouped by router, in time order */
    size_t *router_start;   /* per router id: its first entry there; [nrouters] = nrt */
    bool sealed, finished;
    struct group *g;
    size_t ng, capg;
    long (*gidx)[AH_TR_COUNT][AH_SVC_COUNT][AH_FAM_COUNT]; /* per vantage id: group or -1 */
    size_t ngidx;
    struct acc *acc;
    size_t nacc, capacc;
    struct counts tmpc; /* scratch of a "before": counts per node */
    uint64_t *tmpseen;  /* scratch of a "before": the flows seen (conn + 1) */
    uint32_t *tmplast;  /* scratch of a "before": flows' last nodes, newest first */
    size_t captmpseen, captmplast;
    uint32_t *tmprtt; /* scratch of a baseline: RTTs sorted */
    size_t captmprtt;
    uint32_t *accslot; /* hash of (group, window): acc index + 1, 0 = empty */
    size_t naccslot;
    uint64_t first_ts, last_ts, late, conn_last;
    uint64_t start, end;
    /* Rows are computed when asked: groups in row order, a small cache of
     * computed rows, scratch space for the connection columns. */
    size_t *order;
    size_t nrows;
    struct ah_metrics_row *cache;
    size_t *cache_idx; /* row index held by each cache slot + 1, 0 = none */
    uint64_t *scratch_brk;
    struct delta *scratch_dl;
    /* Clock uncertainty per vantage id (ah_metrics_set_clock), added to
     * the resolution; ids past nclock have none. */
    uint64_t *clock_unc;
    size_t nclock;
};

/* Sorts the events and routes and numbers the occurrences, once: the first
 * probe or connection (or the finish) closes the event list. */
int metrics_seal(struct ah_metrics *m);
/* Start of window w: the run's start for w 0, else event w-1. */
uint64_t metrics_window_start(const struct ah_metrics *m, size_t w);
/* First event index with ts > t (events sorted). */
size_t metrics_event_after(const struct ah_metrics *m, uint64_t t);
/* The first route change at the group's router in window w (w >= 1), up to
 * t1 (exclusive): a route index or -1. */
long metrics_route_in(const struct ah_metrics *m, const struct group *g, size_t w, uint64_t t1);
/* The node before window w of group g (-1: none). */
long metrics_before_of(const struct group *g, size_t w);
/* The accumulator of (group, window), or NULL. */
const struct acc *metrics_acc_find(const struct ah_metrics *m, size_t g, size_t w);
/* The node of "before" over the probes recent[i..j) (sorted by time): each
 * flow's last probe counts once, when it was answered; the most counted node,
 * ties to the node of the newest of those answers. -1: none; -ENOMEM - 1 when
 * out of memory. */
long metrics_last_mode(struct ah_metrics *m, const struct recent *r, size_t i, size_t j);
/* Follows a probe of flow conn sent at ts, answered by node (-1: failed), in
 * window w (0: before the first event) with accumulator a (NULL for w 0),
 * counting a's flows_moved_collateral. Returns 0 or -ENOMEM. */
int metrics_flow_probe(struct ah_metrics *m, struct group *g, struct acc *a, size_t w, uint64_t ts,
                       uint64_t conn, long node);
void metrics_flowtab_free(struct flowtab *t);
/* True when node id is the node of event w-1 (windows w >= 1). */
bool metrics_is_event_node(const struct ah_metrics *m, size_t w, long node);

/* Resolves "before" for every event of every group not yet passed (the
 * finish). */
int metrics_before_finish(struct ah_metrics *m);

#endif
