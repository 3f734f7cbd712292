/* RTT in the report's plots: per vantage x transport (the timeline's rows),
 * the median and 99th percentile of the ok probes' rtt_us over time, and
 * their distribution over the run (a CDF). Memory is bounded per row: a
 * log-scale histogram per coarse time bucket (RTT_SUB bins per power of
 * two) and a finer one for the whole run (CDF_SUB), never the RTTs
 * themselves; a percentile read back is within half a bin (±12 % over time,
 * ±3.2 % in the CDF) of the exact one (docs/report.md, "RTT"). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define RTT_OCT   27 /* powers of two of µs: up to 2^27 µs, 134 s; longer RTTs in the last */
#define RTT_SUB   4
#define CDF_SUB   16
#define RTT_BINS  (1 + RTT_OCT * RTT_SUB)
#define CDF_BINS  (1 + RTT_OCT * CDF_SUB)
#define RTT_EVERY (RP_BUCKETS / RP_RTT_BUCKETS) /* timeline buckets per RTT bucket */

struct rp_rtt {
    uint32_t t[RP_RTT_BUCKETS][RTT_BINS];
    uint32_t cdf[CDF_BINS];
    uint64_t n;
};

/* The bin of v µs with sub bins per power of two: 0 for 0, then by powers
 * of two and their subdivisions. */
static size_t bin_of(uint64_t v, unsigned sub)
{
    if (v == 0)
        return 0;
    unsigned lg = 63 - (unsigned)__builtin_clzll(v), k = (unsigned)__builtin_ctz(sub);
    uint64_t s = lg >= k ? (v >> (lg - k)) & (sub - 1) : (v << (k - lg)) & (sub - 1);
    if (lg >= RTT_OCT)
        return (size_t)RTT_OCT * sub;
    return 1 + (size_t)lg * sub + (size_t)s;
}

/* The value of bin i in ms: the geometric middle of its range. */
static double bin_ms(size_t i, unsigned sub)
{
    if (i == 0)
        return 0;
    size_t lg = (i - 1) / sub, s = (i - 1) % sub;
    double lo = ldexp(1.0 + (double)s / sub, (int)lg),
           hi = ldexp(1.0 + (double)(s + 1) / sub, (int)lg);
    return sqrt(lo * hi) / 1000.0;
}

/* The upper edge of bin i in ms. */
static double bin_top_ms(size_t i, unsigned sub)
{
    if (i == 0)
        return 0.0005;
    size_t lg = (i - 1) / sub, s = (i - 1) % sub;
    return ldexp(1.0 + (double)(s + 1) / sub, (int)lg) / 1000.0;
}

/* Nearest-rank percentile p (0..100) of a histogram of n values. */
static double hist_pct(const uint32_t *h, size_t nb, unsigned sub, uint64_t n, double p)
{
    if (n == 0)
        return NAN;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)n), cum = 0;
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < nb; i++) {
        cum += h[i];
        if (cum >= rank)
            return bin_ms(i, sub);
    }
    return bin_ms(nb - 1, sub);
}

double rp_rtt_percentile(const uint64_t *v, size_t n, double p)
{
    uint32_t h[CDF_BINS] = {0};
    for (size_t i = 0; i < n; i++)
        h[bin_of(v[i], CDF_SUB)]++;
    return hist_pct(h, CDF_BINS, CDF_SUB, n, p);
}

int rp_rtt_add(struct rp_strip *st, size_t b, const struct rp_probe *p)
{
    if (p->res != AH_RES_OK || !p->has_rtt)
        return 0;
    if (!st->rtt && !(st->rtt = calloc(1, sizeof *st->rtt)))
        return -ENOMEM;
    struct rp_rtt *r = st->rtt;
    uint32_t *t = &r->t[b / RTT_EVERY][bin_of(p->rtt_us, RTT_SUB)];
    uint32_t *c = &r->cdf[bin_of(p->rtt_us, CDF_SUB)];
    if (*t < UINT32_MAX)
        (*t)++;
    if (*c < UINT32_MAX) {
        (*c)++;
        r->n++;
    }
    return 0;
}

void rp_rtt_rescale(struct rp_strip *st)
{
    if (!st->rtt)
        return;
    for (size_t b = 0; b < RP_RTT_BUCKETS; b++)
        for (size_t i = 0; i < RTT_BINS; i++) {
            size_t a = 2 * b, c = a + 1;
            uint64_t x = (a < RP_RTT_BUCKETS ? st->rtt->t[a][i] : 0) +
                         (c < RP_RTT_BUCKETS ? st->rtt->t[c][i] : 0);
            st->rtt->t[b][i] = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
        }
}

/* The label of a row, with the scale of its band. */
static void rtt_row_label(const struct rp *rp, FILE *d, double y, const struct rp_strip *st,
                          const char *scale)
{
    char v[RP_PLOT_LABEL_CAP], what[32];
    if (st->vantage)
        rp_plot_label(v, sizeof v, st->vantage);
    else
        snprintf(v, sizeof v, "others (%zu vantages)", rp->vantages_others);
    fprintf(d, "%.2f\t%s %s%s\n", y, v, rp_strip_what(rp, st, what, sizeof what), scale);
}

/* p50 and p99 per RTT bucket of strip s, in its band scaled to its
 * largest p99; a blank line where a bucket has none, so the line breaks. */
static void rtt_strip(const struct rp *rp, size_t s, FILE *d, FILE *r)
{
    const struct rp_strip *st = rp->strips[s];
    double y = (double)(rp->nstrips - 1 - s), top = 0, p50[RP_RTT_BUCKETS], p99[RP_RTT_BUCKETS];
    for (size_t b = 0; b < RP_RTT_BUCKETS; b++) {
        uint64_t n = 0;
        for (size_t i = 0; st->rtt && i < RTT_BINS; i++)
            n += st->rtt->t[b][i];
        p50[b] = n ? hist_pct(st->rtt->t[b], RTT_BINS, RTT_SUB, n, 50) : NAN;
        p99[b] = n ? hist_pct(st->rtt->t[b], RTT_BINS, RTT_SUB, n, 99) : NAN;
        if (n && p99[b] > top)
            top = p99[b];
    }
    char scale[64] = " (no RTT)";
    if (st->rtt && st->rtt->n)
        snprintf(scale, sizeof scale, " (0-%.3g ms)", top);
    rtt_row_label(rp, r, y, st, scale);
    if (top <= 0)
        top = 1;
    for (size_t b = 0; b < RP_RTT_BUCKETS; b++) {
        if (isnan(p50[b])) {
            fprintf(d, "\n");
            continue;
        }
        double x = rp_plot_sec(rp, rp->b0 + (b * RTT_EVERY * 2 + RTT_EVERY) * rp->bw / 2);
        fprintf(d, "%.6f\t%.4f\t%.4f\n", x, y - 0.4 + 0.8 * p50[b] / top,
                y - 0.4 + 0.8 * p99[b] / top);
    }
    fprintf(d, "\n\n");
}

static int rtt_time_script(struct rp *rp, FILE *g, FILE *cmd)
{
    FILE *d = rp_plot_dat_open(rp, "rtt.dat"), *r = rp_plot_dat_open(rp, "rttrows.tsv");
    int rc = d && r ? 0 : -errno;
    for (size_t s = 0; rc == 0 && s < rp->nstrips; s++)
        rtt_strip(rp, s, d, r);
    int rc2 = d ? rp_plot_dat_close(d) : 0, rc3 = r ? rp_plot_dat_close(r) : 0;
    if (rc == 0)
        rc = rc2 ? rc2 : rc3;
    int kinds = rc == 0 ? rp_plot_rows_head(rp, g, "rtevents.tsv", rp->nstrips) : 0;
    if (rc < 0 || kinds < 0)
        return rc < 0 ? rc : kinds;
    fprintf(g,
            "set xlabel 'seconds since the start of the run: RTT of the ok probes per %.3g s, "
            "each row scaled from 0 to the largest p99 in its label'\n",
            (double)rp->bw * RTT_EVERY / 1e9);
    fprintf(cmd, "plot 'rtt.dat' using 1:3 with lines lw 1 lc rgb '#999999' title 'p99', "
                 "'rtt.dat' using 1:2 with lines lw 1.5 lc rgb '#000000' title 'p50', "
                 "'rttrows.tsv' using (NaN):1:ytic(2) notitle");
    rp_plot_event_clauses(cmd, "rtevents.tsv", kinds);
    fprintf(cmd, "\n");
    return 170 + 45 * (int)rp->nstrips;
}

/* The CDF of strip s in its band: a step at the top of each bin. */
static void cdf_strip(const struct rp *rp, size_t s, FILE *d, FILE *m, FILE *r)
{
    const struct rp_strip *st = rp->strips[s];
    double y = (double)(rp->nstrips - 1 - s);
    char scale[64] = " (no RTT)";
    if (st->rtt && st->rtt->n)
        snprintf(scale, sizeof scale, " (p50 %.3g ms)",
                 hist_pct(st->rtt->cdf, CDF_BINS, CDF_SUB, st->rtt->n, 50));
    rtt_row_label(rp, r, y, st, scale);
    if (!st->rtt || !st->rtt->n)
        return;
    uint64_t cum = 0;
    bool started = false;
    for (size_t i = 0; i < CDF_BINS; i++) {
        if (!st->rtt->cdf[i])
            continue;
        if (!started)
            fprintf(d, "%.6f\t%.4f\n", i ? bin_top_ms(i - 1, CDF_SUB) : 0.0004, y - 0.4);
        started = true;
        cum += st->rtt->cdf[i];
        fprintf(d, "%.6f\t%.4f\n", bin_top_ms(i, CDF_SUB),
                y - 0.4 + 0.8 * (double)cum / (double)st->rtt->n);
    }
    fprintf(d, "\n\n");
    fprintf(m, "%.6f\t%.4f\n", hist_pct(st->rtt->cdf, CDF_BINS, CDF_SUB, st->rtt->n, 50), y);
}

static int rtt_cdf_script(struct rp *rp, FILE *g, FILE *cmd)
{
    FILE *d = rp_plot_dat_open(rp, "cdf.dat"), *m = rp_plot_dat_open(rp, "cdfmed.dat");
    FILE *r = rp_plot_dat_open(rp, "cdfrows.tsv");
    int rc = d && m && r ? 0 : -errno;
    for (size_t s = 0; rc == 0 && s < rp->nstrips; s++)
        cdf_strip(rp, s, d, m, r);
    int rc2 = d ? rp_plot_dat_close(d) : 0, rc3 = m ? rp_plot_dat_close(m) : 0;
    int rc4 = r ? rp_plot_dat_close(r) : 0;
    if (rc == 0)
        rc = rc2 ? rc2 : rc3 ? rc3 : rc4;
    if (rc < 0)
        return rc;
    rp_plot_common(g);
    fprintf(g, "set logscale x\nset grid x lc rgb '#eeeeee'\nset yrange [-0.6:%.2f]\n",
            (double)rp->nstrips - 0.4);
    fprintf(g, "set xlabel 'RTT in ms (log scale): the share of the ok probes of each row at or "
               "below it, from 0 (bottom of the row) to all (top)'\n");
    fprintf(cmd, "plot 'cdf.dat' using 1:2 with steps lw 1.5 lc rgb '#000000' title 'CDF', "
                 "'cdfmed.dat' using 1:2 with points pt 7 ps 0.6 lc rgb '#000000' title "
                 "'median', 'cdfrows.tsv' using (NaN):1:ytic(2) notitle\n");
    return 170 + 45 * (int)rp->nstrips;
}

int rp_rtt_plots(struct rp *rp, FILE *g)
{
    bool any = false;
    for (size_t s = 0; s < rp->nstrips; s++)
        any = any || (rp->strips[s]->rtt && rp->strips[s]->rtt->n);
    if (!any)
        return 0;
    int rc = rp_plot_one(rp, g, "rtt", rtt_time_script);
    if (rc < 0)
        return rc;
    rc = rp_plot_one(rp, g, "rtt-cdf", rtt_cdf_script);
    rp->have_rtt = rc > 0;
    return rc < 0 ? rc : 0;
}
