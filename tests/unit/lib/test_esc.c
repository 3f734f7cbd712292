/* Unit tests for terminal escaping (lib/esc.c): controls, backslashes, UTF-8
 * kept or escaped, truncation on whole escapes. */
#include "ah/esc.h"
#include "tests/unit/check_main.h"

#include <string.h>

static const char *esc(const char *in, size_t len, size_t cap)
{
    static char out[1024];
    size_t n = ah_esc_term(out, cap, in, len);
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

START_TEST(plain_text_kept)
{
    ck_assert_str_eq(esc("nyc-1.example", 13, 64), "nyc-1.example");
    ck_assert_str_eq(esc("", 0, 64), "");
}
END_TEST

START_TEST(controls_escaped)
{
    ck_assert_str_eq(esc("a\nb\rc\x1b[2Jd\x7f", 11, 64), "a\\x0ab\\x0dc\\x1b[2Jd\\x7f");
    ck_assert_str_eq(esc("a\0b", 3, 64), "a\\x00b");
    ck_assert_str_eq(esc("back\\slash", 10, 64), "back\\\\slash");
}
END_TEST

START_TEST(utf8_kept_invalid_escaped)
{
    /* é (U+00E9) and 東 (U+6771) are kept. */
    ck_assert_str_eq(esc("caf\xc3\xa9 \xe6\x9d\xb1", 9, 64), "caf\xc3\xa9 \xe6\x9d\xb1");
    /* A lone continuation byte, a truncated sequence, an overlong '/' and
     * the C1 control CSI (U+009B) are shown as bytes. */
    ck_assert_str_eq(esc("\x80", 1, 64), "\\x80");
    ck_assert_str_eq(esc("\xe6\x9d", 2, 64), "\\xe6\\x9d");
    ck_assert_str_eq(esc("\xc0\xaf", 2, 64), "\\xc0\\xaf");
    ck_assert_str_eq(esc("\xc2\x9b", 2, 64), "\\xc2\\x9b");
    ck_assert_str_eq(esc("\xed\xa0\x80", 3, 64), "\\xed\\xa0\\x80");
}
END_TEST

START_TEST(truncation_on_whole_escapes)
{
    /* Exactly fitting: no marker. */
    ck_assert_str_eq(esc("abcd", 4, 5), "abcd");
    /* One byte short: cut and marked. */
    ck_assert_str_eq(esc("abcde", 5, 5), "a...");
    /* An escape that does not fit whole is left out, never split. */
    ck_assert_str_eq(esc("ab\x01zzzz", 7, 9), "ab...");
    ck_assert_str_eq(esc("x", 1, 1), "");
    ck_assert_uint_eq(ah_esc_term(NULL, 0, "abc", 3), 0);
    /* Worst case fits the documented bound. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    char out[AH_ESC_TERM_MAX(256)];
    size_t n = ah_esc_term(out, sizeof out, all, sizeof all);
    ck_assert_ptr_null(strstr(out, "..."));
    ck_assert_uint_lt(n, sizeof out);
    for (size_t i = 0; i < n; i++)
        ck_assert((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] < 0x7f);
}
END_TEST

static Suite *esc_suite(void)
{
    Suite *s = suite_create("esc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plain_text_kept);
    tcase_add_test(tc, controls_escaped);
    tcase_add_test(tc, utf8_kept_invalid_escaped);
    tcase_add_test(tc, truncation_on_whole_escapes);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(esc_suite)
