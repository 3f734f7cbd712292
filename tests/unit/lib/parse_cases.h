/* The table-driven parser tests of test_addr.c, test_dur.c and test_size.c: tables of text a
 * parser must accept (with the value it must give) or refuse (with the error it must return,
 * leaving its output alone), and the loop test that runs each row. Each test is its own
 * program, so everything here is static inline. */
#ifndef TESTS_UNIT_LIB_PARSE_CASES_H
#define TESTS_UNIT_LIB_PARSE_CASES_H

#include "tests/unit/check_main.h"

#include <stdint.h>

/* Text a parser into a uint64_t accepts, and the value it gives. */
struct u64_case {
    const char *text;
    uint64_t want;
};

/* Text a parser refuses, and the negative errno it returns. */
struct bad_case {
    const char *text;
    int err;
};

/* Adds fn as a loop test over every row of the array table. */
#define TCASE_ADD_TABLE(tc, fn, table)                                                             \
    tcase_add_loop_test(tc, fn, 0, (int)(sizeof(table) / sizeof((table)[0])))

/* A parser into a uint64_t, such as ah_dur_parse and ah_size_parse. */
typedef int (*u64_parser)(const char *text, uint64_t *out);

/* parse accepts c->text and gives c->want. */
static inline void check_u64_good(u64_parser parse, const struct u64_case *c)
{
    uint64_t v = 12345;
    ck_assert_msg(parse(c->text, &v) == 0, "parse \"%s\" failed", c->text);
    ck_assert_msg(v == c->want, "\"%s\" gave %llu, want %llu", c->text, (unsigned long long)v,
                  (unsigned long long)c->want);
}

/* parse refuses c->text with c->err and leaves its output as it was. */
static inline void check_u64_bad(u64_parser parse, const struct bad_case *c)
{
    uint64_t v = 777;
    int rc = parse(c->text, &v);
    ck_assert_msg(rc == c->err, "\"%s\" gave %d, want %d", c->text, rc, c->err);
    ck_assert_msg(v == 777, "\"%s\" changed the output on error", c->text);
}

#endif
