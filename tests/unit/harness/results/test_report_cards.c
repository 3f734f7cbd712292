/* Unit tests for the pure parts of the report's event cards and failure
 * reasons (harness/results/report_cards.c, report_why.c): a summary row
 * classified as affected, unaffected or without data, the label of an event
 * with its arguments, and the one-sentence reason of a failed expectation. */
#include "tests/unit/check_main.h"
#include "harness/results/report_int.h"

#include <math.h>
#include <string.h>

/* A quiet row: probes all answered by one node, RTT as before. */
static struct ah_metrics_row quiet(void)
{
    struct ah_metrics_row r = {0};
    r.event = "withdraw";
    r.node = "fra";
    r.occurrence = 1;
    r.vantage = "eu";
    r.transport = AH_TR_UDP;
    r.service = AH_SVC_DNS;
    r.before = "ams";
    r.after = "ams";
    r.probes = 100;
    r.switch_ms = NAN;
    r.break_ms_p50 = r.break_ms_max = r.reconnect_ms = r.detect_ms = NAN;
    r.rtt_ms_p50 = 10.0;
    r.base_rtt_ms_p50 = 10.0;
    r.rtt_ms_p99 = r.rtt_ms_max = r.base_rtt_ms_p99 = r.base_rtt_ms_max = NAN;
    r.route_ms = r.gt_answer_ms = NAN;
    r.route_nexthop = "";
    return r;
}

START_TEST(classify_quiet_row_unaffected)
{
    struct ah_metrics_row r = quiet();
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_UNAFFECTED);
    /* Within the margin: 25 % of a 10 ms baseline is 2.5 ms. */
    r.rtt_ms_p50 = 12.4;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_UNAFFECTED);
    /* A small baseline: the 1 ms floor applies. */
    r.base_rtt_ms_p50 = 0.1;
    r.rtt_ms_p50 = 0.9;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_UNAFFECTED);
    /* No RTT on either side says nothing. */
    r.rtt_ms_p50 = NAN;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_UNAFFECTED);
    /* TCP with connections held and none broken. */
    r = quiet();
    r.tcp = true;
    r.conns_at_event = 8;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_UNAFFECTED);
}
END_TEST

START_TEST(classify_each_cost_affected)
{
    struct ah_metrics_row r = quiet();
    r.lost = 1;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    r = quiet();
    r.switch_ms = 35.0;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    r = quiet();
    r.after = "nyc";
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    r = quiet();
    r.flips = 2;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    r = quiet();
    r.tcp = true;
    r.conns_at_event = 8;
    r.conns_broken = 3;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    /* A delay of 300 ms on a 10 ms path; and a path that got faster. */
    r = quiet();
    r.rtt_ms_p50 = 310.0;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    r.rtt_ms_p50 = 5.0;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_AFFECTED);
    /* Connection figures of a UDP row do not count. */
    r = quiet();
    r.conns_broken = 3;
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_UNAFFECTED);
}
END_TEST

START_TEST(classify_no_probe_no_data)
{
    struct ah_metrics_row r = quiet();
    r.probes = 0;
    r.before = "";
    r.after = "";
    ck_assert_int_eq(rp_card_classify(&r), RP_CARD_NO_DATA);
}
END_TEST

static const char *label(const char *ev, const char *node, unsigned occ, const char *detail)
{
    static char buf[RP_EVENT_LABEL_CAP];
    size_t n = rp_event_label(buf, sizeof buf, ev, node, occ, detail);
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

START_TEST(labels_carry_arguments)
{
    ck_assert_str_eq(label("withdraw", "fra", 1, ""), "withdraw fra");
    ck_assert_str_eq(label("withdraw", "fra", 2, NULL), "withdraw fra#2");
    ck_assert_str_eq(label("delay", "iad", 1, "delay 300; control: ok delay 300"),
                     "delay iad 300ms");
    ck_assert_str_eq(label("delay", "iad", 2, "delay 0; control: ok delay 0"), "delay iad 0ms");
    ck_assert_str_eq(label("withdraw", "sin", 3, "flap 3/6"), "flap sin 3/6 (withdraw)");
    ck_assert_str_eq(label("announce", "sin", 2, "flap 4/6; failed: x"), "flap sin 4/6 (announce)");
    /* Not an argument: left out. */
    ck_assert_str_eq(label("delay", "iad", 1, "delayed"), "delay iad");
    ck_assert_str_eq(label("withdraw", "sin", 1, "flap x/6"), "withdraw sin");
    ck_assert_str_eq(label("custom", "", 1, ""), "custom");
    /* Bounded by the buffer. */
    char small[8];
    ck_assert_uint_eq(rp_event_label(small, sizeof small, "withdraw", "fra", 1, NULL), 7);
    ck_assert_str_eq(small, "withdra");
}
END_TEST

static const char *why(const char *text, const struct rp_why_facts *w)
{
    static char buf[512];
    struct expect e;
    char err[256];
    unsigned off;
    ck_assert_int_eq(expect_parse(text, &e, err, sizeof err, &off), 0);
    size_t n = rp_why_sentence(buf, sizeof buf, &e, w);
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

START_TEST(why_all_lost_names_the_route)
{
    struct ah_metrics_row r = quiet();
    r.vantage = "apac";
    r.node = "syd";
    r.probes = r.lost = 400;
    r.before = "syd";
    r.after = "";
    struct rp_why_facts w = {.row = &r, .route_now = "syd"};
    ck_assert_str_eq(why("apac udp outage_ms < 500 at withdraw syd", &w),
                     "400/400 lost: the route at apac's router still points at syd");
    /* A route change in the window is told instead. */
    r.route_ts_ns = 1;
    r.route_nexthop = "sin";
    r.route_ms = 12.5;
    ck_assert_str_eq(why("apac udp after withdraw syd answered-by sin", &w),
                     "400/400 lost: the route at apac's router moved to sin 12.500 ms after the "
                     "event");
}
END_TEST

START_TEST(why_no_rows)
{
    struct rp_why_facts w = {.event_seen = true, .vantage_seen = true};
    ck_assert_str_eq(why("eu tcp lost == 0 at withdraw fra", &w),
                     "no rows matched: no tcp probes from eu");
    w.vantage_seen = false;
    ck_assert_str_eq(why("eu tcp lost == 0 at withdraw fra", &w),
                     "no rows matched: no probes from eu");
    w.event_seen = false;
    ck_assert_str_eq(why("eu tcp lost == 0 at withdraw fra#2", &w),
                     "no rows matched: no event withdraw fra#2 in events.csv");
}
END_TEST

START_TEST(why_value_and_answers)
{
    struct ah_metrics_row r = quiet();
    r.lost = 12;
    r.after = "nyc";
    r.switch_ms = 812.0;
    struct rp_why_facts w = {.row = &r};
    ck_assert_str_eq(why("eu udp switch_ms <= 500 at withdraw fra", &w),
                     "switch_ms 812.000 is above 500: 12/100 lost, answered by ams then nyc");
    ck_assert_str_eq(why("eu udp after withdraw fra answered-by lon", &w),
                     "answered by nyc, not lon (12/100 lost; answered by nyc at the end of the "
                     "window)");
    r.switch_ms = NAN;
    r.after = "ams";
    ck_assert_str_eq(why("eu udp switch_ms <= 500 at withdraw fra", &w),
                     "no switch: answered by ams before and ams after the event");
    w.answers = 3;
    ck_assert_str_eq(why("eu udp never-answered-by fra at withdraw fra", &w),
                     "fra answered 3 probes in the window");
    w.direct_withdraw = true;
    r.lost = 0;
    ck_assert_str_eq(why("eu udp detect_ms < 10 at withdraw fra", &w),
                     "the lab moves the route itself, so nothing is detected");
}
END_TEST

START_TEST(why_bounded)
{
    struct ah_metrics_row r = quiet();
    r.probes = r.lost = 5;
    struct rp_why_facts w = {.row = &r, .route_now = "syd"};
    struct expect e;
    char err[256], buf[16];
    unsigned off;
    ck_assert_int_eq(expect_parse("eu udp lost == 0 at withdraw fra", &e, err, sizeof err, &off),
                     0);
    ck_assert_uint_eq(rp_why_sentence(buf, sizeof buf, &e, &w), 15);
    ck_assert_str_eq(buf, "5/5 lost: the r");
}
END_TEST

/* The RTT plots' histograms: a percentile within the documented ±3.2 % of
 * the exact nearest-rank one, 0 kept as 0, and huge values bounded. */
START_TEST(rtt_percentile_within_a_bin)
{
    uint64_t v[1000];
    for (size_t i = 0; i < 1000; i++)
        v[i] = 100 + i * 37; /* 100 µs .. 37.1 ms */
    for (double p = 1; p <= 100; p += 7) {
        size_t rank = (size_t)ceil(p / 100.0 * 1000);
        double exact = (double)v[rank - 1] / 1000.0, got = rp_rtt_percentile(v, 1000, p);
        ck_assert_msg(fabs(got - exact) <= 0.032 * exact, "p%.0f: %f vs %f", p, got, exact);
    }
    uint64_t z[3] = {0, 0, 5};
    ck_assert_double_eq(rp_rtt_percentile(z, 3, 50), 0.0);
    uint64_t big[1] = {UINT64_MAX};
    ck_assert(isfinite(rp_rtt_percentile(big, 1, 50)));
    ck_assert(isnan(rp_rtt_percentile(z, 0, 50)));
}
END_TEST

static Suite *cards_suite(void)
{
    Suite *s = suite_create("report_cards");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, classify_quiet_row_unaffected);
    tcase_add_test(tc, classify_each_cost_affected);
    tcase_add_test(tc, classify_no_probe_no_data);
    tcase_add_test(tc, labels_carry_arguments);
    tcase_add_test(tc, why_all_lost_names_the_route);
    tcase_add_test(tc, why_no_rows);
    tcase_add_test(tc, why_value_and_answers);
    tcase_add_test(tc, why_bounded);
    tcase_add_test(tc, rtt_percentile_within_a_bin);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(cards_suite)
