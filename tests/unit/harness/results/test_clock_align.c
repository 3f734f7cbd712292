/* Unit tests for the clock estimator (harness/results/clock_align.c), with
 * numbers worked out by hand: a remote 5 s ahead, asymmetric paths, an
 * impossible sample, the minimum-delay pick, drift between start and end,
 * and rebasing at the edges of the range; the parsing of --clock-offset
 * values and of run.json's "hosts" (harness/results/results.c). */
#include "tests/unit/check_main.h"
#include "harness/results/clock_align.h"
#include "harness/results/results.h"

#include <errno.h>
#include <stdint.h>

#include "ah/clock.h"
#include "ah/json.h"

/* A controller time around 2026, so that realtime-sized values are used. */
#define T0 (1795000000ULL * AH_NS_PER_S)

/* A sample with the given one-way delays, remote hold time and true offset
 * (remote - controller). */
static struct clock_sample sample(uint64_t t1, uint64_t out_ns, uint64_t hold_ns, uint64_t back_ns,
                                  int64_t offset)
{
    struct clock_sample s;
    s.t1 = t1;
    s.t2 = (uint64_t)((int64_t)(t1 + out_ns) + offset);
    s.t3 = s.t2 + hold_ns;
    s.t4 = t1 + out_ns + hold_ns + back_ns;
    return s;
}

START_TEST(five_seconds_ahead_symmetric)
{
    /* 100 us each way, 10 us in the remote: offset exactly +5 s, delay 200 us. */
    struct clock_sample s = sample(T0, 100000, 10000, 100000, 5 * (int64_t)AH_NS_PER_S);
    struct clock_estimate e;

    ck_assert_int_eq(s.t2 - s.t1, 5000100000);
    ck_assert_int_eq(clock_estimate(&s, 1, &e), 0);
    ck_assert_int_eq(e.offset_ns, 5000000000);
    ck_assert_uint_eq(e.delay_ns, 200000);
    ck_assert_uint_eq(e.uncertainty_ns, 100000);
}
END_TEST

START_TEST(asymmetric_error_within_uncertainty)
{
    /* Same clocks, 300 us out and 100 us back: t2 - t1 = 300000,
     * t3 - t4 = -100000, so the estimate is 100 us off the truth, and the
     * uncertainty, half the 400 us round trip, covers it. */
    struct clock_sample s = sample(T0, 300000, 0, 100000, 0);
    struct clock_estimate e;

    ck_assert_int_eq(clock_estimate(&s, 1, &e), 0);
    ck_assert_int_eq(e.offset_ns, 100000);
    ck_assert_uint_eq(e.delay_ns, 400000);
    ck_assert_uint_eq(e.uncertainty_ns, 200000);

    /* The other way round: -3 ms true offset, 50 us out, 250 us back:
     * ((50000 - 3000000) + (-3000000 - 250000)) / 2 = -3100000. */
    s = sample(T0, 50000, 20000, 250000, -3000000);
    ck_assert_int_eq(clock_estimate(&s, 1, &e), 0);
    ck_assert_int_eq(e.offset_ns, -3100000);
    ck_assert_uint_eq(e.delay_ns, 300000);
    ck_assert_uint_eq(e.uncertainty_ns, 150000);
}
END_TEST

START_TEST(impossible_samples_rejected)
{
    struct clock_estimate e = {0};
    /* The remote held the line 500 ns of a 100 ns round trip: delay -400. */
    struct clock_sample held_too_long = {T0, T0, T0 + 500, T0 + 100};
    /* The answer came back before the question left. */
    struct clock_sample back_first = {T0 + 10, T0, T0, T0};
    /* The remote answered before it received. */
    struct clock_sample answer_first = {T0, T0 + 50, T0 + 40, T0 + 100};
    struct clock_sample all[3] = {held_too_long, back_first, answer_first};

    ck_assert_int_eq(clock_estimate(&held_too_long, 1, &e), -EINVAL);
    ck_assert_int_eq(clock_estimate(all, 3, &e), -EINVAL);
    ck_assert_int_eq(clock_estimate(all, 0, &e), -EINVAL);
    ck_assert_int_eq(clock_estimate(NULL, 1, &e), -EINVAL);

    /* A sane sample among them is the one used, even with a larger delay
     * than the negative one. */
    struct clock_sample mixed[2] = {held_too_long, sample(T0, 1000, 0, 1000, 7)};
    ck_assert_int_eq(clock_estimate(mixed, 2, &e), 0);
    ck_assert_int_eq(e.offset_ns, 7);
    ck_assert_uint_eq(e.delay_ns, 2000);
}
END_TEST

START_TEST(minimum_delay_picked)
{
    /* True offset +2 ms. Delays 900, 200 and 500 us; the queued ones lean
     * one way, so only the 200 us sample gives the exact offset. */
    struct clock_sample s[3] = {
        sample(T0, 800000, 5000, 100000, 2000000),
        sample(T0 + AH_NS_PER_MS, 100000, 5000, 100000, 2000000),
        sample(T0 + 2 * AH_NS_PER_MS, 100000, 5000, 400000, 2000000),
    };
    struct clock_estimate e;

    ck_assert_int_eq(clock_estimate(s, 3, &e), 0);
    ck_assert_int_eq(e.offset_ns, 2000000);
    ck_assert_uint_eq(e.delay_ns, 200000);
    ck_assert_uint_eq(e.uncertainty_ns, 100000);

    /* Alone, the first would be 350 us off: (800000 - 100000) / 2. */
    ck_assert_int_eq(clock_estimate(&s[0], 1, &e), 0);
    ck_assert_int_eq(e.offset_ns, 2350000);
}
END_TEST

START_TEST(odd_delay_rounds_uncertainty_up)
{
    struct clock_sample s = {T0, T0 + 1, T0 + 1, T0 + 3};
    struct clock_estimate e;

    ck_assert_int_eq(clock_estimate(&s, 1, &e), 0);
    ck_assert_uint_eq(e.delay_ns, 3);
    ck_assert_uint_eq(e.uncertainty_ns, 2);
    /* ((1) + (1 - 3)) / 2 = -1 / 2, truncated to 0. */
    ck_assert_int_eq(e.offset_ns, 0);
}
END_TEST

START_TEST(drift_between_start_and_end)
{
    /* The remote gained 600 us over the run: the mean offset, and the
     * larger uncertainty plus half the drift, 150 + 300 us. */
    struct clock_estimate a = {5000000, 200000, 100000};
    struct clock_estimate b = {5600000, 300000, 150000};
    struct clock_estimate c;

    ck_assert_int_eq(clock_combine(&a, &b, &c), 0);
    ck_assert_int_eq(c.offset_ns, 5300000);
    ck_assert_uint_eq(c.uncertainty_ns, 450000);
    ck_assert_uint_eq(c.delay_ns, 300000);
    /* The order does not matter. */
    ck_assert_int_eq(clock_combine(&b, &a, &c), 0);
    ck_assert_int_eq(c.offset_ns, 5300000);
    ck_assert_uint_eq(c.uncertainty_ns, 450000);

    /* No drift: the larger uncertainty alone. Opposite signs: -1 ms and
     * +1 ms drift 2 ms, mean 0. An odd drift rounds up. */
    ck_assert_int_eq(clock_combine(&a, &a, &c), 0);
    ck_assert_uint_eq(c.uncertainty_ns, 100000);
    struct clock_estimate m = {-1000000, 0, 10}, p = {1000000, 0, 20}, q = {1000001, 0, 20};
    ck_assert_int_eq(clock_combine(&m, &p, &c), 0);
    ck_assert_int_eq(c.offset_ns, 0);
    ck_assert_uint_eq(c.uncertainty_ns, 1000020);
    ck_assert_int_eq(clock_combine(&p, &q, &c), 0);
    ck_assert_uint_eq(c.uncertainty_ns, 21);

    /* Extremes saturate instead of wrapping. */
    struct clock_estimate lo = {INT64_MIN, 0, UINT64_MAX - 5}, hi = {INT64_MAX, 0, 0};
    ck_assert_int_eq(clock_combine(&lo, &hi, &c), 0);
    ck_assert_uint_eq(c.uncertainty_ns, UINT64_MAX);
    ck_assert_int_eq(clock_combine(NULL, &hi, &c), -EINVAL);
}
END_TEST

START_TEST(rebase)
{
    /* A remote 5 s ahead: its T0 + 5 s is the controller's T0. */
    ck_assert_int_eq(clock_rebase(T0 + 5 * AH_NS_PER_S, 5 * (int64_t)AH_NS_PER_S), (int64_t)T0);
    ck_assert_int_eq(clock_rebase(T0, -2500000), (int64_t)T0 + 2500000);
    ck_assert_int_eq(clock_rebase(T0, 0), (int64_t)T0);
    ck_assert_int_eq(clock_rebase(100, 200), 0);
    ck_assert_int_eq(clock_rebase(UINT64_MAX, 0), INT64_MAX);
    ck_assert_int_eq(clock_rebase(UINT64_MAX, INT64_MIN), INT64_MAX);
    ck_assert_int_eq(clock_rebase(0, INT64_MAX), 0);
}
END_TEST

START_TEST(offset_parse)
{
    char v[16], err[256];
    int64_t ns = 0;

    ck_assert_int_eq(clock_offset_parse("eu-west=+5000", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_str_eq(v, "eu-west");
    ck_assert_int_eq(ns, 5 * (int64_t)AH_NS_PER_S);
    ck_assert_int_eq(clock_offset_parse("a=-12.5", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_str_eq(v, "a");
    ck_assert_int_eq(ns, -12500000);
    ck_assert_int_eq(clock_offset_parse("a=0.000001", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_int_eq(ns, 1);
    ck_assert_int_eq(clock_offset_parse("a=-0", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_int_eq(ns, 0);
    ck_assert_int_eq(clock_offset_parse("a=3", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_int_eq(ns, 3000000);
    /* The name ends at the last '=': a value never holds one. */
    ck_assert_int_eq(clock_offset_parse("k=v=-1.25", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_str_eq(v, "k=v");
    ck_assert_int_eq(ns, -1250000);
    ck_assert_int_eq(clock_offset_parse("a=-9000000000000", v, sizeof v, &ns, err, sizeof err), 0);
    ck_assert_int_eq(ns, -9000000000000LL * 1000000);

    static const char *const bad[] = {
        "eu-west",
        "=5",
        "a=",
        "a=+",
        "a=5.",
        "a=.5",
        "a=5ms",
        "a=1.0000001",
        "a=1e3",
        "a= 5",
        "a=5 ",
        "a=--5",
        "a=0x10",
        "a=9000000000001",
        "a=99999999999999999999999",
        "this-name-is-too-long=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(clock_offset_parse(bad[i], v, sizeof v, &ns, err, sizeof err) == -EINVAL,
                      "\"%s\" accepted", bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(run_json_hosts)
{
    /* What a deployment run writes, and what the report must skip: a node,
     * a vantage never measured, a name that is not a string, a negative
     * offset, a missing uncertainty. */
    static const char text[] =
        "{\"hosts\": ["
        "{\"name\": \"fra\", \"role\": \"node\", \"host\": \"fra1\", \"commands\": []},"
        "{\"name\": \"eu-west\", \"role\": \"vantage\", \"offset_ns\": -5000123, "
        "\"uncertainty_ns\": 412000},"
        "{\"name\": \"unmeasured\", \"role\": \"vantage\", \"offset_ns\": null},"
        "{\"name\": 7, \"role\": \"vantage\", \"offset_ns\": 1},"
        "{\"name\": \"\", \"role\": \"vantage\", \"offset_ns\": 1},"
        "{\"name\": \"us\", \"role\": \"vantage\", \"offset_ns\": 4999600000}"
        "]}";
    json_t *run = NULL;
    char err[256];
    struct results_clock c[4];

    ck_assert_int_eq(ah_json_load_buffer("run.json", text, sizeof text - 1, &run, err, sizeof err),
                     0);
    ck_assert_uint_eq(results_clocks_from_json(run, c, 4), 2);
    ck_assert_str_eq(c[0].vantage, "eu-west");
    ck_assert_int_eq(c[0].offset_ns, -5000123);
    ck_assert_uint_eq(c[0].uncertainty_ns, 412000);
    ck_assert_str_eq(c[1].vantage, "us");
    ck_assert_int_eq(c[1].offset_ns, 4999600000);
    ck_assert_uint_eq(c[1].uncertainty_ns, 0);
    /* The cap holds. */
    ck_assert_uint_eq(results_clocks_from_json(run, c, 1), 1);
    ck_assert_uint_eq(results_clocks_from_json(NULL, c, 4), 0);
    json_decref(run);

    /* "hosts" of another type: none. */
    ck_assert_int_eq(ah_json_load_buffer("run.json", "{\"hosts\": {}}", 13, &run, err, sizeof err),
                     0);
    ck_assert_uint_eq(results_clocks_from_json(run, c, 4), 0);
    json_decref(run);
}
END_TEST

static Suite *clock_align_suite(void)
{
    Suite *s = suite_create("clock_align");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, five_seconds_ahead_symmetric);
    tcase_add_test(tc, asymmetric_error_within_uncertainty);
    tcase_add_test(tc, impossible_samples_rejected);
    tcase_add_test(tc, minimum_delay_picked);
    tcase_add_test(tc, odd_delay_rounds_uncertainty_up);
    tcase_add_test(tc, drift_between_start_and_end);
    tcase_add_test(tc, rebase);
    tcase_add_test(tc, offset_parse);
    tcase_add_test(tc, run_json_hosts);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(clock_align_suite)
