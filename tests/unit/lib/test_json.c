/* Unit tests for the bounded JSON reader (lib/json.c): a valid document and
 * its typed members, and every way a file is refused (cut short, too large,
 * a symlink, a key given twice) with the place of a syntax error. */
#include "ah/json.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void program_dir_make(void)
{
    tmpdir_make("json");
}

static void setup(void)
{
    /* tmpdir is /tmp/ah-test-NAME.XXXXXX: room for the suffix. */
    ck_assert_uint_lt(strlen(tmpdir) + sizeof "/t-XXXXXX", sizeof dir);
    strcpy(dir, tmpdir);
    strcat(dir, "/t-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *put(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

START_TEST(valid_file_and_typed_members)
{
    const char *p = put("run.json", "{\n  \"start_ns\": 1700000000000000000,\n"
                                    "  \"end_ns\": null,\n  \"neg\": -1,\n  \"text\": \"42\",\n"
                                    "  \"yes\": true, \"no\": false,\n  \"list\": [1, 2]\n}\n");
    json_t *j = NULL;
    char err[256] = "";
    ck_assert_int_eq(ah_json_load_file(p, 1024, &j, err, sizeof err), 0);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(ah_json_u64(j, "start_ns", 0), 1700000000000000000ULL);
    /* Wrong type, null, negative or missing: the default. */
    ck_assert_uint_eq(ah_json_u64(j, "end_ns", 7), 7);
    ck_assert_uint_eq(ah_json_u64(j, "neg", 7), 7);
    ck_assert_uint_eq(ah_json_u64(j, "text", 7), 7);
    ck_assert_uint_eq(ah_json_u64(j, "list", 7), 7);
    ck_assert_uint_eq(ah_json_u64(j, "missing", 7), 7);
    ck_assert_str_eq(ah_json_string(j, "text"), "42");
    ck_assert_ptr_null(ah_json_string(j, "start_ns"));
    ck_assert(ah_json_true(j, "yes"));
    ck_assert(!ah_json_true(j, "no"));
    ck_assert(!ah_json_true(j, "text"));
    /* A member of something that is not an object. */
    ck_assert_uint_eq(ah_json_u64(json_object_get(j, "list"), "x", 3), 3);
    ck_assert_ptr_null(ah_json_string(NULL, "text"));
    json_decref(j);
}
END_TEST

/* Loads path expecting it refused with want; returns the message. */
static const char *refused(const char *path, size_t max, int want)
{
    static char err[256];
    json_t *j = NULL;
    err[0] = '\0';
    ck_assert_int_eq(ah_json_load_file(path, max, &j, err, sizeof err), want);
    ck_assert_ptr_null(j);
    return err;
}

START_TEST(truncated_says_where)
{
    const char *p = put("cut.json", "{\n  \"a\": 1,\n  \"b\": [1, 2");
    const char *err = refused(p, 1024, -EBADMSG);
    char want[160];
    snprintf(want, sizeof want, "%s:3:", p);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    /* Not an object or array at all. */
    json_t *j = NULL;
    char msg[256];
    ck_assert_int_eq(ah_json_load_buffer("x", "42", 2, &j, msg, sizeof msg), -EBADMSG);
    ck_assert_int_eq(ah_json_load_buffer("x", "", 0, &j, msg, sizeof msg), -EBADMSG);
    /* The length bounds the text: what follows is not looked at. */
    ck_assert_int_eq(ah_json_load_buffer("x", "{}garbage", 2, &j, msg, sizeof msg), 0);
    json_decref(j);
}
END_TEST

START_TEST(oversize_refused)
{
    char big[300];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    const char *p = put("big.json", big);
    json_t *j = NULL;
    char err[256] = "";
    ck_assert_int_eq(ah_json_load_file(p, sizeof big - 1, &j, err, sizeof err), 0);
    json_decref(j);
    ck_assert_ptr_nonnull(strstr(refused(p, sizeof big - 2, -EFBIG), "larger than"));
}
END_TEST

START_TEST(symlink_and_odd_files_refused)
{
    char target[160], path[160];
    snprintf(target, sizeof target, "%s", put("real.json", "{\"a\": 1}"));
    snprintf(path, sizeof path, "%s/link.json", dir);
    ck_assert_int_eq(symlink(target, path), 0);
    refused(path, 1024, -ELOOP);
    refused(dir, 1024, -EINVAL);
    snprintf(path, sizeof path, "%s/fifo.json", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    refused(path, 1024, -EINVAL);
    snprintf(path, sizeof path, "%s/none.json", dir);
    refused(path, 1024, -ENOENT);
}
END_TEST

START_TEST(duplicate_key_refused)
{
    const char *p = put("dup.json", "{\"a\": 1,\n \"inner\": {\"x\": 1, \"x\": 2}}");
    const char *err = refused(p, 1024, -EBADMSG);
    ck_assert_msg(strstr(err, ":2:") && strstr(err, "duplicate"), "err: %s", err);
    /* A NUL inside a string is refused too: names stay C strings. */
    static const char nul[] = "{\"a\": \"x\\u0000y\"}";
    json_t *j = NULL;
    char msg[256];
    ck_assert_int_eq(ah_json_load_buffer("n", nul, sizeof nul - 1, &j, msg, sizeof msg), -EBADMSG);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("read");
    /* Each test's directory lies in the program's, which the parent removes
     * even when a failed assertion skipped the test's own teardown. */
    tcase_add_unchecked_fixture(tc, program_dir_make, tmpdir_remove);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, valid_file_and_typed_members);
    tcase_add_test(tc, truncated_says_where);
    tcase_add_test(tc, oversize_refused);
    tcase_add_test(tc, symlink_and_odd_files_refused);
    tcase_add_test(tc, duplicate_key_refused);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(json_suite)
