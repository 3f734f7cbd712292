/* Unit tests for both address families in a lab file and its expectations:
 * the probes.families key (defaults, restriction, FILE:LINE:COL errors),
 * the family word of an expectation's scope (parse, check against the lab)
 * and its verdicts on metrics holding an IPv4 and an IPv6 group. */
#include <check.h>
#include <errno.h>
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

/* A lab with anycast ANYCAST and the probes section PROBES; the expect
 * entries follow from line 15. */
static int load(const char *anycast, const char *probes, const char *expect, struct lab **lab,
                struct lab_diag *d)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "name: f\n"
             "anycast: %s\n"
             "duration: 4s\n"
             "nodes:\n"
             "  - name: ams\n"
             "  - name: nyc\n"
             "vantages:\n"
             "  - name: eu\n"
             "  - name: us\n"
             "%s\n"
             "drill:\n"
             "  - {at: 2s, withdraw: ams}\n"
             "expect:\n"
             "  - \"eu udp lost < 5\"\n"
             "%s",
             anycast, probes, expect);
    *lab = NULL;
    return lab_load_buffer("f.yaml", buf, strlen(buf), lab, d);
}

#define DUAL "[198.51.100.1, \"2001:db8:53::1\", 198.51.100.2]"

START_TEST(families_default_all)
{
    struct lab *lab;
    struct lab_diag d = {0};
    ck_assert_int_eq(load(DUAL, "", "", &lab, &d), 0);
    ck_assert(lab->probe_family[AH_FAM_IPV4] && lab->probe_family[AH_FAM_IPV6]);
    ck_assert_uint_eq(lab_probed_count(lab), 3);
    ck_assert_int_eq(lab_anycast_family(lab, 1), AH_FAM_IPV6);
    ck_assert_int_eq(lab_anycast_family(lab, 2), AH_FAM_IPV4);
    lab_free(lab);
    /* An IPv4-only lab probes its one family. */
    ck_assert_int_eq(load("198.51.100.1", "", "", &lab, &d), 0);
    ck_assert(lab->probe_family[AH_FAM_IPV4] && !lab->probe_family[AH_FAM_IPV6]);
    ck_assert_uint_eq(lab_probed_count(lab), 1);
    lab_free(lab);
    ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(families_restrict)
{
    struct lab *lab;
    struct lab_diag d = {0};
    /* Only families: both transports keep their defaults. */
    ck_assert_int_eq(load(DUAL, "probes: {families: [ipv6]}", "", &lab, &d), 0);
    ck_assert(!lab->probe_family[AH_FAM_IPV4] && lab->probe_family[AH_FAM_IPV6]);
    ck_assert(lab->udp.enabled && lab->tcp.enabled);
    ck_assert_uint_eq(lab_probed_count(lab), 1);
    ck_assert(!lab_probes_address(lab, 0) && lab_probes_address(lab, 1));
    ck_assert(!lab_probes_address(lab, 2) && !lab_probes_address(lab, 3));
    lab_free(lab);
    ck_assert_int_eq(load(DUAL, "probes: {families: ipv4, udp: {rate: 10}}", "", &lab, &d), 0);
    ck_assert(lab->probe_family[AH_FAM_IPV4] && !lab->probe_family[AH_FAM_IPV6]);
    ck_assert(lab->udp.enabled && !lab->tcp.enabled);
    ck_assert_uint_eq(lab_probed_count(lab), 2);
    lab_free(lab);
    ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(families_errors)
{
    struct lab *lab;
    struct lab_diag d = {0};
    ck_assert_int_eq(load(DUAL, "probes: {families: []}", "", &lab, &d), -EINVAL);
    ck_assert_int_eq(load(DUAL, "probes: {families: [ipv4, ipv4]}", "", &lab, &d), -EINVAL);
    ck_assert_int_eq(load(DUAL, "probes: {families: [4]}", "", &lab, &d), -EINVAL);
    ck_assert_int_eq(load("198.51.100.1", "probes: {families: [ipv6]}", "", &lab, &d), -EINVAL);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, 4);
    ck_assert_str_eq(d.msgs[0], "f.yaml:10:20: probes.families: empty list: give ipv4, ipv6 or "
                                "both");
    ck_assert_str_eq(d.msgs[1], "f.yaml:10:27: probes.families: ipv4 is listed twice");
    ck_assert_str_eq(d.msgs[2], "f.yaml:10:21: probes.families: unknown value \"4\" (one of: "
                                "ipv4, ipv6)");
    ck_assert_str_eq(d.msgs[3], "f.yaml:10:21: probes.families: no anycast address is ipv6");
    lab_diag_free(&d);
}
END_TEST

START_TEST(scope_family)
{
    struct expect e;
    unsigned off;
    ck_assert_int_eq(parse("eu udp lost == 0", &e, &off), 0);
    ck_assert_int_eq(e.family, -1);
    ck_assert_int_eq(parse("eu udp ipv6 lost == 0 at withdraw ams", &e, &off), 0);
    ck_assert_int_eq(e.family, AH_FAM_IPV6);
    ck_assert_int_eq(e.service, -1);
    ck_assert_uint_eq(e.off_family, 7);
    ck_assert_str_eq(e.metric, "lost");
    ck_assert_int_eq(parse("* * dns ipv4 after withdraw ams answered-by nyc", &e, &off), 0);
    ck_assert_int_eq(e.family, AH_FAM_IPV4);
    ck_assert_int_eq(e.service, AH_SVC_DNS);
    ck_assert_int_eq(parse("eu tcp * ipv6 never-answered-by ams", &e, &off), 0);
    ck_assert_int_eq(e.family, AH_FAM_IPV6);
    ck_assert_int_eq(e.kind, EXPECT_NEVER_ANSWERED_BY);
    /* A family word with nothing after it is a scope without a claim. */
    ck_assert_int_eq(parse("eu udp dns ipv6", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 15);
    /* Only the words of the summary column. */
    ck_assert_int_eq(parse("eu udp v6 lost == 0", &e, &off), -EINVAL);
    ck_assert_uint_eq(off, 7);
}
END_TEST

START_TEST(scope_family_checked)
{
    struct lab *lab;
    struct lab_diag d = {0};
    ck_assert_int_eq(load(DUAL, "", "  - \"eu udp ipv6 lost < 5\"\n", &lab, &d), 0);
    ck_assert_int_eq(expect_validate_lab(lab, &d), 0);
    lab_free(lab);
    ck_assert_int_eq(load(DUAL, "probes: {families: [ipv4]}",
                          "  - \"eu udp ipv6 lost < 5\"\n  - \"eu * ipv4 lost < 5\"\n", &lab, &d),
                     0);
    ck_assert_int_eq(expect_validate_lab(lab, &d), -EINVAL);
    lab_free(lab);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], "f.yaml:15:13: expect: the lab probes no ipv6 address");
    lab_diag_free(&d);
}
END_TEST

/* Metrics of a dual-stack vantage: its IPv4 probes all answered by ams,
 * its IPv6 probes unanswered from the withdraw at 2 s on. */
static struct ah_metrics *dual_metrics(void)
{
    struct ah_metrics_cfg cfg = {.start_ns = T0, .end_ns = T0 + 4 * S};
    struct ah_metrics *m = NULL;
    ck_assert_int_eq(ah_metrics_new(&m, &cfg), 0);
    struct ah_metrics_event ev = {T0 + 2 * S, "withdraw", "ams", ""};
    ck_assert_int_eq(ah_metrics_add_event(m, &ev), 0);
    for (uint64_t t = 0; t < 4 * S; t += 100 * MS) {
        for (int f = 0; f < AH_FAM_COUNT; f++) {
            bool ok = f == AH_FAM_IPV4 || t < 2 * S;
            struct ah_metrics_probe p = {
                .ts_ns = T0 + t + (uint64_t)f,
                .vantage = "eu",
                .transport = AH_TR_UDP,
                .service = AH_SVC_DNS,
                .conn = 1,
                .result = ok ? AH_RES_OK : AH_RES_TIMEOUT,
                .node = ok ? "ams" : NULL,
                .family = (enum ah_family)f,
            };
            ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
        }
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    return m;
}

START_TEST(verdicts_by_family)
{
    struct ah_metrics *m = dual_metrics();
    struct expect_verdict v = judge(m, "eu udp ipv4 lost == 0 at withdraw ams");
    ck_assert(v.pass);
    ck_assert_str_eq(v.where, "eu udp dns ipv4 at withdraw ams");
    v = judge(m, "eu udp ipv6 lost == 0 at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.measured, "20");
    ck_assert_str_eq(v.where, "eu udp dns ipv6 at withdraw ams");
    /* Without a family word: every family, and the IPv6 row fails it. */
    v = judge(m, "eu udp lost == 0 at withdraw ams");
    ck_assert(!v.pass);
    ck_assert_str_eq(v.where, "eu udp dns ipv6 at withdraw ams");
    v = judge(m, "eu udp ipv6 before withdraw ams answered-by ams");
    ck_assert(v.pass);
    v = judge(m, "eu udp ipv4 after withdraw ams answered-by ams");
    ck_assert(v.pass);
    ah_metrics_free(m);
}
END_TEST

static Suite *family_suite(void)
{
    Suite *s = suite_create("family");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, families_default_all);
    tcase_add_test(tc, families_restrict);
    tcase_add_test(tc, families_errors);
    tcase_add_test(tc, scope_family);
    tcase_add_test(tc, scope_family_checked);
    tcase_add_test(tc, verdicts_by_family);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(family_suite)
