/* The buffered RFC 4180 CSV writer for results files. Rows are assembled in
 * one memory buffer; the file only ever receives complete rows, so a reader
 * tailing a results file, or one left by a killed run, never sees half a row
 * unless the disk itself fails mid-write. */
#include "ah/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CSV_BUF_SIZE (64 * 1024)

struct ah_csv {
    int fd;
    char *buf;
    size_t cap;
    size_t len;       /* bytes in buf */
    size_t row_start; /* buf[0..row_start) holds complete rows */
    size_t ncols;
    size_t nfields; /* fields in the current row so far */
    uint64_t rows;  /* data rows ended, the header not included */
    int err;        /* first I/O error, returned by every later call */
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes the complete rows and keeps the unfinished one at the buffer start. */
static int flush_rows(struct ah_csv *w)
{
    if (w->err != 0)
        return w->err;
    if (w->row_start == 0)
        return 0;
    int rc = write_all(w->fd, w->buf, w->row_start);
    if (rc < 0) {
        w->err = rc;
        return rc;
    }
    memmove(w->buf, w->buf + w->row_start, w->len - w->row_start);
    w->len -= w->row_start;
    w->row_start = 0;
    return 0;
}

/* Makes room for n more bytes: first by flushing complete rows, then, for a
 * row larger than the buffer, by growing it. */
static int reserve(struct ah_csv *w, size_t n)
{
    if (w->err != 0)
        return w->err;
    if (w->cap - w->len >= n)
        return 0;
    int rc = flush_rows(w);
    if (rc < 0)
        return rc;
    if (w->cap - w->len >= n)
        return 0;
    if (n > SIZE_MAX / 2 - w->len)
        return -ENOMEM;
    size_t cap = w->cap;
    while (cap - w->len < n)
        cap *= 2;
    char *buf = realloc(w->buf, cap);
    if (buf == NULL)
        return -ENOMEM;
    w->buf = buf;
    w->cap = cap;
    return 0;
}

static bool needs_quotes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ',' || c == '"' || c == '\r' || c == '\n')
            return true;
    }
    return false;
}

/* Appends one field; raw fields (numbers) skip the quoting scan. */
static int append_field(struct ah_csv *w, const char *s, size_t n, bool raw)
{
    bool quote = !raw && needs_quotes(s, n);
    size_t quotes = 0;
    if (quote)
        for (size_t i = 0; i < n; i++)
            quotes += s[i] == '"';
    /* separator + opening and closing quote + doubled quotes */
    size_t need = 1 + n + (quote ? 2 + quotes : 0);
    int rc = reserve(w, need);
    if (rc < 0)
        return rc;
    char *p = w->buf + w->len;
    if (w->nfields > 0)
        *p++ = ',';
    if (!quote) {
        memcpy(p, s, n);
        p += n;
    } else {
        *p++ = '"';
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"')
                *p++ = '"';
            *p++ = s[i];
        }
        *p++ = '"';
    }
    w->len = (size_t)(p - w->buf);
    w->nfields++;
    return 0;
}

int ah_csv_strn(struct ah_csv *w, const char *s, size_t n)
{
    if (s == NULL)
        n = 0;
    return append_field(w, s == NULL ? "" : s, n, false);
}

int ah_csv_str(struct ah_csv *w, const char *s)
{
    return ah_csv_strn(w, s, s == NULL ? 0 : strlen(s));
}

int ah_csv_empty(struct ah_csv *w)
{
    return append_field(w, "", 0, true);
}

int ah_csv_u64(struct ah_csv *w, uint64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return append_field(w, p, (size_t)(tmp + sizeof(tmp) - p), true);
}

int ah_csv_i64(struct ah_csv *w, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    /* Negate in unsigned arithmetic so INT64_MIN works. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    return append_field(w, p, (size_t)(tmp + sizeof(tmp) - p), true);
}

int ah_csv_end_row(struct ah_csv *w)
{
    if (w->err != 0)
        return w->err;
    if (w->nfields != w->ncols) {
        w->len = w->row_start;
        w->nfields = 0;
        return -EINVAL;
    }
    /* A row of one empty field would be an empty line, which many readers
     * skip; write it as "" so it survives. */
    if (w->ncols == 1 && w->len == w->row_start) {
        int rc = reserve(w, 2);
        if (rc < 0)
            return rc;
        w->buf[w->len++] = '"';
        w->buf[w->len++] = '"';
    }
    int rc = reserve(w, 1);
    if (rc < 0)
        return rc;
    w->buf[w->len++] = '\n';
    w->row_start = w->len;
    w->nfields = 0;
    w->rows++;
    if (w->len >= CSV_BUF_SIZE)
        return flush_rows(w);
    return 0;
}

int ah_csv_flush(struct ah_csv *w)
{
    return flush_rows(w);
}

uint64_t ah_csv_rows(const struct ah_csv *w)
{
    return w->rows;
}

int ah_csv_open_fd(struct ah_csv **out, int fd, const char *const *header, size_t ncols)
{
    int rc = 0;
    struct ah_csv *w = NULL;
    if (fd < 0 || ncols == 0) {
        rc = -EINVAL;
        goto out;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL || (w->buf = malloc(CSV_BUF_SIZE)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    w->fd = fd;
    w->cap = CSV_BUF_SIZE;
    w->ncols = ncols;
    if (header != NULL) {
        for (size_t i = 0; i < ncols && rc == 0; i++)
            rc = ah_csv_str(w, header[i]);
        if (rc == 0)
            rc = ah_csv_end_row(w);
        /* The header is written at once: the file is then valid even if the
         * run dies before its first flush, and a bad fd shows up here. */
        if (rc == 0)
            rc = flush_rows(w);
        w->rows = 0;
    }
out:
    if (rc < 0) {
        if (w != NULL)
            free(w->buf);
        free(w);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *out = w;
    return 0;
}

int ah_csv_open(struct ah_csv **out, const char *path, const char *const *header, size_t ncols)
{
    if (ncols == 0)
        return -EINVAL;
    /* Output directories may be shared: a symlink planted under the name
     * must not redirect the file (ELOOP instead). */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    return ah_csv_open_fd(out, fd, header, ncols);
}

int ah_csv_close(struct ah_csv *w)
{
    if (w == NULL)
        return 0;
    /* An unfinished row is dropped: only complete rows reach the file. */
    w->len = w->row_start;
    int rc = flush_rows(w);
    if (close(w->fd) < 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    free(w->buf);
    free(w);
    return rc;
}
