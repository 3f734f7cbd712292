/* Unit tests for anycast-probe's schedule arithmetic (clients/sched.c):
 * rate parsing, absolute deadlines without drift, the number of probes due
 * at any instant, slot spreading, tick skipping, back-off and ring sizes. */
#include <check.h>
#include <errno.h>

#include "clients/sched.h"
#include "tests/unit/check_main.h"

#include "ah/clock.h"

#define S AH_NS_PER_S
START_TEST(rate_parse)
{
    uint64_t r;
    ck_assert_int_eq(sched_rate_parse("100", &r), 0);
    ck_assert_uint_eq(r, 100000);
    ck_assert_int_eq(sched_rate_parse("0.5", &r), 0);
    ck_assert_uint_eq(r, 500);
    ck_assert_int_eq(sched_rate_parse("2.5k", &r), 0);
    ck_assert_uint_eq(r, 2500000);
    ck_assert_int_eq(sched_rate_parse("100k", &r), 0);
    ck_assert_uint_eq(r, 100000000);
    ck_assert_int_eq(sched_rate_parse("1M", &r), 0);
    ck_assert_uint_eq(r, 1000000000);
    ck_assert_int_eq(sched_rate_parse("0.001", &r), 0);
    ck_assert_uint_eq(r, 1);
    ck_assert_int_eq(sched_rate_parse("0.0001", &r), -EINVAL);
    ck_assert_int_eq(sched_rate_parse("0", &r), -ERANGE);
    ck_assert_int_eq(sched_rate_parse("11M", &r), -ERANGE);
    ck_assert_int_eq(sched_rate_parse("", &r), -EINVAL);
    ck_assert_int_eq(sched_rate_parse("-5", &r), -EINVAL);
    ck_assert_int_eq(sched_rate_parse("5x", &r), -EINVAL);
    ck_assert_int_eq(sched_rate_parse("k", &r), -EINVAL);
    ck_assert_int_eq(sched_rate_parse("1.2.3", &r), -EINVAL);
}
END_TEST

START_TEST(deadlines_exact)
{
    uint64_t start = 5 * S;
    /* 3 probes/s: deadlines at 0, 333333333, 666666666, 1 s, ... and
     * probe 3 million lands exactly a million seconds later. */
    ck_assert_uint_eq(sched_deadline(start, 3000, 0), start);
    ck_assert_uint_eq(sched_deadline(start, 3000, 1), start + 333333333);
    ck_assert_uint_eq(sched_deadline(start, 3000, 2), start + 666666666);
    ck_assert_uint_eq(sched_deadline(start, 3000, 3), start + S);
    ck_assert_uint_eq(sched_deadline(start, 3000, 3000000), start + 1000000 * S);
    /* 100k/s for a day: no drift. */
    ck_assert_uint_eq(sched_deadline(0, 100000000, 100000ull * 86400), 86400 * S);
}
END_TEST

START_TEST(due_matches_deadlines)
{
    uint64_t rates[] = {1, 500, 3000, 7000, 100000, 999999, 100000000};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        uint64_t r = rates[i], start = 1000;
        ck_assert_uint_eq(sched_due(start, r, start - 1), 0);
        ck_assert_uint_eq(sched_due(start, r, start), 1);
        for (uint64_t k = 1; k < 2000; k += 37) {
            uint64_t d = sched_deadline(start, r, k);
            /* At its deadline probe k is due (k+1 probes), 1 ns before not. */
            ck_assert_uint_eq(sched_due(start, r, d), k + 1);
            ck_assert_uint_eq(sched_due(start, r, d - 1), k);
        }
    }
}
END_TEST

START_TEST(totals)
{
    /* rate x duration probes, the one at the end excluded. */
    ck_assert_uint_eq(sched_total(100000, 10 * S), 1000);
    ck_assert_uint_eq(sched_total(100000000, 5 * S), 500000);
    ck_assert_uint_eq(sched_total(500, 4 * S), 2);
    ck_assert_uint_eq(sched_total(500, 4 * S + 1), 3);
    ck_assert_uint_eq(sched_total(3000, S), 3);
    ck_assert_uint_eq(sched_total(3000, 0), 0);
}
END_TEST

START_TEST(slots_and_ticks)
{
    ck_assert_uint_eq(sched_slot_offset(0, 4, S), 0);
    ck_assert_uint_eq(sched_slot_offset(1, 4, S), S / 4);
    ck_assert_uint_eq(sched_slot_offset(3, 4, S), 3 * S / 4);
    ck_assert_uint_eq(sched_slot_offset(9999, 10000, S), 999900000);
    /* Before the base: the base. On a tick: the next one. Late by 2.5
     * intervals: the missed ticks are skipped. */
    ck_assert_uint_eq(sched_next_tick(100, 10, 50), 100);
    ck_assert_uint_eq(sched_next_tick(100, 10, 100), 110);
    ck_assert_uint_eq(sched_next_tick(100, 10, 109), 110);
    ck_assert_uint_eq(sched_next_tick(100, 10, 125), 130);
}
END_TEST

START_TEST(backoff_and_ring)
{
    ck_assert_uint_eq(sched_backoff(1), 100000000);
    ck_assert_uint_eq(sched_backoff(2), 200000000);
    ck_assert_uint_eq(sched_backoff(4), 800000000);
    ck_assert_uint_eq(sched_backoff(8), 10 * S);
    ck_assert_uint_eq(sched_backoff(1000), 10 * S);

    ck_assert_uint_eq(sched_ring_size(1000, S), 32);              /* 1/s: 1.5 + 16 */
    ck_assert_uint_eq(sched_ring_size(12500000, S), 32768);       /* 12.5k/s: 18766 */
    ck_assert_uint_eq(sched_ring_size(100000000, S), 65536);      /* capped */
    ck_assert_uint_eq(sched_ring_size(100000000, S / 100), 2048); /* 1500 + 16 */
}
END_TEST

static Suite *sched_suite(void)
{
    Suite *s = suite_create("probe_sched");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rate_parse);
    tcase_add_test(tc, deadlines_exact);
    tcase_add_test(tc, due_matches_deadlines);
    tcase_add_test(tc, totals);
    tcase_add_test(tc, slots_and_ticks);
    tcase_add_test(tc, backoff_and_ring);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(sched_suite)
