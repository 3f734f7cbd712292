/* Failover metrics of design §6, computed in one pass over time-ordered
 * probe records: each probe is counted in the run-level accumulator of its
 * (vantage, transport, service) group, in the window of the event it falls
 * after, and in the "second before" of the events that follow it within a
 * second. Connections are kept compactly and evaluated per window at the end.
 * No I/O: records in, rows out. */
#include "ah/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S  1000000000ULL
#define NS_PER_MS 1e6
#define TAIL      32 /* ok answers remembered to name the node "at the end" */

/* Time-weighted gap histogram for the resolution: 16 sub-buckets per power
 * of two (6% wide), weights in nanoseconds. */
#define GAP_SUB     16
#define GAP_BUCKETS (64 * GAP_SUB)

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

static const char *const tr_names[AH_TR_COUNT] = {"udp", "tcp"};
static const char *const svc_names[AH_SVC_COUNT] = {"dns", "echo"};

const char *ah_transport_name(enum ah_transport t)
{
    return (unsigned)t < AH_TR_COUNT ? tr_names[t] : "?";
}

const char *ah_service_name(enum ah_service s)
{
    return (unsigned)s < AH_SVC_COUNT ? svc_names[s] : "?";
}

int ah_transport_parse(const char *s, enum ah_transport *out)
{
    for (unsigned i = 0; i < AH_TR_COUNT; i++) {
        if (strcmp(s, tr_names[i]) == 0) {
            *out = (enum ah_transport)i;
            return 0;
        }
    }
    return -EINVAL;
}

int ah_service_parse(const char *s, enum ah_service *out)
{
    for (unsigned i = 0; i < AH_SVC_COUNT; i++) {
        if (strcmp(s, svc_names[i]) == 0) {
            *out = (enum ah_service)i;
            return 0;
        }
    }
    return -EINVAL;
}

int ah_reason_parse(const char *s, enum ah_reason *out)
{
    for (unsigned i = 0; i < AH_REASON_COUNT; i++) {
        if (strcmp(s, ah_reason_name((enum ah_reason)i)) == 0) {
            *out = (enum ah_reason)i;
            return 0;
        }
    }
    return -EINVAL;
}

enum ah_event_kind ah_event_kind_of(const char *event)
{
    if (strcmp(event, "route") == 0)
        return AH_EV_ROUTE;
    if (strcmp(event, "exit") == 0 || strncmp(event, "track-", 6) == 0 ||
        strncmp(event, "bgp", 3) == 0)
        return AH_EV_OBSERVATION;
    return AH_EV_DRILL;
}

/* ---- string interning (nodes, vantages) ---- */

struct strtab {
    char **s;
    size_t n, cap;
    uint32_t *slot; /* id + 1, 0 = empty */
    size_t nslot;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int strtab_rehash(struct strtab *t)
{
    size_t ns = t->nslot ? t->nslot * 2 : 64;
    uint32_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = (size_t)str_hash(t->s[i]) & (ns - 1);
        while (slot[j])
            j = (j + 1) & (ns - 1);
        slot[j] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = ns;
    return 0;
}

/* Returns the id of s, adding it when add is set; -ENOENT or -ENOMEM. */
static long strtab_id(struct strtab *t, const char *s, bool add)
{
    if (t->nslot) {
        size_t j = (size_t)str_hash(s) & (t->nslot - 1);
        while (t->slot[j]) {
            if (strcmp(t->s[t->slot[j] - 1], s) == 0)
                return (long)t->slot[j] - 1;
            j = (j + 1) & (t->nslot - 1);
        }
    }
    if (!add)
        return -ENOENT;
    if ((t->n + 1) * 2 > t->nslot && strtab_rehash(t) < 0)
        return -ENOMEM;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **ns = realloc(t->s, cap * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        t->s = ns;
        t->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    t->s[t->n] = copy;
    size_t j = (size_t)str_hash(s) & (t->nslot - 1);
    while (t->slot[j])
        j = (j + 1) & (t->nslot - 1);
    t->slot[j] = (uint32_t)t->n + 1;
    return (long)t->n++;
}

static void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* ---- records kept ---- */

struct event {
    uint64_t ts;
    char *event, *node;
    unsigned occ;
    size_t order; /* input order, for a stable sort */
    bool direct;  /* a route change the lab makes itself */
};

struct route {
    uint64_t ts;
    char *router, *nexthop;
    uint32_t *nodes; /* node ids the route leads to */
    size_t nnodes;
    size_t order;
};

struct conn {
    uint64_t opened, closed; /* closed UINT64_MAX: open at the end */
    uint8_t reason;
    bool established;
};

/* Counts per node id, grown on demand. */
struct counts {
    uint32_t *c;
    size_t n;
};

static int counts_add(struct counts *k, size_t id)
{
    if (id >= k->n) {
        size_t n = id + 8;
        uint32_t *c = realloc(k->c, n * sizeof *c);
        if (!c)
            return -ENOMEM;
        memset(c + k->n, 0, (n - k->n) * sizeof *c);
        k->c = c;
        k->n = n;
    }
    k->c[id]++;
    return 0;
}

/* Most counted id, or -1 when empty (ties: the lowest id). */
static long counts_mode(const struct counts *k)
{
    long best = -1;
    for (size_t i = 0; i < k->n; i++)
        if (k->c[i] && (best < 0 || k->c[i] > k->c[best]))
            best = (long)i;
    return best;
}

/* One (window, group): window 0 is the whole run, w >= 1 event w-1. */
struct acc {
    uint64_t probes, lost, flips;
    uint64_t fail_ts, ok_after_fail_ts;
    bool failed, recovered;
    bool before_done;
    long before; /* node id or -1 */
    bool switched;
    uint64_t switch_ts;
    struct counts pre, win;
    uint32_t tail[TAIL];
    unsigned ntail, tailpos;
    long route; /* index into routes or -1 */
    bool gt_done;
    uint64_t gt_ts;
};

struct group {
    size_t vantage; /* id */
    enum ah_transport tr;
    enum ah_service svc;
    struct acc *acc; /* nev + 1 */
    struct ah_flips flips;
    uint64_t last_ts;
    bool any;
    uint64_t gap_w[GAP_BUCKETS];
    double gap_w2[GAP_BUCKETS]; /* sum of gap squared, for the mean within a bucket */
    struct conn *conns;
    size_t nconns, capconns;
};

struct ah_metrics {
    struct ah_metrics_cfg cfg;
    struct strtab nodes, vantages;
    struct event *ev;
    size_t nev, capev;
    struct route *rt;
    size_t nrt, caprt;
    bool sealed, finished;
    struct group *g;
    size_t ng, capg;
    long (*gidx)[AH_TR_COUNT][AH_SVC_COUNT]; /* per vantage id: group index or -1 */
    size_t ngidx;
    uint64_t first_ts, last_ts, late;
    uint64_t start, end;
    struct ah_metrics_row *rows;
    size_t nrows;
};

int ah_metrics_new(struct ah_metrics **out, const struct ah_metrics_cfg *cfg)
{
    struct ah_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    if (cfg)
        m->cfg = *cfg;
    m->first_ts = UINT64_MAX;
    *out = m;
    return 0;
}

void ah_metrics_free(struct ah_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nev; i++) {
        free(m->ev[i].event);
        free(m->ev[i].node);
    }
    for (size_t i = 0; i < m->nrt; i++) {
        free(m->rt[i].router);
        free(m->rt[i].nexthop);
        free(m->rt[i].nodes);
    }
    for (size_t i = 0; i < m->ng; i++) {
        struct group *g = &m->g[i];
        for (size_t w = 0; g->acc && w <= m->nev; w++) {
            free(g->acc[w].pre.c);
            free(g->acc[w].win.c);
        }
        free(g->acc);
        ah_flips_free(&g->flips);
        free(g->conns);
    }
    free(m->g);
    free(m->gidx);
    free(m->ev);
    free(m->rt);
    free(m->rows);
    strtab_free(&m->nodes);
    strtab_free(&m->vantages);
    free(m);
}

/* Node names of a route's nexthop text: "nyc", "n2+n3", "none", or
 * "addr=list addr=list" when the addresses disagree. */
static int route_parse_nodes(struct ah_metrics *m, struct route *r)
{
    const char *s = r->nexthop;
    char name[128];
    while (*s) {
        size_t n = strcspn(s, "+ =,");
        if (n > 0 && n < sizeof name) {
            memcpy(name, s, n);
            name[n] = '\0';
            bool addr = strchr(name, '.') || strchr(name, ':');
            if (!addr && strcmp(name, "none") != 0) {
                long id = strtab_id(&m->nodes, name, true);
                if (id < 0)
                    return (int)id;
                bool dup = false;
                for (size_t i = 0; i < r->nnodes; i++)
                    dup |= r->nodes[i] == (uint32_t)id;
                if (!dup) {
                    uint32_t *nn = realloc(r->nodes, (r->nnodes + 1) * sizeof *nn);
                    if (!nn)
                        return -ENOMEM;
                    r->nodes = nn;
                    r->nodes[r->nnodes++] = (uint32_t)id;
                }
            }
        }
        s += n;
        if (*s)
            s++;
    }
    return 0;
}

/* "router=eu nexthop=nyc" -> "eu". */
static char *detail_router(const char *detail)
{
    const char *p = detail ? strstr(detail, "router=") : NULL;
    if (!p)
        return strdup("");
    p += 7;
    return strndup(p, strcspn(p, " ,;"));
}

int ah_metrics_add_event(struct ah_metrics *m, const struct ah_metrics_event *e)
{
    if (m->sealed)
        return -EINVAL;
    const char *node = e->node ? e->node : "";
    enum ah_event_kind kind = ah_event_kind_of(e->event);
    if (kind == AH_EV_OBSERVATION)
        return 0;
    if (kind == AH_EV_ROUTE) {
        if (m->nrt == m->caprt) {
            size_t cap = m->caprt ? m->caprt * 2 : 16;
            struct route *r = realloc(m->rt, cap * sizeof *r);
            if (!r)
                return -ENOMEM;
            m->rt = r;
            m->caprt = cap;
        }
        struct route *r = &m->rt[m->nrt];
        memset(r, 0, sizeof *r);
        r->ts = e->ts_ns;
        r->order = m->nrt;
        r->router = detail_router(e->detail);
        const char *nh = node;
        const char *p = e->detail ? strstr(e->detail, "nexthop=") : NULL;
        if (!*nh && p)
            nh = p + 8;
        r->nexthop = strdup(nh);
        if (!r->router || !r->nexthop) {
            free(r->router);
            free(r->nexthop);
            return -ENOMEM;
        }
        m->nrt++;
        return route_parse_nodes(m, r);
    }
    if (m->nev == m->capev) {
        size_t cap = m->capev ? m->capev * 2 : 16;
        struct event *v = realloc(m->ev, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        m->ev = v;
        m->capev = cap;
    }
    struct event *v = &m->ev[m->nev];
    memset(v, 0, sizeof *v);
    v->ts = e->ts_ns;
    v->order = m->nev;
    v->event = strdup(e->event);
    v->node = strdup(node);
    if (!v->event || !v->node) {
        free(v->event);
        free(v->node);
        return -ENOMEM;
    }
    v->direct = m->cfg.direct_withdraw &&
                (strcmp(e->event, "withdraw") == 0 || strcmp(e->event, "announce") == 0);
    m->nev++;
    return 0;
}

static int event_cmp(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int route_cmp(const void *a, const void *b)
{
    const struct route *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void seal(struct ah_metrics *m)
{
    if (m->sealed)
        return;
    m->sealed = true;
    if (m->nev)
        qsort(m->ev, m->nev, sizeof *m->ev, event_cmp);
    if (m->nrt)
        qsort(m->rt, m->nrt, sizeof *m->rt, route_cmp);
    for (size_t i = 0; i < m->nev; i++) {
        unsigned occ = 1;
        for (size_t j = 0; j < i; j++)
            occ += strcmp(m->ev[j].event, m->ev[i].event) == 0 &&
                   strcmp(m->ev[j].node, m->ev[i].node) == 0;
        m->ev[i].occ = occ;
    }
}

/* First event index with ts > t (events sorted). */
static size_t event_after(const struct ah_metrics *m, uint64_t t)
{
    size_t lo = 0, hi = m->nev;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->ev[mid].ts <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint64_t window_end(const struct ah_metrics *m, size_t w)
{
    if (w == 0 || w >= m->nev)
        return m->end;
    return m->ev[w].ts; /* window w is event w-1, up to event w */
}

static uint64_t window_start(const struct ah_metrics *m, size_t w)
{
    return w == 0 ? m->start : m->ev[w - 1].ts;
}

static long group_get(struct ah_metrics *m, const char *vantage, enum ah_transport tr,
                      enum ah_service svc)
{
    if ((unsigned)tr >= AH_TR_COUNT || (unsigned)svc >= AH_SVC_COUNT)
        return -EINVAL;
    long vid = strtab_id(&m->vantages, vantage ? vantage : "", true);
    if (vid < 0)
        return vid;
    if ((size_t)vid >= m->ngidx) {
        size_t n = (size_t)vid + 16;
        long(*gi)[AH_TR_COUNT][AH_SVC_COUNT] = realloc(m->gidx, n * sizeof *gi);
        if (!gi)
            return -ENOMEM;
        for (size_t i = m->ngidx; i < n; i++)
            for (unsigned t = 0; t < AH_TR_COUNT; t++)
                for (unsigned s = 0; s < AH_SVC_COUNT; s++)
                    gi[i][t][s] = -1;
        m->gidx = gi;
        m->ngidx = n;
    }
    if (m->gidx[vid][tr][svc] >= 0)
        return m->gidx[vid][tr][svc];
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
    g->acc = calloc(m->nev + 1, sizeof *g->acc);
    if (!g->acc)
        return -ENOMEM;
    ah_flips_init(&g->flips);
    const char *vname = m->vantages.s[vid];
    for (size_t w = 0; w <= m->nev; w++) {
        struct acc *a = &g->acc[w];
        a->before = -1;
        a->route = -1;
        if (w == 0)
            continue;
        /* The run's end is not known yet: the last window is open-ended. */
        uint64_t t0 = window_start(m, w), t1 = w < m->nev ? m->ev[w].ts : UINT64_MAX;
        for (size_t r = 0; r < m->nrt; r++) {
            if (m->rt[r].ts >= t0 && m->rt[r].ts < t1 && strcmp(m->rt[r].router, vname) == 0) {
                a->route = (long)r;
                break;
            }
        }
    }
    m->gidx[vid][tr][svc] = (long)m->ng;
    return (long)m->ng++;
}

static void gap_add(struct group *g, uint64_t gap)
{
    if (gap == 0)
        return;
    unsigned lg = 63 - (unsigned)__builtin_clzll(gap);
    unsigned sub = lg >= 4 ? (unsigned)((gap >> (lg - 4)) & (GAP_SUB - 1))
                           : (unsigned)((gap << (4 - lg)) & (GAP_SUB - 1));
    g->gap_w[lg * GAP_SUB + sub] += gap;
    g->gap_w2[lg * GAP_SUB + sub] += (double)gap * (double)gap;
}

/* Time-weighted median gap in ns (0 when no gaps). */
static uint64_t gap_median(const struct group *g)
{
    long double total = 0, acc = 0;
    for (size_t i = 0; i < GAP_BUCKETS; i++)
        total += g->gap_w[i];
    if (total == 0)
        return 0;
    for (size_t i = 0; i < GAP_BUCKETS; i++) {
        acc += g->gap_w[i];
        if (acc * 2 >= total) {
            /* The time-weighted mean of the gaps in the median's bucket:
             * exact when the gaps there are all equal. */
            return (uint64_t)llround(g->gap_w2[i] / (double)g->gap_w[i]);
        }
    }
    return 0;
}

static void before_resolve(struct acc *a)
{
    if (!a->before_done) {
        a->before = counts_mode(&a->pre);
        a->before_done = true;
    }
}

static int acc_probe(struct ah_metrics *m, struct group *g, size_t w, uint64_t ts, bool ok,
                     long node, int flip)
{
    struct acc *a = &g->acc[w];
    before_resolve(a);
    a->probes++;
    if (!ok) {
        a->lost++;
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
    if (node >= 0) {
        if (counts_add(&a->win, (size_t)node) < 0)
            return -ENOMEM;
        a->tail[a->tailpos] = (uint32_t)node;
        a->tailpos = (a->tailpos + 1) % TAIL;
        if (a->ntail < TAIL)
            a->ntail++;
        if (!a->switched && node != a->before) {
            a->switched = true;
            a->switch_ts = ts;
        }
        if (a->route >= 0 && !a->gt_done) {
            const struct route *r = &m->rt[a->route];
            bool in = false, other = false;
            for (size_t i = 0; i < r->nnodes; i++) {
                in |= (long)r->nodes[i] == node;
                other |= (long)r->nodes[i] != a->before;
            }
            if (ts >= r->ts && in && (node != a->before || !other)) {
                a->gt_done = true;
                a->gt_ts = ts;
            }
        }
    }
    return 0;
}

int ah_metrics_add_probe(struct ah_metrics *m, const struct ah_metrics_probe *p)
{
    if (m->finished)
        return -EINVAL;
    seal(m);
    long gi = group_get(m, p->vantage, p->transport, p->service);
    if (gi < 0)
        return (int)gi;
    struct group *g = &m->g[gi];
    bool ok = p->result == AH_RES_OK;
    long node = -1;
    if (ok && p->node && p->node[0]) {
        node = strtab_id(&m->nodes, p->node, true);
        if (node < 0)
            return (int)node;
    }
    if (p->ts_ns < m->last_ts)
        m->late++;
    else
        m->last_ts = p->ts_ns;
    if (p->ts_ns < m->first_ts)
        m->first_ts = p->ts_ns;
    if (g->any && p->ts_ns >= g->last_ts)
        gap_add(g, p->ts_ns - g->last_ts);
    if (!g->any || p->ts_ns > g->last_ts)
        g->last_ts = p->ts_ns;
    g->any = true;

    int flip = 0;
    if (node >= 0) {
        flip = ah_flips_add(&g->flips, p->conn, (unsigned)node);
        if (flip < 0)
            return flip;
    }
    int rc = acc_probe(m, g, 0, p->ts_ns, ok, node, flip);
    if (rc < 0)
        return rc;
    size_t next = event_after(m, p->ts_ns);
    if (next > 0) {
        rc = acc_probe(m, g, next, p->ts_ns, ok, node, flip);
        if (rc < 0)
            return rc;
    }
    /* The second before each of the following events. */
    for (size_t e = next; ok && node >= 0 && e < m->nev && m->ev[e].ts - p->ts_ns <= NS_PER_S;
         e++) {
        struct acc *a = &g->acc[e + 1];
        if (a->before_done)
            continue; /* a late probe: the window already started */
        if (counts_add(&a->pre, (size_t)node) < 0)
            return -ENOMEM;
    }
    return 0;
}

int ah_metrics_add_conn(struct ah_metrics *m, const struct ah_metrics_conn *c)
{
    if (m->finished)
        return -EINVAL;
    seal(m);
    long gi = group_get(m, c->vantage, AH_TR_TCP, c->service);
    if (gi < 0)
        return (int)gi;
    struct group *g = &m->g[gi];
    if (g->nconns == g->capconns) {
        size_t cap = g->capconns ? g->capconns * 2 : 64;
        struct conn *n = realloc(g->conns, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        g->conns = n;
        g->capconns = cap;
    }
    struct conn *k = &g->conns[g->nconns++];
    k->opened = c->opened_ns;
    k->closed = c->closed_ns ? c->closed_ns : UINT64_MAX;
    k->reason = (uint8_t)c->reason;
    /* A refused, unreachable or timed-out attempt that never got an answer
     * was never a connection. */
    bool answered = (c->node && c->node[0]) || c->probes_ok > 0;
    k->established = answered || c->reason == AH_REASON_RESET || c->reason == AH_REASON_EOF ||
                     c->reason == AH_REASON_END;
    if (c->opened_ns && c->opened_ns < m->first_ts)
        m->first_ts = c->opened_ns;
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
    uint64_t t0 = window_start(m, w), t1 = window_end(m, w);
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
    seal(m);
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
            before_resolve(a);
            uint64_t t0 = window_start(m, w), t1 = window_end(m, w);
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
    long id = strtab_id((struct strtab *)&m->nodes, node, false);
    if (id < 0 || !r)
        return 0;
    size_t gi = r->index / (m->nev + 1), w = r->index % (m->nev + 1);
    if (gi >= m->ng)
        return 0;
    const struct counts *k = &m->g[gi].acc[w].win;
    return (size_t)id < k->n ? k->c[id] : 0;
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
