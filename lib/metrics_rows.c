/* Rows of the failover metrics (design §5 summary.csv, §6): once every
 * record is in, each (window, group) accumulator of lib/metrics.c becomes one
 * summary row, with the connection columns evaluated per window here; plus
 * the accessors of the finished rows and their fields by name. */
#include "metrics_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const ah_metrics_fields[AH_METRICS_NFIELDS] = {
    "probes",       "lost",         "outage_ms",    "switch_ms",    "flips",     "conns_at_event",
    "conns_broken", "break_ms_p50", "break_ms_max", "reconnect_ms", "detect_ms",
};

const char *const ah_summary_header[AH_SUMMARY_NCOLS] = {
    "event_ts_ns",  "event",        "node",         "vantage",        "transport",
    "service",      "before",       "after",        "probes",         "lost",
    "outage_ms",    "switch_ms",    "flips",        "conns_at_event", "conns_broken",
    "break_ms_p50", "break_ms_max", "reconnect_ms", "detect_ms",
};

static uint64_t window_end(const struct ah_metrics *m, size_t w)
{
    if (w == 0 || w >= m->nev)
        return m->end;
    return m->ev[w].ts; /* window w is event w-1, up to event w */
}

/* Time-weighted median gap in ns (0 when no gaps). */
static uint64_t gap_median(const struct group *g)
{
    long double total = 0, acc = 0;
    for (size_t k = 0; k < GAP_POW2; k++)
        for (size_t i = 0; g->gap[k] && i < GAP_SUB; i++)
            total += g->gap[k]->w[i];
    if (total == 0)
        return 0;
    for (size_t k = 0; k < GAP_POW2; k++) {
        for (size_t i = 0; g->gap[k] && i < GAP_SUB; i++) {
            const struct gap_block *b = g->gap[k];
            acc += b->w[i];
            if (b->w[i] && acc * 2 >= total) {
                /* The time-weighted mean of the gaps in the median's
                 * bucket: exact when the gaps there are all equal. */
                return (uint64_t)llround(b->w2[i] / (double)b->w[i]);
            }
        }
    }
    return 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct delta {
    uint64_t t;
    int d;
};

static int delta_cmp(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->d - y->d; /* closes before opens at one instant */
}

/* Connection columns of one tcp row. */
static int conn_metrics(struct ah_metrics *m, const struct group *g, size_t w,
                        struct ah_metrics_row *row)
{
    uint64_t t0 = metrics_window_start(m, w), t1 = window_end(m, w);
    uint64_t *brk = malloc((g->nconns + 1) * sizeof *brk);
    struct delta *dl = malloc((2 * g->nconns + 1) * sizeof *dl);
    size_t nb = 0, nd = 0;
    int rc = 0;
    if (!brk || !dl) {
        rc = -ENOMEM;
        goto out;
    }
    row->conns_at_event = row->conns_broken = 0;
    for (size_t i = 0; i < g->nconns; i++) {
        const struct conn *k = &g->conns[i];
        if (!k->established)
            continue;
        if (w == 0) {
            /* Run level: every connection of the run, its lifetime. */
            row->conns_at_event++;
            if (k->reason != AH_REASON_END && k->closed != UINT64_MAX) {
                row->conns_broken++;
                brk[nb++] = k->closed - k->opened;
            }
            continue;
        }
        bool at = k->opened <= t0 && k->closed > t0;
        if (at) {
            row->conns_at_event++;
            if (k->reason != AH_REASON_END && k->closed < t1) {
                row->conns_broken++;
                brk[nb++] = k->closed - t0;
            }
        }
        /* Healthy count over the window: an `end` close is the prober's
         * own doing and does not make it hold fewer connections. */
        bool alive_at = k->opened <= t0 && (k->closed > t0);
        if (k->opened > t0 && k->opened < t1)
            dl[nd++] = (struct delta){k->opened, +1};
        if (k->reason != AH_REASON_END && k->closed > t0 && k->closed < t1 &&
            (alive_at || k->opened > t0))
            dl[nd++] = (struct delta){k->closed, -1};
    }
    if (nb > 0) {
        qsort(brk, nb, sizeof *brk, u64_cmp);
        size_t rank = (nb + 1) / 2; /* nearest rank of p50 */
        row->break_ms_p50 = (double)brk[rank - 1] / NS_PER_MS;
        row->break_ms_max = (double)brk[nb - 1] / NS_PER_MS;
    }
    if (w > 0) {
        long want =
            m->cfg.tcp_connections ? (long)m->cfg.tcp_connections : (long)row->conns_at_event;
        if (want > 0) {
            /* From the last break among the connections held at the event
             * (or from the event when none broke), the first moment the
             * prober holds `want` again. Later breaks of replacement
             * connections are another story (the next event's, often). */
            uint64_t from = nb > 0 ? t0 + brk[nb - 1] : t0;
            long count = (long)row->conns_at_event;
            size_t i = 0;
            qsort(dl, nd, sizeof *dl, delta_cmp);
            while (i < nd && dl[i].t <= from)
                count += dl[i++].d;
            if (count >= want) {
                row->reconnect_ms = (double)(from - t0) / NS_PER_MS;
            } else {
                for (; i < nd; i++) {
                    count += dl[i].d;
                    if (count >= want) {
                        row->reconnect_ms = (double)(dl[i].t - t0) / NS_PER_MS;
                        break;
                    }
                }
            }
        }
    }
out:
    free(brk);
    free(dl);
    return rc;
}

static const char *node_name(const struct ah_metrics *m, long id)
{
    return id >= 0 && (size_t)id < m->nodes.n ? m->nodes.s[id] : "";
}

static long tail_mode(const struct acc *a)
{
    long best = -1;
    unsigned bestc = 0;
    /* Walk from the newest so that ties go to the most recent node. */
    for (unsigned i = 0; i < a->ntail; i++) {
        uint32_t n = a->tail[(a->tailpos + TAIL - 1 - i) % TAIL];
        unsigned c = 0;
        for (unsigned j = 0; j < a->ntail; j++)
            c += a->tail[j] == n;
        if (c > bestc) {
            bestc = c;
            best = (long)n;
        }
    }
    return best;
}

static int group_cmp_ctx(const struct ah_metrics *m, const struct group *x, const struct group *y)
{
    int c = strcmp(m->vantages.s[x->vantage], m->vantages.s[y->vantage]);
    if (c)
        return c;
    if (x->tr != y->tr)
        return x->tr < y->tr ? -1 : 1;
    return x->svc < y->svc ? -1 : x->svc > y->svc;
}

int ah_metrics_finish(struct ah_metrics *m)
{
    if (m->finished)
        return 0;
    metrics_seal(m);
    m->finished = true;
    m->start = m->cfg.start_ns ? m->cfg.start_ns : (m->first_ts == UINT64_MAX ? 0 : m->first_ts);
    if (m->nev && (!m->cfg.start_ns) && m->ev[0].ts < m->start)
        m->start = m->ev[0].ts;
    uint64_t last = m->last_ts;
    for (size_t i = 0; i < m->ng; i++)
        for (size_t k = 0; k < m->g[i].nconns; k++)
            if (m->g[i].conns[k].closed != UINT64_MAX && m->g[i].conns[k].closed > last)
                last = m->g[i].conns[k].closed;
    if (m->nev && m->ev[m->nev - 1].ts > last)
        last = m->ev[m->nev - 1].ts;
    m->end = m->cfg.end_ns ? m->cfg.end_ns : last;
    if (m->end < m->start)
        m->end = m->start;

    /* Groups in a stable order: vantage, transport, service. */
    size_t *order = malloc((m->ng + 1) * sizeof *order);
    if (!order)
        return -ENOMEM;
    for (size_t i = 0; i < m->ng; i++) {
        size_t j = i;
        while (j > 0 && group_cmp_ctx(m, &m->g[order[j - 1]], &m->g[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    m->nrows = m->ng * (m->nev + 1);
    m->rows = calloc(m->nrows + 1, sizeof *m->rows);
    if (!m->rows) {
        free(order);
        return -ENOMEM;
    }
    size_t r = 0;
    int rc = 0;
    for (size_t w = 0; w <= m->nev; w++) {
        for (size_t oi = 0; oi < m->ng; oi++) {
            struct group *g = &m->g[order[oi]];
            struct acc *a = &g->acc[w];
            struct ah_metrics_row *row = &m->rows[r++];
            metrics_before_resolve(a);
            uint64_t t0 = metrics_window_start(m, w), t1 = window_end(m, w);
            row->event_ts_ns = t0;
            row->event = w == 0 ? "run" : m->ev[w - 1].event;
            row->node = w == 0 ? "" : m->ev[w - 1].node;
            row->occurrence = w == 0 ? 1 : m->ev[w - 1].occ;
            row->vantage = m->vantages.s[g->vantage];
            row->transport = g->tr;
            row->service = g->svc;
            row->before = node_name(m, a->before);
            row->after = node_name(m, tail_mode(a));
            row->probes = a->probes;
            row->lost = a->lost;
            row->flips = a->flips;
            row->outage_ms = 0;
            if (a->failed) {
                uint64_t to =
                    a->recovered ? a->ok_after_fail_ts : (t1 > a->fail_ts ? t1 : a->fail_ts);
                row->outage_ms = (double)(to - a->fail_ts) / NS_PER_MS;
            }
            row->switch_ms =
                a->switched && a->switch_ts >= t0 ? (double)(a->switch_ts - t0) / NS_PER_MS : NAN;
            row->tcp = g->tr == AH_TR_TCP;
            row->break_ms_p50 = row->break_ms_max = row->reconnect_ms = NAN;
            row->detect_ms = row->route_ms = row->gt_answer_ms = NAN;
            row->route_nexthop = "";
            if (row->tcp && (rc = conn_metrics(m, g, w, row)) < 0)
                break;
            uint64_t res =
                m->cfg.resolution_ns[g->tr] ? m->cfg.resolution_ns[g->tr] : gap_median(g);
            row->resolution_ms = (double)res / NS_PER_MS;
            if (a->route >= 0) {
                const struct route *rt = &m->rt[a->route];
                row->route_ts_ns = rt->ts;
                row->route_nexthop = rt->nexthop;
                row->route_ms = (double)(rt->ts - t0) / NS_PER_MS;
                if (a->gt_done)
                    row->gt_answer_ms = (double)(a->gt_ts - rt->ts) / NS_PER_MS;
                if (!m->ev[w - 1].direct)
                    row->detect_ms = row->route_ms;
            }
            row->index = order[oi] * (m->nev + 1) + w;
        }
        if (rc < 0)
            break;
    }
    free(order);
    return rc;
}

size_t ah_metrics_nrows(const struct ah_metrics *m)
{
    return m->finished ? m->nrows : 0;
}

const struct ah_metrics_row *ah_metrics_row(const struct ah_metrics *m, size_t i)
{
    return m->finished && i < m->nrows ? &m->rows[i] : NULL;
}

uint64_t ah_metrics_row_answers(const struct ah_metrics *m, const struct ah_metrics_row *r,
                                const char *node)
{
    long id = metrics_strtab_id((struct strtab *)&m->nodes, node, false);
    if (id < 0 || !r)
        return 0;
    size_t gi = r->index / (m->nev + 1), w = r->index % (m->nev + 1);
    if (gi >= m->ng)
        return 0;
    return metrics_counts_get(&m->g[gi].acc[w].win, (size_t)id);
}

uint64_t ah_metrics_late(const struct ah_metrics *m)
{
    return m->late;
}

void ah_metrics_span(const struct ah_metrics *m, uint64_t *start_ns, uint64_t *end_ns)
{
    *start_ns = m->start;
    *end_ns = m->end;
}

int ah_metrics_field(const struct ah_metrics_row *r, const char *name, double *out)
{
    double v;
    if (strcmp(name, "probes") == 0)
        v = (double)r->probes;
    else if (strcmp(name, "lost") == 0)
        v = (double)r->lost;
    else if (strcmp(name, "outage_ms") == 0)
        v = r->outage_ms;
    else if (strcmp(name, "switch_ms") == 0)
        v = r->switch_ms;
    else if (strcmp(name, "flips") == 0)
        v = (double)r->flips;
    else if (strcmp(name, "conns_at_event") == 0)
        v = r->tcp ? (double)r->conns_at_event : NAN;
    else if (strcmp(name, "conns_broken") == 0)
        v = r->tcp ? (double)r->conns_broken : NAN;
    else if (strcmp(name, "break_ms_p50") == 0)
        v = r->break_ms_p50;
    else if (strcmp(name, "break_ms_max") == 0)
        v = r->break_ms_max;
    else if (strcmp(name, "reconnect_ms") == 0)
        v = r->reconnect_ms;
    else if (strcmp(name, "detect_ms") == 0)
        v = r->detect_ms;
    else
        return -ENOENT;
    if (isnan(v))
        return 0;
    *out = v;
    return 1;
}

bool ah_metrics_field_applies(const struct ah_metrics_row *r, const char *name)
{
    if (strncmp(name, "conns_", 6) == 0 || strncmp(name, "break_", 6) == 0 ||
        strcmp(name, "reconnect_ms") == 0)
        return r->tcp;
    return true;
}
