/* Failover metrics (docs/formats.md: summary.csv and the metrics) as a pure,
 * streaming computation on records: feed every event first, then probe
 * records in send-time order, then connection records, then finish and read
 * one summary row per event x vantage x transport x service x address family
 * (of the probed target) plus run-level rows (event "run"), each computed
 * when it is read. Memory grows with the
 * events, the (vantage, transport, service, family) groups, the event windows that
 * received probes, flows and connections: never with events x groups, nor
 * with the number of probes. */
#ifndef AH_METRICS_H
#define AH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/schema.h"
#include "ah/stats.h"

/* Limits on the events taken: windowed events (AH_EV_DRILL) and route rows.
 * ah_metrics_add_event() returns -ENOSPC past them; the report skips the
 * rows past them and says so. They bound memory (about 100 bytes per event,
 * 24 per route) and the rows, one per event and group. */
#define AH_METRICS_MAX_WINDOWS 65536
#define AH_METRICS_MAX_ROUTES  1000000

struct ah_metrics_cfg {
    /* Run window (CLOCK_REALTIME ns). 0: from the data (first and last
     * record seen). */
    uint64_t start_ns, end_ns;
    /* Resolution of the time figures per transport; 0: derived from the
     * data as the time-weighted median gap between consecutive sends of a
     * (vantage, transport, service, family) group, i.e. the probe interval an
     * instant in the run typically falls into. */
    uint64_t resolution_ns[AH_TR_COUNT];
    /* TCP connections the prober keeps per vantage (for reconnect_ms); 0:
     * the number established at the event. */
    uint32_t tcp_connections;
    /* True when withdraw/announce change routes directly (static and ECMP
     * labs): detect_ms is then left empty for them, since the routing did
     * not react by itself. */
    bool direct_withdraw;
};

struct ah_metrics_event {
    uint64_t ts_ns;
    const char *event, *node, *detail; /* detail: "router=R nexthop=..." for routes */
};

struct ah_metrics_probe {
    uint64_t ts_ns;
    const char *vantage;
    enum ah_transport transport;
    enum ah_service service;
    uint64_t conn; /* TCP connection id or UDP flow id */
    enum ah_result result;
    const char *node; /* NULL or "" when nothing answered */
    /* The probes.csv rtt_us of an ok probe; has_rtt false: none. */
    bool has_rtt;
    uint64_t rtt_us;
    enum ah_family family; /* of the probes.csv target */
};

struct ah_metrics_conn {
    uint64_t conn;
    const char *vantage;
    enum ah_service service;
    uint64_t opened_ns, closed_ns; /* closed_ns 0: still open at the end */
    const char *node;
    enum ah_reason reason;
    uint64_t probes_ok;
    enum ah_family family; /* of the connections.csv target */
};

/* One summary row. Times in milliseconds; NaN means empty (no value). */
struct ah_metrics_row {
    uint64_t event_ts_ns;
    const char *event, *node; /* "run" and "" for a run-level row */
    unsigned occurrence;      /* 1-based: the n-th event with this word and node */
    const char *vantage;
    enum ah_transport transport;
    enum ah_service service;
    enum ah_family family;
    const char *before, *after; /* "" when none */
    uint64_t probes, lost, flips;
    uint64_t ratelimited; /* of lost, probes a server's rate limiter answered */
    double outage_ms, switch_ms;
    bool tcp; /* connection columns apply */
    uint64_t conns_at_event, conns_broken;
    double break_ms_p50, break_ms_max, reconnect_ms, detect_ms;
    /* RTT of the window's ok probes and of the baseline, the ok probes
     * sent in the second before the event (docs/formats.md, "Metrics"). */
    double rtt_ms_p50, rtt_ms_p99, rtt_ms_max;
    double base_rtt_ms_p50, base_rtt_ms_p99, base_rtt_ms_max;
    /* Collateral damage (docs/formats.md, "Metrics"): UDP flows the event
     * moved off a node other than its own, and TCP connections it broke on
     * one. collateral false: the columns are empty (run rows, an event
     * without a node). */
    bool collateral;
    uint64_t flows_moved_collateral, conns_broken_collateral;
    double resolution_ms; /* of outage_ms, switch_ms, reconnect_ms */
    /* Ground truth: the first route change at this vantage's router in the
     * window, and the delay from it to the first ok answer (sent after it)
     * by the node it routes to. route_ts_ns 0: none. */
    uint64_t route_ts_ns;
    const char *route_nexthop;
    double route_ms;     /* route change - event */
    double gt_answer_ms; /* route change -> first answer by the new node */
    size_t index;        /* internal: accumulator of this row, SIZE_MAX: none */
};

struct ah_metrics;

int ah_metrics_new(struct ah_metrics **out, const struct ah_metrics_cfg *cfg);
void ah_metrics_free(struct ah_metrics *m);
/* The uncertainty of a vantage's clock (docs/formats.md, "Metrics"): its
 * rows' times were rebased onto the controller's clock with an offset known
 * to +- uncertainty_ns, so it is added to the resolution of every row of
 * that vantage. A vantage never given has 0. Call before
 * ah_metrics_finish(). Returns 0, -EINVAL after it, or -ENOMEM. */
int ah_metrics_set_clock(struct ah_metrics *m, const char *vantage, uint64_t uncertainty_ns);
/* Events, in any order, all before the first probe (-EINVAL after);
 * -ENOSPC past the limits above. */
int ah_metrics_add_event(struct ah_metrics *m, const struct ah_metrics_event *e);
/* Probes in send-time order. A probe earlier than one already fed is still
 * counted, in the window of its own time, and reported by
 * ah_metrics_late(). Returns 0 or a negative errno. */
int ah_metrics_add_probe(struct ah_metrics *m, const struct ah_metrics_probe *p);
/* Connections, in any order, after the probes. */
int ah_metrics_add_conn(struct ah_metrics *m, const struct ah_metrics_conn *c);
/* Computes the rows. Nothing can be added afterwards. */
int ah_metrics_finish(struct ah_metrics *m);

/* Rows are not stored: row i is computed when read, into one of
 * AH_METRICS_ROW_CACHE slots (slot i % AH_METRICS_ROW_CACHE). The pointer
 * stays valid until a row whose index falls into the same slot is read, so
 * up to AH_METRICS_ROW_CACHE consecutive rows can be held at once; reading
 * the same row again costs nothing. Order: the run rows, then each event's
 * rows in time order; within them the groups by vantage, transport,
 * service, family. Reading a row writes that cache: one thread at a time. */
#define AH_METRICS_ROW_CACHE 64
size_t ah_metrics_nrows(const struct ah_metrics *m);
const struct ah_metrics_row *ah_metrics_row(const struct ah_metrics *m, size_t i);
/* Ok answers from node in the row's window. */
uint64_t ah_metrics_row_answers(const struct ah_metrics *m, const struct ah_metrics_row *r,
                                const char *node);
uint64_t ah_metrics_late(const struct ah_metrics *m);
/* The address families of the groups, a bit (1u << family) each: lets a
 * reader name the family only where the data has more than one. */
unsigned ah_metrics_families(const struct ah_metrics *m);
/* The run window actually used. */
void ah_metrics_span(const struct ah_metrics *m, uint64_t *start_ns, uint64_t *end_ns);

/* The numeric summary columns by name: the summary.csv columns from
 * AH_SUMMARY_PROBES to the end (probes, lost, outage_ms, switch_ms, flips,
 * conns_at_event, conns_broken, break_ms_p50, break_ms_max, reconnect_ms,
 * detect_ms, rtt_ms_p50, rtt_ms_p99, rtt_ms_max, their base_ figures,
 * flows_moved_collateral, conns_broken_collateral). */
#define AH_METRICS_NFIELDS (AH_SCHEMA_SUMMARY_COLS - AH_SUMMARY_PROBES)
extern const char *const *const ah_metrics_fields;
/* Returns 1 with *out set, 0 when the row's field is empty, -ENOENT for an
 * unknown name. */
int ah_metrics_field(const struct ah_metrics_row *r, const char *name, double *out);
/* True when the field applies to the row (connection columns only to TCP,
 * flows_moved_collateral only to UDP, the collateral ones not to run rows
 * nor to events without a node). */
bool ah_metrics_field_applies(const struct ah_metrics_row *r, const char *name);

#endif
