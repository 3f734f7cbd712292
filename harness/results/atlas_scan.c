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

static int keep(struct scan *s, char c)
{
    if (s->over)
        return 0;
    if (s->len == s->max) {
        s->over = true;
        return 0;
    }
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        if (cap > s->max)
            cap = s->max;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->cap = cap;
    }
    s->buf[s->len++] = c;
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

static int start(struct scan *s, char c)
{
    s->in_elem = true;
    s->n++;
    s->elem_off = s->off;
    s->len = 0;
    s->over = false;
    s->depth = 0;
    s->in_str = c == '"';
    s->esc = false;
    s->scalar = c != '{' && c != '[';
    if (!s->scalar)
        s->depth = 1;
    return keep(s, c);
}

/* One byte between elements. */
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
    return start(s, c);
}

/* One byte inside an element. */
static int inner(struct scan *s, char c)
{
    if (s->in_str) {
        if (s->esc)
            s->esc = false;
        else if (c == '\\')
            s->esc = true;
        else if (c == '"')
            s->in_str = false;
        int rc = keep(s, c);
        if (rc == 0 && !s->in_str && s->scalar && s->depth == 0 && c == '"')
            rc = finish(s);
        return rc;
    }
    if (s->scalar && s->depth == 0 && (is_ws(c) || c == ',' || c == ']' || c == '}')) {
        int rc = finish(s);
        return rc < 0 ? rc : outer(s, c);
    }
    if (c == '"') {
        s->in_str = true;
    } else if (c == '{' || c == '[') {
        s->depth++;
    } else if (c == '}' || c == ']') {
        int rc = keep(s, c);
        if (rc == 0 && --s->depth == 0)
            rc = finish(s);
        return rc;
    }
    return keep(s, c);
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
        for (ssize_t i = 0; i < got; i++, s.off++) {
            int rc = s.in_elem ? inner(&s, rd[i]) : outer(&s, rd[i]);
            if (rc < 0) {
                ret = rc;
                goto out;
            }
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
