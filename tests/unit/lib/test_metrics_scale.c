/* Unit tests for the failover metrics at scale (lib/metrics*.c, docs/security.md):
 * event windows no probe fell into cost nothing and still give their rows,
 * a stray row far ahead in time does not settle the windows before it,
 * occurrences of 60,000 events are numbered quickly, the limits on events
 * hold, and 10,000 events x 1,000 vantages stay within a memory bound. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "tests/unit/lib/metrics_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define RSS_FACTOR 3 /* AddressSanitizer's shadow and quarantine */
#else
#define RSS_FACTOR 1
#endif

/* Every probe here is UDP on flow 1. */
static void pr(struct ah_metrics *m, uint64_t rel, const char *vantage, const char *node)
{
    metrics_probe(m, rel, vantage, AH_TR_UDP, 1, node);
}

/* 1000 events one second apart, a probe in the first window and one in the
 * last: those two rows are right, the other 998 are made from nothing, with
 * the route change and the second before that apply to them. */
START_TEST(sparse_windows)
{
    struct ah_metrics *m = metrics_mk(1002 * S, false);
    for (uint64_t k = 1; k <= 1000; k++)
        metrics_event(m, k * S, "flap", "ams", "");
    metrics_event(m, 500 * S + 3 * MS, "route", "nyc", "router=eu nexthop=nyc");
    pr(m, 1 * S + 100 * MS, "eu", "ams");
    pr(m, 1000 * S + 100 * MS, "eu", NULL);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_nrows(m), 1001); /* run + 1000 events, one group */

    const struct ah_metrics_row *run = ah_metrics_row(m, 0);
    ck_assert_str_eq(run->event, "run");
    ck_assert_uint_eq(run->probes, 2);
    ck_assert_uint_eq(run->lost, 1);

    const struct ah_metrics_row *first = ah_metrics_row(m, 1);
    ck_assert_uint_eq(first->event_ts_ns, T0 + 1 * S);
    ck_assert_uint_eq(first->occurrence, 1);
    ck_assert_uint_eq(first->probes, 1);
    ck_assert_uint_eq(first->lost, 0);
    ck_assert_str_eq(first->before, "");
    ck_assert_str_eq(first->after, "ams");
    ck_ms(first->switch_ms, 100.0);
    ck_assert_uint_eq(ah_metrics_row_answers(m, first, "ams"), 1);

    const struct ah_metrics_row *last = ah_metrics_row(m, 1000);
    ck_assert_uint_eq(last->event_ts_ns, T0 + 1000 * S);
    ck_assert_uint_eq(last->occurrence, 1000);
    ck_assert_uint_eq(last->probes, 1);
    ck_assert_uint_eq(last->lost, 1);
    ck_ms(last->outage_ms, 1900.0); /* from 1000.1 s to the end at 1002 s */
    ck_assert_str_eq(last->after, "");

    for (size_t i = 2; i < 1000; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        ck_assert_uint_eq(r->event_ts_ns, T0 + i * S);
        ck_assert_uint_eq(r->occurrence, i);
        ck_assert_uint_eq(r->probes, 0);
        ck_assert_uint_eq(r->lost, 0);
        ck_assert_uint_eq(r->flips, 0);
        ck_ms(r->outage_ms, 0.0);
        ck_assert(isnan(r->switch_ms));
        ck_assert_str_eq(r->after, "");
        ck_assert_uint_eq(ah_metrics_row_answers(m, r, "ams"), 0);
        /* The answer at 1.1 s is in the second before 2 s only. */
        ck_assert_str_eq(r->before, i == 2 ? "ams" : "");
        if (i == 500) {
            ck_assert_uint_eq(r->route_ts_ns, T0 + 500 * S + 3 * MS);
            ck_assert_str_eq(r->route_nexthop, "nyc");
            ck_ms(r->route_ms, 3.0);
            ck_ms(r->detect_ms, 3.0);
            ck_assert(isnan(r->gt_answer_ms));
        } else {
            ck_assert_uint_eq(r->route_ts_ns, 0);
            ck_assert(isnan(r->detect_ms));
        }
    }
    /* Rows read earlier are still there (64 slots) and read again alike. */
    ck_assert_uint_eq(ah_metrics_row(m, 1)->probes, 1);
    ck_assert_ptr_eq(ah_metrics_row(m, 1000), ah_metrics_row(m, 1000));
    ck_assert_ptr_null(ah_metrics_row(m, 1001));
    ah_metrics_free(m);
}
END_TEST

/* A row far ahead in time among rows in order (a clock gone wrong on one
 * host) falls into its own window; the windows it jumped over keep the node
 * of their second before. */
START_TEST(stray_row_ahead)
{
    struct ah_metrics *m = metrics_mk(200 * S, false);
    metrics_event(m, 2 * S, "withdraw", "ams", "");
    metrics_event(m, 3 * S, "announce", "ams", "");
    metrics_event(m, 50 * S, "stop", "ams", "");
    for (uint64_t t = 0; t < 4 * S; t += 100 * MS) {
        pr(m, t, "eu", t < 2 * S || t >= 3 * S ? "ams" : "nyc");
        if (t == 500 * MS)
            pr(m, 100 * S, "eu", "sin");
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_late(m), 34); /* every row after the stray one */
    const struct ah_metrics_row *w = ah_metrics_row(m, 1), *a = ah_metrics_row(m, 2);
    ck_assert_str_eq(w->event, "withdraw");
    ck_assert_str_eq(w->before, "ams");
    ck_assert_str_eq(w->after, "nyc");
    ck_ms(w->switch_ms, 0.0);
    ck_assert_str_eq(a->event, "announce");
    ck_assert_str_eq(a->before, "nyc");
    ck_assert_str_eq(a->after, "ams");
    ck_assert_uint_eq(ah_metrics_row(m, 3)->probes, 1); /* the stray one */
    ah_metrics_free(m);
}
END_TEST

/* 60,000 events of three kinds, fed newest first: each numbered by its
 * place among its kind in time (was a quadratic loop: 1.8 billion string
 * comparisons). */
START_TEST(occurrences_many)
{
    static const char *const words[3] = {"withdraw", "announce", "flap"};
    struct ah_metrics *m = metrics_mk(200000 * MS, false);
    for (uint64_t k = 60000; k-- > 0;)
        metrics_event(m, k * MS, words[k % 3], k % 3 == 2 ? "nyc" : "ams", "");
    pr(m, 0, "eu", "ams");
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_nrows(m), 60001);
    for (size_t i = 1; i <= 60000; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        size_t k = i - 1;
        ck_assert_str_eq(r->event, words[k % 3]);
        ck_assert_uint_eq(r->occurrence, k / 3 + 1);
    }
    ah_metrics_free(m);
}
END_TEST

START_TEST(limits)
{
    struct ah_metrics *m = metrics_mk(10 * S, false);
    for (uint64_t k = 0; k < AH_METRICS_MAX_WINDOWS; k++)
        metrics_event(m, k, "withdraw", "ams", "");
    struct ah_metrics_event e = {T0, "withdraw", "ams", ""};
    ck_assert_int_eq(ah_metrics_add_event(m, &e), -ENOSPC);
    for (uint64_t k = 0; k < AH_METRICS_MAX_ROUTES; k++)
        metrics_event(m, k, "route", "nyc", "router=eu");
    struct ah_metrics_event r = {T0, "route", "nyc", "router=eu"};
    ck_assert_int_eq(ah_metrics_add_event(m, &r), -ENOSPC);
    /* Observations are not kept: no limit applies. */
    struct ah_metrics_event o = {T0, "exit", "nyc", "pid 3"};
    ck_assert_int_eq(ah_metrics_add_event(m, &o), 0);
    ah_metrics_free(m);
}
END_TEST

static long max_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* 10,000 events 10 ms apart and 1,000 vantages probing once a second: 10
 * million rows, of which ~100,000 windows received a probe. Memory follows
 * those, not events x vantages (was ~5 GB: an accumulator per window and
 * group, and every row stored). */
START_TEST(scale_events_vantages)
{
    enum { NV = 1000, NEV = 10000 };
    struct ah_metrics *m = metrics_mk(102 * S, false);
    for (uint64_t k = 0; k < NEV; k++)
        metrics_event(m, 1 * S + k * 10 * MS, "flap", "ams", "");
    char names[NV][16];
    for (int v = 0; v < NV; v++)
        snprintf(names[v], sizeof names[v], "v%04d", v);
    static const char *const nodes[4] = {"ams", "nyc", "sin", "lon"};
    uint64_t fed = 0;
    for (uint64_t t = 0; t < 101 * S; t += S) {
        for (int v = 0; v < NV; v++) {
            pr(m, t + (uint64_t)v * MS, names[v], nodes[(v + (t >= 50 * S)) % 4]);
            fed++;
        }
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(ah_metrics_nrows(m), (uint64_t)NV * (NEV + 1));
    uint64_t run_probes = 0, ev_probes = 0, touched = 0, before_set = 0;
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (i < NV) {
            run_probes += r->probes;
            continue;
        }
        ev_probes += r->probes;
        touched += r->probes > 0;
        before_set += r->before[0] != '\0';
    }
    ck_assert_uint_eq(run_probes, fed);
    /* Every probe from 1 s on falls into a window of its own. */
    ck_assert_uint_eq(ev_probes, fed - NV);
    ck_assert_uint_eq(touched, fed - NV);
    /* Each vantage answers once a second: every event but those in the
     * first second of vantages that start late has a node before it. */
    ck_assert_uint_ge(before_set, (uint64_t)NV * NEV * 9 / 10);
    long rss = max_rss_mb();
    fprintf(stderr, "scale_events_vantages: %llu rows, peak RSS %ld MB\n",
            (unsigned long long)ah_metrics_nrows(m), rss);
    ck_assert_msg(rss < 200 * RSS_FACTOR, "peak RSS %ld MB", rss);
    ah_metrics_free(m);
}
END_TEST

static Suite *metrics_scale_suite(void)
{
    Suite *s = suite_create("metrics_scale");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300); /* generous: ASan, a shared machine */
    tcase_add_test(tc, sparse_windows);
    tcase_add_test(tc, stray_row_ahead);
    tcase_add_test(tc, occurrences_many);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, scale_events_vantages);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(metrics_scale_suite)
