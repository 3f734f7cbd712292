/* Unit tests for the clock uncertainty in the metrics' resolution
 * (ah_metrics_set_clock, lib/metrics.c): added to every row of its vantage
 * only, also before the vantage's first probe, and refused after the
 * finish. */
#include <check.h>
#include <errno.h>

#include "ah/clock.h"
#include "ah/metrics.h"
#include "tests/unit/check_main.h"

#define T0 (1800000000ULL * AH_NS_PER_S)

START_TEST(uncertainty_added_to_its_vantage)
{
    struct ah_metrics *m = NULL;
    struct ah_metrics_event ev = {T0 + AH_NS_PER_S, "withdraw", "ams", ""};

    ck_assert_int_eq(ah_metrics_new(&m, NULL), 0);
    ck_assert_int_eq(ah_metrics_add_event(m, &ev), 0);
    /* Set before the vantage's first probe: the name is taken as it is. */
    ck_assert_int_eq(ah_metrics_set_clock(m, "us", 500 * AH_NS_PER_US), 0);
    ck_assert_int_eq(ah_metrics_set_clock(m, "eu", 0), 0);
    for (int i = 0; i < 200; i++) {
        for (int v = 0; v < 2; v++) {
            struct ah_metrics_probe p = {T0 + (uint64_t)i * 10 * AH_NS_PER_MS + (uint64_t)v,
                                         v ? "us" : "eu",
                                         AH_TR_UDP,
                                         AH_SVC_DNS,
                                         4000,
                                         AH_RES_OK,
                                         "ams",
                                         false,
                                         0,
                                         AH_FAM_IPV4};
            ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
        }
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_int_eq(ah_metrics_set_clock(m, "us", 1), -EINVAL);
    ck_assert_uint_eq(ah_metrics_nrows(m), 4);
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        double want = r->vantage[0] == 'u' ? 10.5 : 10.0;
        ck_assert_double_eq_tol(r->resolution_ms, want, 0.7);
        if (r->vantage[0] == 'u') {
            const struct ah_metrics_row *e = ah_metrics_row(m, i - 1);
            /* Exactly the uncertainty more than the other vantage's, whose
             * probes have the same interval. */
            ck_assert_double_eq_tol(r->resolution_ms - e->resolution_ms, 0.5, 1e-9);
        }
    }
    ah_metrics_free(m);
}
END_TEST

static Suite *metrics_clock_suite(void)
{
    Suite *s = suite_create("metrics_clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, uncertainty_added_to_its_vantage);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(metrics_clock_suite)
