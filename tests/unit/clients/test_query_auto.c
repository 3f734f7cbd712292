/* Unit tests for --query auto and rate-limit naming (clients/query_auto.c):
 * the choice among candidates from bursts of replies built independently
 * with ldns the way the servers of docs/interop.md answer (all answered,
 * BIND's CHAOS rate limit, TC=1 slips, an identity only in NSID, none at
 * all), the option itself, and the rate-limit pattern on a group's counts. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "clients/probe.h"
#include "clients/query_auto.h"
#include "clients/wire.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "tests/unit/check_main.h"

enum kind { ANSWER, REFUSED_NSID, REFUSED_BARE, SLIP };

/* The reply a server sends to query q with id: the TXT identity and NSID
 * (ANSWER, for a CH query), REFUSED with or without NSID, or a TC=1 slip
 * with no answer and no OPT. */
static size_t reply(const struct ah_ident_query *q, uint16_t id, enum kind k, uint8_t *out)
{
    struct wire_dns_tpl t;
    uint8_t qw[WIRE_DNS_MAX];
    ldns_pkt *p = NULL;
    uint8_t *wire = NULL;
    size_t len = 0;

    ck_assert_int_eq(wire_dns_template(q, &t), 0);
    size_t ql = wire_dns_query(&t, id, qw);
    ck_assert_int_eq(ldns_wire2pkt(&p, qw, ql), LDNS_STATUS_OK);
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_edns_option_list(p, NULL);
    if (k == SLIP) {
        ldns_pkt_set_tc(p, true);
        ldns_pkt_set_edns_udp_size(p, 0);
    } else if (k == ANSWER && q->qclass == LDNS_RR_CLASS_CH) {
        char rr_s[300];
        ldns_rr *rr = NULL;
        snprintf(rr_s, sizeof(rr_s), "%s 0 CH TXT \"srv-node\"", q->qname);
        ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rr_s, 0, NULL, NULL), LDNS_STATUS_OK);
        ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
    } else {
        ldns_pkt_set_rcode(p, LDNS_RCODE_REFUSED);
    }
    if (k == ANSWER || k == REFUSED_NSID) {
        ldns_edns_option_list *ol = ldns_edns_option_list_new();
        ldns_edns_option_list_push(ol, ldns_edns_new_from_data(LDNS_EDNS_NSID, 8, "srv-node"));
        ldns_pkt_set_edns_option_list(p, ol);
    }
    ck_assert_int_eq(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
    ck_assert_uint_le(len, 512);
    memcpy(out, wire, len);
    LDNS_FREE(wire);
    ldns_pkt_free(p);
    return len;
}

/* One burst: the first `answered` queries get reply kind k, the next `slips`
 * a TC=1 slip, the rest nothing. Returns qauto_burst_done's verdict. */
static bool burst(struct qauto *a, unsigned answered, enum kind k, unsigned slips)
{
    uint8_t buf[512];

    for (unsigned i = 0; i < answered + slips && i < QAUTO_BURST; i++) {
        size_t n = reply(qauto_query(a), (uint16_t)(100 + i), i < answered ? k : SLIP, buf);
        qauto_reply(a, buf, n);
    }
    return qauto_burst_done(a, QAUTO_BURST);
}

START_TEST(all_answer_first)
{
    struct qauto a;

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert_int_eq(qauto_query(&a)->kind, AH_IDENT_HOSTNAME_BIND);
    ck_assert(burst(&a, QAUTO_BURST, ANSWER, 0));
    ck_assert_uint_eq(a.chosen, 0);
    ck_assert_str_eq(qauto_spec(a.chosen), "hostname.bind");
    ck_assert_str_eq(a.why, "hostname.bind 8/8");
}
END_TEST

/* BIND: the CHAOS view answers a few, drops the rest; REFUSED with NSID on
 * the IN query answers all. */
START_TEST(bind_chaos_limit)
{
    struct qauto a;

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert(!burst(&a, 3, ANSWER, 0));
    ck_assert_int_eq(qauto_query(&a)->kind, AH_IDENT_NSID);
    ck_assert_str_eq(qauto_query(&a)->qname, ".");
    ck_assert(burst(&a, QAUTO_BURST, REFUSED_NSID, 0));
    ck_assert_str_eq(qauto_spec(a.chosen), "nsid:./SOA");
    ck_assert_int_eq(qauto_query(&a)->kind, AH_IDENT_NSID);
    ck_assert_str_eq(a.why, "hostname.bind 3/8 (rate-limited), nsid:./SOA 8/8");
}
END_TEST

/* A limiter that slips TC=1 instead of answering is rate limiting too. */
START_TEST(tc_slips)
{
    struct qauto a;

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert(!burst(&a, 4, ANSWER, 2));
    ck_assert_uint_eq(a.tc[0], 2);
    ck_assert(burst(&a, QAUTO_BURST, REFUSED_NSID, 0));
    ck_assert_str_eq(a.why, "hostname.bind 4/8 2 tc (rate-limited), nsid:./SOA 8/8");
}
END_TEST

/* PowerDNS refuses hostname.bind but names itself in NSID: that is an
 * identity, so hostname.bind stays. */
START_TEST(identity_only_in_nsid)
{
    struct qauto a;

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert(burst(&a, QAUTO_BURST, REFUSED_NSID, 0));
    ck_assert_str_eq(qauto_spec(a.chosen), "hostname.bind");
}
END_TEST

/* Nobody names itself: every candidate is tried, the first is kept. When
 * only some answer, the one with most identified answers wins. */
START_TEST(none_or_partial)
{
    struct qauto a;

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert(!burst(&a, QAUTO_BURST, REFUSED_BARE, 0));
    ck_assert(!burst(&a, 0, ANSWER, 0));
    ck_assert(burst(&a, QAUTO_BURST, REFUSED_BARE, 0));
    ck_assert_uint_eq(a.chosen, 0);
    ck_assert_uint_eq(a.other[0], QAUTO_BURST);
    ck_assert_str_eq(a.why, "hostname.bind 0/8, nsid:./SOA 0/8, id.server 0/8");

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert(!burst(&a, 2, ANSWER, 0));
    ck_assert(!burst(&a, 1, REFUSED_NSID, 0));
    ck_assert(burst(&a, 5, ANSWER, 0));
    ck_assert_str_eq(qauto_spec(a.chosen), "id.server");
    /* Once settled, more replies change nothing. */
    uint8_t buf[512];
    qauto_reply(&a, buf, reply(qauto_query(&a), 1, ANSWER, buf));
    ck_assert_uint_eq(a.ident[2], 5);
    ck_assert(qauto_burst_done(&a, QAUTO_BURST));
}
END_TEST

/* A reply to another question (a late answer from the previous burst) does
 * not count for the current candidate; nor do more answers than queries. */
START_TEST(foreign_and_surplus)
{
    struct qauto a;
    struct ah_ident_query id_server;
    uint8_t buf[512];

    ck_assert_int_eq(qauto_init(&a), 0);
    ck_assert_int_eq(ah_ident_query_parse("id.server", &id_server), 0);
    qauto_reply(&a, buf, reply(&id_server, 7, ANSWER, buf));
    ck_assert_uint_eq(a.ident[0] + a.other[0] + a.tc[0], 0);
    qauto_reply(&a, buf, 5); /* cut */
    ck_assert_uint_eq(a.other[0], 0);
    for (int i = 0; i < 3; i++)
        qauto_reply(&a, buf, reply(qauto_query(&a), 9, ANSWER, buf));
    ck_assert(qauto_burst_done(&a, 2));
    ck_assert_uint_eq(a.ident[0], 2);
}
END_TEST

START_TEST(ratelimit_pattern)
{
    double per_s = -1;
    /* BIND: 400 sent in 2 s, 4 answered, the rest silent. */
    struct qauto_rl_input bind = {.probes = 400, .ok = 4, .timeouts = 396, .window_ns = 2000000000};
    ck_assert(qauto_ratelimited(&bind, &per_s));
    ck_assert(per_s > 1.99 && per_s < 2.01);
    /* NSD at 1000/s: 610/s answered, the rest silent or slipped. */
    struct qauto_rl_input nsd = {
        .probes = 2000, .ok = 1220, .timeouts = 600, .tc = 180, .window_ns = 2000000000};
    ck_assert(qauto_ratelimited(&nsd, &per_s));
    ck_assert(per_s > 609 && per_s < 611);
    /* A dead target answers nothing: loss, not a limit. */
    struct qauto_rl_input dead = {.probes = 400, .timeouts = 400, .window_ns = 2000000000};
    ck_assert(!qauto_ratelimited(&dead, &per_s));
    ck_assert(per_s == 0.0);
    /* A few losses are loss; refusals are something else; too few probes say
     * nothing. */
    struct qauto_rl_input few = {.probes = 400, .ok = 390, .timeouts = 10, .window_ns = 1};
    ck_assert(!qauto_ratelimited(&few, &per_s));
    struct qauto_rl_input refused = {.probes = 400, .ok = 200, .timeouts = 100, .window_ns = 1};
    ck_assert(!qauto_ratelimited(&refused, &per_s));
    struct qauto_rl_input small = {.probes = 10, .ok = 2, .timeouts = 8, .window_ns = 1};
    ck_assert(!qauto_ratelimited(&small, &per_s));
    struct qauto_rl_input nowin = {.probes = 100, .ok = 2, .timeouts = 98};
    ck_assert(qauto_ratelimited(&nowin, &per_s));
    ck_assert(per_s == 0.0);
}
END_TEST

/* The probe's verdict on a slip: its own result word, not a bad reply. */
START_TEST(slip_verdict)
{
    struct qauto a;
    struct wire_verdict v;
    uint8_t buf[512];

    ck_assert_int_eq(qauto_init(&a), 0);
    wire_dns_judge(qauto_query(&a), buf, reply(qauto_query(&a), 3, SLIP, buf), &v);
    ck_assert_int_eq(v.result, AH_RES_RATELIMITED);
    ck_assert_str_eq(v.detail, "TC=1");
    ck_assert_str_eq(v.node, "");
    ck_assert_str_eq(ah_result_name(v.result), "ratelimited");
    wire_dns_judge(qauto_query(&a), buf, reply(qauto_query(&a), 3, REFUSED_BARE, buf), &v);
    ck_assert_int_eq(v.result, AH_RES_BAD_REPLY);
}
END_TEST

static int parse(struct probe_opts *o, const char *q)
{
    char *argv[] = {(char *)"anycast-probe", (char *)"-q", (char *)q, (char *)"192.0.2.1", NULL};
    char *dflt[] = {(char *)"anycast-probe", (char *)"192.0.2.1", NULL};
    return q ? opts_parse(4, argv, o) : opts_parse(2, dflt, o);
}

/* auto is the default; an explicit query switches it off and is kept as
 * written. */
START_TEST(option)
{
    struct probe_opts o;

    ck_assert_int_eq(parse(&o, NULL), 0);
    ck_assert(o.query_auto);
    ck_assert_int_eq(parse(&o, "auto"), 0);
    ck_assert(o.query_auto);
    ck_assert_int_eq(parse(&o, "nsid:./SOA"), 0);
    ck_assert(!o.query_auto);
    ck_assert_str_eq(o.query_spec, "nsid:./SOA");
    ck_assert_int_eq(o.query.kind, AH_IDENT_NSID);
    ck_assert_int_eq(parse(&o, "hostname.bind"), 0);
    ck_assert(!o.query_auto);
    ck_assert_str_eq(o.query_spec, "hostname.bind");
}
END_TEST

/* The first DNS row of each transport names the auto query; no other row,
 * and nothing under an explicit query. */
START_TEST(first_rows_named)
{
    struct probe_opts o;
    struct probe_ctx ctx;
    char buf[128];
    struct probe_row udp = {.transport = AH_TR_UDP, .service = AH_SVC_DNS, .detail = "REFUSED"};
    struct probe_row tcp = {.transport = AH_TR_TCP, .service = AH_SVC_DNS};
    struct probe_row echo = {.transport = AH_TR_TCP, .service = AH_SVC_ECHO, .detail = ""};

    ck_assert_int_eq(parse(&o, NULL), 0);
    snprintf(o.query_spec, sizeof(o.query_spec), "nsid:./SOA");
    memset(&ctx, 0, sizeof(ctx));
    ctx.o = &o;
    ck_assert_ptr_null(query_row_detail(&ctx, &echo, buf, sizeof(buf)));
    ck_assert_str_eq(query_row_detail(&ctx, &udp, buf, sizeof(buf)),
                     "REFUSED query=auto:nsid:./SOA");
    ck_assert_str_eq(query_row_detail(&ctx, &udp, buf, sizeof(buf)), "REFUSED");
    ck_assert_str_eq(query_row_detail(&ctx, &tcp, buf, sizeof(buf)), "query=auto:nsid:./SOA");
    ck_assert_ptr_null(query_row_detail(&ctx, &tcp, buf, sizeof(buf)));

    ck_assert_int_eq(parse(&o, "id.server"), 0);
    memset(&ctx, 0, sizeof(ctx));
    ctx.o = &o;
    ck_assert_ptr_null(query_row_detail(&ctx, &tcp, buf, sizeof(buf)));
}
END_TEST

/* The summary names a rate limit beside the loss figures, in text and JSON,
 * over the sending window (the 2 s duration of a run that took 3 s), and
 * says nothing of it for ordinary loss. */
START_TEST(summary_names_rate_limit)
{
    char *argv[] = {(char *)"anycast-probe", (char *)"-d",        (char *)"2s", (char *)"-q",
                    (char *)"id.server",     (char *)"192.0.2.1", NULL};
    struct probe_opts o;
    struct probe_ctx ctx;
    char *txt = NULL, json[] = "/tmp/ah-test-rl.XXXXXX";
    size_t len = 0;

    ah_log_init("anycast-probe", AH_LOG_ERROR);
    ck_assert_int_eq(opts_parse(6, argv, &o), 0);
    memset(&ctx, 0, sizeof(ctx));
    ctx.o = &o;
    ctx.start_mono = ah_clock_mono_ns() - 3 * AH_NS_PER_S;
    ck_assert_int_eq(record_open(&ctx), 0);
    for (uint64_t i = 1; i <= 400; i++) {
        struct probe_row r = {.transport = AH_TR_UDP, .service = AH_SVC_DNS, .conn = 1, .seq = i};
        r.result = i % 100 == 1 ? AH_RES_OK : i % 25 == 0 ? AH_RES_RATELIMITED : AH_RES_TIMEOUT;
        r.node = r.result == AH_RES_OK ? "bind-node" : NULL;
        record_probe(&ctx, &r);
    }
    FILE *f = open_memstream(&txt, &len);
    summary_print(&ctx, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(txt, "  dns query: id.server\n"));
    ck_assert_ptr_nonnull(strstr(txt, "udp dns : 400 probes, 4 ok, 396 lost (timeout 380, "
                                      "ratelimited 16), likely rate-limited by the server "
                                      "(2.0 answered/s); rtt"));
    free(txt);
    int fd = mkstemp(json);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(summary_write_json(&ctx, json), 0);
    FILE *jf = fopen(json, "r");
    char buf[4096] = "";
    ck_assert_uint_gt(fread(buf, 1, sizeof(buf) - 1, jf), 0);
    fclose(jf);
    unlink(json);
    ck_assert_ptr_nonnull(strstr(buf, "\"query\": \"id.server\", \"query_auto\": false"));
    ck_assert_ptr_nonnull(strstr(buf, "\"likely_rate_limited\": {\"answered_per_s\": 2.0}"));
    ck_assert_int_eq(record_close(&ctx), 0);

    /* Ordinary loss: nothing said. */
    memset(&ctx, 0, sizeof(ctx));
    ctx.o = &o;
    ctx.start_mono = ah_clock_mono_ns() - 3 * AH_NS_PER_S;
    ck_assert_int_eq(record_open(&ctx), 0);
    for (uint64_t i = 1; i <= 400; i++) {
        struct probe_row r = {.transport = AH_TR_UDP, .service = AH_SVC_DNS, .conn = 1, .seq = i};
        r.result = i % 50 == 0 ? AH_RES_TIMEOUT : AH_RES_OK;
        r.node = r.result == AH_RES_OK ? "bind-node" : NULL;
        record_probe(&ctx, &r);
    }
    f = open_memstream(&txt, &len);
    summary_print(&ctx, f);
    fclose(f);
    ck_assert_ptr_null(strstr(txt, "rate-limited"));
    free(txt);
    ck_assert_int_eq(record_close(&ctx), 0);
}
END_TEST

static Suite *query_auto_suite(void)
{
    Suite *s = suite_create("query_auto");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, all_answer_first);
    tcase_add_test(tc, bind_chaos_limit);
    tcase_add_test(tc, tc_slips);
    tcase_add_test(tc, identity_only_in_nsid);
    tcase_add_test(tc, none_or_partial);
    tcase_add_test(tc, foreign_and_surplus);
    tcase_add_test(tc, ratelimit_pattern);
    tcase_add_test(tc, slip_verdict);
    tcase_add_test(tc, option);
    tcase_add_test(tc, first_rows_named);
    tcase_add_test(tc, summary_names_rate_limit);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(query_auto_suite)
