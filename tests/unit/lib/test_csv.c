/* Unit tests for lib/csv.c and lib/csv_read.c: exact RFC 4180 output,
 * complete-rows-only flushing, errors, writer -> reader round trips with
 * nasty strings, records across read-buffer refills and a large file. */
#include "ah/csv.h"
#include "tests/unit/check_main.h"
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

static void spit(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static off_t file_size(const char *path)
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

static const char *const hdr3[] = {"ts_ns", "node", "rtt_us"};

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

/* ---- reader ---- */

struct want_rec {
    unsigned long line;
    size_t n;
    const char *f[4];
};

/* Reads path and compares every record with want[0..nwant). */
static void expect_records(const char *path, const struct want_rec *want, size_t nwant)
{
    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    char **f;
    size_t nf;
    unsigned long line;
    for (size_t i = 0; i < nwant; i++) {
        ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
        ck_assert_msg(line == want[i].line, "record %zu at line %lu, want %lu", i, line,
                      want[i].line);
        ck_assert_msg(nf == want[i].n, "record %zu has %zu fields, want %zu", i, nf, want[i].n);
        for (size_t k = 0; k < nf; k++)
            ck_assert_str_eq(f[k], want[i].f[k]);
    }
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
    ah_csv_reader_close(r);
}

START_TEST(test_read_features)
{
    static const char text[] = "a,b,c\n"
                               "1,\"x,y\",\"say \"\"hi\"\"\"\r\n"
                               "\"multi\nline\r\nfield\",,\n"
                               "\n"
                               "\"\"\n"
                               "last,\"\"";
    const char *path = tmp_path("features.csv");
    spit(path, text, sizeof(text) - 1);
    static const struct want_rec want[] = {
        {1, 3, {"a", "b", "c"}},
        {2, 3, {"1", "x,y", "say \"hi\""}},
        {3, 3, {"multi\nline\r\nfield", "", ""}},
        {6, 1, {""}},
        {7, 1, {""}},
        {8, 2, {"last", ""}},
    };
    expect_records(path, want, sizeof(want) / sizeof(want[0]));
}
END_TEST

START_TEST(test_read_line_ends)
{
    /* No final newline; a final CRLF; a final lone CR at end of file. */
    const char *path = tmp_path("ends.csv");
    static const struct want_rec want1[] = {{1, 2, {"a", "b"}}, {2, 2, {"c", "d"}}};
    spit(path, "a,b\nc,d", 7);
    expect_records(path, want1, 2);
    spit(path, "a,b\r\nc,d\r\n", 10);
    expect_records(path, want1, 2);
    spit(path, "a,b\r\nc,d\r", 9);
    expect_records(path, want1, 2);
    spit(path, "a,b\n\"c\",\"d\"", 11);
    expect_records(path, want1, 2);
    spit(path, "", 0);
    expect_records(path, want1, 0);
}
END_TEST

struct bad_read {
    const char *text;
    int good_records; /* records returned before the error */
    unsigned long line;
};

static const struct bad_read bad_reads[] = {
    {"a,b\n\"open,x\n\nmore\n", 1, 2}, /* unterminated quote: where it opened */
    {"a,b\nc,\"d\"e\n", 1, 2},         /* text after the closing quote */
    {"a,\"b\" \n", 0, 1},              /* even a space */
    {"a\nb\nc\"d\n", 2, 3},            /* a quote in an unquoted field */
    {"a\nb\rc\n", 1, 2},               /* a bare CR */
    {"x\n\"q\"\rz\n", 1, 2},           /* CR after a quoted field, not LF */
    {"\"", 0, 1},
    {"x\n\"a\"b\"\nz\n", 1, 2}, /* text after the quote, then a quote again */
    {"\"a\nb\"c\n", 0, 2},      /* reported where the text is, not the record start */
    {"x\n\"a\n\"\"\nb\"\"", 1, 2},
};

START_TEST(test_read_malformed)
{
    const struct bad_read *c = &bad_reads[_i];
    const char *path = tmp_path("bad.csv");
    spit(path, c->text, strlen(c->text));
    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    char **f;
    size_t nf;
    unsigned long line = 0;
    for (int i = 0; i < c->good_records; i++)
        ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EBADMSG);
    ck_assert_msg(line == c->line, "case %d: line %lu, want %lu", _i, line, c->line);
    /* The error is final. */
    line = 0;
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EBADMSG);
    ck_assert_uint_eq(line, c->line);
    ah_csv_reader_close(r);
}
END_TEST

START_TEST(test_read_open_errors)
{
    struct ah_csv_reader *r = NULL;
    ck_assert_int_eq(ah_csv_reader_open(&r, tmp_path("missing.csv")), -ENOENT);
    ck_assert_int_eq(ah_csv_reader_open_fd(&r, -1), -EINVAL);
    ah_csv_reader_close(NULL);
    /* A directory opens but cannot be read. */
    ck_assert_int_eq(ah_csv_reader_open(&r, tmpdir), 0);
    char **f;
    size_t nf;
    unsigned long line;
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EISDIR);
    ah_csv_reader_close(r);
}
END_TEST

/* Writes head, then n copies of unit, then tail, without holding it all in
 * memory (so the test's own peak stays small). */
static void spit_repeated(const char *path, const char *head, const char *unit, size_t n,
                          const char *tail)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(head, f);
    for (size_t i = 0; i < n; i++)
        fputs(unit, f);
    fputs(tail, f);
    ck_assert_int_eq(fclose(f), 0);
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* A record over AH_CSV_READ_RECORD_MAX is an error of that record, reported
 * at its first line; the reader goes on with the next one. */
START_TEST(test_read_record_too_large)
{
    const char *path = tmp_path("big.csv");
    /* Unquoted, with quoted line breaks in the part that is skipped. */
    spit_repeated(path, "a,b\n\"x\ny\",", "0123456789abcdef", AH_CSV_READ_RECORD_MAX / 16 + 1,
                  ",\"p\nq\"\nc,d\n");
    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    char **f;
    size_t nf;
    unsigned long line;
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EMSGSIZE);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_uint_eq(line, 5);
    ck_assert_uint_eq(nf, 2);
    ck_assert_str_eq(f[0], "c");
    ck_assert_str_eq(f[1], "d");
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
    ah_csv_reader_close(r);

    /* Exactly at the limit is a record (one field, its NUL counted). */
    spit_repeated(path, "", "a", AH_CSV_READ_RECORD_MAX - 1, "\nz\n");
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_uint_eq(strlen(f[0]), AH_CSV_READ_RECORD_MAX - 1);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_str_eq(f[0], "z");
    ah_csv_reader_close(r);

    /* A stray quote that is never closed: the unterminated quote is the
     * error, at the line it opened, final, after 17 MiB were scanned but
     * not kept. */
    long before = peak_rss_kib();
    spit_repeated(path, "a\n\"", "aaaaaaaaaaaaaaa\n", 17u * 1024 * 1024 / 16, "");
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EBADMSG);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EBADMSG);
    ah_csv_reader_close(r);
    long grown = peak_rss_kib() - before;
    ck_assert_msg(grown < 8 * 1024, "peak RSS grew by %ld KiB", grown);
}
END_TEST

/* A record of more than AH_CSV_READ_FIELDS_MAX fields: -E2BIG at its line,
 * and the next record is read. 16 MB of commas took 283 MB before there was
 * a limit; now it costs no more than the record buffer. */
START_TEST(test_read_too_many_fields)
{
    const char *path = tmp_path("commas.csv");
    long before = peak_rss_kib();
    spit_repeated(path, "h1,h2\n", ",,,,,,,,,,,,,,,,", 1024 * 1024, "\nc,d\n");
    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    char **f;
    size_t nf;
    unsigned long line;
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -E2BIG);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
    ck_assert_uint_eq(line, 3);
    ck_assert_str_eq(f[1], "d");
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
    ah_csv_reader_close(r);
    long grown = peak_rss_kib() - before;
    ck_assert_msg(grown < 8 * 1024, "peak RSS grew by %ld KiB", grown);

    /* The boundary, with each way a record can end: 64 fields are a record,
     * 65 are not, whether the 65th ends in LF, CRLF, a closing quote or the
     * end of the file. */
    static const char *const ends[] = {"x\n", "x\r\n", "\"x\"\n", "\"x\"\r\n", "x", "\"x\""};
    for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
        for (int extra = 0; extra <= 1; extra++) {
            char text[512] = "";
            size_t n = 0;
            int commas = AH_CSV_READ_FIELDS_MAX - 1 + extra;
            for (int i = 0; i < commas; i++)
                text[n++] = ',';
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", ends[e]);
            bool at_eof = strchr(ends[e], '\n') == NULL;
            if (!at_eof)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "next\n");
            spit(path, text, n);
            ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
            int rc = ah_csv_reader_next(r, &f, &nf, &line);
            ck_assert_msg(rc == (extra ? -E2BIG : 1), "end %zu extra %d: %d", e, extra, rc);
            ck_assert_uint_eq(line, 1);
            if (!extra) {
                ck_assert_uint_eq(nf, AH_CSV_READ_FIELDS_MAX);
                ck_assert_str_eq(f[AH_CSV_READ_FIELDS_MAX - 1], "x");
            }
            if (at_eof) {
                ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
            } else {
                ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
                ck_assert_str_eq(f[0], "next");
                ck_assert_uint_eq(line, 2);
            }
            ah_csv_reader_close(r);
        }
    }

    /* A malformed byte in the skipped part still ends the file. */
    spit_repeated(path, "", ",", 100, "a\"b\nc\n");
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EBADMSG);
    ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), -EBADMSG);
    ah_csv_reader_close(r);
}
END_TEST

/* Tricky byte pairs placed exactly across the 64 KiB read boundary. */
START_TEST(test_read_refill_boundaries)
{
    static const char *const tails[] = {"\"q\"\"x\"\n", "ab\r\ncd\n", "\"a\r\nb\"\r\n",
                                        "\"x\",\"y\"\n"};
    const char *path = tmp_path("boundary.csv");
    size_t bufsz = 64 * 1024;
    for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
        size_t tl = strlen(tails[t]);
        for (size_t shift = 0; shift < tl; shift++) {
            /* First record: "pad\n" filling the buffer up to the tail start. */
            size_t pad = bufsz - shift - 1;
            char *text = malloc(pad + 1 + tl);
            ck_assert_ptr_nonnull(text);
            memset(text, 'p', pad);
            text[pad] = '\n';
            memcpy(text + pad + 1, tails[t], tl);
            spit(path, text, pad + 1 + tl);
            free(text);

            struct ah_csv_reader *r;
            ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
            char **f;
            size_t nf;
            unsigned long line;
            ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
            ck_assert_uint_eq(strlen(f[0]), pad);
            ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
            ck_assert_uint_eq(line, 2);
            switch (t) {
            case 0:
                ck_assert_uint_eq(nf, 1);
                ck_assert_str_eq(f[0], "q\"x");
                break;
            case 1:
                ck_assert_uint_eq(nf, 1);
                ck_assert_str_eq(f[0], "ab");
                ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 1);
                ck_assert_str_eq(f[0], "cd");
                ck_assert_uint_eq(line, 3);
                break;
            case 2:
                ck_assert_uint_eq(nf, 1);
                ck_assert_str_eq(f[0], "a\r\nb");
                break;
            default:
                ck_assert_uint_eq(nf, 2);
                ck_assert_str_eq(f[0], "x");
                ck_assert_str_eq(f[1], "y");
            }
            ck_assert_int_eq(ah_csv_reader_next(r, &f, &nf, &line), 0);
            ah_csv_reader_close(r);
        }
    }
}
END_TEST

/* ---- round trips ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random string over an alphabet heavy in CSV's special characters. */
static void nasty(char *buf, size_t max)
{
    static const char alpha[] = ",\"\r\n ;'\t\\abcXYZ019\xc3\xa9\xff";
    size_t n = rng() % max;
    for (size_t i = 0; i < n; i++)
        buf[i] = alpha[rng() % (sizeof(alpha) - 1)];
    buf[n] = '\0';
}

#define RT_COLS 4
#define RT_ROWS 5000

static void write_nasty_file(const char *path, char (*cells)[RT_COLS][40])
{
    static const char *const hdr[RT_COLS] = {"a", "b,\"b\"", "c\nc", ""};
    struct ah_csv *w;
    FAST_INT(ah_csv_open(&w, path, hdr, RT_COLS), ==, 0);
    for (int i = 0; i < RT_ROWS; i++) {
        for (int k = 0; k < RT_COLS; k++) {
            nasty(cells[i][k], 40);
            FAST_INT(ah_csv_str(w, cells[i][k]), ==, 0);
        }
        FAST_INT(ah_csv_end_row(w), ==, 0);
    }
    FAST_INT(ah_csv_close(w), ==, 0);
}

static void read_nasty(struct ah_csv_reader *r, char (*cells)[RT_COLS][40])
{
    char **f;
    size_t nf;
    unsigned long line, expect_line = 1;
    FAST_INT(ah_csv_reader_next(r, &f, &nf, &line), ==, 1);
    FAST_UINT(nf, ==, RT_COLS);
    FAST_STR(f[1], ==, "b,\"b\"");
    FAST_STR(f[2], ==, "c\nc");
    FAST_STR(f[3], ==, "");
    expect_line = 3; /* the header spans two lines */
    for (int i = 0; i < RT_ROWS; i++) {
        FAST_INT(ah_csv_reader_next(r, &f, &nf, &line), ==, 1);
        FAST_UINT(nf, ==, RT_COLS);
        FAST_UINT(line, ==, expect_line);
        for (int k = 0; k < RT_COLS; k++) {
            if (!(strcmp(f[k], cells[i][k]) == 0))
                ck_abort_msg("row %d col %d", i, k);
            for (const char *p = cells[i][k]; *p != '\0'; p++)
                expect_line += *p == '\n';
        }
        expect_line++;
    }
    FAST_INT(ah_csv_reader_next(r, &f, &nf, &line), ==, 0);
}

START_TEST(test_round_trip_nasty)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    char(*cells)[RT_COLS][40] = calloc(RT_ROWS, sizeof(*cells));
    ck_assert_ptr_nonnull(cells);
    const char *path = tmp_path("nasty.csv");
    write_nasty_file(path, cells);
    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open(&r, path), 0);
    read_nasty(r, cells);
    ah_csv_reader_close(r);
    free(cells);
}
END_TEST

/* The same file fed through a pipe in 1..7 byte pieces, so the reader's
 * refill happens at every possible position inside records. */
struct feeder {
    int fd;
    const char *data;
    size_t len;
};

static void *feed_thread(void *arg)
{
    struct feeder *fd = arg;
    uint64_t s = 12345;
    size_t pos = 0;
    while (pos < fd->len) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = 1 + (s >> 33) % 7;
        if (n > fd->len - pos)
            n = fd->len - pos;
        ssize_t w = write(fd->fd, fd->data + pos, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        pos += (size_t)w;
    }
    close(fd->fd);
    return NULL;
}

START_TEST(test_round_trip_tiny_reads)
{
    rng_state = 0x0123456789abcdefull;
    char(*cells)[RT_COLS][40] = calloc(RT_ROWS, sizeof(*cells));
    ck_assert_ptr_nonnull(cells);
    const char *path = tmp_path("nasty-pipe.csv");
    write_nasty_file(path, cells);
    size_t len;
    char *data = slurp_alloc(path, &len);

    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct feeder fd = {p[1], data, len};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, feed_thread, &fd), 0);
    struct ah_csv_reader *r;
    ck_assert_int_eq(ah_csv_reader_open_fd(&r, p[0]), 0);
    read_nasty(r, cells);
    ah_csv_reader_close(r);
    pthread_join(th, NULL);
    free(data);
    free(cells);
}
END_TEST

START_TEST(test_round_trip_large)
{
    static const char *const hdr[] = {"ts_ns", "vantage", "seq", "detail"};
    const char *path = tmp_path("large.csv");
    const uint64_t rows = 200000;
    struct ah_csv *w;
    FAST_INT(ah_csv_open(&w, path, hdr, 4), ==, 0);
    char detail[32];
    for (uint64_t i = 0; i < rows; i++) {
        FAST_INT(ah_csv_u64(w, 1700000000000000000ull + i * 1000), ==, 0);
        FAST_INT(ah_csv_str(w, (i % 3) ? "eu" : "us,west"), ==, 0);
        FAST_INT(ah_csv_i64(w, (int64_t)i - 100000), ==, 0);
        snprintf(detail, sizeof(detail), (i % 5) ? "d%llu" : "\"q\"%llu", (unsigned long long)i);
        FAST_INT(ah_csv_str(w, detail), ==, 0);
        FAST_INT(ah_csv_end_row(w), ==, 0);
    }
    FAST_UINT(ah_csv_rows(w), ==, rows);
    FAST_INT(ah_csv_close(w), ==, 0);
    FAST_INT(file_size(path), >, 100 * 64 * 1024); /* over 100 refills */

    struct ah_csv_reader *r;
    FAST_INT(ah_csv_reader_open(&r, path), ==, 0);
    char **f;
    size_t nf;
    unsigned long line;
    FAST_INT(ah_csv_reader_next(r, &f, &nf, &line), ==, 1);
    FAST_STR(f[0], ==, "ts_ns");
    char want[32];
    for (uint64_t i = 0; i < rows; i++) {
        FAST_INT(ah_csv_reader_next(r, &f, &nf, &line), ==, 1);
        FAST_UINT(nf, ==, 4);
        FAST_UINT(line, ==, i + 2);
        FAST_UINT(strtoull(f[0], NULL, 10), ==, 1700000000000000000ull + i * 1000);
        FAST_STR(f[1], ==, (i % 3) ? "eu" : "us,west");
        FAST_INT(strtoll(f[2], NULL, 10), ==, (long long)i - 100000);
        snprintf(want, sizeof(want), (i % 5) ? "d%llu" : "\"q\"%llu", (unsigned long long)i);
        FAST_STR(f[3], ==, want);
    }
    FAST_INT(ah_csv_reader_next(r, &f, &nf, &line), ==, 0);
    ah_csv_reader_close(r);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
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

    TCase *tr = tcase_create("reader");
    tcase_add_unchecked_fixture(tr, dir_setup, tmpdir_remove);
    tcase_add_test(tr, test_read_features);
    tcase_add_test(tr, test_read_line_ends);
    tcase_add_loop_test(tr, test_read_malformed, 0,
                        (int)(sizeof(bad_reads) / sizeof(bad_reads[0])));
    tcase_add_test(tr, test_read_open_errors);
    tcase_add_test(tr, test_read_record_too_large);
    tcase_add_test(tr, test_read_too_many_fields);
    tcase_add_test(tr, test_read_refill_boundaries);
    suite_add_tcase(s, tr);

    TCase *rt = tcase_create("round-trip");
    tcase_add_unchecked_fixture(rt, dir_setup, tmpdir_remove);
    tcase_set_timeout(rt, 30);
    tcase_add_test(rt, test_round_trip_nasty);
    tcase_add_test(rt, test_round_trip_tiny_reads);
    tcase_add_test(rt, test_round_trip_large);
    suite_add_tcase(s, rt);
    return s;
}

AH_CHECK_MAIN(csv_suite)
