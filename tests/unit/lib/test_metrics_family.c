/* Unit tests for the address family in the failover metrics' group key
 * (lib/metrics*.c): the probes and connections of one vantage, transport and
 * service to an IPv4 and an IPv6 target make two groups, each with its own
 * rows, sorted IPv4 first, and each with figures of its own probes only. */
#include "metrics_test.h"

#include <errno.h>

/* A probe of eu (UDP DNS, flow 1) of family f; node NULL: a timeout. */
static void probe(struct ah_metrics *m, uint64_t rel, enum ah_family f, const char *node)
{
    struct ah_metrics_probe p = {
        .ts_ns = T0 + rel,
        .vantage = "eu",
        .transport = AH_TR_UDP,
        .service = AH_SVC_DNS,
        .conn = 1,
        .result = node ? AH_RES_OK : AH_RES_TIMEOUT,
        .node = node,
        .family = f,
    };
    ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
}

/* eu probes both families every 100 ms; withdraw ams at 2 s moves IPv4 to
 * nyc after 200 ms, while IPv6 stays unanswered until 3 s, then lon. */
START_TEST(rows_per_family)
{
    struct ah_metrics *m = metrics_mk(4 * S, false);
    metrics_event(m, 2 * S, "withdraw", "ams", "");
    for (uint64_t t = 0; t < 4 * S; t += 100 * MS) {
        probe(m, t, AH_FAM_IPV6, t < 2 * S ? "ams" : t < 3 * S ? NULL : "lon");
        probe(m, t + 1, AH_FAM_IPV4, t < 2 * S ? "ams" : t < 2200 * MS ? NULL : "nyc");
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_families(m), 3u);
    ck_assert_uint_eq(ah_metrics_nrows(m), 4);
    /* Run rows, then the withdraw's; IPv4 before IPv6 in each. */
    const enum ah_family order[] = {AH_FAM_IPV4, AH_FAM_IPV6, AH_FAM_IPV4, AH_FAM_IPV6};
    for (size_t i = 0; i < 4; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        ck_assert_int_eq(r->family, order[i]);
        ck_assert_str_eq(r->vantage, "eu");
        ck_assert_str_eq(r->event, i < 2 ? "run" : "withdraw");
    }
    const struct ah_metrics_row *r4 = ah_metrics_row(m, 2);
    ck_assert_uint_eq(r4->probes, 20);
    ck_assert_uint_eq(r4->lost, 2);
    ck_assert_str_eq(r4->before, "ams");
    ck_assert_str_eq(r4->after, "nyc");
    ck_ms(r4->outage_ms, 200.0);
    const struct ah_metrics_row *r6 = ah_metrics_row(m, 3);
    ck_assert_uint_eq(r6->probes, 20);
    ck_assert_uint_eq(r6->lost, 10);
    ck_assert_str_eq(r6->after, "lon");
    ck_ms(r6->outage_ms, 1000.0);
    /* The flow ids are the same number in both families: no flip between
     * them (ams in IPv6 next to nyc in IPv4 is not a change of node). */
    ck_assert_uint_eq(ah_metrics_row(m, 0)->flips, 1);
    ck_assert_uint_eq(ah_metrics_row(m, 1)->flips, 1);
    ah_metrics_free(m);
}
END_TEST

/* Connections go to the TCP group of their own family. */
START_TEST(connections_per_family)
{
    struct ah_metrics *m = metrics_mk(4 * S, false);
    metrics_event(m, 2 * S, "withdraw", "ams", "");
    for (int f = 0; f < AH_FAM_COUNT; f++) {
        struct ah_metrics_conn c = {
            .conn = 1,
            .vantage = "eu",
            .service = AH_SVC_ECHO,
            .opened_ns = T0 + S,
            .closed_ns = f == AH_FAM_IPV6 ? T0 + 2500 * MS : 0,
            .node = "ams",
            .reason = f == AH_FAM_IPV6 ? AH_REASON_RESET : AH_REASON_END,
            .probes_ok = 10,
            .family = (enum ah_family)f,
        };
        ck_assert_int_eq(ah_metrics_add_conn(m, &c), 0);
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_nrows(m), 4);
    const struct ah_metrics_row *r4 = ah_metrics_row(m, 2), *r6 = ah_metrics_row(m, 3);
    ck_assert_int_eq(r4->family, AH_FAM_IPV4);
    ck_assert_int_eq(r6->family, AH_FAM_IPV6);
    ck_assert_uint_eq(r4->conns_at_event, 1);
    ck_assert_uint_eq(r4->conns_broken, 0);
    ck_assert_uint_eq(r6->conns_at_event, 1);
    ck_assert_uint_eq(r6->conns_broken, 1);
    ck_ms(r6->break_ms_max, 500.0);
    ah_metrics_free(m);
}
END_TEST

/* One family only: the mask says so, and a family out of range is refused. */
START_TEST(one_family)
{
    struct ah_metrics *m = metrics_mk(S, false);
    probe(m, 0, AH_FAM_IPV6, "ams");
    struct ah_metrics_probe bad = {.ts_ns = T0 + 1,
                                   .vantage = "eu",
                                   .transport = AH_TR_UDP,
                                   .service = AH_SVC_DNS,
                                   .result = AH_RES_TIMEOUT,
                                   .family = AH_FAM_COUNT};
    ck_assert_int_eq(ah_metrics_add_probe(m, &bad), -EINVAL);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_families(m), 1u << AH_FAM_IPV6);
    ck_assert_uint_eq(ah_metrics_nrows(m), 1);
    ah_metrics_free(m);
}
END_TEST

static Suite *metrics_family_suite(void)
{
    Suite *s = suite_create("metrics_family");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rows_per_family);
    tcase_add_test(tc, connections_per_family);
    tcase_add_test(tc, one_family);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(metrics_family_suite)
