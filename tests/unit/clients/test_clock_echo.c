/* Unit tests for anycast-probe --clock-echo (clients/clock_echo.c): one
 * answer per line, in order, with t2 <= t3 taken from CLOCK_REALTIME around
 * the call, a line split over several writes, a last line without its
 * newline, and an empty input. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "clients/probe.h"
#include "tests/unit/check_main.h"

/* Feeds input through a pipe to clock_echo_run and collects what it wrote. */
static size_t echo(const char *input, char *out, size_t cap)
{
    int in[2], res[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(res), 0);
    ck_assert_int_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
    close(in[1]);
    ck_assert_int_eq(clock_echo_run(in[0], res[1]), 0);
    close(in[0]);
    close(res[1]);
    ssize_t n = read(res[0], out, cap - 1);
    close(res[0]);
    ck_assert_int_ge(n, 0);
    out[n] = '\0';
    return (size_t)n;
}

static unsigned check_lines(const char *out, uint64_t before, uint64_t after)
{
    unsigned lines = 0;
    uint64_t t2, t3, prev = 0;
    int used;
    while (sscanf(out, "%" SCNu64 " %" SCNu64 "\n%n", &t2, &t3, &used) == 2) {
        ck_assert_uint_le(before, t2);
        ck_assert_uint_le(t2, t3);
        ck_assert_uint_le(t3, after);
        ck_assert_uint_le(prev, t3);
        prev = t3;
        out += used;
        lines++;
    }
    ck_assert_str_eq(out, "");
    return lines;
}

START_TEST(one_answer_per_line)
{
    char out[1024];
    uint64_t before = ah_clock_realtime_ns();
    echo("1\n\nsome longer request line\nno newline at the end", out, sizeof(out));
    uint64_t after = ah_clock_realtime_ns();
    ck_assert_uint_eq(check_lines(out, before, after), 4);
}
END_TEST

START_TEST(empty_input)
{
    char out[64];
    ck_assert_uint_eq(echo("", out, sizeof(out)), 0);
}
END_TEST

START_TEST(long_line_is_one_request)
{
    static char in[20000];
    char out[256];
    memset(in, 'x', sizeof(in) - 2);
    in[sizeof(in) - 2] = '\n';
    uint64_t before = ah_clock_realtime_ns();
    echo(in, out, sizeof(out));
    ck_assert_uint_eq(check_lines(out, before, ah_clock_realtime_ns()), 1);
}
END_TEST

static Suite *clock_echo_suite(void)
{
    Suite *s = suite_create("clock_echo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, one_answer_per_line);
    tcase_add_test(tc, empty_input);
    tcase_add_test(tc, long_line_is_one_request);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(clock_echo_suite)
