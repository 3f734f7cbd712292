/* Unit tests for lib/stats.c: result words and errno classification, the RTT
 * histogram's percentiles against exactly computed ones, node counts, flips
 * per flow and the per-group counters. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/stats.h"
#include "tests/unit/check_main.h"

START_TEST(result_words)
{
    const char *want[] = {"ok",  "timeout",   "reset", "refused",    "unreachable",
                          "eof", "bad_reply", "error", "ratelimited"};
    for (int i = 0; i < AH_RES_COUNT; i++) {
        enum ah_result r;
        ck_assert_str_eq(ah_result_name(i), want[i]);
        ck_assert_int_eq(ah_result_parse(want[i], &r), 0);
        ck_assert_int_eq(r, i);
    }
    enum ah_result r;
    ck_assert_int_eq(ah_result_parse("lost", &r), -EINVAL);
    const char *reasons[] = {"end", "reset", "timeout", "eof", "refused", "unreachable", "error"};
    for (int i = 0; i < AH_REASON_COUNT; i++)
        ck_assert_str_eq(ah_reason_name(i), reasons[i]);
}
END_TEST

START_TEST(classify_errno)
{
    ck_assert_int_eq(ah_result_from_errno(0), AH_RES_OK);
    ck_assert_int_eq(ah_result_from_errno(-ECONNRESET), AH_RES_RESET);
    ck_assert_int_eq(ah_result_from_errno(ECONNRESET), AH_RES_RESET);
    ck_assert_int_eq(ah_result_from_errno(-EPIPE), AH_RES_RESET);
    ck_assert_int_eq(ah_result_from_errno(-ETIMEDOUT), AH_RES_TIMEOUT);
    ck_assert_int_eq(ah_result_from_errno(-ECONNREFUSED), AH_RES_REFUSED);
    ck_assert_int_eq(ah_result_from_errno(-ENETUNREACH), AH_RES_UNREACHABLE);
    ck_assert_int_eq(ah_result_from_errno(-EHOSTUNREACH), AH_RES_UNREACHABLE);
    ck_assert_int_eq(ah_result_from_errno(-EHOSTDOWN), AH_RES_UNREACHABLE);
    ck_assert_int_eq(ah_result_from_errno(-4095), AH_RES_EOF); /* UV_EOF */
    ck_assert_int_eq(ah_result_from_errno(-EACCES), AH_RES_ERROR);
    ck_assert_int_eq(ah_result_from_errno(-ENOMEM), AH_RES_ERROR);

    ck_assert_int_eq(ah_reason_from_result(AH_RES_OK), AH_REASON_END);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_RESET), AH_REASON_RESET);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_EOF), AH_REASON_EOF);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_TIMEOUT), AH_REASON_TIMEOUT);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_REFUSED), AH_REASON_REFUSED);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_UNREACHABLE), AH_REASON_UNREACHABLE);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_BAD_REPLY), AH_REASON_ERROR);
    ck_assert_int_eq(ah_reason_from_result(AH_RES_ERROR), AH_REASON_ERROR);

    ck_assert_str_eq(ah_errno_name(-ECONNREFUSED), "ECONNREFUSED");
    ck_assert_str_eq(ah_errno_name(EHOSTUNREACH), "EHOSTUNREACH");
    ck_assert_str_eq(ah_errno_name(-4095), "EOF");
    ck_assert_str_eq(ah_errno_name(9999), "E9999");
}
END_TEST

START_TEST(hist_buckets)
{
    /* Every value falls in the bucket whose range holds it, and bucket
     * widths stay within 1/64 of their values. */
    uint64_t vals[] = {0,   1,    127,    128,       129,        255,
                       256, 1000, 123456, 999999999, 1ull << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        unsigned b = ah_hist_bucket_of(vals[i]);
        ck_assert_uint_lt(b, AH_HIST_BUCKETS);
        ck_assert_uint_le(ah_hist_bucket_low(b), vals[i]);
        if (b + 1 < AH_HIST_BUCKETS)
            ck_assert_uint_gt(ah_hist_bucket_low(b + 1), vals[i]);
    }
    for (unsigned b = 1; b < AH_HIST_BUCKETS; b++)
        ck_assert_uint_gt(ah_hist_bucket_low(b), ah_hist_bucket_low(b - 1));
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void check_close(uint64_t got, uint64_t want)
{
    /* Bucket resolution: within 1/64 of the true value (+1 ns rounding). */
    uint64_t tol = want / 64 + 1;
    ck_assert_msg(got + tol >= want && got <= want + tol, "got %llu want %llu",
                  (unsigned long long)got, (unsigned long long)want);
}

START_TEST(hist_percentiles_random)
{
    enum { N = 20000 };
    static uint64_t v[N];
    struct ah_hist h;
    double ps[] = {1, 10, 50, 90, 99, 99.9};

    srandom(42);
    ah_hist_init(&h);
    for (int i = 0; i < N; i++) {
        /* Log-spread values from 10 us to ~100 ms, like RTTs. */
        v[i] = 10000 + ((uint64_t)random() % 1000) * ((uint64_t)random() % 100000);
        ah_hist_add(&h, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        size_t rank = (size_t)((ps[i] / 100.0) * N + 0.999999);
        check_close(ah_hist_percentile(&h, ps[i]), v[rank - 1]);
    }
    ck_assert_uint_eq(ah_hist_percentile(&h, 100), v[N - 1]);
    ck_assert_uint_eq(h.max, v[N - 1]);
    ck_assert_uint_eq(h.min, v[0]);
    ck_assert_uint_eq(h.count, N);
}
END_TEST

START_TEST(hist_small_and_merge)
{
    struct ah_hist a, b;

    ah_hist_init(&a);
    ck_assert_uint_eq(ah_hist_percentile(&a, 50), 0);
    /* 1..100 us: nearest rank p50 = 50 us, p90 = 90 us, p99 = 99 us. */
    for (uint64_t i = 1; i <= 50; i++)
        ah_hist_add(&a, i * 1000);
    ah_hist_init(&b);
    for (uint64_t i = 51; i <= 100; i++)
        ah_hist_add(&b, i * 1000);
    ah_hist_merge(&a, &b);
    ck_assert_uint_eq(a.count, 100);
    check_close(ah_hist_percentile(&a, 50), 50000);
    check_close(ah_hist_percentile(&a, 90), 90000);
    check_close(ah_hist_percentile(&a, 99), 99000);
    ck_assert_uint_eq(ah_hist_percentile(&a, 100), 100000);
    /* A single sample is every percentile, exactly (clamped to min/max). */
    ah_hist_init(&b);
    ah_hist_add(&b, 777777);
    ck_assert_uint_eq(ah_hist_percentile(&b, 50), 777777);
    ck_assert_uint_eq(ah_hist_percentile(&b, 99), 777777);
}
END_TEST

START_TEST(nodes_counts)
{
    struct ah_nodes ns;
    char name[32];

    ah_nodes_init(&ns);
    ck_assert_uint_eq(ah_nodes_add(&ns, "ams"), 0);
    ck_assert_uint_eq(ah_nodes_add(&ns, "nyc"), 1);
    ck_assert_uint_eq(ah_nodes_add(&ns, "ams"), 0);
    ck_assert_uint_eq(ns.count[0], 2);
    ck_assert_uint_eq(ns.count[1], 1);
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        ah_nodes_add(&ns, name);
    }
    ck_assert_uint_eq(ns.n, AH_NODES_MAX);
    ck_assert_str_eq(ns.name[AH_NODES_MAX - 1], "(other)");
    ck_assert_uint_eq(ns.count[AH_NODES_MAX - 1], 100 - (AH_NODES_MAX - 3));
}
END_TEST

START_TEST(flips_per_flow)
{
    struct ah_flips f;

    ah_flips_init(&f);
    /* flow 1: a a b b a -> 2 flips; flow 2: b a -> 1 flip; interleaved. */
    ck_assert_int_eq(ah_flips_add(&f, 1, 0), 0);
    ck_assert_int_eq(ah_flips_add(&f, 2, 1), 0);
    ck_assert_int_eq(ah_flips_add(&f, 1, 0), 0);
    ck_assert_int_eq(ah_flips_add(&f, 2, 0), 1);
    ck_assert_int_eq(ah_flips_add(&f, 1, 1), 1);
    ck_assert_int_eq(ah_flips_add(&f, 1, 1), 0);
    ck_assert_int_eq(ah_flips_add(&f, 1, 0), 1);
    ck_assert_uint_eq(f.flips, 3);
    /* Many flows force the table to grow; each keeps its last node. */
    for (uint64_t fl = 100; fl < 5100; fl++)
        ck_assert_int_eq(ah_flips_add(&f, fl, (unsigned)(fl % 3)), 0);
    for (uint64_t fl = 100; fl < 5100; fl++)
        ck_assert_int_eq(ah_flips_add(&f, fl, (unsigned)(fl % 3)), 0);
    ck_assert_uint_eq(f.flips, 3);
    for (uint64_t fl = 100; fl < 5100; fl++)
        ck_assert_int_eq(ah_flips_add(&f, fl, (unsigned)((fl + 1) % 3)), 1);
    ck_assert_uint_eq(f.flips, 5003);
    /* Flow 0 is a valid id (the empty marker is internal). */
    ck_assert_int_eq(ah_flips_add(&f, 0, 2), 0);
    ck_assert_int_eq(ah_flips_add(&f, 0, 1), 1);
    ah_flips_free(&f);
}
END_TEST

START_TEST(group_counts)
{
    struct ah_group_stats g;

    ah_group_stats_init(&g);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_OK, "ams", 7, 100000), 0);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_TIMEOUT, NULL, 7, 0), 0);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_OK, "nyc", 7, 300000), 0);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_BAD_REPLY, "", 8, 5), 0);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_OK, "nyc", 8, 200000), 0);
    ck_assert_uint_eq(g.probes, 5);
    ck_assert_uint_eq(g.result[AH_RES_OK], 3);
    ck_assert_uint_eq(ah_group_stats_lost(&g), 2);
    ck_assert_uint_eq(g.rtt.count, 3); /* failed probes carry no RTT */
    ck_assert_uint_eq(g.rtt.max, 300000);
    ck_assert_uint_eq(g.flips.flips, 1); /* ams -> nyc on flow 7; timeout in between ignored */
    ck_assert_uint_eq(g.nodes.n, 2);
    ah_group_stats_free(&g);
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, result_words);
    tcase_add_test(tc, classify_errno);
    tcase_add_test(tc, hist_buckets);
    tcase_add_test(tc, hist_percentiles_random);
    tcase_add_test(tc, hist_small_and_merge);
    tcase_add_test(tc, nodes_counts);
    tcase_add_test(tc, flips_per_flow);
    tcase_add_test(tc, group_counts);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(stats_suite)
