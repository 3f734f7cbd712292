/* Failover metrics per flow (docs/formats.md, "Metrics"): the node "before"
 * an event from each flow's last probe in the second before it, and the
 * flows an event moved although their node was not the event's
 * (flows_moved_collateral). Memory grows with the flows of a group, as for
 * the flips. */
#include "metrics_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"

static size_t key_hash(uint64_t k, size_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & mask;
}

/* Makes room for n answers in the scratch of metrics_last_mode(): a set of
 * flows of at least 2n slots (returned in *cap, a power of two) and a list
 * of n nodes. */
static int last_scratch(struct ah_metrics *m, size_t n, size_t *cap)
{
    size_t c = 16;
    while (c < 2 * n)
        c *= 2;
    if (c > m->captmpseen) {
        uint64_t *s = realloc(m->tmpseen, c * sizeof *s);
        if (!s)
            return -ENOMEM;
        m->tmpseen = s;
        m->captmpseen = c;
    }
    if (n > m->captmplast) {
        uint32_t *l = realloc(m->tmplast, n * sizeof *l);
        if (!l)
            return -ENOMEM;
        m->tmplast = l;
        m->captmplast = n;
    }
    memset(m->tmpseen, 0, c * sizeof *m->tmpseen);
    *cap = c;
    return 0;
}

long metrics_last_mode(struct ah_metrics *m, const struct recent *r, size_t i, size_t j)
{
    size_t cap, nl = 0;
    if (j <= i)
        return -1;
    if (last_scratch(m, j - i, &cap) < 0)
        return -ENOMEM - 1;
    m->tmpc.n = 0;
    /* Newest first: the first probe of a flow met is its last; a flow whose
     * last probe failed was not being answered and counts for nothing. */
    for (size_t k = j; k-- > i;) {
        uint64_t key = r[k].conn + 1;
        size_t h = key_hash(key, cap - 1);
        while (m->tmpseen[h] && m->tmpseen[h] != key)
            h = (h + 1) & (cap - 1);
        if (m->tmpseen[h])
            continue;
        m->tmpseen[h] = key;
        if (r[k].node == UINT32_MAX)
            continue;
        m->tmplast[nl++] = r[k].node;
        if (metrics_counts_add(&m->tmpc, r[k].node, +1) < 0)
            return -ENOMEM - 1;
    }
    long best = -1;
    uint32_t bc = 0;
    for (size_t k = 0; k < nl; k++) {
        uint32_t c = metrics_counts_get(&m->tmpc, m->tmplast[k]);
        if (c > bc) {
            bc = c;
            best = (long)m->tmplast[k];
        }
    }
    return best;
}

bool metrics_is_event_node(const struct ah_metrics *m, size_t w, long node)
{
    if (w == 0 || w > m->nev || node < 0 || (size_t)node >= m->nodes.n)
        return false;
    return strcmp(m->nodes.s[node], m->ev[w - 1].node) == 0;
}

static int flowtab_grow(struct flowtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    struct flow *nf = calloc(ncap, sizeof *nf);
    if (!nf)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->f[i].key)
            continue;
        size_t j = key_hash(t->f[i].key, ncap - 1);
        while (nf[j].key)
            j = (j + 1) & (ncap - 1);
        nf[j] = t->f[i];
    }
    free(t->f);
    t->f = nf;
    t->cap = ncap;
    return 0;
}

/* The state of flow conn, made (with no answer yet) when new. */
static struct flow *flow_get(struct flowtab *t, uint64_t conn)
{
    uint64_t key = conn + 1;
    if ((t->used + 1) * 4 > t->cap * 3 && flowtab_grow(t) < 0)
        return NULL;
    size_t j = key_hash(key, t->cap - 1);
    while (t->f[j].key && t->f[j].key != key)
        j = (j + 1) & (t->cap - 1);
    if (!t->f[j].key) {
        t->f[j] = (struct flow){.key = key, .last_node = -1, .wbefore = -1};
        t->used++;
    }
    return &t->f[j];
}

int metrics_flow_probe(struct ah_metrics *m, struct group *g, struct acc *a, size_t w, uint64_t ts,
                       uint64_t conn, long node)
{
    struct flow *f = flow_get(&g->flows, conn);
    if (!f)
        return -ENOMEM;
    /* A probe out of send order says nothing about what moved when. */
    if (ts < f->last_ts)
        return 0;
    if (w > 0 && f->w != w) {
        uint64_t et = m->ev[w - 1].ts;
        bool recent = f->last_node >= 0 && f->last_ts < et && f->last_ts + AH_NS_PER_S >= et;
        f->w = (uint32_t)w;
        f->wbefore = recent ? f->last_node : -1;
        f->moved = false;
    }
    /* A flow moved onto the event's node (an announce, a link-up) or off it
     * (a withdraw) moved because of the event's own node; one that moved
     * between two other nodes is collateral. */
    if (w > 0 && a && node >= 0 && !f->moved && f->wbefore >= 0 && node != f->wbefore) {
        f->moved = true;
        if (!metrics_is_event_node(m, w, f->wbefore) && !metrics_is_event_node(m, w, node))
            a->moved_coll++;
    }
    f->last_ts = ts;
    f->last_node = (int32_t)node;
    return 0;
}

void metrics_flowtab_free(struct flowtab *t)
{
    free(t->f);
    memset(t, 0, sizeof *t);
}
