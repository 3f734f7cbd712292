/* The streaming scanner of RIPE Atlas result files: cuts a file of any size
 * into its top-level elements (of one JSON array, of several arrays one
 * after the other, or values one per line) holding at most one element in
 * memory, so each can be parsed on its own. It knows only strings, escapes
 * and nesting; the elements' JSON is checked by the parser. */
#include "atlas.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCAN_READ 65536

struct scan {
    size_t max;
    atlas_elem_fn fn;
    void *arg;
    char *buf; /* the element so far (up to max bytes) */
    size_t len, cap;
    bool in_array; /* inside a top-level '[' */
    bool in_elem, in_str, esc, scalar, over;
    unsigned depth;
    unsigned long n;
    uint64_t off, elem_off;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends n bytes to the element, up to the bound; past it the element is
 * only scanned to its end. */
static int keep(struct scan *s, const char *p, size_t n)
{
    if (s->over || n == 0)
        return 0;
    if (n > s->max - s->len) {
        s->over = true;
        return 0;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        if (cap > s->max)
            cap = s->max;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

static int finish(struct scan *s)
{
    char why[64];
    s->in_elem = false;
    if (s->over) {
        snprintf(why, sizeof why, "element over %zu bytes", s->max);
        return s->fn(s->arg, s->n, s->elem_off, NULL, 0, why);
    }
    return s->fn(s->arg, s->n, s->elem_off, s->buf, s->len, NULL);
}

static void start(struct scan *s, char c)
{
    s->in_elem = true;
    s->n++;
    s->elem_off = s->off;
    s->len = 0;
    s->over = false;
    s->in_str = false;
    s->esc = false;
    s->scalar = c != '{' && c != '[';
    s->depth = 0;
}

/* One byte between elements: returns 1 when it starts an element (the
 * byte is then the element's first), else 0 or a negative errno. */
static int outer(struct scan *s, char c)
{
    if (is_ws(c) || (c == ',' && s->in_array))
        return 0;
    if (c == '[' && !s->in_array) {
        s->in_array = true;
        return 0;
    }
    if (c == ']' && s->in_array) {
        s->in_array = false;
        return 0;
    }
    if (c == ',' || c == ']' || c == '}') {
        s->n++;
        return s->fn(s->arg, s->n, s->off, NULL, 0, "a stray ',', ']' or '}'");
    }
    start(s, c);
    return 1;
}

/* Where in p[0..n) the element ends: the index past its last byte, or n
 * when it goes on; *done tells which. */
static size_t inner(struct scan *s, const char *p, size_t n, bool *done)
{
    *done = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (s->in_str) {
            if (s->esc) {
                s->esc = false;
            } else if (c == '\\') {
                s->esc = true;
            } else if (c == '"') {
                s->in_str = false;
                if (s->scalar && s->depth == 0) {
                    *done = true;
                    return i + 1;
                }
            }
            continue;
        }
        if (s->scalar && s->depth == 0 && (i > 0 || s->len > 0 || s->over) &&
            (is_ws(c) || c == ',' || c == ']' || c == '}')) {
            *done = true;
            return i;
        }
        if (c == '"') {
            s->in_str = true;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if ((c == '}' || c == ']') && s->depth > 0 && --s->depth == 0) {
            *done = true;
            return i + 1;
        }
    }
    return n;
}

/* One chunk of the file. */
static int chunk(struct scan *s, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!s->in_elem) {
            int rc = outer(s, p[i]);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                i++;
                s->off++;
                continue;
            }
        }
        bool done;
        size_t end = i + inner(s, p + i, n - i, &done);
        /* A scalar's first byte is never its end. */
        int rc = keep(s, p + i, end - i);
        s->off += end - i;
        i = end;
        if (rc == 0 && done)
            rc = finish(s);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int at_end(struct scan *s)
{
    int rc = 0;
    if (s->in_elem && s->scalar && !s->in_str)
        rc = finish(s);
    else if (s->in_elem)
        rc = s->fn(s->arg, s->n, s->elem_off, NULL, 0, "truncated by the end of the file");
    else if (s->in_array)
        rc = s->fn(s->arg, 0, s->off, NULL, 0, "the array is not closed (file truncated?)");
    return rc;
}

long atlas_scan_fd(int fd, size_t max_elem, atlas_elem_fn fn, void *arg)
{
    struct scan s = {.max = max_elem, .fn = fn, .arg = arg};
    char *rd = malloc(SCAN_READ);
    long ret = -ENOMEM;
    if (!rd)
        goto out;
    for (;;) {
        ssize_t got = read(fd, rd, SCAN_READ);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            ret = -errno;
            goto out;
        }
        if (got == 0)
            break;
        int rc = chunk(&s, rd, (size_t)got);
        if (rc < 0) {
            ret = rc;
            goto out;
        }
    }
    ret = at_end(&s);
    if (ret == 0)
        ret = (long)s.n;
out:
    free(rd);
    free(s.buf);
    return ret;
}
