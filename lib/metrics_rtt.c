/* The RTT figures of a summary row (docs/formats.md, "Metrics"): a sparse
 * log-scale histogram per window, so a window's memory grows with the powers
 * of two its RTTs span, never with its number of probes. */
#include "metrics_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

long metrics_log_slot(void **blocks, uint64_t *mask, uint64_t v, size_t size, unsigned *sub)
{
    unsigned lg = 63 - (unsigned)__builtin_clzll(v);
    *sub = lg >= 4 ? (unsigned)((v >> (lg - 4)) & (LOG_SUB - 1))
                   : (unsigned)((v << (4 - lg)) & (LOG_SUB - 1));
    uint64_t bit = 1ULL << lg;
    size_t k = (size_t)__builtin_popcountll(*mask & (bit - 1));
    if (!(*mask & bit)) {
        size_t n = (size_t)__builtin_popcountll(*mask);
        char *b = realloc(*blocks, (n + 1) * size);
        if (!b)
            return -ENOMEM;
        memmove(b + (k + 1) * size, b + k * size, (n - k) * size);
        memset(b + k * size, 0, size);
        *blocks = b;
        *mask |= bit;
    }
    return (long)k;
}

int metrics_rtt_add(struct rtt_hist *h, uint64_t us)
{
    if (h->n == 0 || us < h->min)
        h->min = us;
    if (h->n == 0 || us > h->max)
        h->max = us;
    h->n++;
    if (us == 0) {
        h->zero++;
        return 0;
    }
    unsigned sub;
    void *blocks = h->blk;
    long k = metrics_log_slot(&blocks, &h->mask, us, sizeof *h->blk, &sub);
    h->blk = blocks;
    if (k < 0) {
        h->n--;
        return -ENOMEM;
    }
    h->blk[k][sub]++;
    return 0;
}

double metrics_rtt_ms(const struct rtt_hist *h, double p)
{
    if (h->n == 0)
        return NAN;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    if (rank >= h->n)
        return (double)h->max / 1000.0;
    uint64_t seen = h->zero;
    if (rank <= seen)
        return 0;
    size_t k = 0;
    for (unsigned lg = 0; lg < 64; lg++) {
        if (!(h->mask & (1ULL << lg)))
            continue;
        for (unsigned sub = 0; sub < RTT_SUB; sub++) {
            seen += h->blk[k][sub];
            if (seen < rank)
                continue;
            /* Below 16 us a bucket holds one value; above, its middle. */
            double pow2 = (double)(1ULL << lg);
            double v = pow2 + pow2 * sub / RTT_SUB;
            if (lg >= 4)
                v += pow2 / RTT_SUB / 2;
            if (v < (double)h->min)
                v = (double)h->min;
            if (v > (double)h->max)
                v = (double)h->max;
            return v / 1000.0;
        }
        k++;
    }
    return (double)h->max / 1000.0;
}
