/* Unit tests for the display form of untrusted names in the report's
 * gnuplot data files (harness/results/report_plot.c): what gnuplot reads back is
 * the terminal-escaped text, a double quote can never end the field, a
 * backslash never starts an escape of its own, and the length is bounded. */
#include "tests/unit/check_main.h"
#include "harness/results/report_int.h"

#include <string.h>

static const char *label(const char *name)
{
    static char out[RP_PLOT_LABEL_CAP];
    size_t n = rp_plot_label(out, sizeof out, name);
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

START_TEST(plain_names_kept)
{
    ck_assert_str_eq(label("nyc-1.example"), "nyc-1.example");
    ck_assert_str_eq(label("caf\xc3\xa9 <b>&amp; ^_{} @x %s 'q'"),
                     "caf\xc3\xa9 <b>&amp; ^_{} @x %s 'q'");
    ck_assert_str_eq(label(""), "(empty)");
    ck_assert_str_eq(label(NULL), "(empty)");
}
END_TEST

START_TEST(quotes_and_backslashes_escaped)
{
    ck_assert_str_eq(label("\"; system \"touch x\"; #"), "\\042; system \\042touch x\\042; #");
    ck_assert_str_eq(label("`id>x`"), "`id>x`");
    /* ah_esc_term doubles a backslash; gnuplot's reading halves it again. */
    ck_assert_str_eq(label("a\\b"), "a\\\\\\\\b");
}
END_TEST

START_TEST(controls_and_invalid_utf8_shown_as_bytes)
{
    ck_assert_str_eq(label("v\n!touch x"), "v\\\\x0a!touch x");
    ck_assert_str_eq(label("t\tab"), "t\\\\x09ab");
    ck_assert_str_eq(label("bad\xff"), "bad\\\\xff");
    for (const char *p = label("\x01\x1b[2J\x7f\r"); *p; p++)
        ck_assert((unsigned char)*p >= 0x20 && *p != 0x7f);
}
END_TEST

START_TEST(length_bounded)
{
    char name[RP_NAME_MAX];
    memset(name, '"', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const char *l = label(name);
    ck_assert_uint_lt(strlen(l), RP_PLOT_LABEL_CAP);
    /* Cut on whole escapes: never a dangling backslash. */
    size_t n = strlen(l), bs = 0;
    while (n > bs && l[n - 1 - bs] == '\\')
        bs++;
    ck_assert_uint_eq(bs % 2, 0);
    memset(name, 'x', sizeof name - 1);
    ck_assert_uint_lt(strlen(label(name)), RP_LABEL_MAX);
    ck_assert_str_eq(label(name) + strlen(label(name)) - 3, "...");
    char small[6];
    ck_assert_uint_eq(rp_plot_label(small, sizeof small, "\"\"\""), 4);
    ck_assert_str_eq(small, "\\042");
    ck_assert_uint_eq(rp_plot_label(small, 0, "x"), 0);
}
END_TEST

static Suite *label_suite(void)
{
    Suite *s = suite_create("report_label");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plain_names_kept);
    tcase_add_test(tc, quotes_and_backslashes_escaped);
    tcase_add_test(tc, controls_and_invalid_utf8_shown_as_bytes);
    tcase_add_test(tc, length_bounded);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(label_suite)
