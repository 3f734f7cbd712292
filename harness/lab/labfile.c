/* Lab file loader: reads a lab file (docs/lab-file.md) with libyaml's document API,
 * collects every problem as "FILE:LINE:COL: message" and builds the
 * validated model of lab.h only when there is none. This file holds the
 * entry points, the diagnostics and the typed readers for YAML nodes; the
 * sections are in labfile_sections.c and labfile_drill.c. */
#include "lab.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <yaml.h>

#include "ah/dur.h"
#include "ah/esc.h"
#include "ah/suggest.h"
#include "labfile_int.h"

/* A lab file is a page of YAML; anything this large is a mistake and would
 * only make the loader slow. */
#define LAB_FILE_MAX (1024 * 1024)

/* ---- diagnostics ---- */

static void diag_add(struct lf *c, char *msg)
{
    struct lab_diag *d = c->diag;
    if (d == NULL || msg == NULL) {
        free(msg);
        return;
    }
    char **m = realloc(d->msgs, (d->n + 1) * sizeof(*m));
    if (m == NULL) {
        free(msg);
        c->oom = true;
        return;
    }
    d->msgs = m;
    d->msgs[d->n++] = msg;
}

static void verr_at(struct lf *c, unsigned line, unsigned col, const char *fmt, va_list ap)
{
    c->nerr++;
    if (c->nerr > LAB_DIAG_MAX)
        return; /* counted; summarised at the end */
    char *text = NULL, *msg = NULL;
    if (vasprintf(&text, fmt, ap) < 0) {
        c->oom = true;
        return;
    }
    if (asprintf(&msg, "%s:%u:%u: %s", c->file, line, col, text) < 0) {
        c->oom = true;
        msg = NULL;
    }
    free(text);
    diag_add(c, msg);
}

static void err_at(struct lf *c, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_at(struct lf *c, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_at(c, line, col, fmt, ap);
    va_end(ap);
}

void lf_err_mark(struct lf *c, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_at(c, (unsigned)m.line + 1, (unsigned)m.column + 1, fmt, ap);
    va_end(ap);
}

void lf_err(struct lf *c, const yaml_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_at(c, lf_line(at), lf_col(at), fmt, ap);
    va_end(ap);
}

/* Errors that have no position in the text (the file cannot be read). */
static void err_file(struct lf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_file(struct lf *c, const char *fmt, ...)
{
    char *text = NULL, *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    c->nerr++;
    if (n < 0 || asprintf(&msg, "%s: %s", c->file, text) < 0) {
        c->oom = true;
        msg = NULL;
    }
    free(text);
    diag_add(c, msg);
}

int lab_diag_addf(struct lab_diag *diag, const char *file, unsigned line, unsigned col,
                  const char *fmt, ...)
{
    char *text = NULL, *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    if (line > 0)
        n = asprintf(&msg, "%s:%u:%u: %s", file, line, col, text);
    else
        n = asprintf(&msg, "%s: %s", file, text);
    free(text);
    if (n < 0)
        return -ENOMEM;
    char **m = realloc(diag->msgs, (diag->n + 1) * sizeof(*m));
    if (m == NULL) {
        free(msg);
        return -ENOMEM;
    }
    diag->msgs = m;
    diag->msgs[diag->n++] = msg;
    return 0;
}

void lab_diag_free(struct lab_diag *diag)
{
    if (diag == NULL)
        return;
    for (size_t i = 0; i < diag->n; i++)
        free(diag->msgs[i]);
    free(diag->msgs);
    diag->msgs = NULL;
    diag->n = 0;
}

/* Position of a message made by this load, for sorting: after "FILE:".
 * Messages without one (file errors, the "more errors" line) sort last. */
static void msg_pos(const struct lf *c, const char *msg, unsigned long *line, unsigned long *col)
{
    const char *p = msg + strlen(c->file);
    char *end;
    *line = ULONG_MAX;
    *col = ULONG_MAX;
    if (*p != ':' || p[1] < '0' || p[1] > '9')
        return;
    *line = strtoul(p + 1, &end, 10);
    *col = *end == ':' ? strtoul(end + 1, NULL, 10) : 0;
}

/* Sorts the messages from index start on by position, keeping the order of
 * messages at the same position (a stable insertion sort: there are at most
 * LAB_DIAG_MAX of them). Sections are checked in dependency order, not file
 * order; users read errors top to bottom. */
static void diag_sort(const struct lf *c, size_t start)
{
    struct lab_diag *d = c->diag;
    if (d == NULL)
        return;
    for (size_t i = start + 1; i < d->n; i++) {
        char *m = d->msgs[i];
        unsigned long ml, mc, l, cc;
        msg_pos(c, m, &ml, &mc);
        size_t j = i;
        for (; j > start; j--) {
            msg_pos(c, d->msgs[j - 1], &l, &cc);
            if (l < ml || (l == ml && cc <= mc))
                break;
            d->msgs[j] = d->msgs[j - 1];
        }
        d->msgs[j] = m;
    }
}

/* ---- node helpers ---- */

unsigned lf_line(const yaml_node_t *n)
{
    return n != NULL ? (unsigned)n->start_mark.line + 1 : 1;
}

unsigned lf_col(const yaml_node_t *n)
{
    return n != NULL ? (unsigned)n->start_mark.column + 1 : 1;
}

yaml_node_t *lf_node(struct lf *c, yaml_node_item_t id)
{
    return yaml_document_get_node(c->doc, id);
}

bool lf_is_null(const yaml_node_t *n)
{
    if (n == NULL)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return strcmp(v, "") == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *lf_describe(const yaml_node_t *n, char *buf, size_t len)
{
    if (lf_is_null(n))
        return "nothing";
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) > 40)
        snprintf(buf, len, "\"%.37s...\"", v);
    else
        snprintf(buf, len, "\"%s\"", v);
    return buf;
}

char *lf_strdup(struct lf *c, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        c->oom = true;
    return d;
}

void *lf_calloc(struct lf *c, size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size);
    if (p == NULL)
        c->oom = true;
    return p;
}

const char *lf_durstr(uint64_t ns, char *buf, size_t len)
{
    if (ah_dur_format(ns, buf, len) < 0)
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
    return buf;
}

/* ---- structure readers ---- */

static void join_keys(const char *const *keys, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; keys[i] != NULL && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", keys[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

int lf_mapping(struct lf *c, yaml_node_t *n, const char *what, const char *const *keys,
               struct lf_map *m)
{
    char d[64];
    memset(m, 0, sizeof(*m));
    if (lf_is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE) {
        lf_err(c, n, "%s: expected a mapping (key: value), got %s", what,
               lf_describe(n, d, sizeof(d)));
        return -1;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = lf_node(c, p->key), *v = lf_node(c, p->value);
        if (k == NULL || k->type != YAML_SCALAR_NODE) {
            lf_err(c, k, "%s: a key must be a plain word, got %s", what,
                   lf_describe(k, d, sizeof(d)));
            continue;
        }
        const char *name = (const char *)k->data.scalar.value;
        size_t i;
        for (i = 0; keys[i] != NULL; i++)
            if (strcmp(keys[i], name) == 0)
                break;
        if (keys[i] == NULL) {
            char known[256];
            join_keys(keys, known, sizeof(known));
            const char *near = ah_suggest(name, keys, i);
            if (near)
                lf_err(c, k, "unknown key \"%s\" in %s: did you mean \"%s\"? (known: %s)", name,
                       what, near, known);
            else
                lf_err(c, k, "unknown key \"%s\" in %s (known: %s)", name, what, known);
            continue;
        }
        if (m->key[i] != NULL) {
            lf_err(c, k, "duplicate key \"%s\" in %s (first at %u:%u)", name, what,
                   lf_line(m->key[i]), lf_col(m->key[i]));
            continue;
        }
        m->key[i] = k;
        m->val[i] = v;
    }
    return 0;
}

bool lf_require(struct lf *c, yaml_node_t *map, const struct lf_map *m, size_t i,
                const char *const *keys, const char *what)
{
    if (m->key[i] != NULL)
        return true;
    lf_err(c, map, "missing required key \"%s\" in %s", keys[i], what);
    return false;
}

int lf_sequence(struct lf *c, yaml_node_t *n, const char *what, bool null_ok)
{
    char d[64];
    if (null_ok && lf_is_null(n))
        return 0;
    if (n == NULL || n->type != YAML_SEQUENCE_NODE) {
        lf_err(c, n, "%s: expected a list, got %s", what, lf_describe(n, d, sizeof(d)));
        return -1;
    }
    return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *lf_item(struct lf *c, yaml_node_t *seq, int i)
{
    return lf_node(c, seq->data.sequence.items.start[i]);
}

/* ---- scalar readers ---- */

const char *lf_scalar(struct lf *c, yaml_node_t *n, const char *what)
{
    char d[64];
    if (lf_is_null(n)) {
        lf_err(c, n, "%s: missing value", what);
        return NULL;
    }
    if (n->type != YAML_SCALAR_NODE) {
        lf_err(c, n, "%s: expected a single value, got %s", what, lf_describe(n, d, sizeof(d)));
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length) {
        lf_err(c, n, "%s: contains a NUL character", what);
        return NULL;
    }
    return v;
}

bool lab_name_valid(const char *s)
{
    size_t len = strlen(s);
    bool ok = len >= 1 && len < LAB_NAME_MAX;
    for (size_t i = 0; ok && i < len; i++) {
        char ch = s[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '-';
    }
    return ok;
}

int lf_name(struct lf *c, yaml_node_t *n, const char *what, char out[LAB_NAME_MAX])
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return -1;
    if (!lab_name_valid(v)) {
        char d[64];
        lf_err(c, n,
               "%s: bad name %s: use 1 to %d letters, digits, '_' or '-' (namespace names "
               "are made from it)",
               what, lf_describe(n, d, sizeof(d)), LAB_NAME_MAX - 1);
        return -1;
    }
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

int lf_uint(struct lf *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
            uint64_t *out)
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return -1;
    uint64_t x = 0;
    bool ok = *v != '\0';
    for (const char *p = v; ok && *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            ok = false;
            break;
        }
        unsigned dgt = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - dgt) / 10)
            x = UINT64_MAX; /* saturate: out of range below */
        else
            x = x * 10 + dgt;
    }
    if (!ok) {
        char d[64];
        lf_err(c, n, "%s: expected a whole number, got %s", what, lf_describe(n, d, sizeof(d)));
        return -1;
    }
    if (x < min || x > max) {
        lf_err(c, n, "%s: %s is out of range (%llu..%llu)", what, v, (unsigned long long)min,
               (unsigned long long)max);
        return -1;
    }
    *out = x;
    return 0;
}

int lf_dur(struct lf *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
           uint64_t *out)
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return -1;
    uint64_t ns;
    int rc = ah_dur_parse(v, &ns);
    if (rc < 0 || ns < min || ns > max) {
        char a[32], b[32], d[64];
        if (rc == -EINVAL)
            lf_err(c, n, "%s: bad duration %s (write e.g. 250ms, 2s, 1.5s, 1m)", what,
                   lf_describe(n, d, sizeof(d)));
        else
            lf_err(c, n, "%s: %s is out of range (%s..%s)", what, v, lf_durstr(min, a, sizeof(a)),
                   lf_durstr(max, b, sizeof(b)));
        return -1;
    }
    *out = ns;
    return 0;
}

int lf_bool(struct lf *c, yaml_node_t *n, const char *what, bool *out)
{
    static const char *const words[] = {"true", "false", "yes",   "no", "on",
                                        "off",  "True",  "False", NULL};
    int i;
    if (lf_word(c, n, what, words, &i) < 0)
        return -1;
    *out = i % 2 == 0;
    return 0;
}

int lf_word(struct lf *c, yaml_node_t *n, const char *what, const char *const *words, int *out)
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return -1;
    for (int i = 0; words[i] != NULL; i++) {
        if (strcmp(words[i], v) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[256], d[64];
    join_keys(words, list, sizeof(list));
    lf_err(c, n, "%s: unknown value %s (one of: %s)", what, lf_describe(n, d, sizeof(d)), list);
    return -1;
}

/* ---- loading ---- */

/* libyaml reports encoding problems by byte offset only; turn that into a
 * line and column (in bytes) so every message has a position. */
static void offset_pos(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Writes the file's line (1-based) and a caret under col to out, as
 * "\n   3 | text\n     |    ^", so a syntax error shows where it is. The
 * line is escaped for the terminal and cut at 120 bytes; nothing is written
 * when the line is not in the buffer. */
static void excerpt(const char *buf, size_t len, unsigned line, unsigned col, char *out, size_t cap)
{
    out[0] = '\0';
    size_t start = 0;
    for (unsigned l = 1; l < line && start < len; start++)
        if (buf[start] == '\n')
            l++;
    if (start >= len || line == 0)
        return;
    size_t end = start;
    while (end < len && buf[end] != '\n' && buf[end] != '\r' && end - start < 120)
        end++;
    char text[AH_ESC_TERM_MAX(120)];
    ah_esc_term(text, sizeof text, buf + start, end - start);
    int w = snprintf(out, cap, "\n%5u | %s\n      | ", line, text);
    /* The caret counts bytes, as the column does; tabs keep their width. */
    for (unsigned i = 1; w > 0 && (size_t)w + 2 < cap && i < col && i <= 120; i++)
        out[w++] = start + i - 1 < end && buf[start + i - 1] == '\t' ? '\t' : ' ';
    if (w > 0 && (size_t)w + 2 <= cap) {
        out[w++] = '^';
        out[w] = '\0';
    }
}

static void yaml_error(struct lf *c, const yaml_parser_t *p, const char *buf, size_t len)
{
    const char *problem = p->problem != NULL ? p->problem : "cannot parse";
    unsigned line = (unsigned)p->problem_mark.line + 1, col = (unsigned)p->problem_mark.column + 1;
    char show[400];
    /* libyaml's words for a line indented wrongly say nothing of
     * indentation; say it, since that is almost always the cause. */
    const char *hint = strstr(problem, "did not find expected key") != NULL ||
                               strstr(problem, "did not find expected '-'") != NULL ||
                               strstr(problem, "mapping values are not allowed") != NULL
                           ? " (check this line's indentation against the lines above it)"
                           : "";
    if (p->error == YAML_READER_ERROR) {
        offset_pos(buf, len, p->problem_offset, &line, &col);
        err_at(c, line, col, "YAML: %s", problem);
    } else if (p->error == YAML_MEMORY_ERROR) {
        c->oom = true;
        err_file(c, "YAML: out of memory");
    } else if (p->context != NULL) {
        excerpt(buf, len, line, col, show, sizeof show);
        err_at(c, line, col, "YAML: %s (%s at line %u)%s%s", problem, p->context,
               (unsigned)p->context_mark.line + 1, hint, show);
    } else {
        excerpt(buf, len, line, col, show, sizeof show);
        err_at(c, line, col, "YAML: %s%s%s", problem, hint, show);
    }
}

static int read_file(struct lf *c, const char *path, char **out, size_t *len)
{
    int rc = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rc = -errno;
        err_file(c, "cannot open: %s", strerror(-rc));
        goto out;
    }
    buf = malloc(LAB_FILE_MAX + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        err_file(c, "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, LAB_FILE_MAX + 1, f);
    if (ferror(f)) {
        rc = -EIO;
        err_file(c, "cannot read: %s", strerror(errno != 0 ? errno : EIO));
        goto out;
    }
    if (n > LAB_FILE_MAX) {
        rc = -EFBIG;
        err_file(c, "larger than %d bytes; is this a lab file?", LAB_FILE_MAX);
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

/* libyaml's scanner does work proportional to the flow nesting depth for
 * every token, so a file of 40,000 '[' takes seconds and one of 1 MiB
 * minutes, and its document loader would build all of it first. No lab file
 * nests more than a few levels, so a first pass over the events refuses
 * anything deeper than LAB_DEPTH_MAX as soon as the first too-deep
 * collection starts; the scanner reads at most about 1 KiB ahead of the
 * events, so that costs well under a millisecond. Syntax errors are left
 * to the loading pass, which reports them with their context. Returns 0,
 * -EINVAL (reported) or -ENOMEM. */
static int check_depth(struct lf *c, const char *buf, size_t len)
{
    yaml_parser_t parser;
    int rc = 0, depth = 0;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR)
                rc = -ENOMEM;
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > LAB_DEPTH_MAX) {
                lf_err_mark(c, ev.start_mark, "nested more than %d lists or mappings deep",
                            LAB_DEPTH_MAX);
                rc = -EINVAL;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc < 0 || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Parses and validates buf into c->lab (allocated here); 0, -EINVAL or
 * -ENOMEM. On error c->lab is freed and NULL. */
static int load_buffer(struct lf *c, const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool parser_init = false, doc_init = false;
    int rc;

    if (len > LAB_FILE_MAX) {
        err_file(c, "larger than %d bytes; is this a lab file?", LAB_FILE_MAX);
        return -EFBIG;
    }
    rc = check_depth(c, buf, len);
    if (rc < 0)
        goto out;
    if (!yaml_parser_initialize(&parser)) {
        rc = -ENOMEM;
        goto out;
    }
    parser_init = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_error(c, &parser, buf, len);
        rc = c->oom ? -ENOMEM : -EINVAL;
        goto out;
    }
    doc_init = true;
    c->doc = &doc;
    c->root = yaml_document_get_root_node(&doc);
    if (c->root == NULL) {
        err_at(c, 1, 1, "the lab file is empty");
        rc = -EINVAL;
        goto out;
    }
    /* A second document would silently be ignored: refuse it. */
    if (!yaml_parser_load(&parser, &extra)) {
        yaml_error(c, &parser, buf, len);
    } else {
        yaml_node_t *r = yaml_document_get_root_node(&extra);
        if (r != NULL)
            lf_err(c, r, "only one YAML document per lab file");
        yaml_document_delete(&extra);
    }

    c->lab = lf_calloc(c, 1, sizeof(*c->lab));
    if (c->lab == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    c->lab->path = lf_strdup(c, c->file);
    lf_parse_lab(c);
    rc = c->oom ? -ENOMEM : c->nerr > 0 ? -EINVAL : 0;
out:
    if (rc < 0) {
        lab_free(c->lab);
        c->lab = NULL;
    }
    if (doc_init)
        yaml_document_delete(&doc);
    if (parser_init)
        yaml_parser_delete(&parser);
    c->doc = NULL;
    c->root = NULL;
    return rc;
}

/* Common end of both entry points: messages in file order, the count of
 * those left out, and the result. */
static int finish(struct lf *c, size_t first_msg, int rc, struct lab **out)
{
    diag_sort(c, first_msg);
    if (c->nerr > LAB_DIAG_MAX)
        err_file(c, "%zu more errors not shown", c->nerr - LAB_DIAG_MAX);
    if (rc == -ENOMEM && c->nerr == 0)
        err_file(c, "out of memory");
    *out = rc == 0 ? c->lab : NULL;
    return rc;
}

int lab_load_buffer(const char *name, const char *buf, size_t len, struct lab **out,
                    struct lab_diag *diag)
{
    struct lf c = {.file = name, .diag = diag};
    size_t first_msg = diag != NULL ? diag->n : 0;
    *out = NULL;
    return finish(&c, first_msg, load_buffer(&c, buf, len), out);
}

int lab_load(const char *path, struct lab **out, struct lab_diag *diag)
{
    struct lf c = {.file = path, .diag = diag};
    size_t first_msg = diag != NULL ? diag->n : 0;
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = read_file(&c, path, &buf, &len);
    if (rc == 0)
        rc = load_buffer(&c, buf, len);
    free(buf);
    return finish(&c, first_msg, rc, out);
}

void lab_free(struct lab *lab)
{
    if (lab == NULL)
        return;
    for (size_t i = 0; lab->nodes != NULL && i < lab->nnodes; i++) {
        free(lab->nodes[i].command);
        lf_host_free(&lab->nodes[i].host);
        for (int v = 0; v < AH_VERB_COUNT; v++)
            free(lab->nodes[i].actions[v]);
    }
    free(lab->nodes);
    for (size_t i = 0; lab->vantages != NULL && i < lab->nvantages; i++) {
        free(lab->vantages[i].prefer);
        lf_host_free(&lab->vantages[i].host);
        free(lab->vantages[i].probe);
    }
    free(lab->vantages);
    for (size_t i = 0; lab->drill != NULL && i < lab->ndrill; i++)
        free(lab->drill[i].command);
    free(lab->drill);
    lf_ssh_free(&lab->ssh);
    for (size_t i = 0; lab->expect != NULL && i < lab->nexpect; i++)
        free(lab->expect[i].text);
    free(lab->expect);
    free(lab->path);
    free(lab);
}

int lf_node_ref(struct lf *c, yaml_node_t *n, const char *what, const char *where)
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return -1;
    int i = lab_node_index(c->lab, v);
    /* When the node list itself was broken, that error is already out. */
    if (i < 0 && c->nodes_ok) {
        char hint[300];
        lab_unknown_hint(c->lab, false, v, hint, sizeof hint);
        lf_err(c, n, "unknown node \"%s\" in %s%s", v, where, hint);
    }
    return i;
}
