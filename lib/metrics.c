/* Failover metrics of design §6, computed in one pass over time-ordered
 * probe records: each probe is counted in the run-level accumulator of its
 * (vantage, transport, service) group, in the window of the event it falls
 * after, and in the "second before" of the events that follow it within a
 * second. Connections are kept compactly and evaluated per window at the end
 * (lib/metrics_rows.c). No I/O: records in, rows out. */
#include "metrics_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
        strncmp(event, "health-", 7) == 0 || strncmp(event, "bgp", 3) == 0)
        return AH_EV_OBSERVATION;
    return AH_EV_DRILL;
}

/* ---- string interning (nodes, vantages) ---- */

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
long metrics_strtab_id(struct strtab *t, const char *s, bool add)
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

static int counts_add(struct counts *k, size_t id)
{
    for (size_t i = 0; i < k->n; i++) {
        if (k->id[i] == id) {
            k->c[i]++;
            return 0;
        }
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 4;
        uint32_t *ids = realloc(k->id, cap * sizeof *ids);
        if (!ids)
            return -ENOMEM;
        k->id = ids;
        uint32_t *c = realloc(k->c, cap * sizeof *c);
        if (!c)
            return -ENOMEM;
        k->c = c;
        k->cap = cap;
    }
    k->id[k->n] = (uint32_t)id;
    k->c[k->n++] = 1;
    return 0;
}

uint32_t metrics_counts_get(const struct counts *k, size_t id)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->id[i] == id)
            return k->c[i];
    return 0;
}

/* Most counted id, or -1 when empty (ties: the lowest id). */
static long counts_mode(const struct counts *k)
{
    long best = -1;
    uint32_t bc = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (k->c[i] > bc || (k->c[i] == bc && best >= 0 && k->id[i] < (uint32_t)best)) {
            best = (long)k->id[i];
            bc = k->c[i];
        }
    }
    return best;
}

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
            free(g->acc[w].pre.id);
            free(g->acc[w].win.c);
            free(g->acc[w].win.id);
        }
        free(g->acc);
        ah_flips_free(&g->flips);
        free(g->conns);
        for (size_t k = 0; k < GAP_POW2; k++)
            free(g->gap[k]);
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
                long id = metrics_strtab_id(&m->nodes, name, true);
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

void metrics_seal(struct ah_metrics *m)
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

uint64_t metrics_window_start(const struct ah_metrics *m, size_t w)
{
    return w == 0 ? m->start : m->ev[w - 1].ts;
}

static long group_get(struct ah_metrics *m, const char *vantage, enum ah_transport tr,
                      enum ah_service svc)
{
    if ((unsigned)tr >= AH_TR_COUNT || (unsigned)svc >= AH_SVC_COUNT)
        return -EINVAL;
    long vid = metrics_strtab_id(&m->vantages, vantage ? vantage : "", true);
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
        uint64_t t0 = metrics_window_start(m, w), t1 = w < m->nev ? m->ev[w].ts : UINT64_MAX;
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

static int gap_add(struct group *g, uint64_t gap)
{
    if (gap == 0)
        return 0;
    unsigned lg = 63 - (unsigned)__builtin_clzll(gap);
    unsigned sub = lg >= 4 ? (unsigned)((gap >> (lg - 4)) & (GAP_SUB - 1))
                           : (unsigned)((gap << (4 - lg)) & (GAP_SUB - 1));
    if (!g->gap[lg] && !(g->gap[lg] = calloc(1, sizeof *g->gap[lg])))
        return -ENOMEM;
    g->gap[lg]->w[sub] += gap;
    g->gap[lg]->w2[sub] += (double)gap * (double)gap;
    return 0;
}

void metrics_before_resolve(struct acc *a)
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
    metrics_before_resolve(a);
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
    metrics_seal(m);
    long gi = group_get(m, p->vantage, p->transport, p->service);
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
    metrics_seal(m);
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
