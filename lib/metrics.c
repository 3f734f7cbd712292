/* Failover metrics of docs/formats.md, records in: the names, the events and
 * route changes (sorted, occurrences numbered, route changes indexed by
 * router when the first probe closes the list). Probes and connections are
 * taken in lib/metrics_acc.c, rows made in lib/metrics_rows.c. No I/O. */
#include "metrics_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"

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

/* Adds d (+1 or -1) to the count of id; an entry that falls to 0 is
 * removed (the mode never depends on the order of the pairs). */
int metrics_counts_add(struct counts *k, size_t id, int d)
{
    for (uint32_t i = 0; i < k->n; i++) {
        if (k->kv[i].id == id) {
            if (d < 0 && k->kv[i].c <= 1)
                k->kv[i] = k->kv[--k->n];
            else
                k->kv[i].c += (uint32_t)d;
            return 0;
        }
    }
    if (d < 0)
        return 0;
    if (k->n == k->cap) {
        uint32_t cap = k->cap ? 2 * k->cap : 2;
        struct kv *kv = realloc(k->kv, cap * sizeof *kv);
        if (!kv)
            return -ENOMEM;
        k->kv = kv;
        k->cap = cap;
    }
    k->kv[k->n++] = (struct kv){(uint32_t)id, 1};
    return 0;
}

uint32_t metrics_counts_get(const struct counts *k, size_t id)
{
    for (uint32_t i = 0; i < k->n; i++)
        if (k->kv[i].id == id)
            return k->kv[i].c;
    return 0;
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

int ah_metrics_set_clock(struct ah_metrics *m, const char *vantage, uint64_t uncertainty_ns)
{
    if (m->finished)
        return -EINVAL;
    long id = metrics_strtab_id(&m->vantages, vantage, true);
    if (id < 0)
        return (int)id;
    if ((size_t)id >= m->nclock) {
        size_t n = (size_t)id + 16;
        uint64_t *u = realloc(m->clock_unc, n * sizeof *u);
        if (!u)
            return -ENOMEM;
        memset(u + m->nclock, 0, (n - m->nclock) * sizeof *u);
        m->clock_unc = u;
        m->nclock = n;
    }
    m->clock_unc[id] = uncertainty_ns;
    return 0;
}

void ah_metrics_free(struct ah_metrics *m)
{
    if (!m)
        return;
    free(m->clock_unc);
    for (size_t i = 0; i < m->nev; i++) {
        free(m->ev[i].event);
        free(m->ev[i].node);
    }
    for (size_t i = 0; i < m->nnhn; i++)
        free(m->nhn[i].id);
    for (size_t i = 0; i < m->ng; i++) {
        struct group *g = &m->g[i];
        ah_flips_free(&g->flips);
        free(g->conns);
        free(g->byclose);
        free(g->recent);
        metrics_flowtab_free(&g->flows);
        free(g->bp);
        free(g->gap);
    }
    for (size_t i = 0; i < m->nacc; i++) {
        free(m->acc[i].win.kv);
        free(m->acc[i].rtt.blk);
    }
    free(m->acc);
    free(m->tmpc.kv);
    free(m->tmpseen);
    free(m->tmplast);
    free(m->tmprtt);
    free(m->accslot);
    free(m->g);
    free(m->gidx);
    free(m->ev);
    free(m->rt);
    free(m->nhn);
    free(m->rt_by_router);
    free(m->router_start);
    free(m->order);
    free(m->cache);
    free(m->cache_idx);
    free(m->scratch_brk);
    free(m->scratch_dl);
    strtab_free(&m->nodes);
    strtab_free(&m->vantages);
    strtab_free(&m->routers);
    strtab_free(&m->nexthops);
    free(m);
}

/* Node names of a nexthop's text: "nyc", "n2+n3", "none", or
 * "addr=list addr=list" when the addresses disagree. */
static int nexthop_parse_nodes(struct ah_metrics *m, const char *s, struct nh_nodes *out)
{
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
                for (size_t i = 0; i < out->n; i++)
                    dup |= out->id[i] == (uint32_t)id;
                if (!dup) {
                    uint32_t *nn = realloc(out->id, (out->n + 1) * sizeof *nn);
                    if (!nn)
                        return -ENOMEM;
                    out->id = nn;
                    out->id[out->n++] = (uint32_t)id;
                }
            }
        }
        s += n;
        if (*s)
            s++;
    }
    return 0;
}

/* The id of a nexthop text, its nodes parsed when it is new. */
static long nexthop_id(struct ah_metrics *m, const char *nh)
{
    size_t before = m->nexthops.n;
    long id = metrics_strtab_id(&m->nexthops, nh, true);
    if (id < 0 || m->nexthops.n == before)
        return id;
    if (m->nexthops.n > m->capnhn) {
        size_t cap = m->capnhn ? 2 * m->capnhn : 16;
        struct nh_nodes *n = realloc(m->nhn, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        m->nhn = n;
        m->capnhn = cap;
    }
    m->nhn[id] = (struct nh_nodes){0};
    m->nnhn = (size_t)id + 1;
    int rc = nexthop_parse_nodes(m, nh, &m->nhn[id]);
    return rc < 0 ? rc : id;
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

static int add_route(struct ah_metrics *m, const struct ah_metrics_event *e, const char *node)
{
    if (m->nrt >= AH_METRICS_MAX_ROUTES)
        return -ENOSPC;
    if (m->nrt == m->caprt) {
        size_t cap = m->caprt ? m->caprt * 2 : 16;
        struct route *r = realloc(m->rt, cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        m->rt = r;
        m->caprt = cap;
    }
    const char *nh = node;
    const char *p = e->detail ? strstr(e->detail, "nexthop=") : NULL;
    if (!*nh && p)
        nh = p + 8;
    char *router = detail_router(e->detail);
    if (!router)
        return -ENOMEM;
    long rid = metrics_strtab_id(&m->routers, router, true);
    free(router);
    if (rid < 0)
        return (int)rid;
    long nid = nexthop_id(m, nh);
    if (nid < 0)
        return (int)nid;
    m->rt[m->nrt] = (struct route){e->ts_ns, (uint32_t)rid, (uint32_t)nid, (uint32_t)m->nrt};
    m->nrt++;
    return 0;
}

int ah_metrics_add_event(struct ah_metrics *m, const struct ah_metrics_event *e)
{
    if (m->sealed)
        return -EINVAL;
    const char *node = e->node ? e->node : "";
    enum ah_event_kind kind = ah_event_kind_of(e->event);
    if (kind == AH_EV_OBSERVATION)
        return 0;
    /* A router's route at the drill's start is its starting point, not a
     * change: it gives no detect_ms, route_ms or gt_answer_ms. */
    if (kind == AH_EV_ROUTE)
        return ah_route_is_initial(e->detail) ? 0 : add_route(m, e, node);
    if (m->nev >= AH_METRICS_MAX_WINDOWS)
        return -ENOSPC;
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
    enum ah_verb verb;
    v->direct = m->cfg.direct_withdraw && ah_schema_verb_parse(e->event, &verb) == 0 &&
                (verb == AH_VERB_WITHDRAW || verb == AH_VERB_ANNOUNCE);
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

/* Events by word and node, then time order (their place in the sorted
 * array): the occurrences are then runs. */
static int occ_cmp(const void *a, const void *b)
{
    const struct event *x = *(const struct event *const *)a, *y = *(const struct event *const *)b;
    int c = strcmp(x->event, y->event);
    if (!c)
        c = strcmp(x->node, y->node);
    if (!c)
        c = x < y ? -1 : x > y;
    return c;
}

static int number_occurrences(struct ah_metrics *m)
{
    struct event **p = malloc((m->nev + 1) * sizeof *p);
    if (!p)
        return -ENOMEM;
    for (size_t i = 0; i < m->nev; i++)
        p[i] = &m->ev[i];
    qsort(p, m->nev, sizeof *p, occ_cmp);
    for (size_t i = 0; i < m->nev; i++) {
        bool same = i > 0 && strcmp(p[i]->event, p[i - 1]->event) == 0 &&
                    strcmp(p[i]->node, p[i - 1]->node) == 0;
        p[i]->occ = same ? p[i - 1]->occ + 1 : 1;
    }
    free(p);
    return 0;
}

/* The routes of each router, in time order (a counting sort of the sorted
 * routes by router). */
static int index_routes(struct ah_metrics *m)
{
    size_t nr = m->routers.n;
    m->router_start = calloc(nr + 2, sizeof *m->router_start);
    m->rt_by_router = malloc((m->nrt + 1) * sizeof *m->rt_by_router);
    if (!m->router_start || !m->rt_by_router)
        return -ENOMEM;
    for (size_t i = 0; i < m->nrt; i++)
        m->router_start[m->rt[i].router + 2]++;
    for (size_t r = 2; r < nr + 2; r++)
        m->router_start[r] += m->router_start[r - 1];
    /* router_start[r + 1] now is where router r's entries go. */
    for (size_t i = 0; i < m->nrt; i++)
        m->rt_by_router[m->router_start[m->rt[i].router + 1]++] = (uint32_t)i;
    return 0;
}

int metrics_seal(struct ah_metrics *m)
{
    if (m->sealed)
        return 0;
    m->sealed = true;
    if (m->nev)
        qsort(m->ev, m->nev, sizeof *m->ev, event_cmp);
    if (m->nrt)
        qsort(m->rt, m->nrt, sizeof *m->rt, route_cmp);
    int rc = number_occurrences(m);
    return rc < 0 ? rc : index_routes(m);
}

size_t metrics_event_after(const struct ah_metrics *m, uint64_t t)
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

long metrics_route_in(const struct ah_metrics *m, const struct group *g, size_t w, uint64_t t1)
{
    if (g->router < 0 || w == 0 || !m->router_start)
        return -1;
    uint64_t t0 = m->ev[w - 1].ts;
    size_t lo = m->router_start[g->router], hi = m->router_start[g->router + 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->rt[m->rt_by_router[mid]].ts < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == m->router_start[g->router + 1])
        return -1;
    uint32_t r = m->rt_by_router[lo];
    return m->rt[r].ts < t1 ? (long)r : -1;
}
