/* The streaming RFC 4180 CSV reader: a fixed read buffer is refilled from
 * the file while a byte-wise state machine assembles one record at a time, so
 * records may span refills and quoted fields may hold commas, quotes and line
 * breaks. Used by the lab to summarise results and by tests to check files. */
#include "ah/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BUF_SIZE (64 * 1024)

enum rd_state {
    ST_FIELD_START, /* at the start of a field */
    ST_UNQUOTED,    /* inside an unquoted field */
    ST_QUOTED,      /* inside a quoted field */
    ST_QUOTE_SEEN,  /* a quote inside a quoted field: closing, or first of "" */
    ST_CR,          /* a CR outside quotes, which must be followed by LF */
};

struct ah_csv_reader {
    int fd;
    char in[READ_BUF_SIZE];
    size_t in_pos, in_len;
    bool eof;
    int err;            /* sticky: a malformed record or I/O error ends reading */
    bool skipping;      /* the record broke a limit: scan to its end, keep nothing */
    unsigned long line; /* current line, 1-based */
    /* The record being built: field texts, each NUL-terminated, in rec. */
    char *rec;
    size_t rec_len, rec_cap;
    size_t *starts; /* offset of each field in rec */
    char **fields;  /* pointers handed to the caller */
    size_t nfields, fields_cap;
};

/* Appends one byte of field text. Past AH_CSV_READ_RECORD_MAX the record is
 * only scanned to its end: a file with a stray quote or one huge line costs
 * no more memory than that. */
static int rec_push(struct ah_csv_reader *r, char c)
{
    if (r->skipping)
        return 0;
    if (r->rec_len == r->rec_cap) {
        if (r->rec_cap >= AH_CSV_READ_RECORD_MAX)
            return -EMSGSIZE;
        size_t cap = r->rec_cap * 2;
        char *p = realloc(r->rec, cap);
        if (p == NULL)
            return -ENOMEM;
        r->rec = p;
        r->rec_cap = cap;
    }
    r->rec[r->rec_len++] = c;
    return 0;
}

/* Ends the current field (NUL-terminates it); the next one starts after. A
 * record of commas would otherwise cost two pointers per byte (a 16 MB line
 * took 283 MB), so fields past AH_CSV_READ_FIELDS_MAX are an error. */
static int field_end(struct ah_csv_reader *r)
{
    if (r->skipping)
        return 0;
    if (r->nfields == AH_CSV_READ_FIELDS_MAX)
        return -E2BIG;
    int rc = rec_push(r, '\0');
    if (rc < 0)
        return rc;
    r->nfields++;
    /* starts[nfields] is the start of the field being read, so keep a slot. */
    if (r->nfields == r->fields_cap) {
        size_t cap = r->fields_cap * 2;
        size_t *s = realloc(r->starts, cap * sizeof(*s));
        if (s == NULL)
            return -ENOMEM;
        r->starts = s;
        char **f = realloc(r->fields, cap * sizeof(*f));
        if (f == NULL)
            return -ENOMEM;
        r->fields = f;
        r->fields_cap = cap;
    }
    r->starts[r->nfields] = r->rec_len;
    return 0;
}

/* Refills the input buffer; returns 1 with data, 0 at end of file. */
static int refill(struct ah_csv_reader *r)
{
    if (r->eof)
        return 0;
    for (;;) {
        ssize_t n = read(r->fd, r->in, sizeof(r->in));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0) {
            r->eof = true;
            return 0;
        }
        r->in_pos = 0;
        r->in_len = (size_t)n;
        return 1;
    }
}

/* Feeds one byte of a record to the state machine. Sets *end when the byte
 * ended the record (its last field is then closed). Returns 0 or a negative
 * error (-EMSGSIZE/-E2BIG for a limit, -EBADMSG for malformed CSV). */
static int consume(struct ah_csv_reader *r, enum rd_state *st, char c, unsigned long *quote_line,
                   bool *end)
{
    switch (*st) {
    case ST_FIELD_START:
        if (c == '"') {
            *st = ST_QUOTED;
            *quote_line = r->line;
            return 0;
        }
        *st = ST_UNQUOTED;
        /* fall through */
    case ST_UNQUOTED:
        if (c == '"')
            return -EBADMSG; /* RFC 4180: a quote may only appear in a quoted field. */
        break;
    case ST_QUOTED:
        if (c == '"') {
            *st = ST_QUOTE_SEEN;
            return 0;
        }
        if (c == '\n')
            r->line++;
        return rec_push(r, c);
    case ST_QUOTE_SEEN:
        if (c == '"') {
            *st = ST_QUOTED;
            return rec_push(r, '"');
        }
        if (c != ',' && c != '\n' && c != '\r')
            return -EBADMSG; /* garbage after the closing quote */
        break;
    case ST_CR:
        if (c != '\n')
            return -EBADMSG; /* a bare CR must be quoted */
        break;
    }
    /* Outside quotes: the separators, or a byte of an unquoted field. */
    if (c == ',' && *st != ST_CR) {
        *st = ST_FIELD_START;
        return field_end(r);
    }
    if (c == '\n') {
        r->line++;
        *end = true;
        return field_end(r);
    }
    if (c == '\r') {
        *st = ST_CR;
        return 0;
    }
    return rec_push(r, c);
}

/* Makes the record just read the caller's, or reports the limit it broke
 * (over) at its first line. */
static int record_out(struct ah_csv_reader *r, int over, unsigned long start_line, char ***fields,
                      size_t *nfields, unsigned long *line)
{
    *line = start_line;
    if (over < 0)
        return over;
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i] = r->rec + r->starts[i];
    *fields = r->fields;
    *nfields = r->nfields;
    return 1;
}

int ah_csv_reader_next(struct ah_csv_reader *r, char ***fields, size_t *nfields,
                       unsigned long *line)
{
    if (r->err != 0) {
        *line = r->line;
        return r->err;
    }
    r->rec_len = 0;
    r->nfields = 0;
    r->starts[0] = 0;
    r->skipping = false;
    unsigned long start_line = r->line, quote_line = r->line;
    enum rd_state st = ST_FIELD_START;
    bool any = false; /* consumed any byte of this record */
    int rc = 0, over = 0;

    for (;;) {
        if (r->in_pos == r->in_len) {
            rc = refill(r);
            if (rc < 0)
                goto fail;
            if (rc == 0)
                break;
        }
        any = true;
        bool end = false;
        rc = consume(r, &st, r->in[r->in_pos++], &quote_line, &end);
        if (rc == -EMSGSIZE || rc == -E2BIG) {
            /* Over a limit: the rest of the record is scanned, not kept, so
             * the next call starts at the next record. */
            over = rc;
            r->skipping = true;
            rc = 0;
        }
        if (rc < 0)
            goto fail;
        if (end)
            return record_out(r, over, start_line, fields, nfields, line);
    }

    /* End of file. */
    if (!any)
        return 0;
    if (st == ST_QUOTED) {
        rc = -EBADMSG;
        r->line = quote_line; /* point at the quote that was never closed */
        goto fail;
    }
    /* The last record had no line end; ST_CR here is a final lone CR. */
    rc = field_end(r);
    if (rc == -EMSGSIZE || rc == -E2BIG) {
        over = rc; /* the limit broke on the record's last field */
        rc = 0;
    }
    if (rc < 0)
        goto fail;
    return record_out(r, over, start_line, fields, nfields, line);

fail:
    r->err = rc;
    *line = r->line;
    return rc;
}

int ah_csv_reader_open_fd(struct ah_csv_reader **out, int fd)
{
    int rc = 0;
    struct ah_csv_reader *r = NULL;
    if (fd < 0) {
        rc = -EINVAL;
        goto out;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    r->fd = fd;
    r->line = 1;
    r->rec_cap = 4096;
    r->fields_cap = 16;
    r->rec = malloc(r->rec_cap);
    r->starts = malloc(r->fields_cap * sizeof(*r->starts));
    r->fields = malloc(r->fields_cap * sizeof(*r->fields));
    if (r->rec == NULL || r->starts == NULL || r->fields == NULL)
        rc = -ENOMEM;
out:
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        if (r != NULL) {
            free(r->rec);
            free(r->starts);
            free(r->fields);
            free(r);
        }
        return rc;
    }
    *out = r;
    return 0;
}

int ah_csv_reader_open(struct ah_csv_reader **out, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return ah_csv_reader_open_fd(out, fd);
}

void ah_csv_reader_close(struct ah_csv_reader *r)
{
    if (r == NULL)
        return;
    close(r->fd);
    free(r->rec);
    free(r->starts);
    free(r->fields);
    free(r);
}
