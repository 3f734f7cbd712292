/* Unit tests for lib/suggest.c: which typos get a "did you mean" and which
 * words are too far from every candidate, and the bounded list of names. */
#include "ah/suggest.h"
#include "tests/unit/check_main.h"

#include <string.h>

static const char *const keys[] = {"name",     "anycast", "routing", "duration", "nodes",
                                   "vantages", "probes",  "drill",   "expect",   "tolerance"};
#define NKEYS (sizeof keys / sizeof keys[0])

START_TEST(typos_found)
{
    ck_assert_str_eq(ah_suggest("routnig", keys, NKEYS), "routing");  /* swap */
    ck_assert_str_eq(ah_suggest("vantage", keys, NKEYS), "vantages"); /* deletion */
    ck_assert_str_eq(ah_suggest("anycastt", keys, NKEYS), "anycast"); /* insertion */
    ck_assert_str_eq(ah_suggest("drll", keys, NKEYS), "drill");       /* 4 bytes, 1 edit */
    ck_assert_str_eq(ah_suggest("Expect", keys, NKEYS), "expect");    /* case */
    ck_assert_str_eq(ah_suggest("tolerence", keys, NKEYS), "tolerance");
    ck_assert_str_eq(ah_suggest("duartoin", keys, NKEYS), "duration"); /* 2 swaps */
}
END_TEST

START_TEST(far_words_not_matched)
{
    ck_assert_ptr_null(ah_suggest("xyz", keys, NKEYS));
    ck_assert_ptr_null(ah_suggest("dril", keys, 0));
    ck_assert_ptr_null(ah_suggest("", keys, NKEYS));
    /* 4 bytes allow 1 edit only: "nods" is 1 from "nodes", "nxds" 2. */
    ck_assert_str_eq(ah_suggest("nods", keys, NKEYS), "nodes");
    ck_assert_ptr_null(ah_suggest("nxds", keys, NKEYS));
    /* Two bytes or fewer: only a difference of case. */
    static const char *const nodes[] = {"a", "b", "eu"};
    ck_assert_ptr_null(ah_suggest("x", nodes, 3));
    ck_assert_ptr_null(ah_suggest("us", nodes, 3));
    ck_assert_str_eq(ah_suggest("EU", nodes, 3), "eu");
    char longw[AH_SUGGEST_MAX_LEN + 2];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    ck_assert_ptr_null(ah_suggest(longw, keys, NKEYS));
}
END_TEST

START_TEST(list_bounded)
{
    char out[64];
    ck_assert_uint_eq(ah_suggest_list(out, sizeof out, keys, 3), strlen("name, anycast, routing"));
    ck_assert_str_eq(out, "name, anycast, routing");
    ah_suggest_list(out, 20, keys, NKEYS);
    ck_assert_str_eq(out, "name, anycast, ...");
    ck_assert_uint_lt(strlen(out), 20);
    ah_suggest_list(out, sizeof out, keys, 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(ah_suggest_list(out, 0, keys, NKEYS), 0);
}
END_TEST

static Suite *suggest_suite(void)
{
    Suite *s = suite_create("suggest");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, typos_found);
    tcase_add_test(tc, far_words_not_matched);
    tcase_add_test(tc, list_bounded);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(suggest_suite)
