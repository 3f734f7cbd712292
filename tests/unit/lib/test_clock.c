/* Unit tests for lib/clock.c: the results-directory stamp and the two clocks. */
#include "ah/clock.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <string.h>
#include <time.h>

START_TEST(test_stamp_known_values)
{
    char buf[17];
    ck_assert_int_eq(ah_clock_format_stamp(0, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "19700101T000000Z");
    ck_assert_int_eq(ah_clock_format_stamp(1700000000ull * 1000000000ull, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "20231114T221320Z");
    /* Sub-second nanoseconds are cut, never rounded up. */
    ck_assert_int_eq(
        ah_clock_format_stamp(1700000000ull * 1000000000ull + 999999999ull, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "20231114T221320Z");
    /* Leap day, end of year. */
    ck_assert_int_eq(ah_clock_format_stamp(951782400ull * 1000000000ull, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "20000229T000000Z");
    ck_assert_int_eq(ah_clock_format_stamp(1704067199ull * 1000000000ull, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "20231231T235959Z");
    ck_assert_int_eq(ah_clock_format_stamp(UINT64_MAX, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "25540721T233433Z");
}
END_TEST

START_TEST(test_stamp_buffer_size)
{
    char buf[32];
    memset(buf, '#', sizeof(buf));
    ck_assert_int_eq(ah_clock_format_stamp(0, buf, 16), -ENOSPC);
    ck_assert_int_eq(ah_clock_format_stamp(0, NULL, 17), -ENOSPC);
    ck_assert_int_eq(ah_clock_format_stamp(0, buf, 17), 0);
    ck_assert_uint_eq(strlen(buf), 16);
    ck_assert_int_eq(buf[17], '#');
}
END_TEST

/* Against clock_gettime(CLOCK_REALTIME) around it, not time(): glibc's
 * time() reads the coarse clock, which can trail the real one by a tick and
 * so still show the previous second just after a second boundary. */
START_TEST(test_realtime_matches_time)
{
    struct timespec b, a;
    ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &b), 0);
    uint64_t ns = ah_clock_realtime_ns();
    ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &a), 0);
    uint64_t before = (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec;
    uint64_t after = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
    ck_assert_uint_ge(ns, before);
    ck_assert_uint_le(ns, after);
}
END_TEST

START_TEST(test_mono_advances)
{
    uint64_t a = ah_clock_mono_ns();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t b = ah_clock_mono_ns();
    ck_assert_uint_ge(b - a, 20u * 1000 * 1000);
    /* A generous upper bound: the sleep should not take 5 s. */
    ck_assert_uint_lt(b - a, 5000ull * 1000 * 1000);
    uint64_t prev = ah_clock_mono_ns();
    for (int i = 0; i < 100000; i++) {
        uint64_t now = ah_clock_mono_ns();
        /* Only a failure calls into Check: a passing check costs a message. */
        if (now < prev)
            ck_abort_msg("monotonic clock went back: %llu < %llu", (unsigned long long)now,
                         (unsigned long long)prev);
        prev = now;
    }
}
END_TEST

static Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stamp_known_values);
    tcase_add_test(tc, test_stamp_buffer_size);
    tcase_add_test(tc, test_realtime_matches_time);
    tcase_add_test(tc, test_mono_advances);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(clock_suite)
