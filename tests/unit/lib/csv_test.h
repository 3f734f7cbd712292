/* Helpers shared by the CSV unit tests (test_csv.c, test_csv_write.c):
 * writing and sizing a file, and assertions cheap enough for hot loops.
 * Each test is its own program, so everything here is static. */
#ifndef CSV_TEST_H
#define CSV_TEST_H

#include "tests/unit/check_main.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static inline void spit(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static inline off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* Assertions for hot loops: Check's ck_assert_* report every passing check to
 * the parent process, which costs seconds over a million checks; these only
 * call into Check when they fail. */
#define FAST_INT(a, op, b)                                                                         \
    do {                                                                                           \
        intmax_t fa_ = (intmax_t)(a), fb_ = (intmax_t)(b);                                         \
        if (!(fa_ op fb_))                                                                         \
            ck_abort_msg("%s " #op " %s failed: %jd vs %jd", #a, #b, fa_, fb_);                    \
    } while (0)
#define FAST_UINT(a, op, b)                                                                        \
    do {                                                                                           \
        uintmax_t fa_ = (uintmax_t)(a), fb_ = (uintmax_t)(b);                                      \
        if (!(fa_ op fb_))                                                                         \
            ck_abort_msg("%s " #op " %s failed: %ju vs %ju", #a, #b, fa_, fb_);                    \
    } while (0)
#define FAST_STR(a, op, b)                                                                         \
    do {                                                                                           \
        const char *fa_ = (a), *fb_ = (b);                                                         \
        if (!(strcmp(fa_, fb_) op 0))                                                              \
            ck_abort_msg("%s " #op " %s failed: \"%s\" vs \"%s\"", #a, #b, fa_, fb_);              \
    } while (0)

static const char *const hdr3[] __attribute__((unused)) = {"ts_ns", "node", "rtt_us"};

#endif
