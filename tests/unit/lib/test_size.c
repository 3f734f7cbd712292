/* Unit tests for lib/size.c: every unit, bytes without one, rejected
 * syntax and overflow at each unit. */
#include "ah/size.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdint.h>

struct good_case {
    const char *text;
    uint64_t bytes;
};

static const struct good_case good[] = {
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
    const struct good_case *c = &good[_i];
    uint64_t v = 12345;
    ck_assert_msg(ah_size_parse(c->text, &v) == 0, "parse \"%s\" failed", c->text);
    ck_assert_msg(v == c->bytes, "\"%s\" gave %llu, want %llu", c->text, (unsigned long long)v,
                  (unsigned long long)c->bytes);
}
END_TEST

struct bad_case {
    const char *text;
    int err;
};

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
    const struct bad_case *c = &bad[_i];
    uint64_t v = 777;
    int rc = ah_size_parse(c->text, &v);
    ck_assert_msg(rc == c->err, "\"%s\" gave %d, want %d", c->text, rc, c->err);
    ck_assert_msg(v == 777, "\"%s\" changed the output on error", c->text);
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
    tcase_add_loop_test(tc, test_parse_good, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_parse_null);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(size_suite)
