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

/* One merge in progress: the inputs with their header, the rows held back
 * in key order, and the output. */
struct merge {
    struct minput *in;
    size_t nin;
    struct heap h;
    struct ah_csv *w;
    char **hdr; /* the first input's header (NULL: no input has one) */
    size_t hdr_n;
    uint64_t seq, last_out;
    bool have_out;
};

static int merge_copy_header(struct merge *mg, char **f, size_t n)
{
    mg->hdr = calloc(n, sizeof *mg->hdr);
    if (!mg->hdr)
        return -ENOMEM;
    mg->hdr_n = n;
    for (size_t k = 0; k < n; k++) {
        if (!(mg->hdr[k] = strdup(f[k])))
            return -ENOMEM;
    }
    return 0;
}

/* Opens every input that exists and reads its header, which must be the
 * first one's. An input that is missing, unreadable or empty stays at eof. */
static int merge_open(struct merge *mg, const char *const *inputs)
{
    for (size_t i = 0; i < mg->nin; i++) {
        struct minput *in = &mg->in[i];
        in->path = inputs[i];
        in->eof = true;
        if (access(inputs[i], F_OK) != 0)
            continue;
        int rc = ah_csv_reader_open(&in->r, inputs[i]);
        if (rc < 0) {
            ah_log_warn("%s: %s", inputs[i], strerror(-rc));
            continue;
        }
        char **f;
        size_t n;
        unsigned long line;
        if (ah_csv_reader_next(in->r, &f, &n, &line) != 1)
            continue; /* empty file: no header, no rows */
        if (!mg->hdr) {
            if ((rc = merge_copy_header(mg, f, n)) < 0)
                return rc;
        } else if (!same_header(f, n, (const char *const *)mg->hdr, mg->hdr_n)) {
            ah_log_error("%s: header differs from %s", inputs[i], inputs[0]);
            return -EBADMSG;
        }
        in->eof = false;
    }
    return 0;
}

/* Reads a row from an input that may still hold one older than the heap's
 * minimum. Returns 1 when one was read, 0 when the minimum is final, or a
 * negative errno. */
static int merge_read(struct merge *mg, size_t ncols, size_t key_col, uint64_t window_ns)
{
    const struct heap *h = &mg->h;
    uint64_t horizon = h->n == 0                              ? UINT64_MAX
                       : h->a[0].key > UINT64_MAX - window_ns ? UINT64_MAX
                                                              : h->a[0].key + window_ns;
    for (size_t i = 0; i < mg->nin; i++) {
        if (mg->in[i].eof)
            continue;
        if (h->n == 0 || mg->in[i].last_key < horizon || horizon == UINT64_MAX) {
            int rc = read_row(&mg->in[i], &mg->h, ncols, key_col, &mg->seq);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

/* Writes the heap's minimum; a row older than one already written is
 * counted in *late. */
static int merge_write(struct merge *mg, unsigned long *late)
{
    struct mrow m = heap_pop(&mg->h);
    if (mg->have_out && m.key < mg->last_out)
        (*late)++;
    else
        mg->last_out = m.key;
    mg->have_out = true;
    for (size_t k = 0; k < m.n; k++)
        ah_csv_str(mg->w, m.f[k]);
    mrow_free(&m);
    return ah_csv_end_row(mg->w);
}

static void merge_free(struct merge *mg)
{
    while (mg->h.n > 0) {
        struct mrow m = heap_pop(&mg->h);
        mrow_free(&m);
    }
    free(mg->h.a);
    for (size_t i = 0; i < mg->nin; i++) {
        if (mg->in[i].r)
            ah_csv_reader_close(mg->in[i].r);
    }
    free(mg->in);
    for (size_t k = 0; k < mg->hdr_n; k++)
        free(mg->hdr ? mg->hdr[k] : NULL);
    free(mg->hdr);
}

long results_merge(const char *const *inputs, size_t ninputs, const char *out, size_t key_col,
                   uint64_t window_ns, const char *const *header, size_t ncols, unsigned long *late)
{
    struct merge mg = {.nin = ninputs};
    long rc, written = 0;

    *late = 0;
    mg.in = calloc(ninputs ? ninputs : 1, sizeof *mg.in);
    if (!mg.in)
        return -ENOMEM;
    if ((rc = merge_open(&mg, inputs)) < 0)
        goto out;
    if (mg.hdr) {
        header = (const char *const *)mg.hdr;
        ncols = mg.hdr_n;
    }
    if (key_col >= ncols) {
        rc = -EINVAL;
        goto out;
    }
    if (!header)
        goto out;
    if ((rc = ah_csv_open(&mg.w, out, header, ncols)) < 0)
        goto out;
    for (;;) {
        if ((rc = merge_read(&mg, ncols, key_col, window_ns)) < 0)
            goto out;
        if (rc > 0)
            continue;
        if (mg.h.n == 0)
            break;
        if ((rc = merge_write(&mg, late)) < 0)
            goto out;
        written++;
    }
    rc = written;
out:
    if (mg.w) {
        int crc = ah_csv_close(mg.w);
        if (rc >= 0 && crc < 0)
            rc = crc;
    }
    merge_free(&mg);
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
    /* Steps the run never reached (it was interrupted or failed first):
     * their expectations read "not reached" rather than a failure. */
    fprintf(f, "  \"unreached_steps\": [");
    n = 0;
    for (size_t i = 0; d && ri->lab && i < d->n && n < RESULTS_LATE_MAX; i++) {
        if (d->steps[i].done || drill_step_ref(d, ri->lab, i, ref, sizeof ref) < 0)
            continue;
        fprintf(f, "%s\"%s\"", n++ ? ", " : "", ref);
    }
    fprintf(f, "],\n");
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

int results_run_json_load(const char *path, json_t **out, char *err, size_t errlen)
{
    return ah_json_load_file(path, RESULTS_RUN_JSON_READ_MAX, out, err, errlen);
}

int results_late_from_json(const json_t *run, struct results_late *out)
{
    memset(out, 0, sizeof *out);
    json_t *steps = json_is_object(run) ? json_object_get(run, "late_steps") : NULL;
    if (json_is_array(steps))
        out->steps = json_incref(steps);
    json_t *unreached = json_is_object(run) ? json_object_get(run, "unreached_steps") : NULL;
    if (json_is_array(unreached))
        out->unreached = json_incref(unreached);
    out->truncated = ah_json_true(run, "late_steps_truncated");
    out->tolerance_ns = ah_json_u64(run, "tolerance_ns", 0);
    return 0;
}

int results_late_parse(const char *json, size_t len, struct results_late *out)
{
    json_t *run = NULL;
    char err[256];
    memset(out, 0, sizeof *out);
    int rc = ah_json_load_buffer("run.json", json, len, &run, err, sizeof err);
    if (rc < 0)
        return rc;
    rc = results_late_from_json(run, out);
    json_decref(run);
    return rc;
}

int results_late_read(const char *path, struct results_late *out)
{
    json_t *run = NULL;
    char err[256]; /* the caller says what went wrong */
    memset(out, 0, sizeof *out);
    int rc = results_run_json_load(path, &run, err, sizeof err);
    if (rc < 0)
        return rc == -ENOENT ? 0 : rc;
    rc = results_late_from_json(run, out);
    json_decref(run);
    return rc;
}

/* A step is {"step": REF, "late_ns": N}; one without late_ns is not a late
 * step, one whose late_ns is not a number is late by an unknown time. */
bool results_late_has(const struct results_late *l, const char *ref, uint64_t *late_ns)
{
    size_t i;
    json_t *step;
    *late_ns = UINT64_MAX;
    json_array_foreach(l->steps, i, step)
    {
        const char *name = ah_json_string(step, "step");
        if (name && strcmp(name, ref) == 0 && json_object_get(step, "late_ns")) {
            *late_ns = ah_json_u64(step, "late_ns", UINT64_MAX);
            return true;
        }
    }
    return l->truncated;
}

bool results_step_unreached(const struct results_late *l, const char *ref)
{
    size_t i;
    json_t *step;
    json_array_foreach(l->unreached, i, step)
    {
        const char *name = json_string_value(step);
        if (name && strcmp(name, ref) == 0)
            return true;
    }
    return false;
}

void results_late_free(struct results_late *l)
{
    json_decref(l->unreached);
    json_decref(l->steps);
    memset(l, 0, sizeof *l);
}

/* "vantage_routing": each vantage whose router has a mode other than the
 * lab's (its routing: key), {} when none does. */
static void write_vantage_routing(FILE *f, const struct lab *lab)
{
    size_t n = 0;
    fprintf(f, "  \"vantage_routing\": {");
    for (size_t v = 0; lab && lab->kind == LAB_KIND_LAB && v < lab->nvantages; v++) {
        enum lab_routing r = lab_vantage_routing(lab, v);
        if (r == lab->routing)
            continue;
        fprintf(f, "%s", n++ ? ", " : "");
        ah_json_str(f, lab->vantages[v].name);
        fprintf(f, ": \"%s\"", lab_routing_name(r));
    }
    fprintf(f, "},\n");
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
    write_vantage_routing(f, ri->lab);
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
    fprintf(f, "  \"queries\": [");
    for (size_t i = 0; i < ri->nqueries; i++) {
        fprintf(f, "%s\n    {\"vantage\": ", i ? "," : "");
        ah_json_str(f, ri->query_vantages[i]);
        fprintf(f, ", \"target\": ");
        ah_json_str(f, ri->query_targets ? ri->query_targets[i] : "");
        fprintf(f, ", \"query\": ");
        ah_json_str(f, ri->query_specs[i]);
        fprintf(f, ", \"why\": ");
        ah_json_str(f, ri->query_whys[i]);
        fprintf(f, "}");
    }
    fprintf(f, "%s],\n", ri->nqueries ? "\n  " : "");
    fprintf(f, "  \"rows\": {\"probes\": %ld, \"connections\": %ld, \"events\": %zu},\n",
            ri->probes_rows, ri->connections_rows, ri->events_rows);
    fprintf(f, "  \"pcaps\": [");
    for (size_t i = 0; i < ri->npcaps; i++) {
        fprintf(f, "%s", i ? ", " : "");
        ah_json_str(f, ri->pcaps[i]);
    }
    fprintf(f, "],\n");
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

size_t results_clocks_from_json(const json_t *run, struct results_clock *out, size_t cap)
{
    json_t *hosts = json_is_object(run) ? json_object_get(run, "hosts") : NULL;
    json_t *h;
    size_t i, n = 0;

    json_array_foreach(hosts, i, h)
    {
        const char *role = ah_json_string(h, "role"), *name = ah_json_string(h, "name");
        json_t *off = json_object_get(h, "offset_ns");
        if (n == cap)
            break;
        if (!role || strcmp(role, "vantage") != 0 || !name || !name[0] || !json_is_integer(off))
            continue;
        out[n].vantage = name;
        out[n].offset_ns = (int64_t)json_integer_value(off);
        out[n].uncertainty_ns = ah_json_u64(h, "uncertainty_ns", 0);
        n++;
    }
    return n;
}
