/* Unit tests for whole-file writes without following symlinks (lib/file.c):
 * a symlink planted at the target is replaced, its victim left alone; moves
 * by rename and, across file systems, by copy. */
#include "ah/file.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void program_dir_make(void)
{
    tmpdir_make("file");
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

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static const char *get(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool is_regular(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static size_t entries(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    unsigned n = 0;
    ck_assert_int_eq(fscanf(p, "%u", &n), 1);
    pclose(p);
    return n;
}

START_TEST(commit_replaces_a_symlink)
{
    char victim[128], target[128], tmp[256];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(target, sizeof target, "%s/out.json", dir);
    put(victim, "precious");
    ck_assert_int_eq(symlink(victim, target), 0);
    int fd = ah_file_tmp_open(dir, "out.json", tmp, sizeof tmp);
    ck_assert_int_ge(fd, 0);
    ck_assert_ptr_nonnull(strstr(tmp, "/.out.json."));
    ck_assert_int_eq(write(fd, "new", 3), 3);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(ah_file_commit(tmp, dir, "out.json"), 0);
    ck_assert(is_regular(target));
    ck_assert_str_eq(get(target), "new");
    ck_assert_str_eq(get(victim), "precious");
    ck_assert_uint_eq(entries(), 2); /* no temp file left */
}
END_TEST

START_TEST(bad_names_refused)
{
    char tmp[256];
    ck_assert_int_eq(ah_file_tmp_open(dir, "a/b", tmp, sizeof tmp), -EINVAL);
    ck_assert_int_eq(ah_file_tmp_open(dir, "", tmp, sizeof tmp), -EINVAL);
    ck_assert_int_eq(ah_file_tmp_open(dir, "x", tmp, 8), -ENAMETOOLONG);
    /* A failed commit removes the temp file. */
    int fd = ah_file_tmp_open(dir, "x", tmp, sizeof tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(ah_file_commit(tmp, dir, "../x"), -EINVAL);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    /* A directory in the way is an error, not replaced. */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    fd = ah_file_tmp_open(dir, "d", tmp, sizeof tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_lt(ah_file_commit(tmp, dir, "d"), 0);
    ck_assert_uint_eq(entries(), 1);
}
END_TEST

START_TEST(move_renames_over_a_symlink)
{
    char victim[128], target[128], from[128];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(target, sizeof target, "%s/timeline.svg", dir);
    snprintf(from, sizeof from, "%s/out.svg", dir);
    put(victim, "precious");
    put(from, "<svg/>");
    ck_assert_int_eq(symlink(victim, target), 0);
    ck_assert_int_eq(ah_file_move(from, dir, "timeline.svg"), 0);
    ck_assert(is_regular(target));
    ck_assert_str_eq(get(target), "<svg/>");
    ck_assert_str_eq(get(victim), "precious");
    ck_assert_int_ne(access(from, F_OK), 0);
}
END_TEST

START_TEST(move_of_a_symlink_refused)
{
    char victim[128], from[128], target[128];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(from, sizeof from, "%s/out.svg", dir);
    snprintf(target, sizeof target, "%s/timeline.svg", dir);
    put(victim, "precious");
    ck_assert_int_eq(symlink(victim, from), 0);
    ck_assert_int_eq(ah_file_move(from, dir, "timeline.svg"), -ELOOP);
    ck_assert_int_ne(access(target, F_OK), 0);
    ck_assert_str_eq(get(victim), "precious");
}
END_TEST

/* Across file systems (/dev/shm is a tmpfs; skipped where /tmp is one too
 * and they share a device). */
START_TEST(move_across_file_systems_copies)
{
    struct stat a, b;
    if (stat("/dev/shm", &a) < 0 || stat(dir, &b) < 0 || a.st_dev == b.st_dev)
        return;
    char from[] = "/dev/shm/ah-test-file-XXXXXX";
    int fd = mkstemp(from);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "copied", 6), 6);
    close(fd);
    char victim[128], target[128];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(target, sizeof target, "%s/t.png", dir);
    put(victim, "precious");
    ck_assert_int_eq(symlink(victim, target), 0);
    ck_assert_int_eq(ah_file_move(from, dir, "t.png"), 0);
    ck_assert(is_regular(target));
    ck_assert_str_eq(get(target), "copied");
    ck_assert_str_eq(get(victim), "precious");
    ck_assert_int_ne(access(from, F_OK), 0);
    ck_assert_uint_eq(entries(), 2);
}
END_TEST

START_TEST(create_refuses_a_symlink)
{
    char victim[128], link[128], plain[128];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link, sizeof link, "%s/run.json", dir);
    snprintf(plain, sizeof plain, "%s/log", dir);
    put(victim, "precious");
    ck_assert_int_eq(symlink(victim, link), 0);
    ck_assert_int_eq(ah_file_create(link, O_TRUNC), -ELOOP);
    ck_assert_ptr_null(ah_file_fopen_w(link));
    ck_assert_int_eq(errno, ELOOP);
    ck_assert_str_eq(get(victim), "precious");
    /* A plain name is created, then appended to. */
    int fd = ah_file_create(plain, O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "a", 1), 1);
    close(fd);
    fd = ah_file_create(plain, O_APPEND);
    ck_assert_int_eq(write(fd, "b", 1), 1);
    close(fd);
    ck_assert_str_eq(get(plain), "ab");
    FILE *f = ah_file_fopen_w(plain);
    ck_assert_ptr_nonnull(f);
    fputs("new", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_str_eq(get(plain), "new");
}
END_TEST

static Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("core");
    /* Each test's directory lies in the program's, which the parent removes
     * even when a failed assertion skipped the test's own teardown. */
    tcase_add_unchecked_fixture(tc, program_dir_make, tmpdir_remove);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, commit_replaces_a_symlink);
    tcase_add_test(tc, bad_names_refused);
    tcase_add_test(tc, move_renames_over_a_symlink);
    tcase_add_test(tc, move_of_a_symlink_refused);
    tcase_add_test(tc, move_across_file_systems_copies);
    tcase_add_test(tc, create_refuses_a_symlink);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(file_suite)
