/* Unit tests for lib/dur.c: every unit, exact fractions, rejected syntax,
 * overflow, formatting with the largest exact unit and round trips. */
#include "ah/dur.h"
#include "tests/unit/lib/parse_cases.h"

#include <errno.h>
#include <string.h>

static const struct u64_case good[] = {
    {"0", 0},
    {"0s", 0},
    {"500ns", 500},
    {"100us", 100000},
    {"250ms", 250000000},
    {"2s", 2000000000},
    {"2", 2000000000},
    {"1.5s", 1500000000},
    {"1.5", 1500000000},
    {"1m", 60000000000},
    {"1h", 3600000000000},
    {"1.5h", 5400000000000},
    {"0.5m", 30000000000},
    {"0.001s", 1000000},
    {"0.000000001s", 1},
    {"0.1s", 100000000},
    {"0.3s", 300000000},
    {"1.25ms", 1250000},
    {"1.500us", 1500},
    {"1.000ns", 1},
    {"007ms", 7000000},
    {"1.10000000000000000000000000000s", 1100000000},
    /* 5e-11 min is exactly 3 ns: the factor 6 of a minute makes it whole. */
    {"0.00000000005m", 3},
    {"18446744073709551615ns", UINT64_MAX},
    {"18446744073.709551615s", UINT64_MAX},
    {"18446744073709551615.0ns", UINT64_MAX},
    {"5124095h", 5124095ull * 3600000000000ull},
};

START_TEST(test_parse_good)
{
    check_u64_good(ah_dur_parse, &good[_i]);
}
END_TEST

static const struct bad_case bad[] = {
    {"", -EINVAL},
    {"s", -EINVAL},
    {"ms", -EINVAL},
    {"-1s", -EINVAL},
    {"+1s", -EINVAL},
    {"1x", -EINVAL},
    {"1.s", -EINVAL},
    {"1.", -EINVAL},
    {".5s", -EINVAL},
    {"1.5.5s", -EINVAL},
    {" 1s", -EINVAL},
    {"1s ", -EINVAL},
    {"1 s", -EINVAL},
    {"1S", -EINVAL},
    {"1sec", -EINVAL},
    {"1ss", -EINVAL},
    {"1e3s", -EINVAL},
    {"0x10s", -EINVAL},
    {"1ms2", -EINVAL},
    {"1,5s", -EINVAL},
    /* Finer than a nanosecond cannot be represented exactly. */
    {"1.5ns", -EINVAL},
    {"0.0000000001s", -EINVAL},
    {"0.00000000000000000001h", -EINVAL},
    {"18446744073709551616ns", -ERANGE},
    {"18446744073.709551616s", -ERANGE},
    {"18446744074s", -ERANGE},
    {"5124096h", -ERANGE},
    {"99999999999999999999999999h", -ERANGE},
    /* Syntax errors win over overflow. */
    {"99999999999999999999999999x", -EINVAL},
};

START_TEST(test_parse_bad)
{
    check_u64_bad(ah_dur_parse, &bad[_i]);
}
END_TEST

START_TEST(test_parse_null)
{
    uint64_t ns;
    ck_assert_int_eq(ah_dur_parse(NULL, &ns), -EINVAL);
}
END_TEST

START_TEST(test_format)
{
    static const struct u64_case fmt[] = {
        {"0s", 0},
        {"1ns", 1},
        {"999ns", 999},
        {"1us", 1000},
        {"1500us", 1500000},
        {"250ms", 250000000},
        {"1500ms", 1500000000},
        {"2s", 2000000000},
        {"90s", 90000000000},
        {"1m", 60000000000},
        {"61m", 3660000000000},
        {"1h", 3600000000000},
        {"18446744073709551615ns", UINT64_MAX},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        int n = ah_dur_format(fmt[i].want, buf, sizeof(buf));
        ck_assert_int_eq(n, (int)strlen(fmt[i].text));
        ck_assert_str_eq(buf, fmt[i].text);
    }
}
END_TEST

START_TEST(test_format_nospace)
{
    char buf[8];
    ck_assert_int_eq(ah_dur_format(250000000, buf, 6), 5);
    ck_assert_str_eq(buf, "250ms");
    ck_assert_int_eq(ah_dur_format(250000000, buf, 5), -ENOSPC);
    ck_assert_int_eq(ah_dur_format(1, buf, 0), -ENOSPC);
}
END_TEST

START_TEST(test_round_trip)
{
    /* A deterministic spread of values, including ones with odd digits. */
    uint64_t x = 88172645463325252ull;
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x >> (i % 64);
        if (i % 3 == 0)
            v = (v % 100000) * 1000000; /* whole milliseconds */
        /* Plain ifs: a passing ck_assert costs a message to the parent. */
        if (ah_dur_format(v, buf, sizeof(buf)) <= 0)
            ck_abort_msg("format %llu failed", (unsigned long long)v);
        uint64_t back = 0;
        if (ah_dur_parse(buf, &back) != 0 || back != v)
            ck_abort_msg("%s != %llu", buf, (unsigned long long)v);
    }
}
END_TEST

static Suite *dur_suite(void)
{
    Suite *s = suite_create("dur");
    TCase *tc = tcase_create("core");
    TCASE_ADD_TABLE(tc, test_parse_good, good);
    TCASE_ADD_TABLE(tc, test_parse_bad, bad);
    tcase_add_test(tc, test_parse_null);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_format_nospace);
    tcase_add_test(tc, test_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(dur_suite)
