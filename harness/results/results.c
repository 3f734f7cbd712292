/* Results of a run: directory naming, the events log and the streaming merge
 * of per-vantage CSV files into one time-ordered file (docs/formats.md). */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/json.h"
#include "ah/file.h"
#include "ah/clock.h"
#include "ah/csv.h"
#include "ah/log.h"
#include "ah/schema.h"
#include "harness/lab/drill.h"
#include "harness/lab/expect.h"
#include "harness/lab/lab.h"

int results_dir_name(uint64_t realtime_ns, const char *lab_name, char *buf, size_t len)
{
    char stamp[32];
    if (ah_clock_format_stamp(realtime_ns, stamp, sizeof stamp) < 0)
        return -ENOSPC;
    int n = snprintf(buf, len, "%s-%s", stamp, lab_name);
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int results_make_dir(const char *base, uint64_t realtime_ns, const char *lab_name, char *buf,
                     size_t len)
{
    char name[128];
    int rc = results_dir_name(realtime_ns, lab_name, name, sizeof name);
    if (rc < 0)
        return rc;
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
        return -errno;
    for (unsigned i = 1; i < 100; i++) {
        int n = i == 1 ? snprintf(buf, len, "%s/%s", base, name)
                       : snprintf(buf, len, "%s/%s-%u", base, name, i);
        if (n < 0 || (size_t)n >= len)
            return -ENAMETOOLONG;
        if (mkdir(buf, 0755) == 0)
            return 0;
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

int results_copy_file(const char *from, const char *to)
{
    int err = 0;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = -1;
    if (in < 0)
        return -errno;
    out = ah_file_create(to, O_TRUNC);
    if (out < 0) {
        err = out;
        goto out;
    }
    err = ah_file_copy_fd(in, out);
out:
    close(in);
    if (out >= 0 && close(out) < 0 && err == 0)
        err = -errno;
    return err;
}

/* ---- events.csv ---- */

struct event_row {
    uint64_t ts_ns;
    size_t seq;
    char *event, *node, *detail;
};

struct events {
    char *path;
    struct ah_csv *w;
    struct event_row *rows;
    size_t n, cap;
};

int events_open(struct events **out, const char *path)
{
    struct events *ev = calloc(1, sizeof *ev);
    if (!ev || !(ev->path = strdup(path))) {
        free(ev);
        return -ENOMEM;
    }
    int rc = ah_csv_open(&ev->w, path, ah_schema_events_cols, AH_SCHEMA_EVENTS_COLS);
    if (rc < 0) {
        free(ev->path);
        free(ev);
        return rc;
    }
    ah_csv_flush(ev->w);
    *out = ev;
    return 0;
}

static int write_event(struct ah_csv *w, const struct event_row *r)
{
    ah_csv_u64(w, r->ts_ns);
    ah_csv_str(w, r->event);
    ah_csv_str(w, r->node);
    ah_csv_str(w, r->detail);
    return ah_csv_end_row(w);
}

int events_add(struct events *ev, uint64_t ts_ns, const char *event, const char *node,
               const char *detail)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? 2 * ev->cap : 64;
        struct event_row *r = realloc(ev->rows, cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        ev->rows = r;
        ev->cap = cap;
    }
    struct event_row *r = &ev->rows[ev->n];
    r->ts_ns = ts_ns;
    r->seq = ev->n;
    r->event = strdup(event ? event : "");
    r->node = strdup(node ? node : "");
    r->detail = strdup(detail ? detail : "");
    if (!r->event || !r->node || !r->detail) {
        free(r->event);
        free(r->node);
        free(r->detail);
        return -ENOMEM;
    }
    ev->n++;
    /* Written at once, so a run killed later still leaves its events. */
    if (ev->w) {
        write_event(ev->w, r);
        ah_csv_flush(ev->w);
    }
    return 0;
}

size_t events_count(const struct events *ev)
{
    return ev ? ev->n : 0;
}

static int event_cmp(const void *a, const void *b)
{
    const struct event_row *x = a, *y = b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int events_close(struct events *ev)
{
    int rc = 0;
    if (!ev)
        return 0;
    rc = ah_csv_close(ev->w);
    ev->w = NULL;
    if (ev->n > 0)
        qsort(ev->rows, ev->n, sizeof *ev->rows, event_cmp);
    struct ah_csv *w = NULL;
    int rc2 = ah_csv_open(&w, ev->path, ah_schema_events_cols, AH_SCHEMA_EVENTS_COLS);
    if (rc2 == 0) {
        for (size_t i = 0; i < ev->n; i++)
            write_event(w, &ev->rows[i]);
        rc2 = ah_csv_close(w);
    }
    if (rc == 0)
        rc = rc2;
    for (size_t i = 0; i < ev->n; i++) {
        free(ev->rows[i].event);
        free(ev->rows[i].node);
        free(ev->rows[i].detail);
    }
    free(ev->rows);
    free(ev->path);
    free(ev);
    return rc;
}

/* ---- merge ---- */

struct mrow {
    uint64_t key;
    uint64_t seq;
    char **f;
    size_t n;
};

struct heap {
    struct mrow *a;
    size_t n, cap;
};

static bool mrow_less(const struct mrow *x, const struct mrow *y)
{
    return x->key != y->key ? x->key < y->key : x->seq < y->seq;
}

static int heap_push(struct heap *h, struct mrow r)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        struct mrow *a = realloc(h->a, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        h->a = a;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->a[i] = r;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!mrow_less(&h->a[i], &h->a[p]))
            break;
        struct mrow t = h->a[i];
        h->a[i] = h->a[p];
        h->a[p] = t;
        i = p;
    }
    return 0;
}

static struct mrow heap_pop(struct heap *h)
{
    struct mrow top = h->a[0];
    h->a[0] = h->a[--h->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && mrow_less(&h->a[l], &h->a[m]))
            m = l;
        if (r < h->n && mrow_less(&h->a[r], &h->a[m]))
            m = r;
        if (m == i)
            break;
        struct mrow t = h->a[i];
        h->a[i] = h->a[m];
        h->a[m] = t;
        i = m;
    }
    return top;
}

static void mrow_free(struct mrow *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    free(r->f);
}

struct minput {
    struct ah_csv_reader *r;
    const char *path;
    uint64_t last_key;
    bool eof;
};

/* Reads one data row of input in into the heap; sets eof at the end. */
static int read_row(struct minput *in, struct heap *h, size_t ncols, size_t key_col, uint64_t *seq)
{
    char **f;
    size_t n;
    unsigned long line;
    for (;;) {
        int rc = ah_csv_reader_next(in->r, &f, &n, &line);
        if (rc == 0) {
            in->eof = true;
            return 0;
        }
        if (rc == -E2BIG || rc == -EMSGSIZE) {
            /* Over a reader limit: that record alone is lost, as in the
             * report. */
            ah_log_warn("%s:%lu: %s; row skipped", in->path, line,
                        rc == -E2BIG ? "too many fields" : "record too long");
            continue;
        }
        if (rc < 0) {
            ah_log_warn("%s:%lu: unreadable row (%s), rest of file skipped", in->path, line,
                        strerror(-rc));
            in->eof = true;
            return 0;
        }
        if (n != ncols) {
            ah_log_warn("%s:%lu: %zu fields, want %zu; row skipped", in->path, line, n, ncols);
            continue;
        }
        struct mrow m = {.seq = (*seq)++, .n = n};
        char *end;
        errno = 0;
        unsigned long long k = strtoull(f[key_col], &end, 10);
        m.key = errno || end == f[key_col] ? in->last_key : (uint64_t)k;
        m.f = calloc(n, sizeof *m.f);
        if (!m.f)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if (!(m.f[i] = strdup(f[i]))) {
                mrow_free(&m);
                return -ENOMEM;
            }
        }
        if (m.key > in->last_key)
            in->last_key = m.key;
        int prc = heap_push(h, m);
        if (prc < 0)
            mrow_free(&m);
        return prc;
    }
}

static bool same_header(char **f, size_t n, const char *const *hdr, size_t ncols)
{
    if (n != ncols)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i], hdr[i]) != 0)
            return false;
    }
    return true;
}

long results_merge(const char *const *inputs, size_t ninputs, const char *out, size_t key_col,
                   uint64_t window_ns, const char *const *header, size_t ncols, unsigned long *late)
{
    long rc = 0, written = 0;
    struct minput *in = calloc(ninputs ? ninputs : 1, sizeof *in);
    struct heap h = {0};
    struct ah_csv *w = NULL;
    char **hdr_copy = NULL;
    size_t hdr_n = 0;
    uint64_t seq = 0, last_out = 0;
    bool have_out = false;

    *late = 0;
    if (!in)
        return -ENOMEM;
    for (size_t i = 0; i < ninputs; i++) {
        in[i].path = inputs[i];
        in[i].eof = true;
        if (access(inputs[i], F_OK) != 0)
            continue;
        int orc = ah_csv_reader_open(&in[i].r, inputs[i]);
        if (orc < 0) {
            ah_log_warn("%s: %s", inputs[i], strerror(-orc));
            continue;
        }
        char **f;
        size_t n;
        unsigned long line;
        if (ah_csv_reader_next(in[i].r, &f, &n, &line) != 1)
            continue; /* empty file: no header, no rows */
        if (!hdr_copy) {
            hdr_copy = calloc(n, sizeof *hdr_copy);
            if (!hdr_copy) {
                rc = -ENOMEM;
                goto out;
            }
            hdr_n = n;
            for (size_t k = 0; k < n; k++) {
                if (!(hdr_copy[k] = strdup(f[k]))) {
                    rc = -ENOMEM;
                    goto out;
                }
            }
        } else if (!same_header(f, n, (const char *const *)hdr_copy, hdr_n)) {
            ah_log_error("%s: header differs from %s", inputs[i], inputs[0]);
            rc = -EBADMSG;
            goto out;
        }
        in[i].eof = false;
    }
    if (hdr_copy) {
        header = (const char *const *)hdr_copy;
        ncols = hdr_n;
    }
    if (key_col >= ncols) {
        rc = -EINVAL;
        goto out;
    }
    if (!header)
        goto out;
    rc = ah_csv_open(&w, out, header, ncols);
    if (rc < 0)
        goto out;

    for (;;) {
        /* Read from an input that may still hold a row older than the
         * heap's minimum; else the minimum is final. */
        bool read_one = false;
        for (size_t i = 0; i < ninputs; i++) {
            if (in[i].eof)
                continue;
            uint64_t horizon = h.n == 0                              ? UINT64_MAX
                               : h.a[0].key > UINT64_MAX - window_ns ? UINT64_MAX
                                                                     : h.a[0].key + window_ns;
            if (h.n == 0 || in[i].last_key < horizon || horizon == UINT64_MAX) {
                rc = read_row(&in[i], &h, ncols, key_col, &seq);
                if (rc < 0)
                    goto out;
                read_one = true;
                break;
            }
        }
        if (read_one)
            continue;
        if (h.n == 0)
            break;
        struct mrow m = heap_pop(&h);
        if (have_out && m.key < last_out)
            (*late)++;
        else
            last_out = m.key;
        have_out = true;
        for (size_t k = 0; k < m.n; k++)
            ah_csv_str(w, m.f[k]);
        mrow_free(&m);
        rc = ah_csv_end_row(w);
        if (rc < 0)
            goto out;
        written++;
    }
    rc = written;
out:
    if (w) {
        int crc = ah_csv_close(w);
        if (rc >= 0 && crc < 0)
            rc = crc;
    }
    while (h.n > 0) {
        struct mrow m = heap_pop(&h);
        mrow_free(&m);
    }
    free(h.a);
    for (size_t i = 0; i < ninputs; i++) {
        if (in[i].r)
            ah_csv_reader_close(in[i].r);
    }
    free(in);
    for (size_t k = 0; k < hdr_n; k++)
        free(hdr_copy ? hdr_copy[k] : NULL);
    free(hdr_copy);
    return rc;
}

static void json_str(FILE *f, const char *key, const char *val, bool comma)
{
    fprintf(f, "  \"%s\": ", key);
    ah_json_str(f, val);
    fprintf(f, "%s\n", comma ? "," : "");
}

static void json_ns(FILE *f, const char *key, uint64_t ns, bool comma)
{
    if (ns == 0)
        fprintf(f, "  \"%s\": null%s\n", key, comma ? "," : "");
    else
        fprintf(f, "  \"%s\": %llu%s\n", key, (unsigned long long)ns, comma ? "," : "");
}

/* "late_steps": the steps that started later than the tolerance, named as
 * expectations name them, and "not_measured": the expectations that depend
 * on one of them. Written before the per-step list so that a reader finds
 * them in the first part of the file. */
static void write_late(FILE *f, const struct results_run_info *ri)
{
    char ref[LAB_NAME_MAX + 32];
    size_t n = 0, late = 0;
    const struct drill *d = ri->drill;
    fprintf(f, "  \"late_steps\": [");
    for (size_t i = 0; d && ri->lab && i < d->n; i++) {
        if (!drill_step_late(&d->steps[i], ri->tolerance_ns))
            continue;
        late++;
        if (n >= RESULTS_LATE_MAX || drill_step_ref(d, ri->lab, i, ref, sizeof ref) < 0)
            continue;
        fprintf(f, "%s{\"step\": \"%s\", \"late_ns\": %llu}", n ? ", " : "", ref,
                (unsigned long long)d->steps[i].late_ns);
        n++;
    }
    fprintf(f, "],\n  \"late_steps_truncated\": %s,\n", n < late ? "true" : "false");
    fprintf(f, "  \"not_measured\": [");
    n = 0;
    for (size_t i = 0; late && i < ri->lab->nexpect; i++) {
        struct expect e;
        char err[64];
        unsigned off;
        if (expect_parse(ri->lab->expect[i].text, &e, err, sizeof err, &off) < 0 ||
            expect_step_ref(&e, ref, sizeof ref) < 0)
            continue;
        bool hit = false;
        for (size_t k = 0; !hit && k < d->n; k++) {
            char sref[LAB_NAME_MAX + 32];
            hit = drill_step_late(&d->steps[k], ri->tolerance_ns) &&
                  drill_step_ref(d, ri->lab, k, sref, sizeof sref) == 0 && strcmp(sref, ref) == 0;
        }
        if (!hit)
            continue;
        fprintf(f, "%s{\"line\": %u, \"text\": ", n++ ? ", " : "", ri->lab->expect[i].line);
        ah_json_str(f, ri->lab->expect[i].text);
        fprintf(f, ", \"step\": ");
        ah_json_str(f, ref);
        fprintf(f, "}");
    }
    fprintf(f, "],\n");
}

int results_late_parse(const char *json, size_t len, struct results_late *out)
{
    static const char key[] = "\"late_steps\": [";
    memset(out, 0, sizeof *out);
    const char *p = memmem(json, len, key, sizeof key - 1);
    if (p) {
        p += sizeof key - 1;
        const char *e = memchr(p, ']', len - (size_t)(p - json));
        if (!e)
            e = json + len; /* cut short: what is there counts */
        out->text = strndup(p, (size_t)(e - p));
        if (!out->text)
            return -ENOMEM;
    }
    static const char tr[] = "\"late_steps_truncated\": true";
    out->truncated = memmem(json, len, tr, sizeof tr - 1) != NULL;
    static const char tk[] = "\"tolerance_ns\": ";
    const char *t = memmem(json, len, tk, sizeof tk - 1);
    if (t) {
        t += sizeof tk - 1;
        uint64_t v = 0;
        for (; t < json + len && *t >= '0' && *t <= '9' && v < UINT64_MAX / 10; t++)
            v = v * 10 + (uint64_t)(*t - '0');
        out->tolerance_ns = v;
    }
    return 0;
}

int results_late_read(const char *path, struct results_late *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    char *buf = malloc(RESULTS_RUN_JSON_READ_MAX);
    int rc = 0;
    size_t got = 0;
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < RESULTS_RUN_JSON_READ_MAX) {
        ssize_t n = read(fd, buf + got, RESULTS_RUN_JSON_READ_MAX - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    rc = results_late_parse(buf, got, out);
out:
    free(buf);
    close(fd);
    return rc;
}

bool results_late_has(const struct results_late *l, const char *ref, uint64_t *late_ns)
{
    char pat[LAB_NAME_MAX + 64];
    *late_ns = UINT64_MAX;
    /* A name is [A-Za-z0-9_-]: nothing in a ref needs JSON escaping, and one
     * that would is not a step. */
    if (strpbrk(ref, "\"\\") ||
        (size_t)snprintf(pat, sizeof pat, "{\"step\": \"%s\", \"late_ns\": ", ref) >= sizeof pat)
        return l->truncated;
    const char *p = l->text ? strstr(l->text, pat) : NULL;
    if (!p)
        return l->truncated;
    p += strlen(pat);
    if (*p >= '0' && *p <= '9') {
        uint64_t v = 0;
        for (; *p >= '0' && *p <= '9' && v < UINT64_MAX / 10; p++)
            v = v * 10 + (uint64_t)(*p - '0');
        *late_ns = v;
    }
    return true;
}

void results_late_free(struct results_late *l)
{
    free(l->text);
    memset(l, 0, sizeof *l);
}

int results_write_run_json(const char *path, const struct results_run_info *ri)
{
    FILE *f = ah_file_fopen_w(path);
    if (!f)
        return -errno;
    fprintf(f, "{\n");
    json_str(f, "lab", ri->lab_name, true);
    json_str(f, "lab_file", ri->lab_file, true);
    json_str(f, "run_id", ri->run_id, true);
    json_str(f, "routing", ri->routing, true);
    json_str(f, "status", ri->status, true);
    fprintf(f, "  \"exit_code\": %d,\n", ri->exit_code);
    fprintf(f, "  \"rootless\": %s,\n", ri->rootless ? "true" : "false");
    json_str(f, "kernel", ri->kernel, true);
    json_ns(f, "start_ns", ri->start_ns, true);
    json_ns(f, "drill_start_ns", ri->drill_start_ns, true);
    json_ns(f, "end_ns", ri->end_ns, true);
    fprintf(f, "  \"tolerance_ns\": %llu,\n", (unsigned long long)ri->tolerance_ns);
    fprintf(f, "  \"startup\": {");
    static const char *const parts[] = {"topology_ns", "responders_ns", "probes_ns"};
    const uint64_t took[] = {ri->topology_ns, ri->responders_ns, ri->probes_ns};
    for (size_t i = 0; i < 3; i++) {
        if (took[i])
            fprintf(f, "%s\"%s\": %llu", i ? ", " : "", parts[i], (unsigned long long)took[i]);
        else
            fprintf(f, "%s\"%s\": null", i ? ", " : "", parts[i]);
    }
    fprintf(f, "},\n");
    write_late(f, ri);
    fprintf(f, "  \"versions\": {");
    for (size_t i = 0; i < ri->nversions; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        ah_json_str(f, ri->version_keys[i]);
        fprintf(f, ": ");
        ah_json_str(f, ri->version_vals[i]);
    }
    fprintf(f, "%s},\n", ri->nversions ? "\n  " : "");
    fprintf(f, "  \"rows\": {\"probes\": %ld, \"connections\": %ld, \"events\": %zu},\n",
            ri->probes_rows, ri->connections_rows, ri->events_rows);
    fprintf(f, "  \"drill\": [");
    size_t nsteps = ri->drill ? ri->drill->n : 0;
    for (size_t i = 0; i < nsteps; i++) {
        const struct drill_step *s = &ri->drill->steps[i];
        const char *node = ri->lab && s->node < ri->lab->nnodes ? ri->lab->nodes[s->node].name : "";
        fprintf(f, "%s\n    {\"at_ns\": %llu, \"event\": \"%s\", \"node\": \"%s\", ", i ? "," : "",
                (unsigned long long)s->at_ns, ah_schema_verb_name(s->verb), node);
        if (s->done) {
            fprintf(f,
                    "\"ack_ns\": %llu, \"late_ns\": %llu, \"late\": %s, \"ok\": %s, "
                    "\"detail\": ",
                    (unsigned long long)s->ack_ns, (unsigned long long)s->late_ns,
                    drill_step_late(s, ri->tolerance_ns) ? "true" : "false",
                    s->rc == 0 ? "true" : "false");
            ah_json_str(f, s->detail);
            fprintf(f, "}");
        } else {
            fprintf(f, "\"ack_ns\": null, \"ok\": false, \"detail\": \"not executed\"}");
        }
    }
    fprintf(f, "%s]\n}\n", nsteps ? "\n  " : "");
    return fclose(f) == 0 ? 0 : -errno;
}
