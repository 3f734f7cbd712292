/* Unit tests for lib/csv.c, the writer: exact RFC 4180 output,
 * complete-rows-only flushing, buffer limits, errors, partial writes and
 * EINTR. */
#include "ah/csv.h"
#include "tests/unit/check_main.h"
#include "tests/unit/lib/csv_test.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* Every test works in tmpdir (test_util.h). */
static void dir_setup(void)
{
    tmpdir_make("csv");
}

/* ---- writer ---- */

START_TEST(test_write_basic)
{
    struct ah_csv *w;
    const char *path = tmp_path("basic.csv");
    ck_assert_int_eq(ah_csv_open(&w, path, hdr3, 3), 0);
    ck_assert_uint_eq(ah_csv_rows(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, 1700000000123456789ull), 0);
    ck_assert_int_eq(ah_csv_str(w, "ams"), 0);
    ck_assert_int_eq(ah_csv_i64(w, -42), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, 0), 0);
    ck_assert_int_eq(ah_csv_str(w, NULL), 0);
    ck_assert_int_eq(ah_csv_empty(w), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, UINT64_MAX), 0);
    ck_assert_int_eq(ah_csv_strn(w, "nycXXX", 3), 0);
    ck_assert_int_eq(ah_csv_i64(w, INT64_MIN), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, 7), 0);
    ck_assert_int_eq(ah_csv_strn(w, NULL, 5), 0);
    ck_assert_int_eq(ah_csv_i64(w, INT64_MAX), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_uint_eq(ah_csv_rows(w), 4);
    ck_assert_int_eq(ah_csv_close(w), 0);
    expect_file(path, "ts_ns,node,rtt_us\n"
                      "1700000000123456789,ams,-42\n"
                      "0,,\n"
                      "18446744073709551615,nyc,-9223372036854775808\n"
                      "7,,9223372036854775807\n");
}
END_TEST

START_TEST(test_write_quoting)
{
    static const char *const hdr[] = {"a", "b,c", "say \"hi\""};
    struct ah_csv *w;
    const char *path = tmp_path("quote.csv");
    ck_assert_int_eq(ah_csv_open(&w, path, hdr, 3), 0);
    ck_assert_int_eq(ah_csv_str(w, "x,y"), 0);
    ck_assert_int_eq(ah_csv_str(w, "\""), 0);
    ck_assert_int_eq(ah_csv_str(w, "two\nlines"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_str(w, "cr\r"), 0);
    ck_assert_int_eq(ah_csv_str(w, " spaced ; plain "), 0);
    ck_assert_int_eq(ah_csv_str(w, "\"\"q\"\""), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_strn(w, "a\0b", 3), 0); /* bytes, not a C string */
    ck_assert_int_eq(ah_csv_str(w, "é,ü"), 0);
    ck_assert_int_eq(ah_csv_str(w, "\r\n"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_close(w), 0);
    size_t len;
    char *got = slurp_alloc(path, &len);
    static const char want[] = "a,\"b,c\",\"say \"\"hi\"\"\"\n"
                               "\"x,y\",\"\"\"\",\"two\nlines\"\n"
                               "\"cr\r\", spaced ; plain ,\"\"\"\"\"q\"\"\"\"\"\n"
                               "a\0b,\"é,ü\",\"\r\n\"\n";
    ck_assert_uint_eq(len, sizeof(want) - 1);
    ck_assert_int_eq(memcmp(got, want, len), 0);
    free(got);
}
END_TEST

START_TEST(test_write_single_empty_column)
{
    static const char *const hdr[] = {"only"};
    struct ah_csv *w;
    const char *path = tmp_path("one.csv");
    ck_assert_int_eq(ah_csv_open(&w, path, hdr, 1), 0);
    ck_assert_int_eq(ah_csv_str(w, ""), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_str(w, "x"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_empty(w), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_close(w), 0);
    expect_file(path, "only\n\"\"\nx\n\"\"\n");
}
END_TEST

START_TEST(test_write_wrong_field_count)
{
    struct ah_csv *w;
    const char *path = tmp_path("count.csv");
    ck_assert_int_eq(ah_csv_open(&w, path, hdr3, 3), 0);
    ck_assert_int_eq(ah_csv_str(w, "short"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), -EINVAL);
    ck_assert_int_eq(ah_csv_end_row(w), -EINVAL); /* zero fields */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ah_csv_u64(w, (uint64_t)i), 0);
    ck_assert_int_eq(ah_csv_end_row(w), -EINVAL);
    ck_assert_uint_eq(ah_csv_rows(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, 1), 0);
    ck_assert_int_eq(ah_csv_u64(w, 2), 0);
    ck_assert_int_eq(ah_csv_u64(w, 3), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_uint_eq(ah_csv_rows(w), 1);
    ck_assert_int_eq(ah_csv_close(w), 0);
    expect_file(path, "ts_ns,node,rtt_us\n1,2,3\n");
}
END_TEST

START_TEST(test_write_flush_complete_rows_only)
{
    struct ah_csv *w;
    const char *path = tmp_path("flush.csv");
    ck_assert_int_eq(ah_csv_open(&w, path, hdr3, 3), 0);
    /* The header is on disk right after open. */
    ck_assert_int_eq(file_size(path), (off_t)strlen("ts_ns,node,rtt_us\n"));
    ck_assert_int_eq(ah_csv_u64(w, 1), 0);
    ck_assert_int_eq(ah_csv_str(w, "a"), 0);
    ck_assert_int_eq(ah_csv_u64(w, 2), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    /* Buffered until flushed. */
    ck_assert_int_eq(file_size(path), (off_t)strlen("ts_ns,node,rtt_us\n"));
    ck_assert_int_eq(ah_csv_u64(w, 3), 0);
    ck_assert_int_eq(ah_csv_str(w, "half"), 0);
    ck_assert_int_eq(ah_csv_flush(w), 0);
    expect_file(path, "ts_ns,node,rtt_us\n1,a,2\n");
    ck_assert_int_eq(ah_csv_u64(w, 4), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_flush(w), 0);
    expect_file(path, "ts_ns,node,rtt_us\n1,a,2\n3,half,4\n");
    /* An unfinished row at close is dropped. */
    ck_assert_int_eq(ah_csv_u64(w, 5), 0);
    ck_assert_int_eq(ah_csv_close(w), 0);
    expect_file(path, "ts_ns,node,rtt_us\n1,a,2\n3,half,4\n");
}
END_TEST

START_TEST(test_write_buffer_fill)
{
    /* Rows of 3 fields; each time the buffer fills, the file must hold only
     * whole rows, even while a row is half-built. */
    struct ah_csv *w;
    const char *path = tmp_path("fill.csv");
    FAST_INT(ah_csv_open(&w, path, NULL, 3), ==, 0);
    char field[101];
    memset(field, 'f', 100);
    field[100] = '\0';
    off_t last = 0;
    int flushes = 0;
    for (int i = 0; i < 3000; i++) {
        FAST_INT(ah_csv_u64(w, (uint64_t)i), ==, 0);
        FAST_INT(ah_csv_str(w, field), ==, 0);
        off_t sz = file_size(path);
        if (sz != last) {
            flushes++;
            last = sz;
            /* Everything on disk is whole rows: ends in "\n", no half row. */
            char *got = slurp_alloc(path, NULL);
            FAST_INT(got[sz - 1], ==, '\n');
            int rows = 0;
            for (off_t k = 0; k < sz; k++)
                rows += got[k] == '\n';
            FAST_INT(rows, ==, i); /* row i is not complete yet */
            free(got);
            /* Bounded by the 64 KiB buffer: nothing is held back long. */
        }
        FAST_INT(ah_csv_i64(w, -i), ==, 0);
        FAST_INT(ah_csv_end_row(w), ==, 0);
    }
    /* About 330 KB went through a 64 KiB buffer. */
    FAST_INT(flushes, >=, 4);
    FAST_UINT(ah_csv_rows(w), ==, 3000);
    FAST_INT(ah_csv_close(w), ==, 0);
    size_t len;
    char *got = slurp_alloc(path, &len);
    size_t expect = 0;
    for (int i = 0; i < 3000; i++) {
        char line[160];
        expect += (size_t)snprintf(line, sizeof(line), "%d,%s,%d\n", i, field, i == 0 ? 0 : -i);
    }
    FAST_UINT(len, ==, expect);
    ck_assert(strncmp(got, "0,fff", 5) == 0);
    ck_assert(strcmp(got + len - 6, "-2999\n") == 0);
    free(got);
}
END_TEST

START_TEST(test_write_huge_row)
{
    static const char *const hdr[] = {"id", "blob"};
    struct ah_csv *w;
    const char *path = tmp_path("huge.csv");
    ck_assert_int_eq(ah_csv_open(&w, path, hdr, 2), 0);
    size_t n = 300 * 1024;
    char *blob = malloc(n + 1);
    ck_assert_ptr_nonnull(blob);
    for (size_t i = 0; i < n; i++)
        blob[i] = "ab\"\n,c"[i % 6];
    blob[n] = '\0';
    ck_assert_int_eq(ah_csv_u64(w, 1), 0);
    ck_assert_int_eq(ah_csv_str(w, "small"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, 2), 0);
    ck_assert_int_eq(ah_csv_str(w, blob), 0);
    /* While the huge row is unfinished, none of it is in the file. */
    ck_assert_int_le(file_size(path), (off_t)strlen("id,blob\n1,small\n"));
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_u64(w, 3), 0);
    ck_assert_int_eq(ah_csv_str(w, "after"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_close(w), 0);

    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    char **f;
    size_t nf;
    unsigned long line;
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_str_eq(f[1], "small");
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_uint_eq(nf, 2);
    ck_assert_str_eq(f[0], "2");
    ck_assert_uint_eq(strlen(f[1]), n);
    ck_assert_int_eq(memcmp(f[1], blob, n), 0);
    ck_assert_uint_eq(line, 3);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_str_eq(f[1], "after");
    ck_assert_uint_eq(line, 3 + n / 6 + 1); /* blob holds n/6 newlines */
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
    ah_csv_reader_close(r);
    free(blob);
}
END_TEST

START_TEST(test_write_errors)
{
    struct ah_csv *w = NULL;
    ck_assert_int_eq(ah_csv_open(&w, tmp_path("no/such/dir.csv"), hdr3, 3), -ENOENT);
    ck_assert_int_eq(ah_csv_open(&w, tmp_path("zero.csv"), hdr3, 0), -EINVAL);
    ck_assert_int_eq(ah_csv_open_fd(&w, -1, hdr3, 3), -EINVAL);
    ck_assert_int_eq(ah_csv_close(NULL), 0);

    /* A full disk shows at open because the header is written at once. */
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ah_csv_open_fd(&w, fd, hdr3, 3), -ENOSPC);
    /* The writer owned the descriptor and closed it on failure. */
    ck_assert_int_eq(fcntl(fd, F_GETFD), -1);

    /* Without a header the error appears at flush, sticks, and close reports
     * the first one. */
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ah_csv_open_fd(&w, fd, NULL, 1), 0);
    ck_assert_int_eq(ah_csv_str(w, "x"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_flush(w), -ENOSPC);
    ck_assert_int_eq(ah_csv_str(w, "y"), -ENOSPC);
    ck_assert_int_eq(ah_csv_end_row(w), -ENOSPC);
    ck_assert_int_eq(ah_csv_flush(w), -ENOSPC);
    ck_assert_int_eq(ah_csv_close(w), -ENOSPC);

    /* A read-only descriptor: EBADF. */
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ah_csv_open_fd(&w, fd, NULL, 2), 0);
    ck_assert_int_eq(ah_csv_str(w, "x"), 0);
    ck_assert_int_eq(ah_csv_str(w, "y"), 0);
    ck_assert_int_eq(ah_csv_end_row(w), 0);
    ck_assert_int_eq(ah_csv_close(w), -EBADF);
}
END_TEST

/* Partial writes and EINTR: a 1 ms interval timer whose handler does not
 * restart system calls interrupts writes into a pipe that a slow thread
 * drains, so write(2) returns short counts and EINTR. */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

struct drain {
    int fd;
    char *buf;
    size_t len, cap;
};

static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (int i = 0;; i++) {
        if (d->cap - d->len < 1024) {
            d->cap *= 2;
            d->buf = realloc(d->buf, d->cap);
            if (d->buf == NULL)
                abort();
        }
        ssize_t n = read(d->fd, d->buf + d->len, 1024);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        d->len += (size_t)n;
        if (i % 64 == 0)
            usleep(200);
    }
    return NULL;
}

START_TEST(test_write_partial_and_eintr)
{
    int p[2];
    FAST_INT(pipe(p), ==, 0);
    struct drain d = {.fd = p[0], .cap = 1 << 20};
    d.buf = malloc(d.cap);
    ck_assert_ptr_nonnull(d.buf);
    pthread_t th;
    FAST_INT(pthread_create(&th, NULL, drain_thread, &d), ==, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; /* no SA_RESTART */
    FAST_INT(sigaction(SIGALRM, &sa, NULL), ==, 0);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    FAST_INT(setitimer(ITIMER_REAL, &it, NULL), ==, 0);

    struct ah_csv *w;
    FAST_INT(ah_csv_open_fd(&w, p[1], hdr3, 3), ==, 0);
    int rows = 40000;
    for (int i = 0; i < rows; i++) {
        FAST_INT(ah_csv_u64(w, (uint64_t)i), ==, 0);
        FAST_INT(ah_csv_str(w, "node-with,comma"), ==, 0);
        FAST_INT(ah_csv_i64(w, i * 7), ==, 0);
        FAST_INT(ah_csv_end_row(w), ==, 0);
    }
    FAST_INT(ah_csv_close(w), ==, 0); /* closes the pipe's write end */
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_join(th, NULL);
    close(p[0]);
    FAST_INT(alarms, >, 0);

    size_t pos = 0;
    const char *h = "ts_ns,node,rtt_us\n";
    FAST_UINT(d.len, >=, strlen(h));
    FAST_INT(memcmp(d.buf, h, strlen(h)), ==, 0);
    pos = strlen(h);
    for (int i = 0; i < rows; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "%d,\"node-with,comma\",%d\n", i, i * 7);
        FAST_UINT(pos + (size_t)n, <=, d.len);
        if (!(memcmp(d.buf + pos, line, (size_t)n) == 0))
            ck_abort_msg("row %d differs", i);
        pos += (size_t)n;
    }
    FAST_UINT(pos, ==, d.len);
    free(d.buf);
}
END_TEST

static Suite *csv_write_suite(void)
{
    Suite *s = suite_create("csv-write");
    TCase *tw = tcase_create("writer");
    tcase_add_unchecked_fixture(tw, dir_setup, tmpdir_remove);
    tcase_add_test(tw, test_write_basic);
    tcase_add_test(tw, test_write_quoting);
    tcase_add_test(tw, test_write_single_empty_column);
    tcase_add_test(tw, test_write_wrong_field_count);
    tcase_add_test(tw, test_write_flush_complete_rows_only);
    tcase_add_test(tw, test_write_buffer_fill);
    tcase_add_test(tw, test_write_huge_row);
    tcase_add_test(tw, test_write_errors);
    tcase_add_test(tw, test_write_partial_and_eintr);
    suite_add_tcase(s, tw);

    return s;
}

AH_CHECK_MAIN(csv_write_suite)
