/* Two runs' summary rows: bounded reading of summary.csv by column name,
 * the key index, the matching of A's rows to B's and the judgement of each
 * metric (docs/anycast-lab.md, "diff"). Pure functions on rows except the
 * loader. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "ah/csv.h"
#include "ah/log.h"

static const struct {
    const char *name;
    bool judged, ms;
} metrics[DIFF_NMETRICS] = {
    [DIFF_PROBES] = {"probes", false, false},
    [DIFF_LOST] = {"lost", true, false},
    [DIFF_OUTAGE_MS] = {"outage_ms", true, true},
    [DIFF_SWITCH_MS] = {"switch_ms", true, true},
    [DIFF_FLIPS] = {"flips", true, false},
    [DIFF_CONNS_AT_EVENT] = {"conns_at_event", false, false},
    [DIFF_CONNS_BROKEN] = {"conns_broken", true, false},
    [DIFF_BREAK_MS_P50] = {"break_ms_p50", true, true},
    [DIFF_BREAK_MS_MAX] = {"break_ms_max", true, true},
    [DIFF_RECONNECT_MS] = {"reconnect_ms", true, true},
    [DIFF_DETECT_MS] = {"detect_ms", true, true},
    [DIFF_RTT_MS_P50] = {"rtt_ms_p50", true, true},
    [DIFF_RTT_MS_P99] = {"rtt_ms_p99", true, true},
    [DIFF_RTT_MS_MAX] = {"rtt_ms_max", true, true},
    [DIFF_BASE_RTT_MS_P50] = {"base_rtt_ms_p50", false, true},
    [DIFF_BASE_RTT_MS_P99] = {"base_rtt_ms_p99", false, true},
    [DIFF_BASE_RTT_MS_MAX] = {"base_rtt_ms_max", false, true},
};

const char *diff_metric_name(enum diff_metric m)
{
    return (unsigned)m < DIFF_NMETRICS ? metrics[m].name : "?";
}

bool diff_metric_judged(enum diff_metric m)
{
    return (unsigned)m < DIFF_NMETRICS && metrics[m].judged;
}

bool diff_metric_ms(enum diff_metric m)
{
    return (unsigned)m < DIFF_NMETRICS && metrics[m].ms;
}

static const char *const mark_names[] = {
    [DIFF_NONE] = "",           [DIFF_SAME] = "same",
    [DIFF_BETTER] = "better",   [DIFF_WORSE] = "REGRESSION",
    [DIFF_CHANGED] = "changed", [DIFF_NOT_COMPARABLE] = "not comparable",
};

const char *diff_mark_name(enum diff_mark m)
{
    return (unsigned)m < sizeof mark_names / sizeof mark_names[0] ? mark_names[m] : "?";
}

/* ---- the table ---- */

int diff_table_add(struct diff_table *t, const struct diff_row *r)
{
    if (t->n >= DIFF_ROWS_MAX)
        return -EFBIG;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct diff_row *rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows)
            return -ENOMEM;
        t->rows = rows;
        t->cap = cap;
    }
    struct diff_row *d = &t->rows[t->n];
    *d = *r;
    d->event = strdup(r->event);
    d->node = strdup(r->node);
    d->vantage = strdup(r->vantage);
    if (!d->event || !d->node || !d->vantage) {
        free(d->event);
        free(d->node);
        free(d->vantage);
        return -ENOMEM;
    }
    t->n++;
    return 0;
}

void diff_table_free(struct diff_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].event);
        free(t->rows[i].node);
        free(t->rows[i].vantage);
    }
    free(t->rows);
    free(t->order);
    memset(t, 0, sizeof *t);
}

static int key_cmp(const struct diff_row *x, const struct diff_row *y)
{
    int c = strcmp(x->event, y->event);
    if (c == 0)
        c = strcmp(x->node, y->node);
    if (c == 0 && x->occurrence != y->occurrence)
        c = x->occurrence < y->occurrence ? -1 : 1;
    if (c == 0)
        c = strcmp(x->vantage, y->vantage);
    if (c == 0 && x->transport != y->transport)
        c = x->transport < y->transport ? -1 : 1;
    if (c == 0 && x->service != y->service)
        c = x->service < y->service ? -1 : 1;
    return c;
}

/* qsort_r's comparison of two indexes into the rows. */
static int order_cmp(const void *x, const void *y, void *arg)
{
    const struct diff_row *rows = arg;
    int c = key_cmp(&rows[*(const size_t *)x], &rows[*(const size_t *)y]);
    if (c == 0) /* the first of equal keys first: it is the one found */
        c = *(const size_t *)x < *(const size_t *)y ? -1 : 1;
    return c;
}

int diff_table_index(struct diff_table *t)
{
    free(t->order);
    t->order = malloc((t->n ? t->n : 1) * sizeof *t->order);
    if (!t->order)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++)
        t->order[i] = i;
    qsort_r(t->order, t->n, sizeof *t->order, order_cmp, t->rows);
    return 0;
}

const struct diff_row *diff_table_find(const struct diff_table *t, const struct diff_row *r)
{
    size_t lo = 0, hi = t->order ? t->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&t->rows[t->order[mid]], r) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (t->order && lo < t->n && key_cmp(&t->rows[t->order[lo]], r) == 0)
        return &t->rows[t->order[lo]];
    return NULL;
}

/* ---- reading summary.csv ---- */

enum { COL_TS, COL_EVENT, COL_NODE, COL_OCC, COL_VANTAGE, COL_TRANSPORT, COL_SERVICE, NKEYCOLS };
static const char *const key_cols[NKEYCOLS] = {"event_ts_ns", "event",     "node",   "occurrence",
                                               "vantage",     "transport", "service"};

/* Where each column is (-1: absent). */
struct cols {
    int key[NKEYCOLS];
    int metric[DIFF_NMETRICS];
};

static int find_cols(struct cols *c, char **fl, size_t nf)
{
    for (size_t k = 0; k < NKEYCOLS; k++)
        c->key[k] = -1;
    for (size_t k = 0; k < DIFF_NMETRICS; k++)
        c->metric[k] = -1;
    for (size_t i = 0; i < nf; i++) {
        for (size_t k = 0; k < NKEYCOLS; k++)
            if (strcmp(fl[i], key_cols[k]) == 0 && c->key[k] < 0)
                c->key[k] = (int)i;
        for (size_t k = 0; k < DIFF_NMETRICS; k++)
            if (strcmp(fl[i], metrics[k].name) == 0 && c->metric[k] < 0)
                c->metric[k] = (int)i;
    }
    for (size_t k = 0; k < NKEYCOLS; k++)
        if (c->key[k] < 0 && k != COL_OCC)
            return -EINVAL;
    return 0;
}

/* A count of events per (event, node) for tables without an occurrence
 * column: the n-th distinct event time of that word and node. */
struct occ_entry {
    char *event, *node;
    uint64_t last_ts;
    unsigned occ;
};

static int occ_cmp(const void *x, const void *y)
{
    const struct occ_entry *p = x, *q = y;
    int c = strcmp(p->event, q->event);
    return c ? c : strcmp(p->node, q->node);
}

static void occ_free(void *p)
{
    struct occ_entry *e = p;
    free(e->event);
    free(e->node);
    free(e);
}

/* The occurrence of the row with this event, node and event time (rows
 * come in time order). Returns 0 when out of memory. */
static unsigned occ_of(void **root, const char *event, const char *node, uint64_t ts)
{
    struct occ_entry probe = {.event = (char *)event, .node = (char *)node};
    struct occ_entry **found = tfind(&probe, root, occ_cmp);
    if (found) {
        if ((*found)->last_ts != ts) {
            (*found)->last_ts = ts;
            (*found)->occ++;
        }
        return (*found)->occ;
    }
    struct occ_entry *e = malloc(sizeof *e);
    if (e)
        *e = (struct occ_entry){
            .event = strdup(event), .node = strdup(node), .last_ts = ts, .occ = 1};
    if (!e || !e->event || !e->node || !tsearch(e, root, occ_cmp)) {
        if (e)
            occ_free(e);
        return 0;
    }
    return 1;
}

/* One number field: empty, or a finite number. Returns 1 with *v, 0 for
 * empty, -EINVAL. */
static int num_field(const char *s, double *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end || errno || !isfinite(*v) ? -EINVAL : 1;
}

/* Fills r from a record (strings point into fl). Returns 0 or -EINVAL
 * with the reason in *why. */
static int parse_row(const struct cols *c, char **fl, size_t nf, struct diff_row *r, uint64_t *ts,
                     const char **why)
{
    for (size_t k = 0; k < NKEYCOLS; k++)
        if (c->key[k] >= (int)nf) {
            *why = "too few fields";
            return -EINVAL;
        }
    memset(r, 0, sizeof *r);
    r->event = fl[c->key[COL_EVENT]];
    /* summary.csv names the second and later occurrences "withdraw#2": the
     * word, and the number as the occurrence. */
    char *hash = strrchr(fl[c->key[COL_EVENT]], '#');
    if (hash && hash[1] >= '1' && hash[1] <= '9' &&
        strspn(hash + 1, "0123456789") == strlen(hash + 1) && strlen(hash + 1) <= 7) {
        r->occurrence = (unsigned)strtoul(hash + 1, NULL, 10);
        *hash = '\0';
    }
    r->node = fl[c->key[COL_NODE]];
    r->vantage = fl[c->key[COL_VANTAGE]];
    if (!*r->event || !*r->vantage || strlen(r->event) >= DIFF_NAME_MAX ||
        strlen(r->node) >= DIFF_NAME_MAX || strlen(r->vantage) >= DIFF_NAME_MAX) {
        *why = "an empty or too long event or vantage name";
        return -EINVAL;
    }
    if (ah_transport_parse(fl[c->key[COL_TRANSPORT]], &r->transport) < 0 ||
        ah_service_parse(fl[c->key[COL_SERVICE]], &r->service) < 0) {
        *why = "an unknown transport or service";
        return -EINVAL;
    }
    char *end;
    errno = 0;
    *ts = strtoull(fl[c->key[COL_TS]], &end, 10);
    if (*end || errno || end == fl[c->key[COL_TS]]) {
        *why = "a bad event_ts_ns";
        return -EINVAL;
    }
    if (c->key[COL_OCC] >= 0) {
        const char *o = fl[c->key[COL_OCC]];
        unsigned long occ = strtoul(o, &end, 10);
        if (*end || end == o || occ == 0 || occ > 1000000) {
            *why = "a bad occurrence";
            return -EINVAL;
        }
        r->occurrence = (unsigned)occ;
    }
    for (size_t k = 0; k < DIFF_NMETRICS; k++) {
        int rc = c->metric[k] >= 0 && c->metric[k] < (int)nf
                     ? num_field(fl[c->metric[k]], &r->val[k])
                     : 0;
        if (rc < 0) {
            *why = "a field that is not a number";
            return -EINVAL;
        }
        r->has[k] = rc == 1;
    }
    return 0;
}

/* Reads the records after the header. */
static int load_rows(struct diff_table *t, struct ah_csv_reader *rd, const struct cols *c,
                     const char *path, void **occ_root)
{
    char **fl;
    size_t nf;
    unsigned long line;
    int rc;
    while ((rc = ah_csv_reader_next(rd, &fl, &nf, &line)) != 0) {
        struct diff_row r;
        uint64_t ts = 0;
        const char *why = "over a limit";
        if (rc == -E2BIG || rc == -EMSGSIZE || (rc == 1 && parse_row(c, fl, nf, &r, &ts, &why))) {
            if (t->skipped++ < 20)
                ah_log_warn("%s:%lu: row skipped: %s", path, line, why);
            continue;
        }
        if (rc < 0) {
            ah_log_error("%s:%lu: %s", path, line,
                         rc == -EBADMSG ? "malformed CSV" : strerror(-rc));
            return rc;
        }
        if (c->key[COL_OCC] < 0 && r.occurrence == 0 &&
            (r.occurrence = occ_of(occ_root, r.event, r.node, ts)) == 0)
            return -ENOMEM;
        if ((rc = diff_table_add(t, &r)) < 0) {
            if (rc == -EFBIG)
                ah_log_error("%s: more than %d rows", path, DIFF_ROWS_MAX);
            return rc;
        }
    }
    return 0;
}

int diff_table_load(struct diff_table *t, const char *path)
{
    struct ah_csv_reader *rd = NULL;
    void *occ_root = NULL;
    char **fl;
    size_t nf;
    unsigned long line;
    struct cols c;
    int rc = ah_csv_reader_open(&rd, path);
    if (rc < 0) {
        ah_log_error("%s: %s", path, strerror(-rc));
        return rc;
    }
    if (ah_csv_reader_next(rd, &fl, &nf, &line) != 1 || find_cols(&c, fl, nf) < 0) {
        ah_log_error("%s: not a summary.csv (its header lacks event_ts_ns, event, node, "
                     "vantage, transport or service)",
                     path);
        rc = -EINVAL;
        goto out;
    }
    rc = load_rows(t, rd, &c, path, &occ_root);
    if (rc == 0)
        rc = diff_table_index(t);
out:
    tdestroy(occ_root, occ_free);
    ah_csv_reader_close(rd);
    return rc;
}

/* ---- comparing ---- */

enum diff_mark diff_judge(enum diff_metric m, bool has_a, double a, bool has_b, double b,
                          const struct diff_opts *o)
{
    if (!has_a && !has_b)
        return DIFF_NONE;
    if (!has_a || !has_b)
        return DIFF_NOT_COMPARABLE;
    double d = b - a, rel = fabs(a) * o->threshold_pct / 100.0;
    double abs_min = diff_metric_ms(m) ? o->threshold_ms : 0.5; /* counts: at least 1 */
    bool beyond = fabs(d) > rel && fabs(d) > abs_min;
    if (!diff_metric_judged(m))
        return d == 0 ? DIFF_SAME : DIFF_CHANGED;
    if (!beyond)
        return DIFF_SAME;
    return d > 0 ? DIFF_WORSE : DIFF_BETTER;
}

/* Judges every metric of p and adds to the counts. */
static void judge_pair(struct diff_pair *p, const struct diff_opts *o, struct diff_result *res)
{
    bool worse = false, better = false, nc = false;
    for (size_t k = 0; k < DIFF_NMETRICS; k++) {
        p->mark[k] = diff_judge((enum diff_metric)k, p->a->has[k], p->a->val[k], p->b->has[k],
                                p->b->val[k], o);
        worse |= p->mark[k] == DIFF_WORSE;
        better |= p->mark[k] == DIFF_BETTER;
        nc |= p->mark[k] == DIFF_NOT_COMPARABLE && diff_metric_judged((enum diff_metric)k);
    }
    res->worse += worse;
    res->better += better;
    res->not_comparable += nc;
}

int diff_compare(const struct diff_table *a, const struct diff_table *b, const struct diff_opts *o,
                 struct diff_result *out)
{
    memset(out, 0, sizeof *out);
    bool *used = calloc(b->n ? b->n : 1, sizeof *used);
    out->pairs = calloc(a->n + b->n ? a->n + b->n : 1, sizeof *out->pairs);
    if (!used || !out->pairs) {
        free(used);
        free(out->pairs);
        out->pairs = NULL;
        return -ENOMEM;
    }
    for (size_t i = 0; i < a->n; i++) {
        struct diff_pair *p = &out->pairs[out->n++];
        p->a = &a->rows[i];
        p->b = diff_table_find(b, p->a);
        if (p->b && used[p->b - b->rows])
            p->b = NULL; /* a key given twice in A: its second row has no partner */
        if (!p->b) {
            out->only_a++;
            continue;
        }
        used[p->b - b->rows] = true;
        out->matched++;
        judge_pair(p, o, out);
    }
    for (size_t i = 0; i < b->n; i++) {
        if (used[i])
            continue;
        out->pairs[out->n++].b = &b->rows[i];
        out->only_b++;
    }
    free(used);
    return 0;
}

void diff_result_free(struct diff_result *r)
{
    free(r->pairs);
    memset(r, 0, sizeof *r);
}

void diff_row_event(const struct diff_row *r, char *buf, size_t len)
{
    if (!r->node[0])
        snprintf(buf, len, "%s", r->event);
    else if (r->occurrence > 1)
        snprintf(buf, len, "%s %s#%u", r->event, r->node, r->occurrence);
    else
        snprintf(buf, len, "%s %s", r->event, r->node);
}
