/* Reading the results CSVs for the report: header and row validation (a bad
 * row is reported with FILE:LINE and skipped, and counted), the rebasing of
 * every time column onto the controller's clock, and the streaming merge of
 * one or more probes.csv files into send-time order through a min-heap that
 * holds only rows within the reorder window. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ah/csv.h"
#include "ah/esc.h"
#include "ah/log.h"
#include "ah/schema.h"
#include "clock_align.h"
#include "report.h"
#include "report_int.h"
#include "results.h"

/* ---- interned names ---- */

struct rp_name {
    struct rp_name_state st;
    char s[];
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

static int names_grow(struct rp_names *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct rp_name **slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i])
            continue;
        size_t k = name_hash(t->slot[i]->s) & (cap - 1);
        while (slot[k])
            k = (k + 1) & (cap - 1);
        slot[k] = t->slot[i];
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

const char *rp_names_get(struct rp_names *t, const char *s)
{
    if ((t->n + 1) * 2 > t->cap && names_grow(t) < 0)
        return NULL;
    size_t k = name_hash(s) & (t->cap - 1);
    for (; t->slot[k]; k = (k + 1) & (t->cap - 1))
        if (strcmp(t->slot[k]->s, s) == 0)
            return t->slot[k]->s;
    size_t len = strlen(s);
    struct rp_name *n = calloc(1, sizeof *n + len + 1);
    if (!n)
        return NULL;
    memcpy(n->s, s, len + 1);
    t->slot[k] = n;
    t->n++;
    return n->s;
}

struct rp_name_state *rp_name_state(const char *interned)
{
    return &((struct rp_name *)(void *)(interned - offsetof(struct rp_name, s)))->st;
}

void rp_names_reset_strips(struct rp_names *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i])
            t->slot[i]->st.strip_own = t->slot[i]->st.strip_seen = 0;
}

void rp_names_free(struct rp_names *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slot[i]);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

void rp_inputs_free(struct rp_inputs *in)
{
    free(in->files);
    memset(in, 0, sizeof *in);
}

static struct rp_file *inputs_add(struct rp_inputs *in, const char *path)
{
    struct rp_file *f = realloc(in->files, (in->nfiles + 1) * sizeof *f);
    if (!f)
        return NULL;
    in->files = f;
    f = &in->files[in->nfiles++];
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->quiet = in->quiet;
    return f;
}

/* ---- vantage clocks ---- */

int rp_clock_set(struct rp *rp, const char *vantage, int64_t offset_ns, uint64_t uncertainty_ns,
                 int source)
{
    const char *name = rp_names_get(&rp->names, vantage);
    if (!name)
        return -ENOMEM;
    struct rp_name_state *st = rp_name_state(name);
    if (st->clock == RP_CLOCK_NONE) {
        const char **n = realloc(rp->clocked, (rp->nclocked + 1) * sizeof *n);
        if (!n)
            return -ENOMEM;
        rp->clocked = n;
        n[rp->nclocked++] = name;
    }
    st->clock = (uint8_t)source;
    st->clock_offset_ns = offset_ns;
    st->clock_uncertainty_ns = uncertainty_ns;
    return 0;
}

int rp_clock_check(const struct rp *rp)
{
    int rc = 0;
    for (size_t i = 0; i < rp->nclocked; i++) {
        const struct rp_name_state *st = rp_name_state(rp->clocked[i]);
        if (st->clock == RP_CLOCK_OPTION && !st->rows) {
            char shown[AH_ESC_TERM_MAX(RP_NAME_MAX)];
            ah_esc_term(shown, sizeof shown, rp->clocked[i], strlen(rp->clocked[i]));
            ah_log_error("--clock-offset %s: no probes or connections row has that vantage", shown);
            rc = -EINVAL;
        }
    }
    return rc;
}

int rp_clocks_load(struct rp *rp, const struct json_t *run, const struct report_clock *opt,
                   size_t nopt, struct ah_metrics *m, uint64_t *widen_ns)
{
    struct results_clock *c = calloc(RESULTS_CLOCKS_MAX, sizeof *c);
    int rc = 0;
    if (!c)
        return -ENOMEM;
    size_t n = results_clocks_from_json(run, c, RESULTS_CLOCKS_MAX);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = rp_clock_set(rp, c[i].vantage, c[i].offset_ns, c[i].uncertainty_ns, RP_CLOCK_RUN_JSON);
    for (size_t i = 0; i < nopt && rc == 0; i++)
        rc = rp_clock_set(rp, opt[i].vantage, opt[i].offset_ns, 0, RP_CLOCK_OPTION);
    free(c);
    /* A file may hold the rows of several vantages (a run's merged
     * probes.csv is in their own clocks' order): after rebasing, its rows
     * are out of order by up to the spread of the offsets (0 included, for
     * vantages without one). */
    int64_t lo = 0, hi = 0;
    for (size_t i = 0; i < rp->nclocked && rc == 0; i++) {
        const struct rp_name_state *st = rp_name_state(rp->clocked[i]);
        lo = st->clock_offset_ns < lo ? st->clock_offset_ns : lo;
        hi = st->clock_offset_ns > hi ? st->clock_offset_ns : hi;
        rc = ah_metrics_set_clock(m, rp->clocked[i], st->clock_uncertainty_ns);
    }
    *widen_ns = (uint64_t)hi - (uint64_t)lo;
    return rc;
}

/* The one place a row's time is rebased: every time column of a vantage's
 * rows goes through here (0, "never", stays 0). vantage is interned. */
static uint64_t rebase(const char *vantage, uint64_t ts_ns)
{
    struct rp_name_state *st = rp_name_state(vantage);
    st->rows = 1;
    if (st->clock == RP_CLOCK_NONE || ts_ns == 0)
        return ts_ns;
    return (uint64_t)clock_rebase(ts_ns, st->clock_offset_ns);
}

static void bad_row(struct rp_file *f, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad_row(struct rp_file *f, unsigned long line, const char *fmt, ...)
{
    f->skipped++;
    if (f->quiet)
        return;
    if (f->skipped <= RP_BAD_SHOWN) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        ah_log_warn("%s:%lu: %s; row skipped", f->path, line, msg);
    } else if (f->skipped == RP_BAD_SHOWN + 1) {
        ah_log_warn("%s: more bad rows; only counting them from here", f->path);
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

/* Opens a CSV and checks its header. Returns 0 or a negative errno. */
static int open_checked(struct ah_csv_reader **r, struct rp_file *f, const char *const *header,
                        size_t ncols)
{
    char **fields;
    size_t nf;
    unsigned long line;
    int rc = ah_csv_reader_open(r, f->path);
    if (rc < 0) {
        ah_log_error("%s: %s", f->path, strerror(-rc));
        return rc;
    }
    rc = ah_csv_reader_next(*r, &fields, &nf, &line);
    if (rc <= 0) {
        ah_log_error("%s: %s", f->path, rc == 0 ? "empty file, no header" : "unreadable header");
        goto bad;
    }
    if (nf != ncols) {
        ah_log_error("%s:1: header has %zu columns, expected %zu (%s,...)", f->path, nf, ncols,
                     header[0]);
        goto bad;
    }
    for (size_t i = 0; i < ncols; i++) {
        if (strcmp(fields[i], header[i]) != 0) {
            ah_log_error("%s:1: header column %zu is \"%s\", expected \"%s\"", f->path, i + 1,
                         fields[i], header[i]);
            goto bad;
        }
    }
    return 0;
bad:
    ah_csv_reader_close(*r);
    *r = NULL;
    return -EBADMSG;
}

/* Reads one record; 1 = fields, 0 = end, < 0 = malformed CSV (reported). A
 * record over one of the reader's limits is a bad row like any other:
 * reported, counted and skipped. */
static int next_row(struct ah_csv_reader *r, struct rp_file *f, char ***fields, size_t *nf,
                    unsigned long *line)
{
    int rc;
    while ((rc = ah_csv_reader_next(r, fields, nf, line)) == -E2BIG || rc == -EMSGSIZE) {
        if (rc == -E2BIG)
            bad_row(f, *line, "more than %d columns", AH_CSV_READ_FIELDS_MAX);
        else
            bad_row(f, *line, "record longer than %d bytes", AH_CSV_READ_RECORD_MAX);
    }
    if (rc < 0) {
        if (!f->quiet)
            ah_log_warn("%s:%lu: malformed CSV (%s); the rest of the file is skipped", f->path,
                        *line, strerror(-rc));
        f->broken = true;
        f->skipped++;
    }
    return rc;
}

/* ---- events.csv ---- */

/* Past the limits, rows are counted and skipped: the windowed events bound
 * the summary's rows (one per event and group) and both bound memory and
 * time. */
static bool events_over_limit(struct rp_file *f, enum ah_event_kind kind, uint64_t *windows,
                              uint64_t *others)
{
    uint64_t *n = kind == AH_EV_DRILL ? windows : others;
    uint64_t max = kind == AH_EV_DRILL ? AH_METRICS_MAX_WINDOWS : RP_EVENTS_OTHER_MAX;
    if (*n >= max) {
        f->over_limit++;
        f->skipped++;
        return true;
    }
    (*n)++;
    return false;
}

int rp_read_events(struct rp *rp, const char *path)
{
    struct rp_file *f = inputs_add(&rp->events_in, path);
    struct ah_csv_reader *r = NULL;
    char **fl;
    size_t nf;
    unsigned long line;
    uint64_t windows = 0, others = 0, win_over = 0;
    int rc;
    if (!f)
        return -ENOMEM;
    rc = open_checked(&r, f, ah_schema_events_cols, AH_SCHEMA_EVENTS_COLS);
    if (rc < 0)
        return rc;
    while ((rc = next_row(r, f, &fl, &nf, &line)) > 0) {
        uint64_t ts;
        if (nf != AH_SCHEMA_EVENTS_COLS) {
            bad_row(f, line, "%zu columns, expected %d", nf, AH_SCHEMA_EVENTS_COLS);
            continue;
        }
        if (!parse_u64(fl[AH_EVENTS_TS_NS], &ts)) {
            bad_row(f, line, "bad ts_ns \"%s\"", fl[AH_EVENTS_TS_NS]);
            continue;
        }
        if (!fl[AH_EVENTS_EVENT][0]) {
            bad_row(f, line, "empty event");
            continue;
        }
        enum ah_event_kind kind = ah_event_kind_of(fl[AH_EVENTS_EVENT]);
        if (events_over_limit(f, kind, &windows, &others)) {
            win_over += kind == AH_EV_DRILL;
            continue;
        }
        if (rp->nev == rp->capev) {
            size_t cap = rp->capev ? 2 * rp->capev : 64;
            struct rp_event *e = realloc(rp->ev, cap * sizeof *e);
            if (!e) {
                rc = -ENOMEM;
                break;
            }
            rp->ev = e;
            rp->capev = cap;
        }
        struct rp_event *e = &rp->ev[rp->nev];
        e->ts_ns = ts;
        e->event = rp_names_get(&rp->ev_names, fl[AH_EVENTS_EVENT]);
        e->node = rp_names_get(&rp->ev_names, fl[AH_EVENTS_NODE]);
        e->detail = rp_names_get(&rp->ev_names, fl[AH_EVENTS_DETAIL]);
        e->kind = kind;
        if (!e->event || !e->node || !e->detail) {
            rc = -ENOMEM;
            break;
        }
        rp->nev++;
        f->rows++;
    }
    ah_csv_reader_close(r);
    if (f->over_limit)
        ah_log_warn("%s: %llu rows past the limits skipped (%llu windowed events past %d, "
                    "%llu route and observation rows past %d; docs/report.md)",
                    f->path, (unsigned long long)f->over_limit, (unsigned long long)win_over,
                    AH_METRICS_MAX_WINDOWS, (unsigned long long)(f->over_limit - win_over),
                    RP_EVENTS_OTHER_MAX);
    return rc == -ENOMEM ? rc : 0;
}

/* ---- connections.csv ---- */

static long conn_vantage(struct rp *rp, const char *v)
{
    const char *name = rp_names_get(&rp->names, v);
    if (!name)
        return -ENOMEM;
    struct rp_name_state *st = rp_name_state(name);
    if (st->conn_row)
        return (long)st->conn_row - 1;
    const char **n =
        realloc(rp->conn_vantages, (rp->nconn_vantages + 1) * sizeof *rp->conn_vantages);
    if (!n)
        return -ENOMEM;
    rp->conn_vantages = n;
    n[rp->nconn_vantages] = name;
    st->conn_row = (uint32_t)(rp->nconn_vantages + 1);
    return (long)rp->nconn_vantages++;
}

static int one_conn(struct rp *rp, struct ah_metrics *m, struct rp_file *f, char **fl, size_t nf,
                    unsigned long line)
{
    struct ah_metrics_conn c = {0};
    uint64_t tmp;
    if (nf != AH_SCHEMA_CONNECTIONS_COLS) {
        bad_row(f, line, "%zu columns, expected %d", nf, AH_SCHEMA_CONNECTIONS_COLS);
        return 0;
    }
    if (!parse_u64(fl[AH_CONNS_CONN], &c.conn))
        return bad_row(f, line, "bad conn \"%s\"", fl[AH_CONNS_CONN]), 0;
    if (!fl[AH_CONNS_VANTAGE][0] || strlen(fl[AH_CONNS_VANTAGE]) >= RP_NAME_MAX)
        return bad_row(f, line, "bad vantage \"%s\"", fl[AH_CONNS_VANTAGE]), 0;
    if (ah_family_of_target(fl[AH_CONNS_TARGET], &c.family) < 0)
        return bad_row(f, line, "bad target \"%.40s\"", fl[AH_CONNS_TARGET]), 0;
    if (ah_service_parse(fl[AH_CONNS_SERVICE], &c.service) < 0)
        return bad_row(f, line, "bad service \"%s\"", fl[AH_CONNS_SERVICE]), 0;
    if (!parse_u64(fl[AH_CONNS_OPENED_NS], &c.opened_ns))
        return bad_row(f, line, "bad opened_ns \"%s\"", fl[AH_CONNS_OPENED_NS]), 0;
    if (strlen(fl[AH_CONNS_NODE]) >= RP_NAME_MAX)
        return bad_row(f, line, "bad node \"%s\"", fl[AH_CONNS_NODE]), 0;
    if (fl[AH_CONNS_CLOSED_NS][0] && !parse_u64(fl[AH_CONNS_CLOSED_NS], &c.closed_ns))
        return bad_row(f, line, "bad closed_ns \"%s\"", fl[AH_CONNS_CLOSED_NS]), 0;
    if (c.closed_ns && c.closed_ns < c.opened_ns)
        return bad_row(f, line, "closed_ns %s is before opened_ns", fl[AH_CONNS_CLOSED_NS]), 0;
    if (ah_reason_parse(fl[AH_CONNS_REASON], &c.reason) < 0)
        return bad_row(f, line, "bad reason \"%s\"", fl[AH_CONNS_REASON]), 0;
    if (!parse_u64(fl[AH_CONNS_PROBES_OK], &c.probes_ok))
        return bad_row(f, line, "bad probes_ok \"%s\"", fl[AH_CONNS_PROBES_OK]), 0;
    if (!parse_u64(fl[AH_CONNS_PROBES_FAILED], &tmp))
        return bad_row(f, line, "bad probes_failed \"%s\"", fl[AH_CONNS_PROBES_FAILED]), 0;
    long vi = conn_vantage(rp, fl[AH_CONNS_VANTAGE]);
    if (vi < 0)
        return (int)vi;
    c.vantage = rp->conn_vantages[vi];
    c.node = fl[AH_CONNS_NODE];
    c.opened_ns = rebase(c.vantage, c.opened_ns);
    c.closed_ns = rebase(c.vantage, c.closed_ns);
    int rc = ah_metrics_add_conn(m, &c);
    if (rc < 0)
        return rc;
    if (rp->nconns == rp->capconns) {
        size_t cap = rp->capconns ? rp->capconns * 2 : 256;
        struct rp_conn *n = realloc(rp->conns, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        rp->conns = n;
        rp->capconns = cap;
    }
    struct rp_conn *k = &rp->conns[rp->nconns++];
    k->opened = c.opened_ns;
    k->closed = c.closed_ns;
    k->vantage = (uint32_t)vi;
    k->reason = (uint8_t)c.reason;
    k->established = fl[AH_CONNS_NODE][0] || c.probes_ok > 0 || c.reason == AH_REASON_RESET ||
                     c.reason == AH_REASON_EOF || c.reason == AH_REASON_END;
    f->rows++;
    return 0;
}

int rp_read_conns(struct rp *rp, const char *const *paths, size_t n, struct ah_metrics *m)
{
    for (size_t i = 0; i < n; i++) {
        struct rp_file *f = inputs_add(&rp->conns_in, paths[i]);
        struct ah_csv_reader *r = NULL;
        char **fl;
        size_t nf;
        unsigned long line;
        int rc;
        if (!f)
            return -ENOMEM;
        rc = open_checked(&r, f, ah_schema_connections_cols, AH_SCHEMA_CONNECTIONS_COLS);
        if (rc < 0) {
            f->broken = true;
            return rc;
        }
        while ((rc = next_row(r, f, &fl, &nf, &line)) > 0) {
            rc = one_conn(rp, m, f, fl, nf, line);
            if (rc < 0)
                break;
        }
        ah_csv_reader_close(r);
        if (rc == -ENOMEM)
            return rc;
    }
    return 0;
}

/* ---- probes.csv: validation and the merge ---- */

struct src {
    struct ah_csv_reader *r;
    size_t file;      /* index in the stats (which may move as files are added) */
    uint64_t last_ts; /* largest send time read so far */
    bool done;
};

struct rp_merge {
    struct rp_inputs *stats;
    struct src *src;
    size_t nsrc;
    struct rp_names *names;
    struct rp_probe *heap;
    size_t nheap, capheap;
    uint64_t window, late, emitted_ts;
};

/* 1: a valid row in *p; 0: a bad row (reported); -ENOMEM. */
static int parse_probe(struct rp_names *names, struct rp_file *f, char **fl, size_t nf,
                       unsigned long line, struct rp_probe *p)
{
    uint64_t tmp;
    if (nf != AH_SCHEMA_PROBES_COLS) {
        bad_row(f, line, "%zu columns, expected %d", nf, AH_SCHEMA_PROBES_COLS);
        return 0;
    }
    if (!parse_u64(fl[AH_PROBES_TS_NS], &p->ts_ns))
        return bad_row(f, line, "bad ts_ns \"%s\"", fl[AH_PROBES_TS_NS]), 0;
    if (!fl[AH_PROBES_VANTAGE][0] || strlen(fl[AH_PROBES_VANTAGE]) >= RP_NAME_MAX)
        return bad_row(f, line, "bad vantage \"%s\"", fl[AH_PROBES_VANTAGE]), 0;
    if (ah_family_of_target(fl[AH_PROBES_TARGET], &p->fam) < 0)
        return bad_row(f, line, "bad target \"%.40s\"", fl[AH_PROBES_TARGET]), 0;
    if (ah_transport_parse(fl[AH_PROBES_TRANSPORT], &p->tr) < 0)
        return bad_row(f, line, "bad transport \"%s\"", fl[AH_PROBES_TRANSPORT]), 0;
    if (ah_service_parse(fl[AH_PROBES_SERVICE], &p->svc) < 0)
        return bad_row(f, line, "bad service \"%s\"", fl[AH_PROBES_SERVICE]), 0;
    if (!parse_u64(fl[AH_PROBES_CONN], &p->conn))
        return bad_row(f, line, "bad conn \"%s\"", fl[AH_PROBES_CONN]), 0;
    if (fl[AH_PROBES_SEQ][0] && !parse_u64(fl[AH_PROBES_SEQ], &tmp))
        return bad_row(f, line, "bad seq \"%s\"", fl[AH_PROBES_SEQ]), 0;
    if (ah_result_parse(fl[AH_PROBES_RESULT], &p->res) < 0)
        return bad_row(f, line, "bad result \"%s\"", fl[AH_PROBES_RESULT]), 0;
    if (strlen(fl[AH_PROBES_NODE]) >= RP_NAME_MAX)
        return bad_row(f, line, "node too long \"%.40s\"", fl[AH_PROBES_NODE]), 0;
    if (p->res == AH_RES_OK && !fl[AH_PROBES_NODE][0])
        return bad_row(f, line, "result ok without a node"), 0;
    p->has_rtt = fl[AH_PROBES_RTT_US][0] != 0;
    if (p->has_rtt && !parse_u64(fl[AH_PROBES_RTT_US], &p->rtt_us))
        return bad_row(f, line, "bad rtt_us \"%s\"", fl[AH_PROBES_RTT_US]), 0;
    p->vantage = rp_names_get(names, fl[AH_PROBES_VANTAGE]);
    p->node = rp_names_get(names, fl[AH_PROBES_NODE]);
    if (!p->vantage || !p->node)
        return -ENOMEM;
    p->ts_ns = rebase(p->vantage, p->ts_ns);
    return 1;
}

static void heap_push(struct rp_merge *mg, const struct rp_probe *p)
{
    size_t i = mg->nheap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (mg->heap[up].ts_ns <= p->ts_ns)
            break;
        mg->heap[i] = mg->heap[up];
        i = up;
    }
    mg->heap[i] = *p;
}

static void heap_pop(struct rp_merge *mg, struct rp_probe *out)
{
    *out = mg->heap[0];
    struct rp_probe last = mg->heap[--mg->nheap];
    size_t i = 0, n = mg->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && mg->heap[c + 1].ts_ns < mg->heap[c].ts_ns)
            c++;
        if (last.ts_ns <= mg->heap[c].ts_ns)
            break;
        mg->heap[i] = mg->heap[c];
        i = c;
    }
    if (n > 0)
        mg->heap[i] = last;
}

int rp_merge_open(struct rp_merge **out, const char *const *paths, size_t n, uint64_t window_ns,
                  struct rp_inputs *stats, struct rp_names *names)
{
    struct rp_merge *mg = calloc(1, sizeof *mg);
    if (!mg)
        return -ENOMEM;
    mg->names = names;
    mg->window = window_ns;
    mg->stats = stats;
    mg->src = calloc(n + 1, sizeof *mg->src);
    if (!mg->src) {
        free(mg);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct rp_file *f = inputs_add(stats, paths[i]);
        if (!f) {
            rp_merge_close(mg);
            return -ENOMEM;
        }
        struct src *s = &mg->src[mg->nsrc];
        int rc = open_checked(&s->r, f, ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS);
        if (rc < 0) {
            /* A file that is not what it claims is an error, not a skip. */
            f->broken = true;
            rp_merge_close(mg);
            return rc;
        }
        s->file = stats->nfiles - 1;
        mg->nsrc++;
    }
    *out = mg;
    return 0;
}

/* Reads the next valid row of s into the heap; marks s done at its end. */
static int src_read(struct rp_merge *mg, struct src *s, struct rp_file *f)
{
    char **fl;
    size_t nf;
    unsigned long line;
    for (;;) {
        int rc = next_row(s->r, f, &fl, &nf, &line);
        if (rc <= 0) {
            s->done = true;
            return 0;
        }
        struct rp_probe p;
        int prc = parse_probe(mg->names, f, fl, nf, line, &p);
        if (prc < 0)
            return prc;
        if (prc == 0)
            continue;
        f->rows++;
        if (mg->nheap == mg->capheap) {
            size_t cap = mg->capheap ? mg->capheap * 2 : 1024;
            struct rp_probe *h = realloc(mg->heap, cap * sizeof *h);
            if (!h)
                return -ENOMEM;
            mg->heap = h;
            mg->capheap = cap;
        }
        heap_push(mg, &p);
        if (p.ts_ns > s->last_ts)
            s->last_ts = p.ts_ns;
        return 1;
    }
}

int rp_merge_next(struct rp_merge *mg, struct rp_probe *p)
{
    for (;;) {
        /* Rows up to (slowest open source's newest time - window) can no
         * longer be preceded by a row still unread. A source not read yet
         * has last_ts 0 and is read first. */
        struct src *slow = NULL;
        for (size_t i = 0; i < mg->nsrc; i++)
            if (!mg->src[i].done && (!slow || mg->src[i].last_ts < slow->last_ts))
                slow = &mg->src[i];
        uint64_t safe = UINT64_MAX;
        if (slow)
            safe = slow->last_ts > mg->window ? slow->last_ts - mg->window : 0;
        if (mg->nheap > 0 && mg->heap[0].ts_ns <= safe) {
            heap_pop(mg, p);
            if (p->ts_ns < mg->emitted_ts)
                mg->late++;
            else
                mg->emitted_ts = p->ts_ns;
            return 1;
        }
        if (!slow)
            return 0;
        int rc = src_read(mg, slow, &mg->stats->files[slow->file]);
        if (rc < 0)
            return rc;
    }
}

uint64_t rp_merge_late(const struct rp_merge *mg)
{
    return mg->late;
}

void rp_merge_close(struct rp_merge *mg)
{
    if (!mg)
        return;
    for (size_t i = 0; i < mg->nsrc; i++)
        ah_csv_reader_close(mg->src[i].r);
    free(mg->src);
    free(mg->heap);
    free(mg);
}
