/* Probe statistics: result words, errno classification, the RTT histogram,
 * node counts and per-flow flips. Pure code on records, no I/O, so the
 * summary of a run can be tested without sockets. */
#include "ah/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libuv's UV_EOF is -4095 on every platform; it is not an errno. */
#define UV_EOF_VALUE 4095

enum ah_result ah_result_from_errno(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case 0:
        return AH_RES_OK;
    case ECONNRESET:
    case EPIPE:
        return AH_RES_RESET;
    case ETIMEDOUT:
        return AH_RES_TIMEOUT;
    case ECONNREFUSED:
        return AH_RES_REFUSED;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENONET:
        return AH_RES_UNREACHABLE;
    case UV_EOF_VALUE:
        return AH_RES_EOF;
    default:
        return AH_RES_ERROR;
    }
}

enum ah_reason ah_reason_from_result(enum ah_result r)
{
    switch (r) {
    case AH_RES_OK:
        return AH_REASON_END;
    case AH_RES_TIMEOUT:
        return AH_REASON_TIMEOUT;
    case AH_RES_RESET:
        return AH_REASON_RESET;
    case AH_RES_REFUSED:
        return AH_REASON_REFUSED;
    case AH_RES_UNREACHABLE:
        return AH_REASON_UNREACHABLE;
    case AH_RES_EOF:
        return AH_REASON_EOF;
    default:
        return AH_REASON_ERROR;
    }
}

const char *ah_errno_name(int err)
{
    /* Thread-local so concurrent callers never share the fallback text. */
    static _Thread_local char buf[16];
    const char *n;

    if (err < 0)
        err = -err;
    if (err == UV_EOF_VALUE)
        return "EOF";
    n = strerrorname_np(err);
    if (n != NULL)
        return n;
    snprintf(buf, sizeof(buf), "E%d", err);
    return buf;
}

/* ---- RTT histogram ---- */

void ah_hist_init(struct ah_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned ah_hist_bucket_of(uint64_t ns)
{
    unsigned e, sub;

    if (ns < 128)
        return (unsigned)ns;
    e = 63u - (unsigned)__builtin_clzll(ns);
    sub = (unsigned)(ns >> (e - 6)) & (AH_HIST_SUB - 1);
    return 128u + (e - 7u) * AH_HIST_SUB + sub;
}

uint64_t ah_hist_bucket_low(unsigned b)
{
    unsigned e, sub;

    if (b < 128)
        return b;
    e = (b - 128u) / AH_HIST_SUB + 7u;
    sub = (b - 128u) % AH_HIST_SUB;
    return (uint64_t)(AH_HIST_SUB + sub) << (e - 6);
}

static uint64_t bucket_width(unsigned b)
{
    return b < 128 ? 1 : (uint64_t)1 << ((b - 128u) / AH_HIST_SUB + 1u);
}

void ah_hist_add(struct ah_hist *h, uint64_t ns)
{
    h->count++;
    h->sum += ns;
    if (ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
    h->bucket[ah_hist_bucket_of(ns)]++;
}

void ah_hist_merge(struct ah_hist *a, const struct ah_hist *b)
{
    if (b->count == 0)
        return;
    a->count += b->count;
    a->sum += b->sum;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
    for (unsigned i = 0; i < AH_HIST_BUCKETS; i++)
        a->bucket[i] += b->bucket[i];
}

uint64_t ah_hist_percentile(const struct ah_hist *h, double p)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    if (p >= 100.0)
        return h->max;
    if (p <= 0.0)
        return h->min;
    rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    for (unsigned b = 0; b < AH_HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= rank) {
            uint64_t v = ah_hist_bucket_low(b) + bucket_width(b) / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

/* ---- node identities ---- */

void ah_nodes_init(struct ah_nodes *ns)
{
    memset(ns, 0, sizeof(*ns));
}

unsigned ah_nodes_index(struct ah_nodes *ns, const char *name)
{
    char cut[AH_NODE_NAME_MAX];
    unsigned i;

    snprintf(cut, sizeof(cut), "%s", name);
    for (i = 0; i < ns->n; i++) {
        if (strcmp(ns->name[i], cut) == 0)
            return i;
    }
    /* The last slot is kept for "(other)" once the table is full. */
    if (ns->n < AH_NODES_MAX - 1) {
        memcpy(ns->name[ns->n], cut, sizeof(cut));
        return ns->n++;
    }
    if (ns->n == AH_NODES_MAX - 1) {
        snprintf(ns->name[ns->n], AH_NODE_NAME_MAX, "(other)");
        ns->n++;
    }
    return AH_NODES_MAX - 1;
}

unsigned ah_nodes_add(struct ah_nodes *ns, const char *name)
{
    unsigned i = ah_nodes_index(ns, name);
    ns->count[i]++;
    return i;
}

/* ---- flips per flow ---- */

void ah_flips_init(struct ah_flips *f)
{
    memset(f, 0, sizeof(*f));
}

void ah_flips_free(struct ah_flips *f)
{
    free(f->key);
    free(f->node);
    memset(f, 0, sizeof(*f));
}

static size_t flow_hash(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static int flips_grow(struct ah_flips *f)
{
    size_t ncap = f->cap ? f->cap * 2 : 64;
    uint64_t *nkey = calloc(ncap, sizeof(*nkey));
    uint16_t *nnode = calloc(ncap, sizeof(*nnode));

    if (nkey == NULL || nnode == NULL) {
        free(nkey);
        free(nnode);
        return -ENOMEM;
    }
    for (size_t i = 0; i < f->cap; i++) {
        if (f->key[i] == 0)
            continue;
        size_t j = flow_hash(f->key[i], ncap);
        while (nkey[j] != 0)
            j = (j + 1) & (ncap - 1);
        nkey[j] = f->key[i];
        nnode[j] = f->node[i];
    }
    free(f->key);
    free(f->node);
    f->key = nkey;
    f->node = nnode;
    f->cap = ncap;
    return 0;
}

int ah_flips_add(struct ah_flips *f, uint64_t flow, unsigned node)
{
    uint64_t k = flow + 1; /* 0 marks an empty slot */
    size_t j;

    if ((f->used + 1) * 4 > f->cap * 3) {
        int rc = flips_grow(f);
        if (rc < 0)
            return rc;
    }
    j = flow_hash(k, f->cap);
    while (f->key[j] != 0 && f->key[j] != k)
        j = (j + 1) & (f->cap - 1);
    if (f->key[j] == 0) {
        f->key[j] = k;
        f->node[j] = (uint16_t)node;
        f->used++;
        return 0;
    }
    if (f->node[j] == node)
        return 0;
    f->node[j] = (uint16_t)node;
    f->flips++;
    return 1;
}

/* ---- one (transport, service) group ---- */

void ah_group_stats_init(struct ah_group_stats *g)
{
    memset(g, 0, sizeof(*g));
    ah_hist_init(&g->rtt);
    ah_nodes_init(&g->nodes);
    ah_flips_init(&g->flips);
}

void ah_group_stats_free(struct ah_group_stats *g)
{
    ah_flips_free(&g->flips);
}

int ah_group_stats_add(struct ah_group_stats *g, enum ah_result r, const char *node, uint64_t flow,
                       uint64_t rtt_ns)
{
    g->probes++;
    g->result[(unsigned)r < AH_RES_COUNT ? r : AH_RES_ERROR]++;
    if (r != AH_RES_OK)
        return 0;
    ah_hist_add(&g->rtt, rtt_ns);
    if (node == NULL || node[0] == '\0')
        return 0;
    unsigned i = ah_nodes_add(&g->nodes, node);
    int rc = ah_flips_add(&g->flips, flow, i);
    return rc < 0 ? rc : 0;
}

uint64_t ah_group_stats_lost(const struct ah_group_stats *g)
{
    return g->probes - g->result[AH_RES_OK];
}
