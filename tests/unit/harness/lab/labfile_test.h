/* Helpers of the lab file loader tests (test_labfile.c, test_labfile_deploy.c):
 * loading a file that must be valid, comparing addresses, and checking that
 * a bad fixture gives exactly its list of "FILE:LINE:COL: message" lines.
 * Each test is its own program, so everything here is static. */
#ifndef TESTS_UNIT_HARNESS_LAB_LABFILE_TEST_H
#define TESTS_UNIT_HARNESS_LAB_LABFILE_TEST_H

#include "harness/lab/lab.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAD_MSGS_MAX 32

/* tests/run.sh exports AH_ROOT; paths in messages stay relative to it. */
static void to_root(void)
{
    const char *root = getenv("AH_ROOT");
    if (root != NULL)
        ck_assert_int_eq(chdir(root), 0);
}

static struct lab *load_ok(const char *path)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    to_root();
    int rc = lab_load(path, &lab, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "unexpected: %s\n", d.msgs[i]);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_ptr_nonnull(lab);
    lab_diag_free(&d);
    return lab;
}

static void addr_is(const struct ah_addr *a, const char *text)
{
    char buf[AH_ADDR_STRLEN];
    ck_assert_int_eq(ah_addr_format(a, false, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, text);
}

/* A bad fixture under tests/labs/ and every message it must give, in order
 * (each after the file's name). */
struct bad_case {
    const char *file;
    const char *msgs[BAD_MSGS_MAX];
};

static void check_bad(const struct bad_case *bc)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/labs/%s", bc->file);
    to_root();
    struct lab *lab = (struct lab *)&path; /* must be reset to NULL */
    struct lab_diag d = {0};
    int rc = lab_load(path, &lab, &d);
    size_t want = 0;
    while (want < BAD_MSGS_MAX && bc->msgs[want] != NULL)
        want++;
    for (size_t i = 0; i < d.n; i++) {
        char exp[512] = "";
        if (i < want)
            snprintf(exp, sizeof(exp), "%s%s", path, bc->msgs[i]);
        if (strcmp(exp, d.msgs[i]) != 0)
            fprintf(stderr, "%s: message %zu\n  got:  %s\n  want: %s\n", bc->file, i, d.msgs[i],
                    exp);
    }
    ck_assert_int_eq(rc, -EINVAL);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, want);
    for (size_t i = 0; i < want; i++) {
        char exp[512];
        snprintf(exp, sizeof(exp), "%s%s", path, bc->msgs[i]);
        ck_assert_str_eq(d.msgs[i], exp);
    }
    lab_diag_free(&d);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_ptr_null(d.msgs);
}

#endif
