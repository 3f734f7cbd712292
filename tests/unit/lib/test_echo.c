/* Unit tests for the identity echo codec (lib/echo.c): line framing, reply
 * building and the probe-side reply check. */
#include "ah/echo.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <string.h>

#define B(s) ((const uint8_t *)(s))

START_TEST(find_line_complete)
{
    ck_assert_int_eq(ah_echo_find_line(B("hello\nworld\n"), 12), 6);
    ck_assert_int_eq(ah_echo_find_line(B("\n"), 1), 1);
}
END_TEST

START_TEST(find_line_partial)
{
    ck_assert_int_eq(ah_echo_find_line(B("hello"), 5), 0);
    ck_assert_int_eq(ah_echo_find_line(B(""), 0), 0);
}
END_TEST

START_TEST(find_line_limit)
{
    uint8_t buf[AH_ECHO_MAX_LINE + 10];
    memset(buf, 'a', sizeof buf);
    /* 511 bytes without '\n': still waiting. */
    ck_assert_int_eq(ah_echo_find_line(buf, AH_ECHO_MAX_LINE - 1), 0);
    /* 512 bytes without '\n': over the limit. */
    ck_assert_int_eq(ah_echo_find_line(buf, AH_ECHO_MAX_LINE), -EMSGSIZE);
    /* '\n' as the 512th byte: the longest allowed line. */
    buf[AH_ECHO_MAX_LINE - 1] = '\n';
    ck_assert_int_eq(ah_echo_find_line(buf, sizeof buf), AH_ECHO_MAX_LINE);
    /* '\n' as the 513th byte: too long even though it is there. */
    buf[AH_ECHO_MAX_LINE - 1] = 'a';
    buf[AH_ECHO_MAX_LINE] = '\n';
    ck_assert_int_eq(ah_echo_find_line(buf, sizeof buf), -EMSGSIZE);
}
END_TEST

START_TEST(build_reply_basic)
{
    uint8_t out[64];
    int n = ah_echo_build_reply("ams", B("ping 1\n"), 7, out, sizeof out);
    ck_assert_int_eq(n, 11);
    ck_assert_mem_eq(out, "ams ping 1\n", 11);
}
END_TEST

START_TEST(build_reply_adds_newline)
{
    uint8_t out[64];
    int n = ah_echo_build_reply("nyc", B("x"), 1, out, sizeof out);
    ck_assert_int_eq(n, 6);
    ck_assert_mem_eq(out, "nyc x\n", 6);
    n = ah_echo_build_reply("nyc", B(""), 0, out, sizeof out);
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(out, "nyc \n", 5);
}
END_TEST

START_TEST(build_reply_limits)
{
    uint8_t line[AH_ECHO_MAX_LINE + 1];
    uint8_t out[1024];
    memset(line, 'z', sizeof line);
    line[AH_ECHO_MAX_LINE - 1] = '\n';
    ck_assert_int_eq(ah_echo_build_reply("a", line, AH_ECHO_MAX_LINE, out, sizeof out),
                     AH_ECHO_MAX_LINE + 2);
    /* 512 bytes without '\n' would become 513 with it. */
    line[AH_ECHO_MAX_LINE - 1] = 'z';
    ck_assert_int_eq(ah_echo_build_reply("a", line, AH_ECHO_MAX_LINE, out, sizeof out), -EMSGSIZE);
    ck_assert_int_eq(ah_echo_build_reply("a", line, AH_ECHO_MAX_LINE + 1, out, sizeof out),
                     -EMSGSIZE);
    ck_assert_int_eq(ah_echo_build_reply("ams", B("hi\n"), 3, out, 6), -ENOSPC);
    ck_assert_int_eq(ah_echo_build_reply("ams", B("hi\n"), 3, out, 7), 7);
}
END_TEST

START_TEST(parse_reply_ok)
{
    char id[16];
    const char *r = "ams ping 1\n";
    ck_assert_int_eq(ah_echo_parse_reply(B(r), strlen(r), B("ping 1\n"), 7, id, sizeof id), 0);
    ck_assert_str_eq(id, "ams");
    /* A request sent without '\n' is answered with one. */
    ck_assert_int_eq(ah_echo_parse_reply(B(r), strlen(r), B("ping 1"), 6, id, sizeof id), 0);
    ck_assert_str_eq(id, "ams");
}
END_TEST

START_TEST(parse_reply_bad)
{
    char id[16];
    const uint8_t *s = B("ping 1\n");
    ck_assert_int_eq(ah_echo_parse_reply(B("ams ping 2\n"), 11, s, 7, id, sizeof id), -EBADMSG);
    ck_assert_int_eq(ah_echo_parse_reply(B("ams ping 1"), 10, s, 7, id, sizeof id), -EBADMSG);
    ck_assert_int_eq(ah_echo_parse_reply(B(" ping 1\n"), 8, s, 7, id, sizeof id), -EBADMSG);
    ck_assert_int_eq(ah_echo_parse_reply(B("amsping1\n"), 9, s, 7, id, sizeof id), -EBADMSG);
    ck_assert_int_eq(ah_echo_parse_reply(B("a\tb ping 1\n"), 11, s, 7, id, sizeof id), -EBADMSG);
    ck_assert_int_eq(ah_echo_parse_reply(B(""), 0, s, 7, id, sizeof id), -EBADMSG);
    ck_assert_int_eq(ah_echo_parse_reply(B("ams ping 1\n"), 11, s, 7, id, 3), -ENOSPC);
    ck_assert_int_eq(ah_echo_parse_reply(B("ams ping 1\n"), 11, s, 7, id, 4), 0);
}
END_TEST

START_TEST(round_trip)
{
    uint8_t out[700];
    char id[64];
    const char *lines[] = {"seq=1 t=123\n", "x\n", "\n", "with spaces  inside\n"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t l = strlen(lines[i]);
        int n = ah_echo_build_reply("node-7", B(lines[i]), l, out, sizeof out);
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(ah_echo_find_line(out, (size_t)n), n < AH_ECHO_MAX_LINE ? n : -EMSGSIZE);
        ck_assert_int_eq(ah_echo_parse_reply(out, (size_t)n, B(lines[i]), l, id, sizeof id), 0);
        ck_assert_str_eq(id, "node-7");
    }
}
END_TEST

static Suite *echo_suite(void)
{
    Suite *s = suite_create("echo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, find_line_complete);
    tcase_add_test(tc, find_line_partial);
    tcase_add_test(tc, find_line_limit);
    tcase_add_test(tc, build_reply_basic);
    tcase_add_test(tc, build_reply_adds_newline);
    tcase_add_test(tc, build_reply_limits);
    tcase_add_test(tc, parse_reply_ok);
    tcase_add_test(tc, parse_reply_bad);
    tcase_add_test(tc, round_trip);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(echo_suite)
