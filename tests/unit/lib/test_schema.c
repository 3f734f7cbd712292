/* Unit tests for lib/schema.c: every word round-trips name -> parse -> name,
 * parsing rejects unknown words and other cases, the column counts match the
 * lists, and each header line is the one the documentation shows. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/schema.h"
#include "tests/unit/check_main.h"

/* A name function and a parse function over one enum, as ints. */
typedef const char *name_fn(int v);
typedef int parse_fn(const char *s, int *out);

#define WRAP(kind, type, name, parse)                                                              \
    static const char *kind##_name(int v)                                                          \
    {                                                                                              \
        return name((type)v);                                                                      \
    }                                                                                              \
    static int kind##_parse(const char *s, int *out)                                               \
    {                                                                                              \
        type t;                                                                                    \
        int rc = parse(s, &t);                                                                     \
        *out = rc == 0 ? (int)t : -1;                                                              \
        return rc;                                                                                 \
    }

WRAP(transport, enum ah_transport, ah_transport_name, ah_transport_parse)
WRAP(service, enum ah_service, ah_service_name, ah_service_parse)
WRAP(result, enum ah_result, ah_result_name, ah_result_parse)
WRAP(reason, enum ah_reason, ah_reason_name, ah_reason_parse)
WRAP(verb, enum ah_verb, ah_schema_verb_name, ah_schema_verb_parse)
WRAP(event, enum ah_event, ah_schema_event_name, ah_schema_event_parse)
WRAP(control, enum ah_control, ah_schema_control_name, ah_schema_control_parse)
WRAP(family, enum ah_family, ah_family_name, ah_family_parse)

static void round_trip(name_fn *name, parse_fn *parse, int count, const char *out_of_range)
{
    for (int i = 0; i < count; i++) {
        const char *w = name(i);
        int v;
        ck_assert_ptr_nonnull(w);
        ck_assert_int_eq(parse(w, &v), 0);
        ck_assert_int_eq(v, i);
        ck_assert_str_eq(name(v), w);
        /* Upper case, a trailing blank and a prefix are other words. */
        char buf[64];
        snprintf(buf, sizeof buf, "%s", w);
        buf[0] = (char)(buf[0] - 'a' + 'A');
        ck_assert_int_eq(parse(buf, &v), -EINVAL);
        snprintf(buf, sizeof buf, "%s ", w);
        ck_assert_int_eq(parse(buf, &v), -EINVAL);
        snprintf(buf, sizeof buf, "%.*s", (int)strlen(w) - 1, w);
        ck_assert_int_eq(parse(buf, &v), -EINVAL);
        /* No word twice. */
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(name(j), w);
    }
    int v;
    ck_assert_int_eq(parse("", &v), -EINVAL);
    ck_assert_int_eq(parse("nonsense", &v), -EINVAL);
    ck_assert_str_eq(name(count), out_of_range);
}

START_TEST(words_round_trip)
{
    round_trip(transport_name, transport_parse, AH_TR_COUNT, "?");
    round_trip(service_name, service_parse, AH_SVC_COUNT, "?");
    round_trip(result_name, result_parse, AH_RES_COUNT, "error");
    round_trip(reason_name, reason_parse, AH_REASON_COUNT, "error");
    round_trip(verb_name, verb_parse, AH_VERB_COUNT, "?");
    round_trip(event_name, event_parse, AH_EVENT_COUNT, "?");
    round_trip(control_name, control_parse, AH_CTL_COUNT, "?");
    round_trip(family_name, family_parse, AH_FAM_COUNT, "?");
}
END_TEST

/* The words as the files and the lab file spell them. */
START_TEST(words_spelled)
{
    ck_assert_str_eq(ah_transport_name(AH_TR_UDP), "udp");
    ck_assert_str_eq(ah_transport_name(AH_TR_TCP), "tcp");
    ck_assert_str_eq(ah_service_name(AH_SVC_DNS), "dns");
    ck_assert_str_eq(ah_service_name(AH_SVC_ECHO), "echo");
    ck_assert_str_eq(ah_family_name(AH_FAM_IPV4), "ipv4");
    ck_assert_str_eq(ah_family_name(AH_FAM_IPV6), "ipv6");
    const char *results[] = {"ok",  "timeout",   "reset", "refused",    "unreachable",
                             "eof", "bad_reply", "error", "ratelimited"};
    for (int i = 0; i < AH_RES_COUNT; i++)
        ck_assert_str_eq(ah_result_name((enum ah_result)i), results[i]);
    const char *reasons[] = {"end", "reset", "timeout", "eof", "refused", "unreachable", "error"};
    for (int i = 0; i < AH_REASON_COUNT; i++)
        ck_assert_str_eq(ah_reason_name((enum ah_reason)i), reasons[i]);
    const char *verbs[] = {"withdraw",  "announce",  "flap",       "stop",    "start",
                           "pause",     "resume",    "link-down",  "link-up", "kill-bgp",
                           "start-bgp", "pause-bgp", "resume-bgp", "delay",   "command"};
    ck_assert_int_eq(sizeof verbs / sizeof verbs[0], AH_VERB_COUNT);
    for (int i = 0; i < AH_VERB_COUNT; i++)
        ck_assert_str_eq(ah_schema_verb_name((enum ah_verb)i), verbs[i]);
    /* The lab file's key for a command step is "run"; its event word is
     * "command", so it never reads as the run-level summary rows. */
    ck_assert_str_eq(ah_schema_verb_key(AH_VERB_RUN), "run");
    ck_assert_str_eq(ah_schema_verb_key(AH_VERB_WITHDRAW), "withdraw");
    const char *events[] = {"run",      "route",       "exit",      "track-down",
                            "track-up", "health-down", "health-up", "bgp"};
    ck_assert_int_eq(sizeof events / sizeof events[0], AH_EVENT_COUNT);
    for (int i = 0; i < AH_EVENT_COUNT; i++)
        ck_assert_str_eq(ah_schema_event_name((enum ah_event)i), events[i]);
    const char *controls[] = {"pause", "resume", "delay", "drop", "stats", "help"};
    ck_assert_int_eq(sizeof controls / sizeof controls[0], AH_CTL_COUNT);
    for (int i = 0; i < AH_CTL_COUNT; i++)
        ck_assert_str_eq(ah_schema_control_name((enum ah_control)i), controls[i]);
}
END_TEST

/* The family of a probes.csv target: an IP address as anycast-probe
 * writes it, nothing else. */
START_TEST(family_of_target)
{
    enum ah_family f = AH_FAM_COUNT;
    ck_assert_int_eq(ah_family_of_target("198.51.100.53", &f), 0);
    ck_assert_int_eq(f, AH_FAM_IPV4);
    ck_assert_int_eq(ah_family_of_target("2001:db8:53::53", &f), 0);
    ck_assert_int_eq(f, AH_FAM_IPV6);
    ck_assert_int_eq(ah_family_of_target("::ffff:192.0.2.1", &f), 0);
    ck_assert_int_eq(f, AH_FAM_IPV6);
    const char *bad[] = {"", "ams", "198.51.100.53:53", "[2001:db8::1]", "198.51.100", " ::1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(ah_family_of_target(bad[i], &f), -EINVAL);
}
END_TEST

START_TEST(event_kinds)
{
    ck_assert_int_eq(ah_event_kind_of("route"), AH_EV_ROUTE);
    ck_assert_int_eq(ah_event_kind_of("routes"), AH_EV_DRILL);
    ck_assert_int_eq(ah_event_kind_of("exit"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("exits"), AH_EV_DRILL);
    ck_assert_int_eq(ah_event_kind_of("track-up"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("track-other"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("health-down"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("bgp"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("bgp-session"), AH_EV_OBSERVATION);
    ck_assert(ah_route_is_initial("initial router=eu nexthop=nyc"));
    ck_assert(ah_route_is_initial("initial"));
    ck_assert(!ah_route_is_initial("initially router=eu"));
    ck_assert(!ah_route_is_initial("router=eu nexthop=nyc"));
    ck_assert(!ah_route_is_initial(NULL));
    ck_assert_int_eq(ah_event_kind_of("track"), AH_EV_DRILL);
    ck_assert_int_eq(ah_event_kind_of("run"), AH_EV_DRILL);
    for (int i = 0; i < AH_VERB_COUNT; i++)
        ck_assert_int_eq(ah_event_kind_of(ah_schema_verb_name((enum ah_verb)i)), AH_EV_DRILL);
}
END_TEST

static void join(const char *const *cols, size_t n, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + off, len - off, "%s%s", i ? "," : "", cols[i]);
        ck_assert(w > 0 && (size_t)w < len - off);
        off += (size_t)w;
    }
}

/* 1 when the file (relative to the repository root) has a line containing s,
 * 0 when not, -1 when there is no such file. */
static int file_has(const char *path, const char *s)
{
    const char *root = getenv("AH_ROOT");
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", root ? root : ".", path);
    FILE *f = fopen(full, "r");
    if (f == NULL)
        return -1;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, s) != NULL;
    fclose(f);
    return found;
}

/* The header line is shown by at least one of the documents that exist
 * (docs/formats.md defines every file; README.md and docs/anycast-lab.md
 * show some headers in examples). */
static void documented(const char *line, const char *const *docs)
{
    int existing = 0, found = 0;
    for (size_t i = 0; docs[i] != NULL; i++) {
        int rc = file_has(docs[i], line);
        existing += rc >= 0;
        found += rc > 0;
    }
    ck_assert_msg(existing == 0 || found > 0, "no document shows %s", line);
}

START_TEST(headers)
{
    static const char *const with_readme[] = {"docs/formats.md", "README.md", NULL};
    static const char *const with_lab[] = {"docs/formats.md", "docs/anycast-lab.md", NULL};
    static const char *const formats[] = {"docs/formats.md", NULL};
    static const struct {
        const char *const *cols;
        size_t n, len;
        const char *line;
        const char *const *docs;
    } h[] = {
        {ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS,
         sizeof ah_schema_probes_cols / sizeof ah_schema_probes_cols[0],
         "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail", with_readme},
        {ah_schema_connections_cols, AH_SCHEMA_CONNECTIONS_COLS,
         sizeof ah_schema_connections_cols / sizeof ah_schema_connections_cols[0],
         "conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,probes_failed",
         with_readme},
        {ah_schema_events_cols, AH_SCHEMA_EVENTS_COLS,
         sizeof ah_schema_events_cols / sizeof ah_schema_events_cols[0], "ts_ns,event,node,detail",
         with_lab},
        {ah_schema_summary_cols, AH_SCHEMA_SUMMARY_COLS,
         sizeof ah_schema_summary_cols / sizeof ah_schema_summary_cols[0],
         "event_ts_ns,event,node,vantage,transport,service,family,before,after,probes,lost,"
         "outage_ms,"
         "switch_ms,flips,conns_at_event,conns_broken,break_ms_p50,break_ms_max,reconnect_ms,"
         "detect_ms,rtt_ms_p50,rtt_ms_p99,rtt_ms_max,base_rtt_ms_p50,base_rtt_ms_p99,"
         "base_rtt_ms_max,flows_moved_collateral,conns_broken_collateral,ratelimited",
         formats},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        char buf[1024];
        ck_assert_uint_eq(h[i].n, h[i].len);
        for (size_t c = 0; c < h[i].n; c++)
            ck_assert_ptr_nonnull(h[i].cols[c]);
        join(h[i].cols, h[i].n, buf, sizeof buf);
        ck_assert_str_eq(buf, h[i].line);
        documented(h[i].line, h[i].docs);
    }
    /* The index constants are the positions in the lists. */
    ck_assert_str_eq(ah_schema_probes_cols[AH_PROBES_RESULT], "result");
    ck_assert_str_eq(ah_schema_probes_cols[AH_PROBES_DETAIL], "detail");
    ck_assert_str_eq(ah_schema_connections_cols[AH_CONNS_REASON], "reason");
    ck_assert_str_eq(ah_schema_events_cols[AH_EVENTS_DETAIL], "detail");
    ck_assert_str_eq(ah_schema_summary_cols[AH_SUMMARY_DETECT_MS], "detect_ms");
}
END_TEST

static Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, words_round_trip);
    tcase_add_test(tc, words_spelled);
    tcase_add_test(tc, event_kinds);
    tcase_add_test(tc, family_of_target);
    tcase_add_test(tc, headers);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(schema_suite)
