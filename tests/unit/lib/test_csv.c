/* Unit tests for lib/csv_read.c and the writer -> reader round trip:
 * features, line ends, malformed input and limits, records across
 * read-buffer refills, nasty strings and a large file. */
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
