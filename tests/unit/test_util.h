/* Helpers shared by the unit tests that work with files (test_csv.c,
 * test_log.c, test_proc.c, test_responders.c, test_results.c,
 * test_state.c): one temporary directory per test program, paths in it,
 * reading a whole file back and a fake program for the harness to find.
 * Each test is its own program, so everything here is static inline. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include "check_main.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The directory a test program works in. It is made and removed by the
 * parent process (an unchecked fixture), so a failing test leaves nothing
 * behind. */
static char tmpdir[64] __attribute__((unused));

/* Makes tmpdir as /tmp/ah-test-<name>.XXXXXX. A fixture runs outside any
 * test, where a failed assertion means nothing: it aborts instead. */
static inline void tmpdir_make(const char *name)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ah-test-%s.XXXXXX", name);
    if (mkdtemp(tmpdir) == NULL)
        abort();
}

static inline int tmpdir_rm_entry(const char *path, const struct stat *sb, int flag,
                                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes tmpdir and everything in it. */
static inline void tmpdir_remove(void)
{
    nftw(tmpdir, tmpdir_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* tmpdir/name, in one of eight static buffers used in turn, so that a few
 * paths can be held at once. */
static inline char *tmp_path(const char *name)
{
    static char path[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
    return path[k];
}

/* Installs a program called name in tmpdir (a shell script that does nothing), its path
 * written to bin, and points $AH_BIN_DIR there, where the harness looks for its programs
 * first. */
static inline void fake_program(const char *name, char *bin, size_t cap)
{
    snprintf(bin, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(bin, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    chmod(bin, 0755);
    setenv("AH_BIN_DIR", tmpdir, 1);
}

/* Reads the rest of an open file and closes it (malloc'd, NUL-terminated). */
static inline char *read_all(FILE *f, size_t *len_out)
{
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len_out != NULL)
        *len_out = (size_t)n;
    return buf;
}

/* Reads a whole file (malloc'd, NUL-terminated). */
static inline char *slurp_alloc(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    return read_all(f, len_out);
}

/* The file at path holds exactly want. */
static inline void expect_file(const char *path, const char *want)
{
    char *got = slurp_alloc(path, NULL);
    ck_assert_str_eq(got, want);
    free(got);
}

/* text contains every one of the strings that follow (at least one). */
#define expect_contains(text, ...)                                                                 \
    expect_contains_all(text, (const char *const[]){__VA_ARGS__, NULL})

static inline void expect_contains_all(const char *text, const char *const *needles)
{
    for (; *needles != NULL; needles++)
        ck_assert_msg(strstr(text, *needles) != NULL, "\"%s\" not found", *needles);
}

/* Reads up to 64 KiB of an open file into a static buffer (overwritten by
 * the next call) and closes it. */
static inline char *read_small(FILE *f)
{
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A small file's text in a static buffer; the file must exist. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    return read_small(f);
}

/* The same, or NULL while the file does not exist (yet). */
static inline char *slurp_try(const char *path)
{
    FILE *f = fopen(path, "rb");
    return f ? read_small(f) : NULL;
}

#endif
