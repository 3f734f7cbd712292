/* Unit tests for lib/log.c: line format per level, level filtering, long
 * message truncation, errno preservation and whole lines under threads. The
 * tests point stderr at a temporary file and read back what was written. */
#include "ah/log.h"
#include "tests/unit/check_main.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int saved_stderr = -1;
static char capture_path[64];

static void capture_start(void)
{
    snprintf(capture_path, sizeof(capture_path), "/tmp/ah-test-log.XXXXXX");
    int fd = mkstemp(capture_path);
    ck_assert_int_ge(fd, 0);
    /* O_APPEND so concurrent writers never overwrite each other's bytes. */
    ck_assert_int_eq(fcntl(fd, F_SETFL, O_APPEND), 0);
    saved_stderr = dup(STDERR_FILENO);
    ck_assert_int_ge(saved_stderr, 0);
    ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

/* Restores stderr and returns what was logged (malloc'd, NUL-terminated). */
static char *capture_end(size_t *len_out)
{
    ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
    close(saved_stderr);
    FILE *f = fopen(capture_path, "rb");
    ck_assert_ptr_nonnull(f);
    unlink(capture_path);
    return read_all(f, len_out);
}

START_TEST(test_format_per_level)
{
    ah_log_init("prog", AH_LOG_DEBUG);
    capture_start();
    ah_log_error("bind %s: %s", "198.51.100.53:53/udp", "Cannot assign requested address");
    ah_log_warn("slow %d", 42);
    ah_log_info("listening");
    ah_log_debug("packet %u", 7u);
    char *out = capture_end(NULL);
    ck_assert_str_eq(out, "prog: bind 198.51.100.53:53/udp: Cannot assign requested address\n"
                          "prog: warning: slow 42\n"
                          "prog: listening\n"
                          "prog: debug: packet 7\n");
    free(out);
}
END_TEST

START_TEST(test_level_filter)
{
    ah_log_init("p", AH_LOG_WARN);
    ck_assert_int_eq(ah_log_get_level(), AH_LOG_WARN);
    capture_start();
    ah_log_debug("d");
    ah_log_info("i");
    ah_log_warn("w");
    ah_log_error("e");
    ah_log_set_level(AH_LOG_ERROR);
    ah_log_warn("w2");
    ah_log_error("e2");
    ah_log_set_level(AH_LOG_INFO);
    ah_log_info("i2");
    ah_log_debug("d2");
    char *out = capture_end(NULL);
    ck_assert_str_eq(out, "p: warning: w\np: e\np: e2\np: i2\n");
    free(out);
}
END_TEST

START_TEST(test_progname_basename_and_default)
{
    ah_log_init("./build/anycast-probe", AH_LOG_INFO);
    ck_assert_str_eq(ah_log_progname(), "anycast-probe");
    ah_log_init("anycast-lab", AH_LOG_INFO);
    ck_assert_str_eq(ah_log_progname(), "anycast-lab");
    /* NULL keeps the previous name. */
    ah_log_init(NULL, AH_LOG_DEBUG);
    ck_assert_str_eq(ah_log_progname(), "anycast-lab");
    ck_assert_int_eq(ah_log_get_level(), AH_LOG_DEBUG);
}
END_TEST

START_TEST(test_trailing_newline_not_doubled)
{
    ah_log_init("p", AH_LOG_INFO);
    capture_start();
    ah_log_info("one\n");
    ah_log_info("%s", "");
    char *out = capture_end(NULL);
    ck_assert_str_eq(out, "p: one\np: \n");
    free(out);
}
END_TEST

START_TEST(test_truncation)
{
    ah_log_init("p", AH_LOG_INFO);
    size_t big = 10000;
    char *msg = malloc(big + 1);
    ck_assert_ptr_nonnull(msg);
    memset(msg, 'x', big);
    msg[big] = '\0';
    capture_start();
    ah_log_error("%s", msg);
    ah_log_error("after");
    size_t len;
    char *out = capture_end(&len);
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    size_t first = (size_t)(nl - out) + 1;
    ck_assert_uint_lt(first, big);
    ck_assert_uint_ge(first, 1000);
    ck_assert(strncmp(out, "p: xxx", 6) == 0);
    ck_assert(strncmp(nl - 3, "...", 3) == 0);
    /* The line after the cut one is intact. */
    ck_assert_str_eq(nl + 1, "p: after\n");
    ck_assert_uint_eq(len, first + strlen("p: after\n"));
    free(out);
    free(msg);
}
END_TEST

START_TEST(test_errno_preserved)
{
    ah_log_init("p", AH_LOG_INFO);
    capture_start();
    errno = EADDRNOTAVAIL;
    ah_log_error("x");
    ck_assert_int_eq(errno, EADDRNOTAVAIL);
    errno = ENOENT;
    ah_log_debug("filtered");
    ck_assert_int_eq(errno, ENOENT);
    free(capture_end(NULL));
}
END_TEST

START_TEST(test_level_parse)
{
    enum ah_log_level l = AH_LOG_INFO;
    ck_assert_int_eq(ah_log_level_parse("error", &l), 0);
    ck_assert_int_eq(l, AH_LOG_ERROR);
    ck_assert_int_eq(ah_log_level_parse("warn", &l), 0);
    ck_assert_int_eq(l, AH_LOG_WARN);
    l = AH_LOG_DEBUG;
    ck_assert_int_eq(ah_log_level_parse("warning", &l), 0);
    ck_assert_int_eq(l, AH_LOG_WARN);
    ck_assert_int_eq(ah_log_level_parse("INFO", &l), 0);
    ck_assert_int_eq(l, AH_LOG_INFO);
    ck_assert_int_eq(ah_log_level_parse("debug", &l), 0);
    ck_assert_int_eq(l, AH_LOG_DEBUG);
    ck_assert_int_eq(ah_log_level_parse("verbose", &l), -EINVAL);
    ck_assert_int_eq(ah_log_level_parse("", &l), -EINVAL);
    ck_assert_int_eq(ah_log_level_parse("info ", &l), -EINVAL);
    ck_assert_int_eq(ah_log_level_parse(NULL, &l), -EINVAL);
    ck_assert_int_eq(l, AH_LOG_DEBUG);
}
END_TEST

START_TEST(test_level_clamped)
{
    ah_log_set_level((enum ah_log_level)99);
    ck_assert_int_eq(ah_log_get_level(), AH_LOG_DEBUG);
    ah_log_set_level((enum ah_log_level) - 3);
    ck_assert_int_eq(ah_log_get_level(), AH_LOG_ERROR);
}
END_TEST

#define THREADS 4
#define LINES   2000

static void *log_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[301];
    memset(pad, 'a' + id, sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < LINES; i++) {
        ah_log_info("t%d %d %s", id, i, pad);
        if (i % 500 == 0)
            ah_log_set_level(AH_LOG_INFO); /* a concurrent level store */
    }
    return NULL;
}

START_TEST(test_threads_whole_lines)
{
    ah_log_init("p", AH_LOG_INFO);
    capture_start();
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, log_thread, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    char *out = capture_end(NULL);

    int next[THREADS] = {0};
    int lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        int id, seq, off = 0;
        ck_assert_int_eq(sscanf(line, "p: t%d %d %n", &id, &seq, &off), 2);
        ck_assert(id >= 0 && id < THREADS);
        /* Each thread's lines appear in its own order, none lost or mixed. */
        ck_assert_int_eq(seq, next[id]);
        next[id]++;
        ck_assert_uint_eq(strlen(line + off), 300);
        ck_assert_uint_eq(strspn(line + off, (char[]){(char)('a' + id), 0}), 300);
        lines++;
    }
    ck_assert_int_eq(lines, THREADS * LINES);
    free(out);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_format_per_level);
    tcase_add_test(tc, test_level_filter);
    tcase_add_test(tc, test_progname_basename_and_default);
    tcase_add_test(tc, test_trailing_newline_not_doubled);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_errno_preserved);
    tcase_add_test(tc, test_level_parse);
    tcase_add_test(tc, test_level_clamped);
    tcase_add_test(tc, test_threads_whole_lines);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(log_suite)
