/* Unit tests for lib/size.c: every unit, bytes without one, rejected
 * syntax and overflow at each unit. */
#include "ah/size.h"
#include "tests/unit/lib/parse_cases.h"

#include <errno.h>
#include <stdint.h>

static const struct u64_case good[] = {
    {"0", 0},
    {"1", 1},
    {"65536", 65536},
    {"512B", 512},
    {"1k", 1024},
    {"1K", 1024},
    {"1KiB", 1024},
    {"256K", 262144},
    {"32M", 33554432},
    {"32m", 33554432},
    {"32MiB", 33554432},
    {"2G", 2147483648ull},
    {"2GiB", 2147483648ull},
    {"1T", 1099511627776ull},
    {"1TiB", 1099511627776ull},
    {"007M", 7340032},
    {"18446744073709551615", UINT64_MAX},
    {"16777215T", 16777215ull << 40},
};

START_TEST(test_parse_good)
{
    check_u64_good(ah_size_parse, &good[_i]);
}
END_TEST

static const struct bad_case bad[] = {
    {"", -EINVAL},
    {"M", -EINVAL},
    {"-1", -EINVAL},
    {"+1", -EINVAL},
    {" 1M", -EINVAL},
    {"1M ", -EINVAL},
    {"1 M", -EINVAL},
    {"1.5M", -EINVAL},
    {"1MB", -EINVAL},
    {"1mib", -EINVAL},
    {"1Ki", -EINVAL},
    {"1KiBB", -EINVAL},
    {"0x10", -EINVAL},
    {"1e6", -EINVAL},
    {"18446744073709551616", -ERANGE},
    {"16777216T", -ERANGE},
    {"17179869184G", -ERANGE},
    {"99999999999999999999999M", -ERANGE},
    /* Syntax errors win over overflow. */
    {"99999999999999999999999x", -EINVAL},
};

START_TEST(test_parse_bad)
{
    check_u64_bad(ah_size_parse, &bad[_i]);
}
END_TEST

START_TEST(test_parse_null)
{
    uint64_t v;
    ck_assert_int_eq(ah_size_parse(NULL, &v), -EINVAL);
}
END_TEST

static Suite *size_suite(void)
{
    Suite *s = suite_create("size");
    TCase *tc = tcase_create("core");
    TCASE_ADD_TABLE(tc, test_parse_good, good);
    TCASE_ADD_TABLE(tc, test_parse_bad, bad);
    tcase_add_test(tc, test_parse_null);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(size_suite)
