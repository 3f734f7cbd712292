/* Failover metrics, probes and connections in (docs/formats.md, "Metrics"): each probe is
 * counted in the run-level accumulator of its (vantage, transport, service,
 * family) group and in the accumulator of the event window it falls into, made when
 * the first probe falls there; the node "before" each event is resolved as
 * the group's probes pass it, from the last probes of its flows in the
 * second before it (lib/metrics_flow.c).
 * Memory grows with the groups, the windows that received probes, the
 * events and the connections, never with events x groups. */
#include "metrics_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"

/* ---- the node before each event ---- */

static int before_record(struct group *g, size_t w, long node)
{
    if (g->nbp ? g->bp[g->nbp - 1].node == node : node == -1)
        return 0;
    if (g->nbp == g->capbp) {
        size_t cap = g->capbp ? g->capbp * 2 : 4;
        struct before_pt *b = realloc(g->bp, cap * sizeof *b);
        if (!b)
            return -ENOMEM;
        g->bp = b;
        g->capbp = cap;
    }
    g->bp[g->nbp++] = (struct before_pt){(uint32_t)w, (int32_t)node};
    return 0;
}

/* First position (from rhead) of an answer sent at or after t. */
static size_t recent_lower(const struct group *g, uint64_t t)
{
    size_t lo = g->rhead, hi = g->rn;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->recent[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The node before an event at t: over the probes sent in [t - 1 s, t), the
 * most frequent among the answers to the flows' last probes
 * (metrics_last_mode). -1: none; below -1: out of memory. */
static long before_query(struct ah_metrics *m, struct group *g, uint64_t t)
{
    uint64_t a = t > AH_NS_PER_S ? t - AH_NS_PER_S : 0;
    return metrics_last_mode(m, g->recent, recent_lower(g, a), recent_lower(g, t));
}

/* Drops the probes sent before cutoff. */
static void recent_evict(struct group *g, uint64_t cutoff)
{
    while (g->rhead < g->rn && g->recent[g->rhead].ts < cutoff)
        g->rhead++;
    if (g->rhead == g->rn)
        g->rhead = g->rn = 0;
}

/* Settles, in time order, the node before each event of group gi whose
 * window received no probe: once BEFORE_SETTLE probes sent after the event
 * have come in (a window that received a probe was settled then), or every
 * remaining one (all, at the finish). Until settled, probes that come late
 * still count, as when each window kept its own counts; a stray row far
 * ahead in time settles nothing by itself. */
static int before_settle(struct ah_metrics *m, size_t gi, bool all)
{
    struct group *g = &m->g[gi];
    while (g->ev_next < m->nev) {
        size_t e = g->ev_next;
        uint64_t et = m->ev[e].ts;
        if (all && g->rhead == g->rn) {
            /* No probes left: nothing before any remaining event. */
            if (before_record(g, e + 1, -1) < 0)
                return -ENOMEM;
            g->ev_next = m->nev;
            break;
        }
        if (!metrics_acc_find(m, gi, e + 1)) {
            if (!all && g->rn - recent_lower(g, et) < BEFORE_SETTLE)
                break;
            long node = before_query(m, g, et);
            if (node < -1 || before_record(g, e + 1, node) < 0)
                return -ENOMEM;
        }
        g->ev_next++;
        if (g->ev_next < m->nev && m->ev[g->ev_next].ts > AH_NS_PER_S)
            recent_evict(g, m->ev[g->ev_next].ts - AH_NS_PER_S);
    }
    if (g->ev_next == m->nev) {
        free(g->recent);
        g->recent = NULL;
        g->rhead = g->rn = g->rcap = 0;
    }
    return 0;
}

/* Keeps a probe (node UINT32_MAX: not answered) sent at or after a second
 * before the first event not yet settled, in time order (also for a late
 * probe). */
static int recent_add(struct ah_metrics *m, struct group *g, uint64_t ts, uint64_t conn,
                      uint32_t node, uint32_t rtt_us)
{
    if (g->ev_next >= m->nev)
        return 0;
    uint64_t et = m->ev[g->ev_next].ts;
    if (et > AH_NS_PER_S && ts < et - AH_NS_PER_S)
        return 0;
    if (g->rn == g->rcap) {
        if (g->rhead > 0) {
            memmove(g->recent, g->recent + g->rhead, (g->rn - g->rhead) * sizeof *g->recent);
            g->rn -= g->rhead;
            g->rhead = 0;
        } else {
            size_t cap = g->rcap ? g->rcap * 2 : 16;
            struct recent *r = realloc(g->recent, cap * sizeof *r);
            if (!r)
                return -ENOMEM;
            g->recent = r;
            g->rcap = cap;
        }
    }
    size_t i = g->rn;
    while (i > g->rhead && g->recent[i - 1].ts > ts)
        i--;
    memmove(g->recent + i + 1, g->recent + i, (g->rn - i) * sizeof *g->recent);
    g->recent[i] = (struct recent){ts, conn, node, rtt_us};
    g->rn++;
    return 0;
}

int metrics_before_finish(struct ah_metrics *m)
{
    for (size_t i = 0; i < m->ng; i++)
        if (before_settle(m, i, true) < 0)
            return -ENOMEM;
    return 0;
}

/* Nearest-rank percentile of n sorted RTTs, in ms. */
static double base_rank(const uint32_t *v, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return (double)v[rank ? rank - 1 : 0] / 1000.0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The baseline of a window: the RTTs of the group's ok probes sent in the
 * second before its event t, exact (they are the answers the node "before"
 * is counted from, already kept). */
static int base_rtt(struct ah_metrics *m, const struct group *g, uint64_t t, struct acc *a)
{
    a->base_p50 = a->base_p99 = a->base_max = NAN;
    size_t i = recent_lower(g, t > AH_NS_PER_S ? t - AH_NS_PER_S : 0), j = recent_lower(g, t);
    if (j - i > m->captmprtt) {
        uint32_t *v = realloc(m->tmprtt, (j - i) * sizeof *v);
        if (!v)
            return -ENOMEM;
        m->tmprtt = v;
        m->captmprtt = j - i;
    }
    size_t n = 0;
    for (; i < j; i++)
        if (g->recent[i].rtt_us != UINT32_MAX)
            m->tmprtt[n++] = g->recent[i].rtt_us;
    if (n == 0)
        return 0;
    qsort(m->tmprtt, n, sizeof *m->tmprtt, cmp_u32);
    a->base_p50 = base_rank(m->tmprtt, n, 50);
    a->base_p99 = base_rank(m->tmprtt, n, 99);
    a->base_max = (double)m->tmprtt[n - 1] / 1000.0;
    return 0;
}

/* ---- accumulators, found by (group, window) ---- */

static size_t acc_hash(size_t g, size_t w, size_t mask)
{
    uint64_t k = ((uint64_t)g << 32 | (uint64_t)w) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(k ^ (k >> 29)) & mask;
}

static int acc_rehash(struct ah_metrics *m)
{
    size_t ns = m->naccslot ? m->naccslot * 2 : 64;
    uint32_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    for (size_t i = 0; i < m->nacc; i++) {
        size_t j = acc_hash(m->acc[i].g, m->acc[i].w, ns - 1);
        while (slot[j])
            j = (j + 1) & (ns - 1);
        slot[j] = (uint32_t)i + 1;
    }
    free(m->accslot);
    m->accslot = slot;
    m->naccslot = ns;
    return 0;
}

const struct acc *metrics_acc_find(const struct ah_metrics *m, size_t g, size_t w)
{
    if (!m->naccslot)
        return NULL;
    size_t mask = m->naccslot - 1, j = acc_hash(g, w, mask);
    for (; m->accslot[j]; j = (j + 1) & mask) {
        const struct acc *a = &m->acc[m->accslot[j] - 1];
        if (a->g == g && a->w == w)
            return a;
    }
    return NULL;
}

long metrics_before_of(const struct group *g, size_t w)
{
    size_t lo = 0, hi = g->nbp;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->bp[mid].w <= w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? g->bp[lo - 1].node : -1;
}

/* The accumulator of (group gi, window w), made when missing; returns its
 * index or a negative errno. A window receives a probe only once the
 * group's probes have passed its event, so its "before" is known. */
static long acc_get(struct ah_metrics *m, size_t gi, size_t w)
{
    struct group *g = &m->g[gi];
    if (g->lastacc != UINT32_MAX && g->lastw == w)
        return g->lastacc;
    const struct acc *found = metrics_acc_find(m, gi, w);
    long idx;
    if (found) {
        idx = found - m->acc;
    } else {
        if (m->nacc >= UINT32_MAX - 1)
            return -ENOMEM;
        if ((m->nacc + 1) * 2 > m->naccslot && acc_rehash(m) < 0)
            return -ENOMEM;
        if (m->nacc == m->capacc) {
            size_t cap = m->capacc ? m->capacc * 2 : 64;
            struct acc *a = realloc(m->acc, cap * sizeof *a);
            if (!a)
                return -ENOMEM;
            m->acc = a;
            m->capacc = cap;
        }
        struct acc *a = &m->acc[m->nacc];
        memset(a, 0, sizeof *a);
        a->g = (uint32_t)gi;
        a->w = (uint32_t)w;
        a->before = -1;
        a->base_p50 = a->base_p99 = a->base_max = NAN;
        if (w > 0 && w - 1 < g->ev_next) {
            a->before = (int32_t)metrics_before_of(g, w);
        } else if (w > 0) {
            long b = before_query(m, g, m->ev[w - 1].ts);
            if (b < -1 || base_rtt(m, g, m->ev[w - 1].ts, a) < 0)
                return -ENOMEM;
            a->before = (int32_t)b;
        }
        /* The run's end is not known yet: the last window is open-ended. */
        a->route =
            w ? (int32_t)metrics_route_in(m, g, w, w < m->nev ? m->ev[w].ts : UINT64_MAX) : -1;
        size_t mask = m->naccslot - 1, j = acc_hash(gi, w, mask);
        while (m->accslot[j])
            j = (j + 1) & mask;
        m->accslot[j] = (uint32_t)m->nacc + 1;
        idx = (long)m->nacc++;
    }
    g->lastw = (uint32_t)w;
    g->lastacc = (uint32_t)idx;
    return idx;
}

/* ---- groups ---- */

static long group_get(struct ah_metrics *m, const char *vantage, enum ah_transport tr,
                      enum ah_service svc, enum ah_family fam)
{
    if ((unsigned)tr >= AH_TR_COUNT || (unsigned)svc >= AH_SVC_COUNT ||
        (unsigned)fam >= AH_FAM_COUNT)
        return -EINVAL;
    long vid = metrics_strtab_id(&m->vantages, vantage ? vantage : "", true);
    if (vid < 0)
        return vid;
    if ((size_t)vid >= m->ngidx) {
        size_t n = (size_t)vid + 16 + m->ngidx / 2;
        long(*gi)[AH_TR_COUNT][AH_SVC_COUNT][AH_FAM_COUNT] = realloc(m->gidx, n * sizeof *gi);
        if (!gi)
            return -ENOMEM;
        for (size_t i = m->ngidx; i < n; i++)
            for (unsigned t = 0; t < AH_TR_COUNT; t++)
                for (unsigned s = 0; s < AH_SVC_COUNT; s++)
                    for (unsigned f = 0; f < AH_FAM_COUNT; f++)
                        gi[i][t][s][f] = -1;
        m->gidx = gi;
        m->ngidx = n;
    }
    if (m->gidx[vid][tr][svc][fam] >= 0)
        return m->gidx[vid][tr][svc][fam];
    if (m->ng >= UINT32_MAX - 1)
        return -ENOMEM;
    if (m->ng == m->capg) {
        size_t cap = m->capg ? m->capg * 2 : 8;
        struct group *g = realloc(m->g, cap * sizeof *g);
        if (!g)
            return -ENOMEM;
        m->g = g;
        m->capg = cap;
    }
    struct group *g = &m->g[m->ng];
    memset(g, 0, sizeof *g);
    g->vantage = (size_t)vid;
    g->tr = tr;
    g->svc = svc;
    g->fam = fam;
    g->lastacc = UINT32_MAX;
    g->router = metrics_strtab_id(&m->routers, m->vantages.s[vid], false);
    if (g->router < 0)
        g->router = -1;
    ah_flips_init(&g->flips);
    size_t gi = m->ng++;
    long a0 = acc_get(m, gi, 0);
    if (a0 < 0)
        return a0;
    m->g[gi].acc0 = (uint32_t)a0;
    m->gidx[vid][tr][svc][fam] = (long)gi;
    return (long)gi;
}

static int gap_add(struct group *g, uint64_t gap)
{
    if (gap == 0)
        return 0;
    unsigned sub;
    void *blocks = g->gap;
    long k = metrics_log_slot(&blocks, &g->gapmask, gap, sizeof *g->gap, &sub);
    g->gap = blocks;
    if (k < 0)
        return -ENOMEM;
    g->gap[k].w[sub] += gap;
    g->gap[k].w2[sub] += (double)gap * (double)gap;
    return 0;
}

/* ---- probes ---- */

static int acc_probe(struct ah_metrics *m, struct acc *a, const struct ah_metrics_probe *p,
                     long node, int flip)
{
    uint64_t ts = p->ts_ns;
    bool ok = p->result == AH_RES_OK;
    a->probes++;
    if (!ok) {
        a->lost++;
        a->ratelimited += p->result == AH_RES_RATELIMITED;
        if (!a->failed) {
            a->failed = true;
            a->fail_ts = ts;
        }
        return 0;
    }
    if (a->failed && !a->recovered && ts >= a->fail_ts) {
        a->recovered = true;
        a->ok_after_fail_ts = ts;
    }
    if (flip > 0)
        a->flips++;
    if (p->has_rtt && metrics_rtt_add(&a->rtt, p->rtt_us) < 0)
        return -ENOMEM;
    if (node < 0)
        return 0;
    if (metrics_counts_add(&a->win, (size_t)node, +1) < 0)
        return -ENOMEM;
    a->tail[a->tailpos] = (uint32_t)node;
    a->tailpos = (uint8_t)((a->tailpos + 1) % TAIL);
    if (a->ntail < TAIL)
        a->ntail++;
    if (!a->switched && node != a->before) {
        a->switched = true;
        a->switch_ts = ts;
    }
    if (a->route >= 0 && !a->gt_done) {
        const struct route *r = &m->rt[a->route];
        const struct nh_nodes *nn = &m->nhn[r->nexthop];
        bool in = false, other = false;
        for (size_t i = 0; i < nn->n; i++) {
            in |= (long)nn->id[i] == node;
            other |= (long)nn->id[i] != a->before;
        }
        if (ts >= r->ts && in && (node != a->before || !other)) {
            a->gt_done = true;
            a->gt_ts = ts;
        }
    }
    return 0;
}

int ah_metrics_add_probe(struct ah_metrics *m, const struct ah_metrics_probe *p)
{
    if (m->finished)
        return -EINVAL;
    int rc = metrics_seal(m);
    if (rc < 0)
        return rc;
    long gi = group_get(m, p->vantage, p->transport, p->service, p->family);
    if (gi < 0)
        return (int)gi;
    struct group *g = &m->g[gi];
    bool ok = p->result == AH_RES_OK;
    long node = -1;
    if (ok && p->node && p->node[0]) {
        node = metrics_strtab_id(&m->nodes, p->node, true);
        if (node < 0)
            return (int)node;
    }
    if (p->ts_ns < m->last_ts)
        m->late++;
    else
        m->last_ts = p->ts_ns;
    if (p->ts_ns < m->first_ts)
        m->first_ts = p->ts_ns;
    if (g->any && p->ts_ns >= g->last_ts && gap_add(g, p->ts_ns - g->last_ts) < 0)
        return -ENOMEM;
    if (!g->any || p->ts_ns > g->last_ts)
        g->last_ts = p->ts_ns;
    g->any = true;

    int flip = 0;
    if (node >= 0) {
        flip = ah_flips_add(&g->flips, p->conn, (unsigned)node);
        if (flip < 0)
            return flip;
    }
    if ((rc = acc_probe(m, &m->acc[g->acc0], p, node, flip)) < 0)
        return rc;
    size_t next = metrics_event_after(m, p->ts_ns);
    struct acc *wa = NULL;
    if (next > 0) {
        long ai = acc_get(m, (size_t)gi, next);
        if (ai < 0)
            return (int)ai;
        wa = &m->acc[ai];
        if ((rc = acc_probe(m, wa, p, node, flip)) < 0)
            return rc;
    }
    /* TCP answers cannot move without a new connection: only UDP flows are
     * followed for flows_moved_collateral. */
    if ((node >= 0 || !ok) && g->tr == AH_TR_UDP &&
        (rc = metrics_flow_probe(m, g, wa, next, p->ts_ns, p->conn, node)) < 0)
        return rc;
    /* The second before the events that follow: answers, and failures,
     * which end what their flow says about the node before. */
    uint32_t rtt = !ok || !p->has_rtt        ? UINT32_MAX
                   : p->rtt_us >= UINT32_MAX ? UINT32_MAX - 1
                                             : (uint32_t)p->rtt_us;
    if ((node >= 0 || !ok) && (rc = recent_add(m, &m->g[gi], p->ts_ns, p->conn,
                                               node >= 0 ? (uint32_t)node : UINT32_MAX, rtt)) < 0)
        return rc;
    return before_settle(m, (size_t)gi, false);
}

/* ---- connections ---- */

int ah_metrics_add_conn(struct ah_metrics *m, const struct ah_metrics_conn *c)
{
    if (m->finished)
        return -EINVAL;
    int rc = metrics_seal(m);
    if (rc < 0)
        return rc;
    long gi = group_get(m, c->vantage, AH_TR_TCP, c->service, c->family);
    if (gi < 0)
        return (int)gi;
    struct group *g = &m->g[gi];
    if (c->opened_ns && c->opened_ns < m->first_ts)
        m->first_ts = c->opened_ns;
    if (c->closed_ns > m->conn_last)
        m->conn_last = c->closed_ns;
    /* A refused, unreachable or timed-out attempt that never got an answer
     * was never a connection: not kept. */
    bool answered = (c->node && c->node[0]) || c->probes_ok > 0;
    if (!answered && c->reason != AH_REASON_RESET && c->reason != AH_REASON_EOF &&
        c->reason != AH_REASON_END)
        return 0;
    if (g->nconns == g->capconns) {
        size_t cap = g->capconns ? g->capconns * 2 : 4;
        struct conn *n = realloc(g->conns, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        g->conns = n;
        g->capconns = cap;
    }
    struct conn *k = &g->conns[g->nconns++];
    k->opened = c->opened_ns;
    k->closed = c->closed_ns ? c->closed_ns : UINT64_MAX;
    /* A connection closed before it opened (a broken row) is taken as
     * closed when it opened. */
    if (k->closed < k->opened)
        k->closed = k->opened;
    k->reason = (uint8_t)c->reason;
    /* Its probe interval, from two ok probes on: one alone says nothing. */
    k->interval =
        c->probes_ok >= 2 && k->closed != UINT64_MAX ? (k->closed - k->opened) / c->probes_ok : 0;
    k->node = -1;
    if (c->node && c->node[0]) {
        long id = metrics_strtab_id(&m->nodes, c->node, true);
        if (id < 0) {
            g->nconns--;
            return (int)id;
        }
        k->node = (int32_t)id;
    }
    return 0;
}
