/* Rows of the failover metrics (docs/formats.md: summary.csv and the metrics): once every
 * record is in, each (window, group) is one summary row, computed when asked
 * from the window's accumulator (lib/metrics_acc.c) or from nothing, with the
 * connection columns evaluated per window here; plus the accessors of the
 * rows and their fields by name. */
#include "metrics_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"

const char *const *const ah_metrics_fields = &ah_schema_summary_cols[AH_SUMMARY_PROBES];

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
    size_t nb = (size_t)__builtin_popcountll(g->gapmask);
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < GAP_SUB; i++)
            total += g->gap[k].w[i];
    if (total == 0)
        return 0;
    for (size_t k = 0; k < nb; k++) {
        for (size_t i = 0; i < GAP_SUB; i++) {
            const struct gap_block *b = &g->gap[k];
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

static int delta_cmp(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->d - y->d; /* closes before opens at one instant */
}

static int conn_open_cmp(const void *a, const void *b)
{
    const struct conn *x = a, *y = b;
    if (x->opened != y->opened)
        return x->opened < y->opened ? -1 : 1;
    return x->closed < y->closed ? -1 : x->closed > y->closed;
}

static int conn_close_cmp(const void *a, const void *b)
{
    const struct conn *x = a, *y = b;
    if (x->closed != y->closed)
        return x->closed < y->closed ? -1 : 1;
    return x->opened < y->opened ? -1 : x->opened > y->opened;
}

/* Number of connections of arr (sorted by the field at off) with that
 * field <= t. */
static size_t conns_upto(const struct conn *arr, size_t n, bool by_close, uint64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((by_close ? arr[mid].closed : arr[mid].opened) <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Connection columns of one tcp row. The connections of the group are
 * sorted by opening (conns) and by closing (byclose): those held at the
 * event are counted as opened minus closed by then, and only the openings
 * and closings inside the window are looked at. */
static void conn_metrics(const struct ah_metrics *m, const struct group *g, size_t w,
                         struct ah_metrics_row *row)
{
    uint64_t t0 = metrics_window_start(m, w), t1 = window_end(m, w);
    uint64_t *brk = m->scratch_brk;
    struct delta *dl = m->scratch_dl;
    size_t nb = 0, nd = 0;
    row->conns_at_event = row->conns_broken = row->conns_broken_collateral = 0;
    if (w == 0) {
        /* Run level: every connection of the run, its lifetime. */
        for (size_t i = 0; i < g->nconns; i++) {
            const struct conn *k = &g->conns[i];
            row->conns_at_event++;
            if (k->reason != AH_REASON_END && k->closed != UINT64_MAX) {
                row->conns_broken++;
                brk[nb++] = k->closed - k->opened;
            }
        }
    } else {
        row->conns_at_event = conns_upto(g->conns, g->nconns, false, t0) -
                              conns_upto(g->byclose, g->nconns, true, t0);
        /* Healthy count over the window: an `end` close is the prober's
         * own doing and does not make it hold fewer connections. */
        for (size_t i = conns_upto(g->byclose, g->nconns, true, t0);
             i < g->nconns && g->byclose[i].closed < t1; i++) {
            const struct conn *k = &g->byclose[i];
            if (k->reason == AH_REASON_END)
                continue;
            if (k->opened <= t0) {
                row->conns_broken++;
                row->conns_broken_collateral +=
                    k->node >= 0 && !metrics_is_event_node(m, w, k->node);
                brk[nb++] = k->closed - t0;
            }
            dl[nd++] = (struct delta){k->closed, -1};
        }
        for (size_t i = conns_upto(g->conns, g->nconns, false, t0);
             i < g->nconns && g->conns[i].opened < t1; i++)
            dl[nd++] = (struct delta){g->conns[i].opened, +1};
    }
    if (nb > 0) {
        qsort(brk, nb, sizeof *brk, u64_cmp);
        size_t rank = (nb + 1) / 2; /* nearest rank of p50 */
        row->break_ms_p50 = (double)brk[rank - 1] / AH_NS_PER_MS;
        row->break_ms_max = (double)brk[nb - 1] / AH_NS_PER_MS;
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
                row->reconnect_ms = (double)(from - t0) / AH_NS_PER_MS;
            } else {
                for (; i < nd; i++) {
                    count += dl[i].d;
                    if (count >= want) {
                        row->reconnect_ms = (double)(dl[i].t - t0) / AH_NS_PER_MS;
                        break;
                    }
                }
            }
        }
    }
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

struct group_key {
    const char *vantage;
    unsigned tr, svc, fam;
    size_t gi;
};

static int group_key_cmp(const void *a, const void *b)
{
    const struct group_key *x = a, *y = b;
    int c = strcmp(x->vantage, y->vantage);
    if (c)
        return c;
    if (x->tr != y->tr)
        return x->tr < y->tr ? -1 : 1;
    if (x->svc != y->svc)
        return x->svc < y->svc ? -1 : 1;
    return x->fam < y->fam ? -1 : x->fam > y->fam;
}

unsigned ah_metrics_families(const struct ah_metrics *m)
{
    unsigned mask = 0;
    for (size_t i = 0; i < m->ng; i++)
        mask |= 1u << m->g[i].fam;
    return mask;
}

/* Groups in a stable order: vantage, transport, service, family. */
static int order_groups(struct ah_metrics *m)
{
    struct group_key *k = malloc((m->ng + 1) * sizeof *k);
    m->order = malloc((m->ng + 1) * sizeof *m->order);
    if (!k || !m->order) {
        free(k);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->ng; i++)
        k[i] = (struct group_key){m->vantages.s[m->g[i].vantage], m->g[i].tr, m->g[i].svc,
                                  m->g[i].fam, i};
    qsort(k, m->ng, sizeof *k, group_key_cmp);
    for (size_t i = 0; i < m->ng; i++)
        m->order[i] = k[i].gi;
    free(k);
    return 0;
}

/* A connection the prober saw close shortly before an event that acted on
 * its own node was closed by that event: the action took effect before the
 * lab read its acknowledgement (the ts_ns of the event), and the prober,
 * on another core, may notice first. Within one probe interval of the
 * connection (its lifetime over its ok probes, at least the group's
 * resolution, at most a second) nothing the prober saw tells the two
 * apart. So a close other than `end` at most that long before the next
 * windowed event, whose node is the connection's node, is taken as a close
 * at that event (1 ns after it, so it was held at the event and broke in
 * its window), not in the window before. */
static void attribute_closes(const struct ah_metrics *m, struct group *g)
{
    for (size_t i = 0; i < g->nconns; i++) {
        struct conn *k = &g->conns[i];
        uint64_t within = k->interval > g->res ? k->interval : g->res;
        if (within > AH_NS_PER_S)
            within = AH_NS_PER_S;
        if (k->reason == AH_REASON_END || k->closed == UINT64_MAX || k->node < 0 || !within)
            continue;
        size_t e = metrics_event_after(m, k->closed);
        if (e >= m->nev || m->ev[e].ts - k->closed > within ||
            !metrics_is_event_node(m, e + 1, k->node))
            continue;
        k->closed = m->ev[e].ts + 1;
    }
}

/* Sorts each group's connections, measures its resolution (the probe
 * interval plus the vantage's clock uncertainty, saturating), and makes
 * room for the connection columns of its largest group. */
static int prepare_groups(struct ah_metrics *m)
{
    size_t most = 0;
    for (size_t i = 0; i < m->ng; i++) {
        struct group *g = &m->g[i];
        g->res = m->cfg.resolution_ns[g->tr] ? m->cfg.resolution_ns[g->tr] : gap_median(g);
        uint64_t clock = g->vantage < m->nclock ? m->clock_unc[g->vantage] : 0;
        g->res = g->res > UINT64_MAX - clock ? UINT64_MAX : g->res + clock;
        if (g->nconns > most)
            most = g->nconns;
        if (!g->nconns)
            continue;
        attribute_closes(m, g);
        qsort(g->conns, g->nconns, sizeof *g->conns, conn_open_cmp);
        g->byclose = malloc(g->nconns * sizeof *g->byclose);
        if (!g->byclose)
            return -ENOMEM;
        memcpy(g->byclose, g->conns, g->nconns * sizeof *g->byclose);
        qsort(g->byclose, g->nconns, sizeof *g->byclose, conn_close_cmp);
    }
    m->scratch_brk = malloc((most + 1) * sizeof *m->scratch_brk);
    m->scratch_dl = malloc((2 * most + 1) * sizeof *m->scratch_dl);
    m->cache = calloc(AH_METRICS_ROW_CACHE, sizeof *m->cache);
    m->cache_idx = calloc(AH_METRICS_ROW_CACHE, sizeof *m->cache_idx);
    if (!m->scratch_brk || !m->scratch_dl || !m->cache || !m->cache_idx)
        return -ENOMEM;
    return 0;
}

int ah_metrics_finish(struct ah_metrics *m)
{
    if (m->finished)
        return 0;
    int rc = metrics_seal(m);
    if (rc < 0)
        return rc;
    m->finished = true;
    m->start = m->cfg.start_ns ? m->cfg.start_ns : (m->first_ts == UINT64_MAX ? 0 : m->first_ts);
    if (m->nev && (!m->cfg.start_ns) && m->ev[0].ts < m->start)
        m->start = m->ev[0].ts;
    uint64_t last = m->last_ts;
    if (m->conn_last > last)
        last = m->conn_last;
    if (m->nev && m->ev[m->nev - 1].ts > last)
        last = m->ev[m->nev - 1].ts;
    m->end = m->cfg.end_ns ? m->cfg.end_ns : last;
    if (m->end < m->start)
        m->end = m->start;
    if ((rc = metrics_before_finish(m)) < 0 || (rc = order_groups(m)) < 0 ||
        (rc = prepare_groups(m)) < 0) {
        m->nrows = 0;
        return rc;
    }
    m->nrows = m->ng * (m->nev + 1);
    return 0;
}

/* Row i (windows in time order, the groups in their order within each),
 * computed into out from the window's accumulator, or from nothing when no
 * probe of the group fell into the window. */
static void row_make(const struct ah_metrics *m, size_t i, struct ah_metrics_row *row)
{
    size_t w = i / m->ng, gi = m->order[i % m->ng];
    const struct group *g = &m->g[gi];
    const struct acc *a = metrics_acc_find(m, gi, w);
    struct acc none;
    uint64_t t0 = metrics_window_start(m, w), t1 = window_end(m, w);
    if (!a) {
        memset(&none, 0, sizeof none);
        none.before = w ? (int32_t)metrics_before_of(g, w) : -1;
        none.route =
            w ? (int32_t)metrics_route_in(m, g, w, w < m->nev ? m->ev[w].ts : UINT64_MAX) : -1;
        a = &none;
    }
    memset(row, 0, sizeof *row);
    row->event_ts_ns = t0;
    row->event = w == 0 ? ah_schema_event_name(AH_EVENT_RUN) : m->ev[w - 1].event;
    row->node = w == 0 ? "" : m->ev[w - 1].node;
    row->occurrence = w == 0 ? 1 : m->ev[w - 1].occ;
    row->vantage = m->vantages.s[g->vantage];
    row->transport = g->tr;
    row->service = g->svc;
    row->family = g->fam;
    row->before = node_name(m, a->before);
    row->after = node_name(m, tail_mode(a));
    row->probes = a->probes;
    row->lost = a->lost;
    row->ratelimited = a->ratelimited;
    row->flips = a->flips;
    row->outage_ms = 0;
    if (a->failed) {
        uint64_t to = a->recovered ? a->ok_after_fail_ts : (t1 > a->fail_ts ? t1 : a->fail_ts);
        row->outage_ms = (double)(to - a->fail_ts) / AH_NS_PER_MS;
    }
    row->switch_ms =
        a->switched && a->switch_ts >= t0 ? (double)(a->switch_ts - t0) / AH_NS_PER_MS : NAN;
    row->tcp = g->tr == AH_TR_TCP;
    row->break_ms_p50 = row->break_ms_max = row->reconnect_ms = NAN;
    row->detect_ms = row->route_ms = row->gt_answer_ms = NAN;
    row->route_nexthop = "";
    if (row->tcp)
        conn_metrics(m, g, w, row);
    row->resolution_ms = (double)g->res / AH_NS_PER_MS;
    row->collateral = w > 0 && m->ev[w - 1].node[0];
    row->flows_moved_collateral = a->moved_coll;
    if (a->route >= 0) {
        const struct route *rt = &m->rt[a->route];
        row->route_ts_ns = rt->ts;
        row->route_nexthop = m->nexthops.s[rt->nexthop];
        row->route_ms = (double)(rt->ts - t0) / AH_NS_PER_MS;
        if (a->gt_done)
            row->gt_answer_ms = (double)(a->gt_ts - rt->ts) / AH_NS_PER_MS;
        if (!m->ev[w - 1].direct)
            row->detect_ms = row->route_ms;
    }
    row->rtt_ms_p50 = metrics_rtt_ms(&a->rtt, 50);
    row->rtt_ms_p99 = metrics_rtt_ms(&a->rtt, 99);
    row->rtt_ms_max = metrics_rtt_ms(&a->rtt, 100);
    row->base_rtt_ms_p50 = a == &none ? NAN : a->base_p50;
    row->base_rtt_ms_p99 = a == &none ? NAN : a->base_p99;
    row->base_rtt_ms_max = a == &none ? NAN : a->base_max;
    row->index = a == &none ? SIZE_MAX : (size_t)(a - m->acc);
}

size_t ah_metrics_nrows(const struct ah_metrics *m)
{
    return m->finished ? m->nrows : 0;
}

const struct ah_metrics_row *ah_metrics_row(const struct ah_metrics *m, size_t i)
{
    if (!m->finished || i >= m->nrows)
        return NULL;
    size_t slot = i % AH_METRICS_ROW_CACHE;
    if (m->cache_idx[slot] != i + 1) {
        row_make(m, i, &m->cache[slot]);
        m->cache_idx[slot] = i + 1;
    }
    return &m->cache[slot];
}

uint64_t ah_metrics_row_answers(const struct ah_metrics *m, const struct ah_metrics_row *r,
                                const char *node)
{
    long id = metrics_strtab_id((struct strtab *)&m->nodes, node, false);
    if (id < 0 || !r || r->index >= m->nacc)
        return 0;
    return metrics_counts_get(&m->acc[r->index].win, (size_t)id);
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

/* The summary.csv column of a numeric field name, or -ENOENT. */
static int field_index(const char *name)
{
    for (int i = AH_SUMMARY_PROBES; i < AH_SCHEMA_SUMMARY_COLS; i++)
        if (strcmp(name, ah_schema_summary_cols[i]) == 0)
            return i;
    return -ENOENT;
}

int ah_metrics_field(const struct ah_metrics_row *r, const char *name, double *out)
{
    double v;
    switch (field_index(name)) {
    case AH_SUMMARY_PROBES:
        v = (double)r->probes;
        break;
    case AH_SUMMARY_LOST:
        v = (double)r->lost;
        break;
    case AH_SUMMARY_OUTAGE_MS:
        v = r->outage_ms;
        break;
    case AH_SUMMARY_SWITCH_MS:
        v = r->switch_ms;
        break;
    case AH_SUMMARY_FLIPS:
        v = (double)r->flips;
        break;
    case AH_SUMMARY_CONNS_AT_EVENT:
        v = r->tcp ? (double)r->conns_at_event : NAN;
        break;
    case AH_SUMMARY_CONNS_BROKEN:
        v = r->tcp ? (double)r->conns_broken : NAN;
        break;
    case AH_SUMMARY_BREAK_MS_P50:
        v = r->break_ms_p50;
        break;
    case AH_SUMMARY_BREAK_MS_MAX:
        v = r->break_ms_max;
        break;
    case AH_SUMMARY_RECONNECT_MS:
        v = r->reconnect_ms;
        break;
    case AH_SUMMARY_DETECT_MS:
        v = r->detect_ms;
        break;
    case AH_SUMMARY_RTT_MS_P50:
        v = r->rtt_ms_p50;
        break;
    case AH_SUMMARY_RTT_MS_P99:
        v = r->rtt_ms_p99;
        break;
    case AH_SUMMARY_RTT_MS_MAX:
        v = r->rtt_ms_max;
        break;
    case AH_SUMMARY_BASE_RTT_MS_P50:
        v = r->base_rtt_ms_p50;
        break;
    case AH_SUMMARY_BASE_RTT_MS_P99:
        v = r->base_rtt_ms_p99;
        break;
    case AH_SUMMARY_BASE_RTT_MS_MAX:
        v = r->base_rtt_ms_max;
        break;
    case AH_SUMMARY_FLOWS_MOVED_COLLATERAL:
        v = r->collateral && !r->tcp ? (double)r->flows_moved_collateral : NAN;
        break;
    case AH_SUMMARY_CONNS_BROKEN_COLLATERAL:
        v = r->collateral && r->tcp ? (double)r->conns_broken_collateral : NAN;
        break;
    case AH_SUMMARY_RATELIMITED:
        v = (double)r->ratelimited;
        break;
    default:
        return -ENOENT;
    }
    if (isnan(v))
        return 0;
    *out = v;
    return 1;
}

bool ah_metrics_field_applies(const struct ah_metrics_row *r, const char *name)
{
    switch (field_index(name)) {
    case AH_SUMMARY_CONNS_AT_EVENT:
    case AH_SUMMARY_CONNS_BROKEN:
    case AH_SUMMARY_BREAK_MS_P50:
    case AH_SUMMARY_BREAK_MS_MAX:
    case AH_SUMMARY_RECONNECT_MS:
        return r->tcp;
    case AH_SUMMARY_FLOWS_MOVED_COLLATERAL:
        return r->collateral && !r->tcp;
    case AH_SUMMARY_CONNS_BROKEN_COLLATERAL:
        return r->collateral && r->tcp;
    default:
        return true;
    }
}
