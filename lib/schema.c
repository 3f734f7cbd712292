/* The words and column names of the contract between the three programs,
 * each spelled once (ah/schema.h), with their name and parse functions. */
#include "ah/schema.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

static const char *const transport_names[AH_TR_COUNT] = {
    [AH_TR_UDP] = "udp",
    [AH_TR_TCP] = "tcp",
};

static const char *const service_names[AH_SVC_COUNT] = {
    [AH_SVC_DNS] = "dns",
    [AH_SVC_ECHO] = "echo",
};

static const char *const family_names[AH_FAM_COUNT] = {
    [AH_FAM_IPV4] = "ipv4",
    [AH_FAM_IPV6] = "ipv6",
};

static const char *const result_names[AH_RES_COUNT] = {
    [AH_RES_OK] = "ok",
    [AH_RES_TIMEOUT] = "timeout",
    [AH_RES_RESET] = "reset",
    [AH_RES_REFUSED] = "refused",
    [AH_RES_UNREACHABLE] = "unreachable",
    [AH_RES_EOF] = "eof",
    [AH_RES_BAD_REPLY] = "bad_reply",
    [AH_RES_ERROR] = "error",
    [AH_RES_RATELIMITED] = "ratelimited",
};

static const char *const reason_names[AH_REASON_COUNT] = {
    [AH_REASON_END] = "end",         [AH_REASON_RESET] = "reset",
    [AH_REASON_TIMEOUT] = "timeout", [AH_REASON_EOF] = "eof",
    [AH_REASON_REFUSED] = "refused", [AH_REASON_UNREACHABLE] = "unreachable",
    [AH_REASON_ERROR] = "error",
};

static const char *const verb_names[AH_VERB_COUNT] = {
    [AH_VERB_WITHDRAW] = "withdraw",
    [AH_VERB_ANNOUNCE] = "announce",
    [AH_VERB_FLAP] = "flap",
    [AH_VERB_STOP] = "stop",
    [AH_VERB_START] = "start",
    [AH_VERB_PAUSE] = "pause",
    [AH_VERB_RESUME] = "resume",
    [AH_VERB_LINK_DOWN] = "link-down",
    [AH_VERB_LINK_UP] = "link-up",
    [AH_VERB_KILL_BGP] = "kill-bgp",
    [AH_VERB_START_BGP] = "start-bgp",
    [AH_VERB_PAUSE_BGP] = "pause-bgp",
    [AH_VERB_RESUME_BGP] = "resume-bgp",
    [AH_VERB_DELAY] = "delay",
    /* The lab file's key is "run"; as an event word that would read as the
     * run-level summary rows, so events.csv and expectations say "command"
     * (ah_schema_verb_key gives the key). */
    [AH_VERB_RUN] = "command",
};

static const char *const control_names[AH_CTL_COUNT] = {
    [AH_CTL_PAUSE] = "pause", [AH_CTL_RESUME] = "resume", [AH_CTL_DELAY] = "delay",
    [AH_CTL_DROP] = "drop",   [AH_CTL_STATS] = "stats",   [AH_CTL_HELP] = "help",
};

static const char *const event_names[AH_EVENT_COUNT] = {
    [AH_EVENT_RUN] = "run",
    [AH_EVENT_ROUTE] = "route",
    [AH_EVENT_EXIT] = "exit",
    [AH_EVENT_TRACK_DOWN] = "track-down",
    [AH_EVENT_TRACK_UP] = "track-up",
    [AH_EVENT_HEALTH_DOWN] = "health-down",
    [AH_EVENT_HEALTH_UP] = "health-up",
    [AH_EVENT_BGP] = "bgp",
};

/* The kind of each event word. family > 0: every word that starts with the
 * first family bytes of this one is of the same kind (a hand-written
 * "bgp-session" is an observation too). */
static const struct {
    enum ah_event_kind kind;
    size_t family;
} event_kinds[AH_EVENT_COUNT] = {
    [AH_EVENT_RUN] = {AH_EV_DRILL, 0},
    [AH_EVENT_ROUTE] = {AH_EV_ROUTE, 0},
    [AH_EVENT_EXIT] = {AH_EV_OBSERVATION, 0},
    [AH_EVENT_TRACK_DOWN] = {AH_EV_OBSERVATION, 6},
    [AH_EVENT_TRACK_UP] = {AH_EV_OBSERVATION, 6},
    [AH_EVENT_HEALTH_DOWN] = {AH_EV_OBSERVATION, 7},
    [AH_EVENT_HEALTH_UP] = {AH_EV_OBSERVATION, 7},
    [AH_EVENT_BGP] = {AH_EV_OBSERVATION, 3},
};

#define AH_SCHEMA_NAME_(index, name) [index] = name,

const char *const ah_schema_probes_cols[AH_SCHEMA_PROBES_COLS] = {
    AH_SCHEMA_PROBES(AH_SCHEMA_NAME_)};
const char *const ah_schema_connections_cols[AH_SCHEMA_CONNECTIONS_COLS] = {
    AH_SCHEMA_CONNECTIONS(AH_SCHEMA_NAME_)};
const char *const ah_schema_events_cols[AH_SCHEMA_EVENTS_COLS] = {
    AH_SCHEMA_EVENTS(AH_SCHEMA_NAME_)};
const char *const ah_schema_summary_cols[AH_SCHEMA_SUMMARY_COLS] = {
    AH_SCHEMA_SUMMARY(AH_SCHEMA_NAME_)};

/* The index of s in names[0..n), or -EINVAL. */
static int find(const char *const *names, unsigned n, const char *s)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -EINVAL;
}

#define NWORDS(table) ((unsigned)(sizeof(table) / sizeof(table[0])))

/* Defines the two functions of one word list: name_fn gives the word of a
 * value (dflt out of range), parse_fn the value of a word (or -EINVAL). */
#define WORDS(type, table, dflt, name_fn, parse_fn)                                                \
    const char *name_fn(type v)                                                                    \
    {                                                                                              \
        return (unsigned)v < NWORDS(table) ? table[v] : (dflt);                                    \
    }                                                                                              \
    int parse_fn(const char *s, type *out)                                                         \
    {                                                                                              \
        int i = find(table, NWORDS(table), s);                                                     \
        if (i >= 0)                                                                                \
            *out = (type)i;                                                                        \
        return i < 0 ? i : 0;                                                                      \
    }

WORDS(enum ah_transport, transport_names, "?", ah_transport_name, ah_transport_parse)
WORDS(enum ah_service, service_names, "?", ah_service_name, ah_service_parse)
WORDS(enum ah_family, family_names, "?", ah_family_name, ah_family_parse)
WORDS(enum ah_result, result_names, "error", ah_result_name, ah_result_parse)
WORDS(enum ah_reason, reason_names, "error", ah_reason_name, ah_reason_parse)
WORDS(enum ah_verb, verb_names, "?", ah_schema_verb_name, ah_schema_verb_parse)

const char *ah_schema_verb_key(enum ah_verb v)
{
    return v == AH_VERB_RUN ? "run" : ah_schema_verb_name(v);
}
WORDS(enum ah_control, control_names, "?", ah_schema_control_name, ah_schema_control_parse)
WORDS(enum ah_event, event_names, "?", ah_schema_event_name, ah_schema_event_parse)

enum ah_event_kind ah_event_kind_of(const char *event)
{
    for (unsigned i = 0; i < AH_EVENT_COUNT; i++) {
        size_t n = event_kinds[i].family ? event_kinds[i].family : strlen(event_names[i]) + 1;
        if (strncmp(event, event_names[i], n) == 0)
            return event_kinds[i].kind;
    }
    return AH_EV_DRILL;
}

bool ah_route_is_initial(const char *detail)
{
    size_t n = strlen(AH_ROUTE_INITIAL);
    return detail && strncmp(detail, AH_ROUTE_INITIAL, n) == 0 && (detail[n] == ' ' || !detail[n]);
}

int ah_family_of_target(const char *target, enum ah_family *out)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, target, buf) == 1)
        *out = AH_FAM_IPV4;
    else if (inet_pton(AF_INET6, target, buf) == 1)
        *out = AH_FAM_IPV6;
    else
        return -EINVAL;
    return 0;
}
