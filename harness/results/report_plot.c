/* The report's plots: the answers timeline downsampled into a fixed number
 * of time buckets per vantage x transport (bucket width doubles as the run
 * grows, so memory stays fixed whatever the number of probes; vantages past
 * RP_VANTAGES_SHOWN share one "others" row), TCP connection lifelines, drill
 * events and kernel route changes. Every name reaches gnuplot only as a
 * column of a data file in its display form (rp_plot_label); the script
 * itself is made of our own words and numbers. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/esc.h"
#include "report_int.h"

#define MAX_LIFELINES 6000
/* Boxes drawn in the timeline (each a path in the SVG): past this, buckets
 * are drawn in pairs, fours, ..., so the SVG stays a few MB. */
#define MAX_BOXES  12000
#define PLOT_WIDTH 1100 /* pixels; events closer than a pixel are drawn once */

/* Colour means a node and nothing else: the Okabe-Ito palette (safe for
 * the common colour-vision deficiencies) without its black, then Paul
 * Tol's muted one; nodes past them are "other nodes", light grey. Results
 * and reasons are black and greys (with dash patterns in the lifelines),
 * never a colour a node has. */
static const char *const node_colors[] = {
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#332288",
    "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",
};
#define NODE_COLORS (sizeof node_colors / sizeof node_colors[0])
#define OTHER_COLOR "#C8C8C8"
#define FAIL_COLOR  "#000000"
#define GAP_BORDER  "#999999"

const char *rp_node_color(size_t i)
{
    return i < NODE_COLORS ? node_colors[i] : OTHER_COLOR;
}

/* How a connection ended: a grey and a dash pattern each, apart enough to
 * tell in print. */
static const struct {
    const char *color;
    int dt;
} reason_style[AH_REASON_COUNT] = {
    [AH_REASON_END] = {"#B0B0B0", 1},     [AH_REASON_RESET] = {"#000000", 1},
    [AH_REASON_TIMEOUT] = {"#000000", 2}, [AH_REASON_EOF] = {"#555555", 3},
    [AH_REASON_REFUSED] = {"#777777", 4}, [AH_REASON_UNREACHABLE] = {"#333333", 5},
    [AH_REASON_ERROR] = {"#777777", 1},
};

/* gnuplot reads a string column up to the next double quote and then
 * expands backslash escapes (\n, \101, ...); it never evaluates it. So the
 * terminal-escaped text (printable, valid UTF-8, no tab or newline) is
 * written with each backslash doubled and each double quote as \042. */
size_t rp_plot_label(char *out, size_t cap, const char *name)
{
    char shown[RP_LABEL_MAX];
    size_t o = 0;
    if (cap == 0)
        return 0;
    ah_esc_term(shown, sizeof shown, name ? name : "", name ? strlen(name) : 0);
    if (!shown[0])
        snprintf(shown, sizeof shown, "(empty)");
    for (const char *p = shown; *p; p++) {
        const char *rep = *p == '\\' ? "\\\\" : *p == '"' ? "\\042" : NULL;
        size_t n = rep ? strlen(rep) : 1;
        if (o + n >= cap)
            break;
        if (rep)
            memcpy(out + o, rep, n);
        else
            out[o] = *p;
        o += n;
    }
    out[o] = '\0';
    return o;
}

/* ---- the downsampled timeline ---- */

static void rescale(struct rp *rp)
{
    for (size_t s = 0; s < rp->nstrips; s++) {
        struct rp_strip *st = rp->strips[s];
        for (size_t b = 0; b < RP_BUCKETS; b++) {
            size_t a = 2 * b, c = 2 * b + 1;
            for (size_t n = 0; n <= RP_NODES_MAX; n++)
                st->ok[b][n] =
                    (a < RP_BUCKETS ? st->ok[a][n] : 0) + (c < RP_BUCKETS ? st->ok[c][n] : 0);
            st->fail[b] = (a < RP_BUCKETS ? st->fail[a] : 0) + (c < RP_BUCKETS ? st->fail[c] : 0);
        }
        rp_rtt_rescale(st);
    }
    rp->bw *= 2;
}

void rp_timeline_regroup(struct rp *rp)
{
    for (size_t i = 0; i < rp->nstrips; i++) {
        free(rp->strips[i]->rtt);
        free(rp->strips[i]);
    }
    free(rp->strips);
    rp->strips = NULL;
    rp->nstrips = rp->strip_hint = 0;
    rp->vantages_own = rp->vantages_others = rp->affected_own = 0;
    rp->b0_set = false;
    rp->have_timeline = false;
    rp_names_reset_strips(&rp->names);
    rp->regroup = true;
}

/* The strip of an interned vantage name: its own while fewer than
 * RP_VANTAGES_SHOWN vantages have one, else the others' of its transport
 * and family. */
static struct rp_strip *strip_get(struct rp *rp, const char *vantage, enum ah_transport tr,
                                  enum ah_family fam)
{
    struct rp_name_state *ns = rp_name_state(vantage);
    if (!ns->strip_seen) {
        ns->strip_seen = 1;
        bool own = rp->vantages_own < RP_VANTAGES_SHOWN;
        if (rp->regroup) {
            /* Rows of their own for the affected vantages first, the rest
             * of the rows for the others in the order they come. */
            size_t aff = rp->naffected < RP_VANTAGES_SHOWN ? rp->naffected : RP_VANTAGES_SHOWN;
            own = ns->affected ? rp->affected_own < aff
                               : rp->vantages_own - rp->affected_own < RP_VANTAGES_SHOWN - aff;
            rp->affected_own += own && ns->affected;
        }
        if (own) {
            ns->strip_own = 1;
            rp->vantages_own++;
        } else {
            rp->vantages_others++;
        }
    }
    const char *key = ns->strip_own ? vantage : NULL;
    size_t h = rp->strip_hint;
    if (h < rp->nstrips && rp->strips[h]->tr == tr && rp->strips[h]->fam == fam &&
        rp->strips[h]->vantage == key)
        return rp->strips[h];
    for (size_t i = 0; i < rp->nstrips; i++) {
        if (rp->strips[i]->tr == tr && rp->strips[i]->fam == fam && rp->strips[i]->vantage == key) {
            rp->strip_hint = i;
            return rp->strips[i];
        }
    }
    struct rp_strip **n = realloc(rp->strips, (rp->nstrips + 1) * sizeof *n);
    if (!n)
        return NULL;
    rp->strips = n;
    struct rp_strip *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->vantage = key;
    st->tr = tr;
    st->fam = fam;
    rp->strip_hint = rp->nstrips;
    rp->strips[rp->nstrips++] = st;
    return st;
}

static size_t node_col(struct rp *rp, const char *node)
{
    size_t h = rp->node_hint;
    if (h < rp->nnodes && rp->nodes[h] == node)
        return h;
    for (size_t i = 0; i < rp->nnodes; i++) {
        if (rp->nodes[i] == node) {
            rp->node_hint = i;
            return i;
        }
    }
    if (rp->nnodes == RP_NODES_MAX)
        return RP_NODES_MAX;
    rp->nodes[rp->nnodes] = node;
    rp->node_hint = rp->nnodes;
    return rp->nnodes++;
}

int rp_timeline_add(struct rp *rp, const struct rp_probe *p)
{
    if (!rp->b0_set) {
        rp->b0 = rp->start && rp->start <= p->ts_ns ? rp->start : p->ts_ns;
        rp->bw = 10000000; /* 10 ms, doubled as needed */
        if (rp->end > rp->b0)
            rp->bw = (rp->end - rp->b0) / RP_BUCKETS + 1;
        rp->b0_set = true;
    }
    uint64_t off = p->ts_ns > rp->b0 ? p->ts_ns - rp->b0 : 0;
    while (off / rp->bw >= RP_BUCKETS)
        rescale(rp);
    size_t b = (size_t)(off / rp->bw);
    struct rp_strip *st = strip_get(rp, p->vantage, p->tr, p->fam);
    if (!st)
        return -ENOMEM;
    rp->families |= 1u << p->fam;
    if (p->res == AH_RES_OK)
        st->ok[b][node_col(rp, p->node)]++;
    else
        st->fail[b]++;
    rp->have_timeline = true;
    return rp_rtt_add(st, b, p);
}

/* ---- data files and script pieces ---- */

/* The label of a timeline or lifeline row. */
static void row_label(FILE *d, double y, const char *vantage, size_t others, const char *tr)
{
    char v[RP_PLOT_LABEL_CAP];
    if (vantage)
        rp_plot_label(v, sizeof v, vantage);
    else
        snprintf(v, sizeof v, "others (%zu vantages)", others);
    fprintf(d, "%.2f\t%s%s%s\n", y, v, tr ? " " : "", tr ? tr : "");
}

/* ---- the timeline ---- */

static int strip_cmp(const void *a, const void *b)
{
    const struct rp_strip *x = *(struct rp_strip *const *)a, *y = *(struct rp_strip *const *)b;
    if (!x->vantage != !y->vantage)
        return x->vantage ? -1 : 1; /* the others last */
    /* The vantages an event affected first (the event cards list them). */
    int ax = x->vantage && rp_name_state(x->vantage)->affected;
    int ay = y->vantage && rp_name_state(y->vantage)->affected;
    if (ax != ay)
        return ay - ax;
    int c = x->vantage ? strcmp(x->vantage, y->vantage) : 0;
    if (c)
        return c;
    return x->tr != y->tr ? (int)x->tr - (int)y->tr : (int)x->fam - (int)y->fam;
}

const char *rp_strip_what(const struct rp *rp, const struct rp_strip *st, char *buf, size_t cap)
{
    bool both = (rp->families & 3u) == 3u;
    snprintf(buf, cap, "%s%s%s", ah_transport_name(st->tr), both ? " " : "",
             both ? ah_family_name(st->fam) : "");
    return buf;
}

struct palette {
    size_t order[RP_NODES_MAX]; /* node columns in name order */
    size_t rank[RP_NODES_MAX + 1];
};

/* The counts of buckets [g*f, (g+1)*f) of st: failures first, then each
 * node in name order, then other nodes. */
static uint64_t group_counts(const struct rp *rp, const struct rp_strip *st,
                             const struct palette *pal, size_t g, size_t f,
                             uint64_t c[RP_NODES_MAX + 2])
{
    uint64_t total = 0;
    memset(c, 0, (RP_NODES_MAX + 2) * sizeof *c);
    for (size_t b = g * f; b < (g + 1) * f && b < RP_BUCKETS; b++) {
        c[0] += st->fail[b];
        for (size_t k = 0; k < rp->nnodes; k++)
            c[1 + k] += st->ok[b][pal->order[k]];
        c[RP_NODES_MAX + 1] += st->ok[b][RP_NODES_MAX];
    }
    for (size_t k = 0; k < RP_NODES_MAX + 2; k++)
        total += c[k];
    return total;
}

static bool same_shares(const uint64_t *a, uint64_t ta, const uint64_t *b, uint64_t tb)
{
    for (size_t k = 0; k < RP_NODES_MAX + 2; k++)
        if (fabs((double)a[k] / (double)ta - (double)b[k] / (double)tb) > 0.002)
            return false;
    return true;
}

static const char *col_color(const struct palette *pal, size_t k)
{
    if (k == 0)
        return FAIL_COLOR;
    if (k == RP_NODES_MAX + 1)
        return OTHER_COLOR;
    return rp_node_color(pal->rank[pal->order[k - 1]]);
}

/* The fewest buckets a box may cover: enough that a row's box holds two
 * probes on average. A slow probe rate (one probe a second over a
 * 600-bucket minute) then reads as bands instead of a barcode of probes and
 * white gaps; a gap that remains is a stretch without probes. The strips
 * are the rows drawn (bounded), so this is one pass over their buckets. */
static size_t timeline_min_group(const struct rp *rp, const struct palette *pal)
{
    uint64_t c[RP_NODES_MAX + 2], probes = 0;
    size_t f = 1;
    for (size_t s = 0; s < rp->nstrips; s++)
        probes += group_counts(rp, rp->strips[s], pal, 0, RP_BUCKETS, c);
    if (rp->nstrips == 0 || probes == 0)
        return f;
    double per_bucket = (double)probes / (double)(rp->nstrips * (size_t)RP_BUCKETS);
    while (f < RP_BUCKETS && per_bucket * (double)f < 2.0)
        f *= 2;
    return f;
}

/* Writes (d not NULL) or counts the boxes of strip s drawn with groups of f
 * buckets; consecutive groups with the same shares make one box each. */
static size_t strip_boxes(const struct rp *rp, const struct palette *pal, size_t s, size_t f,
                          FILE *d)
{
    const struct rp_strip *st = rp->strips[s];
    double y = (double)(rp->nstrips - 1 - s), h = 0.76, y0 = y - h / 2;
    uint64_t run[RP_NODES_MAX + 2], cur[RP_NODES_MAX + 2], trun = 0;
    size_t ngroups = (RP_BUCKETS + f - 1) / f, boxes = 0, g0 = 0;
    for (size_t g = 0; g <= ngroups; g++) {
        uint64_t t = g < ngroups ? group_counts(rp, st, pal, g, f, cur) : 0;
        if (trun && t && same_shares(run, trun, cur, t))
            continue;
        if (trun) {
            /* Flush the run [g0, g). */
            double x0 = rp_plot_sec(rp, rp->b0 + g0 * f * rp->bw);
            double x1 =
                rp_plot_sec(rp, rp->b0 + (g * f < RP_BUCKETS ? g * f : RP_BUCKETS) * rp->bw);
            double cum = 0;
            for (size_t k = 0; k < RP_NODES_MAX + 2; k++) {
                if (!run[k])
                    continue;
                double lo = y0 + h * cum / (double)trun,
                       hi = lo + h * (double)run[k] / (double)trun;
                cum += (double)run[k];
                boxes++;
                if (d)
                    fprintf(d, "%.6f\t%.4f\t%.6f\t%.6f\t%.4f\t%.4f\t%ld\n", (x0 + x1) / 2,
                            (lo + hi) / 2, x0, x1, lo, hi, strtol(col_color(pal, k) + 1, NULL, 16));
            }
        }
        trun = t;
        g0 = g;
        memcpy(run, cur, sizeof run);
    }
    return boxes;
}

/* Writes the timeline's data files and its settings to g, and its plot
 * command to cmd. Returns the height in pixels or a negative errno. */
static int timeline_script(struct rp *rp, FILE *g, FILE *cmd)
{
    qsort(rp->strips, rp->nstrips, sizeof *rp->strips, strip_cmp);
    rp->strip_hint = 0;
    /* Colours in node-name order, so a node keeps its colour across runs. */
    struct palette pal;
    for (size_t i = 0; i < rp->nnodes; i++) {
        size_t j = i;
        while (j > 0 && strcmp(rp->nodes[pal.order[j - 1]], rp->nodes[i]) > 0) {
            pal.order[j] = pal.order[j - 1];
            j--;
        }
        pal.order[j] = i;
    }
    for (size_t i = 0; i < rp->nnodes; i++)
        pal.rank[pal.order[i]] = i;
    pal.rank[RP_NODES_MAX] = RP_NODES_MAX;
    size_t ns = rp->nstrips, f = timeline_min_group(rp, &pal);
    for (;;) {
        size_t boxes = 0;
        for (size_t s = 0; s < ns; s++)
            boxes += strip_boxes(rp, &pal, s, f, NULL);
        if (boxes <= MAX_BOXES || f >= RP_BUCKETS)
            break;
        f *= 2;
    }
    FILE *d = rp_plot_dat_open(rp, "timeline.dat"), *r = rp_plot_dat_open(rp, "rows.tsv");
    FILE *k = rp->nnodes ? rp_plot_dat_open(rp, "keys.tsv") : NULL;
    int rc = 0;
    if (!d || !r || (rp->nnodes && !k))
        rc = -errno;
    for (size_t s = 0; rc == 0 && s < ns; s++) {
        char what[32];
        strip_boxes(rp, &pal, s, f, d);
        row_label(r, (double)(ns - 1 - s), rp->strips[s]->vantage, rp->vantages_others,
                  rp_strip_what(rp, rp->strips[s], what, sizeof what));
    }
    /* Node names as the column headers of keys.tsv, for the key; one row
     * far out of range so that gnuplot has a point to read. */
    for (size_t i = 0; rc == 0 && k && i < rp->nnodes; i++) {
        char v[RP_PLOT_LABEL_CAP];
        rp_plot_label(v, sizeof v, rp->nodes[pal.order[i]]);
        fprintf(k, "%s%s", i ? "\t" : "", v);
    }
    if (k)
        fprintf(k, "\n-1e30\n");
    int rc2 = d ? rp_plot_dat_close(d) : 0, rc3 = r ? rp_plot_dat_close(r) : 0,
        rc4 = k ? rp_plot_dat_close(k) : 0;
    if (rc == 0)
        rc = rc2 ? rc2 : rc3 ? rc3 : rc4;
    int kinds = rc == 0 ? rp_plot_rows_head(rp, g, "tevents.tsv", ns) : 0;
    if (rc < 0 || kinds < 0)
        return rc < 0 ? rc : kinds;
    fprintf(g,
            "set xlabel 'seconds since the start of the run: which node answered (buckets "
            "of %.3g s; black: failed probes; white: no probe sent)'\n",
            (double)rp->bw * (double)f / 1e9);
    fprintf(cmd, "plot 'timeline.dat' using 1:2:3:4:5:6:7 with boxxyerror fs solid 1.0 noborder "
                 "lc rgb variable notitle, 'rows.tsv' using (NaN):1:ytic(2) notitle");
    for (size_t i = 0; i < rp->nnodes && i < NODE_COLORS; i++)
        fprintf(cmd,
                ", 'keys.tsv' using 1:1 with boxes fs solid lc rgb '%s' title columnheader(%zu)",
                rp_node_color(i), i + 1);
    if (rp->nnodes > NODE_COLORS)
        fprintf(cmd, ", NaN with boxes fs solid lc rgb '%s' title 'other nodes'", OTHER_COLOR);
    fprintf(cmd, ", NaN with boxes fs solid lc rgb '%s' title 'failed'", FAIL_COLOR);
    fprintf(cmd,
            ", NaN with boxes fc rgb '#ffffff' fs solid 1.0 border rgb '%s' title 'no probe "
            "sent (white)'",
            GAP_BORDER);
    rp_plot_event_clauses(cmd, "tevents.tsv", kinds);
    fprintf(cmd, "\n");
    return 170 + 55 * (int)ns;
}

/* ---- the lifelines ---- */

struct lane_item {
    size_t idx;
    uint32_t row; /* the vantage's index, or RP_VANTAGES_SHOWN for the others */
    uint64_t opened;
};

static int lane_cmp(const void *a, const void *b)
{
    const struct lane_item *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->opened < y->opened ? -1 : x->opened > y->opened;
}

/* The lanes of one vantage's row: when each lane's last connection ends. */
struct lanes {
    uint64_t *end;
    size_t n, cap;
};

/* The established connections, ordered by vantage row and open time. */
static struct lane_item *lane_items(const struct rp *rp, size_t n)
{
    struct lane_item *it = malloc(n * sizeof *it);
    size_t k = 0;
    if (!it)
        return NULL;
    for (size_t i = 0; i < rp->nconns; i++) {
        const struct rp_conn *c = &rp->conns[i];
        if (c->established)
            it[k++] = (struct lane_item){
                i, c->vantage < RP_VANTAGES_SHOWN ? c->vantage : RP_VANTAGES_SHOWN, c->opened};
    }
    qsort(it, n, sizeof *it, lane_cmp);
    return it;
}

/* The lowest lane free at opened (a new one when none is), taken until
 * end. Returns the lane or -ENOMEM. */
static long lane_take(struct lanes *ln, uint64_t opened, uint64_t end)
{
    size_t l = 0;
    while (l < ln->n && ln->end[l] > opened)
        l++;
    if (l == ln->n) {
        if (ln->n == ln->cap) {
            size_t cap = ln->cap ? 2 * ln->cap : 64;
            uint64_t *ne = realloc(ln->end, cap * sizeof *ne);
            if (!ne)
                return -ENOMEM;
            ln->end = ne;
            ln->cap = cap;
        }
        ln->n++;
    }
    ln->end[l] = end;
    return (long)l;
}

/* Writes the lifelines of the row that starts at it[i] (every stride-th
 * one) to d, from y = base up; *next gets the next row's first item.
 * Returns 0 or -ENOMEM. */
static int lifeline_row(struct rp *rp, const struct lane_item *it, size_t n, size_t i,
                        size_t stride, struct lanes *ln, double base, FILE *d, size_t *next)
{
    size_t j = i;
    ln->n = 0;
    for (; j < n && it[j].row == it[i].row; j++) {
        const struct rp_conn *c = &rp->conns[it[j].idx];
        uint64_t end = c->closed ? c->closed : rp->end;
        long l = lane_take(ln, c->opened, end);
        if (l < 0)
            return (int)l;
        if ((j - i) % stride == 0)
            fprintf(d, "%.6f\t%.2f\t%.6f\t%ld\t%.6f\n", rp_plot_sec(rp, c->opened),
                    base + (double)l, rp_plot_sec(rp, end) - rp_plot_sec(rp, c->opened),
                    (long)(c->reason < AH_REASON_COUNT ? c->reason : AH_REASON_ERROR),
                    c->reason == AH_REASON_END ? NAN : rp_plot_sec(rp, end));
    }
    *next = j;
    return 0;
}

/* The lifelines' settings to g and plot command to cmd; returns the height
 * in pixels. */
static int lifeline_plot(struct rp *rp, FILE *g, FILE *cmd, double base, size_t stride, int kinds)
{
    rp_plot_common(g);
    rp_plot_event_numbers(rp, g);
    fprintf(g, "set xrange [0:%.6f]\nset yrange [-1:%.1f]\n", rp_plot_xmax(rp), base);
    fprintf(g,
            "set xlabel 'seconds since the start of the run: TCP connections from open to "
            "close, grey and dashed by how they ended%s'\n",
            stride > 1 ? " (a sample)" : "");
    /* A dot where a connection broke: a replacement may reuse the lane at
     * once, so the line alone would hide the break. */
    fprintf(cmd, "plot 'lrows.tsv' using (NaN):1:ytic(2) notitle");
    for (unsigned x = 0; x < AH_REASON_COUNT; x++)
        fprintf(cmd,
                ", 'lifelines.dat' using ($4==%u?$1:NaN):2:3:(0) with vectors nohead lw 1.5 "
                "lc rgb '%s' dt %d title '%s'",
                x, reason_style[x].color, reason_style[x].dt, ah_reason_name((enum ah_reason)x));
    fprintf(cmd, ", 'lifelines.dat' using 5:2 with points pt 7 ps 0.3 lc rgb '#000000' title "
                 "'broke here'");
    rp_plot_event_clauses(cmd, "levents.tsv", kinds);
    fprintf(cmd, "\n");
    int h = (int)(170 + (base > 300 ? 600 : 2 * base + 0));
    return h < 320 ? 320 : h;
}

/* Lifelines: each established connection a line from open to close, in
 * the lowest free lane of its vantage, coloured by its end reason. Writes
 * the data, the settings to g and the plot command to cmd; returns the
 * height in pixels, 0 when there is nothing to draw, or a negative errno. */
static int lifeline_script(struct rp *rp, FILE *g, FILE *cmd)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->nconns; i++)
        n += rp->conns[i].established;
    if (n == 0)
        return 0;
    struct lane_item *it = lane_items(rp, n);
    struct lanes ln = {0};
    int rc = 0;
    FILE *d = rp_plot_dat_open(rp, "lifelines.dat"), *r = rp_plot_dat_open(rp, "lrows.tsv");
    if (!it || !d || !r) {
        rc = it ? -errno : -ENOMEM;
        goto out;
    }
    size_t stride = (n + MAX_LIFELINES - 1) / MAX_LIFELINES;
    double base = 0;
    for (size_t i = 0, next; i < n; i = next) {
        uint32_t v = it[i].row;
        if ((rc = lifeline_row(rp, it, n, i, stride, &ln, base, d, &next)) < 0)
            goto out;
        row_label(r, base + (double)ln.n / 2, v < RP_VANTAGES_SHOWN ? rp->conn_vantages[v] : NULL,
                  rp->nconn_vantages - RP_VANTAGES_SHOWN, NULL);
        base += (double)ln.n + 3;
    }
    rc = rp_plot_dat_close(d);
    d = NULL;
    int rc2 = rp_plot_dat_close(r);
    r = NULL;
    if (rc == 0)
        rc = rc2;
    if (rc < 0)
        goto out;
    int kinds = rp_plot_events(rp, "levents.tsv");
    rc = kinds < 0 ? kinds : lifeline_plot(rp, g, cmd, base, stride, kinds);
out:
    if (d)
        fclose(d);
    if (r)
        fclose(r);
    free(it);
    free(ln.end);
    return rc;
}

/* ---- gnuplot ---- */

/* The same plot into NAME.svg and NAME.png of gnuplot's directory. */
static void outputs(FILE *g, const char *name, int height, const char *cmd)
{
    fprintf(g,
            "set terminal svg size %d,%d dynamic noenhanced font 'sans,10' background "
            "'#ffffff'\nset output '%s.svg'\n%s",
            PLOT_WIDTH, height, name, cmd);
    fprintf(g,
            "set terminal pngcairo size %d,%d noenhanced font 'sans,9' background '#ffffff'\n"
            "set output '%s.png'\n%s",
            PLOT_WIDTH, height, name, cmd);
    fprintf(g, "set output\n");
}

int rp_plot_one(struct rp *rp, FILE *g, const char *name,
                int (*script)(struct rp *, FILE *, FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *cmd = open_memstream(&buf, &len);
    if (!cmd)
        return -errno;
    int h = script(rp, g, cmd);
    if (fclose(cmd) != 0 && h >= 0)
        h = -ENOMEM;
    if (h > 0)
        outputs(g, name, h, buf);
    free(buf);
    return h < 0 ? h : h > 0;
}

int rp_plot(struct rp *rp)
{
    int rc = 0;
    FILE *g = NULL;
    if (!rp->have_timeline && rp->nconns == 0)
        return 0;
    if ((rc = rp_gnuplot_dir(rp)) < 0)
        goto out;
    if (!(g = rp_plot_dat_open(rp, "plot.gp"))) {
        rc = -errno;
        goto out;
    }
    if (rp->have_timeline && ((rc = rp_plot_one(rp, g, "timeline", timeline_script)) < 0 ||
                              (rc = rp_rtt_plots(rp, g)) < 0))
        goto out;
    if (rp->nconns) {
        if ((rc = rp_plot_one(rp, g, "connections", lifeline_script)) < 0)
            goto out;
        rp->have_lifelines = rc > 0;
    }
    rc = rp_plot_dat_close(g);
    g = NULL;
    if (rc == 0)
        rc = rp_gnuplot_run(rp, "plot.gp");
out:
    if (g)
        fclose(g);
    if (rc < 0 && !rp->plot_error[0])
        snprintf(rp->plot_error, sizeof rp->plot_error, "plot: %s", strerror(-rc));
    return rc < 0 ? rc : 0;
}
