/* The contract between the three programs: the words they write and read
 * (transports, services, probe results, connection end reasons, drill verbs,
 * event words, the responder's control commands) and the columns of
 * probes.csv, connections.csv, events.csv and summary.csv (docs/formats.md).
 * Each word is spelled once, in lib/schema.c, and each column once, in the
 * lists below; writers and readers of a file use the same list, so a new
 * column is one line there (plus the code that writes its value). */
#ifndef AH_SCHEMA_H
#define AH_SCHEMA_H

#include <stdbool.h>

/* ---- words ---- */

/* Name functions return "?" ("error" for results and reasons) for a value
 * out of range; parse functions take exactly the lower-case word and return
 * 0 or -EINVAL. */

enum ah_transport { AH_TR_UDP = 0, AH_TR_TCP, AH_TR_COUNT };
enum ah_service { AH_SVC_DNS = 0, AH_SVC_ECHO, AH_SVC_COUNT };

const char *ah_transport_name(enum ah_transport t);
const char *ah_service_name(enum ah_service s);
int ah_transport_parse(const char *s, enum ah_transport *out);
int ah_service_parse(const char *s, enum ah_service *out);

/* Address families of a probed target (summary.csv "family"): "ipv4" and
 * "ipv6". ah_family_of_target gives the family of a probes.csv or
 * connections.csv target (an IP address as anycast-probe writes it), or
 * -EINVAL when it is not one. */
enum ah_family { AH_FAM_IPV4 = 0, AH_FAM_IPV6, AH_FAM_COUNT };

const char *ah_family_name(enum ah_family f);
int ah_family_parse(const char *s, enum ah_family *out);
int ah_family_of_target(const char *target, enum ah_family *out);

/* Probe results (probes.csv "result"). */
enum ah_result {
    AH_RES_OK = 0,
    AH_RES_TIMEOUT,
    AH_RES_RESET,
    AH_RES_REFUSED,
    AH_RES_UNREACHABLE,
    AH_RES_EOF,
    AH_RES_BAD_REPLY,
    AH_RES_ERROR,
    AH_RES_RATELIMITED, /* a DNS reply that is a rate limiter's TC=1 slip */
    AH_RES_COUNT
};

/* TCP connection end reasons (connections.csv "reason"). "error" is the
 * catch-all for ends none of the others describe. */
enum ah_reason {
    AH_REASON_END = 0, /* closed by the prober itself (run over, per-query) */
    AH_REASON_RESET,
    AH_REASON_TIMEOUT,
    AH_REASON_EOF,
    AH_REASON_REFUSED,
    AH_REASON_UNREACHABLE,
    AH_REASON_ERROR,
    AH_REASON_COUNT
};

const char *ah_result_name(enum ah_result r);
const char *ah_reason_name(enum ah_reason r);
int ah_result_parse(const char *s, enum ah_result *out);
int ah_reason_parse(const char *s, enum ah_reason *out);

/* Drill verbs: the keys of a lab file's drill events (docs/lab-file.md) and
 * the event words the drill writes to events.csv. */
enum ah_verb {
    AH_VERB_WITHDRAW,
    AH_VERB_ANNOUNCE,
    AH_VERB_FLAP,
    AH_VERB_STOP,
    AH_VERB_START,
    AH_VERB_PAUSE,
    AH_VERB_RESUME,
    AH_VERB_LINK_DOWN,
    AH_VERB_LINK_UP,
    AH_VERB_KILL_BGP,
    AH_VERB_START_BGP,
    AH_VERB_PAUSE_BGP,
    AH_VERB_RESUME_BGP,
    AH_VERB_DELAY, /* builtin responder only: answer everything delay_ms late */
    AH_VERB_RUN,   /* deployment only: run: {node, command} on the node's host */
    AH_VERB_COUNT
};

const char *ah_schema_verb_name(enum ah_verb v);
int ah_schema_verb_parse(const char *s, enum ah_verb *out);
/* The verb's key in a lab file's drill event: its word, except "run" for
 * AH_VERB_RUN. */
const char *ah_schema_verb_key(enum ah_verb v);

/* The other event words: "run" names the run-level summary rows; the rest
 * are events.csv rows written by the harness besides the drill's verbs. */
enum ah_event {
    AH_EVENT_RUN,         /* summary.csv: the whole run */
    AH_EVENT_ROUTE,       /* a route change seen in the kernel (ground truth) */
    AH_EVENT_EXIT,        /* a responder, prober or daemon exited unexpectedly */
    AH_EVENT_TRACK_DOWN,  /* routing: tracked health check went down */
    AH_EVENT_TRACK_UP,    /* ... and up */
    AH_EVENT_HEALTH_DOWN, /* routing: bgp health checker withdrew */
    AH_EVENT_HEALTH_UP,   /* ... and announced */
    AH_EVENT_BGP,         /* a BGP session or route change seen in BIRD */
    AH_EVENT_COUNT
};

const char *ah_schema_event_name(enum ah_event e);
int ah_schema_event_parse(const char *s, enum ah_event *out);

/* What kind of events.csv row an event word is: "route" rows are the
 * kernel's ground truth, "exit" rows and words starting with "track-",
 * "health-" or "bgp" are observations; every other word (the drill verbs, or
 * whatever a hand-written events.csv uses) is an event with a window of its
 * own. */
enum ah_event_kind { AH_EV_DRILL, AH_EV_ROUTE, AH_EV_OBSERVATION };
enum ah_event_kind ah_event_kind_of(const char *event);

/* The first word of the detail of a `route` row that records a router's
 * route at the drill's start rather than a change ("initial router=eu
 * nexthop=nyc"): the metrics and the timeline leave such rows out. */
#define AH_ROUTE_INITIAL "initial"
bool ah_route_is_initial(const char *detail);

/* Commands of the builtin responder's control socket
 * (docs/anycast-responder.md), which the harness sends for the drill's
 * pause, resume and delay. */
enum ah_control {
    AH_CTL_PAUSE,
    AH_CTL_RESUME,
    AH_CTL_DELAY, /* delay MS */
    AH_CTL_DROP,  /* drop PERCENT */
    AH_CTL_STATS,
    AH_CTL_HELP,
    AH_CTL_COUNT
};

const char *ah_schema_control_name(enum ah_control c);
int ah_schema_control_parse(const char *s, enum ah_control *out);

/* ---- columns ---- */

/* Each list is X(INDEX, "name") in file order. It makes the index constants
 * (AH_PROBES_TS_NS, ...), the count (AH_SCHEMA_PROBES_COLS, ...) and the
 * header array (ah_schema_probes_cols, ...); readers take fields by the
 * index constants. */
#define AH_SCHEMA_PROBES(X)                                                                        \
    X(AH_PROBES_TS_NS, "ts_ns")                                                                    \
    X(AH_PROBES_VANTAGE, "vantage")                                                                \
    X(AH_PROBES_TARGET, "target")                                                                  \
    X(AH_PROBES_TRANSPORT, "transport")                                                            \
    X(AH_PROBES_SERVICE, "service")                                                                \
    X(AH_PROBES_CONN, "conn")                                                                      \
    X(AH_PROBES_SEQ, "seq")                                                                        \
    X(AH_PROBES_RESULT, "result")                                                                  \
    X(AH_PROBES_NODE, "node")                                                                      \
    X(AH_PROBES_RTT_US, "rtt_us")                                                                  \
    X(AH_PROBES_DETAIL, "detail")

#define AH_SCHEMA_CONNECTIONS(X)                                                                   \
    X(AH_CONNS_CONN, "conn")                                                                       \
    X(AH_CONNS_VANTAGE, "vantage")                                                                 \
    X(AH_CONNS_TARGET, "target")                                                                   \
    X(AH_CONNS_SERVICE, "service")                                                                 \
    X(AH_CONNS_OPENED_NS, "opened_ns")                                                             \
    X(AH_CONNS_NODE, "node")                                                                       \
    X(AH_CONNS_CLOSED_NS, "closed_ns")                                                             \
    X(AH_CONNS_REASON, "reason")                                                                   \
    X(AH_CONNS_PROBES_OK, "probes_ok")                                                             \
    X(AH_CONNS_PROBES_FAILED, "probes_failed")

#define AH_SCHEMA_EVENTS(X)                                                                        \
    X(AH_EVENTS_TS_NS, "ts_ns")                                                                    \
    X(AH_EVENTS_EVENT, "event")                                                                    \
    X(AH_EVENTS_NODE, "node")                                                                      \
    X(AH_EVENTS_DETAIL, "detail")

#define AH_SCHEMA_SUMMARY(X)                                                                       \
    X(AH_SUMMARY_EVENT_TS_NS, "event_ts_ns")                                                       \
    X(AH_SUMMARY_EVENT, "event")                                                                   \
    X(AH_SUMMARY_NODE, "node")                                                                     \
    X(AH_SUMMARY_VANTAGE, "vantage")                                                               \
    X(AH_SUMMARY_TRANSPORT, "transport")                                                           \
    X(AH_SUMMARY_SERVICE, "service")                                                               \
    X(AH_SUMMARY_FAMILY, "family")                                                                 \
    X(AH_SUMMARY_BEFORE, "before")                                                                 \
    X(AH_SUMMARY_AFTER, "after")                                                                   \
    X(AH_SUMMARY_PROBES, "probes")                                                                 \
    X(AH_SUMMARY_LOST, "lost")                                                                     \
    X(AH_SUMMARY_OUTAGE_MS, "outage_ms")                                                           \
    X(AH_SUMMARY_SWITCH_MS, "switch_ms")                                                           \
    X(AH_SUMMARY_FLIPS, "flips")                                                                   \
    X(AH_SUMMARY_CONNS_AT_EVENT, "conns_at_event")                                                 \
    X(AH_SUMMARY_CONNS_BROKEN, "conns_broken")                                                     \
    X(AH_SUMMARY_BREAK_MS_P50, "break_ms_p50")                                                     \
    X(AH_SUMMARY_BREAK_MS_MAX, "break_ms_max")                                                     \
    X(AH_SUMMARY_RECONNECT_MS, "reconnect_ms")                                                     \
    X(AH_SUMMARY_DETECT_MS, "detect_ms")                                                           \
    X(AH_SUMMARY_RTT_MS_P50, "rtt_ms_p50")                                                         \
    X(AH_SUMMARY_RTT_MS_P99, "rtt_ms_p99")                                                         \
    X(AH_SUMMARY_RTT_MS_MAX, "rtt_ms_max")                                                         \
    X(AH_SUMMARY_BASE_RTT_MS_P50, "base_rtt_ms_p50")                                               \
    X(AH_SUMMARY_BASE_RTT_MS_P99, "base_rtt_ms_p99")                                               \
    X(AH_SUMMARY_BASE_RTT_MS_MAX, "base_rtt_ms_max")                                               \
    X(AH_SUMMARY_FLOWS_MOVED_COLLATERAL, "flows_moved_collateral")                                 \
    X(AH_SUMMARY_CONNS_BROKEN_COLLATERAL, "conns_broken_collateral")                               \
    X(AH_SUMMARY_RATELIMITED, "ratelimited")

#define AH_SCHEMA_INDEX_(index, name) index,

enum { AH_SCHEMA_PROBES(AH_SCHEMA_INDEX_) AH_SCHEMA_PROBES_COLS };
enum { AH_SCHEMA_CONNECTIONS(AH_SCHEMA_INDEX_) AH_SCHEMA_CONNECTIONS_COLS };
enum { AH_SCHEMA_EVENTS(AH_SCHEMA_INDEX_) AH_SCHEMA_EVENTS_COLS };
enum { AH_SCHEMA_SUMMARY(AH_SCHEMA_INDEX_) AH_SCHEMA_SUMMARY_COLS };

extern const char *const ah_schema_probes_cols[AH_SCHEMA_PROBES_COLS];
extern const char *const ah_schema_connections_cols[AH_SCHEMA_CONNECTIONS_COLS];
extern const char *const ah_schema_events_cols[AH_SCHEMA_EVENTS_COLS];
extern const char *const ah_schema_summary_cols[AH_SCHEMA_SUMMARY_COLS];

#endif
