/* Helpers of the expectation tests (test_expect.c, test_family.c): parsing
 * one expectation, and judging one against finished metrics. Each test is
 * its own program, so everything here is static. */
#ifndef TESTS_UNIT_HARNESS_LAB_EXPECT_TEST_H
#define TESTS_UNIT_HARNESS_LAB_EXPECT_TEST_H

#include "harness/lab/expect.h"
#include "tests/unit/check_main.h"

static int parse(const char *text, struct expect *e, unsigned *off)
{
    char err[256];
    return expect_parse(text, e, err, sizeof err, off);
}

static struct expect_verdict judge(const struct ah_metrics *m, const char *text)
{
    struct expect e;
    unsigned off;
    struct expect_verdict v;
    ck_assert_msg(parse(text, &e, &off) == 0, "parse %s", text);
    expect_eval(&e, m, &v);
    return v;
}

#endif
