/* Unit tests for the expectation language (harness/lab/expect.c): parsing with
 * word offsets, validation against a lab with FILE:LINE:COL messages, and
 * verdicts on hand-built metrics. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ah/metrics.h"
#include "tests/unit/check_main.h"
#include "harness/lab/expect.h"
#include "harness/lab/lab.h"
#include "expect_test.h"

#include "ah/clock.h"

#define S  AH_NS_PER_S
#define MS AH_NS_PER_MS
#define T0 (1700000000ULL * S)

START_TEST(parse_forms)
{
    struct expect e;
    unsigned off;
    ck_assert_int_eq(parse("eu udp after withdraw ams answered-by nyc", &e, &off), 0);
    ck_assert_int_eq(e.kind, EXPECT_AFTER_ANSWERED_BY);
    ck_assert_str_eq(e.vantage, "eu");
    ck_assert_int_eq(e.transport, AH_TR_UDP);
    ck_assert_int_eq(e.service, -1);
    ck_assert_str_eq(e.at.verb, "withdraw");
    ck_assert_str_eq(e.at.node, "ams");
    ck_assert_uint_eq(e.at.occ, 1);
    ck_assert_str_eq(e.node, "nyc");

    ck_assert_int_eq(parse("* tcp echo conns_broken <= 10 at withdraw sin#3", &e, &off), 0);
    ck_assert_int_eq(e.kind, EXPECT_METRIC);
    ck_assert_str_eq(e.vantage, "*");
    ck_assert_int_eq(e.service, AH_SVC_ECHO);
    ck_assert_str_eq(e.metric, "conns_broken");
    ck_assert_int_eq(e.op, EXPECT_LE);
    ck_assert(e.value == 10.0);
    ck_assert_uint_eq(e.at.occ, 3);
    ck_assert_str_eq(e.at.node, "sin");

    ck_assert_int_eq(parse("us * flips <= 2", &e, &off), 0);
    ck_assert_int_eq(e.transport, -1);
    ck_assert(e.at.run);
    ck_assert_int_eq(parse("  eu   udp dns   outage_ms < 49.5 at run ", &e, &off), 0);
    ck_assert(e.at.run);
    ck_assert(e.value == 49.5);
    ck_assert_int_eq(parse("eu * never-answered-by sin", &e, &off), 0);
    ck_assert_int_eq(e.kind, EXPECT_NEVER_ANSWERED_BY);
    ck_assert(e.at.run);
    ck_assert_int_eq(parse("eu * * never-answered-by ams at withdraw ams", &e, &off), 0);
    ck_assert(!e.at.run);
    ck_assert_int_eq(parse("eu udp before withdraw ams answered-by ams", &e, &off), 0);
    ck_assert_int_eq(e.kind, EXPECT_BEFORE_ANSWERED_BY);
    ck_assert_int_eq(parse("eu udp lost == 0", &e, &off), 0);
    ck_assert_int_eq(e.op, EXPECT_EQ);
    ck_assert(!e.relative);
    ck_assert_int_eq(parse("eu udp rtt_ms_p50 < 50 at delay ams", &e, &off), 0);
    ck_assert_str_eq(e.metric, "rtt_ms_p50");
    ck_assert(!e.relative);
    ck_assert_int_eq(parse("eu udp rtt_ms_p99 < 2x baseline at delay ams", &e, &off), 0);
    ck_assert(e.relative);
    ck_assert(e.value == 2.0);
    ck_assert_str_eq(e.at.verb, "delay");
    ck_assert_int_eq(parse("eu udp rtt_ms_max <= 1.5 x baseline", &e, &off), 0);
    ck_assert(e.relative);
    ck_assert(e.value == 1.5);
    ck_assert(e.at.run);
}
END_TEST

START_TEST(parse_errors)
{
    struct expect e;
    unsigned off;
    /* Each error points at the word that is wrong. */
    ck_assert_int_eq(parse("eu sctp lost < 1", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 3);
    ck_assert_int_eq(parse("eu udp lots < 1", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 7);
    ck_assert_int_eq(parse("eu udp lost ~ 1", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 12);
    ck_assert_int_eq(parse("eu udp lost < 1x", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 14);
    ck_assert_int_eq(parse("eu udp lost < 1 at withdraw", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 19);
    ck_assert_int_eq(parse("eu udp lost < 1 at withdraw ams#0", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 31);
    ck_assert_int_eq(parse("eu udp after withdraw ams answered nyc", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 26);
    ck_assert_int_eq(parse("eu udp after run answered-by nyc", &e, &off), -EINVAL);
    ck_assert_int_eq(parse("eu udp after withdraw ams answered-by", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 37);
    ck_assert_int_eq(parse("eu udp rtt_ms_p99 < 2x at delay ams", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 23);
    ck_assert_int_eq(parse("eu udp lost < 2 x baseline", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 14);
    ck_assert_int_eq(parse("eu udp flips <= 2 extra", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 18);
    ck_assert_int_eq(parse("eu", &e, &off), -EINVAL);
    ck_assert_int_eq(parse("", &e, &off), -EINVAL);
}
END_TEST

static const char lab_text[] =
    "name: t\n"
    "anycast: [198.51.100.53]\n"
    "routing: static\n"
    "duration: 12s\n"
    "nodes:\n"
    "  - name: ams\n"
    "  - name: nyc\n"
    "  - name: sin\n"
    "vantages:\n"
    "  - name: eu\n"
    "  - name: us\n"
    "probes:\n"
    "  udp: {service: dns, rate: 100, flows: 2}\n"
    "  tcp: {service: echo, connections: 2, interval: 100ms}\n"
    "drill:\n"
    "  - {at: 2s, withdraw: ams}\n"
    "  - {at: 10s, flap: {node: sin, count: 2, down: 200ms, up: 300ms}}\n"
    "expect:\n";

static int validate(const char *expect_lines, struct lab_diag *d)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", lab_text, expect_lines);
    struct lab *lab = NULL;
    struct lab_diag ld = {0};
    int rc = lab_load_buffer("t.yaml", buf, strlen(buf), &lab, &ld);
    ck_assert_msg(rc == 0, "lab: %s", ld.n ? ld.msgs[0] : "?");
    lab_diag_free(&ld);
    rc = expect_validate_lab(lab, d);
    lab_free(lab);
    return rc;
}

START_TEST(validate_lab)
{
    struct lab_diag d = {0};
    ck_assert_int_eq(validate("  - \"eu udp after withdraw ams answered-by nyc\"\n"
                              "  - \"* tcp conns_broken <= 50 at announce sin#2\"\n"
                              "  - \"us udp dns outage_ms < 50 at withdraw sin#2\"\n",
                              &d),
                     0);
    ck_assert_uint_eq(d.n, 0);
    /* Line 19 is the first expect entry; col 6 is the text after the quote. */
    ck_assert_int_eq(validate("  - \"asia udp lost < 1\"\n"
                              "  - \"eu udp after withdraw ams answered-by lon\"\n"
                              "  - \"eu udp lost < 1 at withdraw sin#3\"\n"
                              "  - \"eu udp conns_broken < 1\"\n"
                              "  - \"eu tcp dns lost < 1\"\n"
                              "  - \"eu udp lost < 1 at flap sin\"\n"
                              "  - \"eu udp lost < 1 at stop ams\"\n"
                              "  - \"eu udp lost <\"\n"
                              "  - \"eu tcp flows_moved_collateral == 0 at withdraw ams\"\n"
                              "  - \"eu udp flows_moved_collateral == 0\"\n",
                              &d),
                     -EINVAL);
    ck_assert_uint_eq(d.n, 10);
    ck_assert_str_eq(d.msgs[0], "t.yaml:19:6: expect: unknown vantage \"asia\" (vantages: eu, us)");
    ck_assert_str_eq(d.msgs[1],
                     "t.yaml:20:44: expect: unknown node \"lon\" (nodes: ams, nyc, sin)");
    ck_assert_str_eq(d.msgs[2], "t.yaml:21:25: expect: the drill has only 2 such events");
    ck_assert_str_eq(d.msgs[3], "t.yaml:22:13: expect: conns_broken applies to tcp only");
    ck_assert_str_eq(d.msgs[4], "t.yaml:23:13: expect: no tcp probes of service dns in this lab");
    ck_assert_ptr_nonnull(strstr(d.msgs[5], "t.yaml:24:25: expect: a flap is played"));
    ck_assert_str_eq(d.msgs[6], "t.yaml:25:25: expect: the drill has no event \"stop ams\"");
    ck_assert_str_eq(d.msgs[7], "t.yaml:26:19: expect: expected a number");
    ck_assert_str_eq(d.msgs[8], "t.yaml:27:13: expect: flows_moved_collateral applies to udp only");
    ck_assert_str_eq(
        d.msgs[9],
        "t.yaml:28:13: expect: flows_moved_collateral needs `at EVENT` (the run has none)");
    ck_assert_int_eq(validate("  - \"* tcp conns_broken_collateral == 0 at withdraw ams\"\n"
                              "  - \"eu udp flows_moved_collateral > 0 at announce sin#2\"\n",
                              &d),
                     0);
    lab_diag_free(&d);
}
END_TEST

/* Metrics of a small run: eu moves from ams to nyc at 2 s with a 20 ms gap
 * in UDP answers, its RTT from 1 ms to 300 ms; us stays on nyc at 0.5 ms. */
static struct ah_metrics *run_metrics(void)
{
    struct ah_metrics_cfg cfg = {.start_ns = T0, .end_ns = T0 + 4 * S};
    struct ah_metrics *m = NULL;
    ck_assert_int_eq(ah_metrics_new(&m, &cfg), 0);
    struct ah_metrics_event e = {T0 + 2 * S, "withdraw", "ams", ""};
    ck_assert_int_eq(ah_metrics_add_event(m, &e), 0);
    for (uint64_t t = 0; t < 4 * S; t += 10 * MS) {
        const char *eu = t < 2 * S ? "ams" : t < 2 * S + 20 * MS ? NULL : "nyc";
        struct ah_metrics_probe p = {T0 + t,     "eu",       AH_TR_UDP,
                                     AH_SVC_DNS, 1,          eu ? AH_RES_OK : AH_RES_TIMEOUT,
                                     eu,         eu != NULL, t < 2 * S ? 1000 : 300000,
                                     AH_FAM_IPV4};
        ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
        struct ah_metrics_probe q = {T0 + t + 1, "us",  AH_TR_UDP, AH_SVC_DNS, 1,
                                     AH_RES_OK,  "nyc", true,      500,        AH_FAM_IPV4};
        ck_assert_int_eq(ah_metrics_add_probe(m, &q), 0);
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    return m;
}

START_TEST(verdicts)
{
    struct ah_metrics *m = run_metrics();
    struct expect_verdict v;
    v = judge(m, "eu udp after withdraw ams answered-by nyc");
    ck_assert(v.pass);
    ck_assert_str_eq(v.measured, "nyc");
    v = judge(m, "* udp after withdraw ams answered-by nyc");
    ck_assert(v.pass);
    v = judge(m, "eu udp after withdraw ams answered-by sin");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "nyc");
    ck_assert_str_eq(v.where, "eu udp dns at withdraw ams");
    v = judge(m, "eu udp before withdraw ams answered-by ams");
    ck_assert(v.pass);
    /* The outage: first failure at 2.000 s, next ok at 2.020 s. */
    v = judge(m, "eu udp outage_ms < 50 at withdraw ams");
    ck_assert(v.pass);
    ck_assert_str_eq(v.measured, "20");
    v = judge(m, "eu udp outage_ms < 10 at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "20");
    /* Over both vantages the failing one is named. */
    v = judge(m, "* udp lost == 0 at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "2");
    ck_assert_str_eq(v.where, "eu udp dns at withdraw ams");
    /* The passing value nearest the bound is reported. */
    v = judge(m, "* udp lost <= 5 at withdraw ams");
    ck_assert(v.pass);
    ck_assert_str_eq(v.measured, "2");
    v = judge(m, "eu udp switch_ms <= 20 at withdraw ams");
    ck_assert(v.pass);
    ck_assert_str_eq(v.measured, "20");
    v = judge(m, "us udp switch_ms < 1000 at withdraw ams"); /* us never switched */
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "none");
    v = judge(m, "eu udp flips <= 1");
    ck_assert(v.pass);
    v = judge(m, "eu udp flips == 0");
    ck_assert(!v.pass);
    v = judge(m, "us * never-answered-by ams");
    ck_assert(v.pass);
    v = judge(m, "eu * never-answered-by ams at withdraw ams");
    ck_assert(v.pass);
    v = judge(m, "eu * never-answered-by ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "200 answers");
    /* No TCP rows: nothing to judge is a failure, not a pass. */
    v = judge(m, "eu tcp conns_broken == 0 at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "no data");
    v = judge(m, "asia udp lost == 0");
    ck_assert(!v.pass);
    /* RTT, absolute and against the second before the event. */
    v = judge(m, "eu udp rtt_ms_p50 > 250 at withdraw ams");
    ck_assert(v.pass);
    ck_assert_str_eq(v.measured, "300");
    v = judge(m, "eu udp rtt_ms_p99 < 50 at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "300");
    v = judge(m, "eu udp base_rtt_ms_max == 1 at withdraw ams");
    ck_assert(v.pass);
    v = judge(m, "eu udp rtt_ms_p99 < 2x baseline at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "300, baseline 1");
    v = judge(m, "us udp rtt_ms_p99 < 2x baseline at withdraw ams");
    ck_assert(v.pass);
    ck_assert_str_eq(v.measured, "0.500, baseline 0.500");
    v = judge(m, "* udp rtt_ms_max >= 100 x baseline at withdraw ams");
    ck_assert(!v.pass); /* us did not slow down */
    ck_assert_str_eq(v.where, "us udp dns at withdraw ams");
    /* The run row has no baseline. */
    v = judge(m, "us udp rtt_ms_p50 < 2x baseline");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "0.500, no baseline");
    ah_metrics_free(m);
}
END_TEST

/* Collateral damage as expectation metrics: at withdraw n1, flow 1 leaves
 * n1 (its own), flow 2 moves n2 -> n3 (collateral); a TCP connection on n3
 * is reset 5 ms after the withdraw (collateral). */
START_TEST(collateral_verdicts)
{
    struct ah_metrics_cfg cfg = {.start_ns = T0, .end_ns = T0 + 2 * S};
    struct ah_metrics *m = NULL;
    ck_assert_int_eq(ah_metrics_new(&m, &cfg), 0);
    struct ah_metrics_event e = {T0 + 1 * S, "withdraw", "n1", ""};
    ck_assert_int_eq(ah_metrics_add_event(m, &e), 0);
    for (uint64_t t = 0; t < 2 * S; t += 10 * MS) {
        for (uint64_t f = 1; f <= 2; f++) {
            const char *n = f == 1 ? (t < S ? "n1" : "n2") : (t < S ? "n2" : "n3");
            struct ah_metrics_probe p = {T0 + t + f, "client", AH_TR_UDP, AH_SVC_DNS, f,
                                         AH_RES_OK,  n,        false,     0,          AH_FAM_IPV4};
            ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
        }
    }
    struct ah_metrics_conn c = {7,    "client",        AH_SVC_ECHO, T0 + 100 * MS, T0 + S + 5 * MS,
                                "n3", AH_REASON_RESET, 3,           AH_FAM_IPV4};
    ck_assert_int_eq(ah_metrics_add_conn(m, &c), 0);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    struct expect_verdict v = judge(m, "client udp flows_moved_collateral == 1 at withdraw n1");
    ck_assert(v.pass);
    v = judge(m, "client udp flows_moved_collateral == 0 at withdraw n1");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "1");
    /* Without `at` the claim is on the run row, which has no event node and
     * so no collateral figure: nothing to judge. */
    v = judge(m, "client udp flows_moved_collateral > 0");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "no data");
    v = judge(m, "client tcp conns_broken_collateral > 0 at withdraw n1");
    ck_assert(v.pass);
    v = judge(m, "client tcp conns_broken_collateral == 0 at withdraw n1");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "1");
    /* A UDP figure on TCP rows: nothing to judge. */
    v = judge(m, "client tcp flows_moved_collateral == 0 at withdraw n1");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "no data");
    ah_metrics_free(m);
}
END_TEST

/* An expectation tied to a late step is "not measured": a verdict of its own,
 * not a failure with "none". */
START_TEST(not_measured_verdict)
{
    struct expect e;
    char err[128], ref[64];
    unsigned off;
    struct expect_verdict v = {.pass = true};

    ck_assert_int_eq(
        expect_parse("eu udp after withdraw ams answered-by nyc", &e, err, sizeof err, &off), 0);
    ck_assert_int_eq(expect_step_ref(&e, ref, sizeof ref), 0);
    ck_assert_str_eq(ref, "withdraw ams");
    ck_assert_int_eq(expect_parse("eu udp lost == 0 at withdraw ams#2", &e, err, sizeof err, &off),
                     0);
    ck_assert_int_eq(expect_step_ref(&e, ref, sizeof ref), 0);
    ck_assert_str_eq(ref, "withdraw ams#2");
    ck_assert_int_eq(expect_step_ref(&e, ref, 4), -ENOSPC);
    ck_assert_int_eq(expect_parse("eu udp lost == 0 at withdraw ams#1", &e, err, sizeof err, &off),
                     0);
    ck_assert_int_eq(expect_step_ref(&e, ref, sizeof ref), 0);
    ck_assert_str_eq(ref, "withdraw ams");
    ck_assert_int_eq(expect_parse("eu udp lost == 0", &e, err, sizeof err, &off), 0);
    ck_assert_int_eq(expect_step_ref(&e, ref, sizeof ref), -ENOENT); /* over the run */

    expect_not_measured(&v, "withdraw ams", 7712500000ULL, 20000000ULL);
    ck_assert(!v.pass);
    ck_assert(v.not_measured);
    ck_assert_str_eq(v.measured, "not measured");
    ck_assert_str_eq(v.where, "withdraw ams started 7712.500 ms late (tolerance 20ms)");
    ck_assert_str_eq(expect_verdict_name(&v), "not measured");
    expect_not_measured(&v, "withdraw ams", UINT64_MAX, 1);
    ck_assert_str_eq(v.where, "withdraw ams started later than the tolerance (1ns)");
    v = (struct expect_verdict){.pass = true};
    ck_assert_str_eq(expect_verdict_name(&v), "pass");
    v.pass = false;
    ck_assert_str_eq(expect_verdict_name(&v), "fail");
}
END_TEST

/* A baseline run for baseline-run claims: eu's withdraw row had an outage
 * of 15 ms and 1 lost probe; its switch_ms was empty; us has no rows. */
static int fake_baseline(void *arg, const struct ah_metrics_row *r, const char *metric, double *out)
{
    int *calls = arg;
    (*calls)++;
    if (strcmp(r->vantage, "eu") != 0 || strcmp(r->event, "withdraw") != 0)
        return -ENOENT;
    if (strcmp(metric, "switch_ms") == 0)
        return 0;
    *out = strcmp(metric, "outage_ms") == 0 ? 15 : 1;
    return 1;
}

static struct expect_verdict judge_bl(const struct ah_metrics *m, const char *text,
                                      const struct expect_baseline *bl)
{
    struct expect e;
    unsigned off;
    struct expect_verdict v;
    ck_assert_msg(parse(text, &e, &off) == 0, "parse %s", text);
    ck_assert(e.baseline_run);
    expect_eval_baseline(&e, m, bl, &v);
    return v;
}

START_TEST(baseline_run)
{
    struct expect e;
    unsigned off;
    char err[256];
    ck_assert_int_eq(parse("eu udp outage_ms <= baseline-run + 10 at withdraw ams", &e, &off), 0);
    ck_assert(e.baseline_run && !e.relative);
    ck_assert(e.factor == 1 && e.value == 10);
    ck_assert_str_eq(e.at.verb, "withdraw");
    ck_assert_int_eq(parse("eu udp outage_ms <= baseline-run - 2.5", &e, &off), 0);
    ck_assert(e.value == -2.5 && e.at.run);
    ck_assert_int_eq(parse("eu udp lost <= 1.5x baseline-run at withdraw ams", &e, &off), 0);
    ck_assert(e.baseline_run && e.factor == 1.5 && e.value == 0);
    ck_assert_int_eq(parse("eu udp lost <= 2 x baseline-run", &e, &off), 0);
    ck_assert(e.baseline_run && e.factor == 2);
    /* `baseline` (the second before the event) keeps its meaning. */
    ck_assert_int_eq(parse("eu udp rtt_ms_p99 < 2x baseline", &e, &off), 0);
    ck_assert(e.relative && !e.baseline_run);
    ck_assert_int_eq(expect_parse("eu udp lost <= baseline-run +", &e, err, sizeof err, &off),
                     -EINVAL);
    ck_assert_str_eq(err, "expected a number");
    ck_assert_int_eq(expect_parse("eu udp lost <= baseline-run + 2x", &e, err, sizeof err, &off),
                     -EINVAL);
    ck_assert_str_eq(err, "bad number `2x`");
    ck_assert_uint_eq(off, 30);
    ck_assert_int_eq(expect_parse("eu udp lost <= baseline-run * 2", &e, err, sizeof err, &off),
                     -EINVAL);
    ck_assert_str_eq(err, "unexpected `*` at the end");
    ck_assert_int_eq(expect_parse("eu udp lost <= 2x baselin", &e, err, sizeof err, &off), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "baseline-run"));

    struct ah_metrics *m = run_metrics();
    int calls = 0;
    struct expect_baseline bl = {fake_baseline, &calls};
    struct expect_verdict v;
    /* The outage here is 20 ms against 15 in the baseline. */
    v = judge_bl(m, "eu udp outage_ms <= baseline-run + 10 at withdraw ams", &bl);
    ck_assert(v.pass && !v.not_measured);
    ck_assert_str_eq(v.measured, "20, baseline-run 15");
    ck_assert_str_eq(v.where, "eu udp dns at withdraw ams");
    ck_assert_int_eq(calls, 1);
    v = judge_bl(m, "eu udp outage_ms <= baseline-run + 2 at withdraw ams", &bl);
    ck_assert(!v.pass && !v.not_measured);
    ck_assert_str_eq(v.measured, "20, baseline-run 15");
    v = judge_bl(m, "eu udp lost <= 2x baseline-run at withdraw ams", &bl);
    ck_assert(v.pass); /* 2 lost, 2 x 1 */
    v = judge_bl(m, "eu udp lost < 2x baseline-run at withdraw ams", &bl);
    ck_assert(!v.pass);
    /* A row the baseline lacks, or an empty value there: not measured. */
    v = judge_bl(m, "* udp outage_ms <= baseline-run + 10 at withdraw ams", &bl);
    ck_assert(v.not_measured && !v.pass);
    ck_assert_str_eq(v.measured, "not measured");
    ck_assert_str_eq(v.where, "us udp dns at withdraw ams: no such row in the baseline run");
    ck_assert_str_eq(expect_verdict_name(&v), "not measured");
    v = judge_bl(m, "eu udp switch_ms <= baseline-run at withdraw ams", &bl);
    ck_assert(v.not_measured);
    ck_assert_str_eq(v.where, "eu udp dns at withdraw ams: empty in the baseline run");
    v = judge_bl(m, "eu udp outage_ms <= baseline-run", NULL);
    ck_assert(v.not_measured);
    ck_assert_str_eq(v.where, "eu udp dns over the run: no --baseline run given");
    ah_metrics_free(m);
}
END_TEST

static Suite *expect_suite(void)
{
    Suite *s = suite_create("expect");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_forms);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, validate_lab);
    tcase_add_test(tc, verdicts);
    tcase_add_test(tc, not_measured_verdict);
    tcase_add_test(tc, baseline_run);
    tcase_add_test(tc, collateral_verdicts);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(expect_suite)
