/* The report's plots: the answers timeline downsampled into a fixed number
 * of time buckets per vantage x transport (bucket width doubles as the run
 * grows, so memory stays fixed whatever the number of probes), TCP
 * connection lifelines, drill events and kernel route changes, drawn by a
 * gnuplot child process into SVG (inlined in report.html) and PNG. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ah/log.h"
#include "report_int.h"

#define MAX_LIFELINES     6000
#define GNUPLOT_TIMEOUT_S 120

/* Colours for nodes (a qualitative palette), then "other". */
static const char *const node_colors[] = {
    "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1",
};
#define OTHER_COLOR "#7f7f7f"
#define FAIL_COLOR  "#d62728"

const char *rp_node_color(size_t i)
{
    return i < sizeof node_colors / sizeof node_colors[0] ? node_colors[i] : OTHER_COLOR;
}

static const char *reason_color(unsigned r)
{
    switch (r) {
    case AH_REASON_END:
        return "#2ca02c";
    case AH_REASON_RESET:
        return "#d62728";
    case AH_REASON_TIMEOUT:
        return "#ff7f0e";
    case AH_REASON_EOF:
        return "#9467bd";
    case AH_REASON_REFUSED:
        return "#7f7f7f";
    case AH_REASON_UNREACHABLE:
        return "#8c564b";
    default:
        return "#000000";
    }
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
    }
    rp->bw *= 2;
}

static struct rp_strip *strip_get(struct rp *rp, const char *vantage, enum ah_transport tr)
{
    static size_t last; /* the report is single-threaded; a hint only */
    if (last < rp->nstrips && rp->strips[last]->tr == tr &&
        strcmp(rp->strips[last]->vantage, vantage) == 0)
        return rp->strips[last];
    for (size_t i = 0; i < rp->nstrips; i++) {
        if (rp->strips[i]->tr == tr && strcmp(rp->strips[i]->vantage, vantage) == 0) {
            last = i;
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
    snprintf(st->vantage, sizeof st->vantage, "%s", vantage);
    st->tr = tr;
    last = rp->nstrips;
    rp->strips[rp->nstrips++] = st;
    return st;
}

static size_t node_col(struct rp *rp, const char *node)
{
    static size_t last;
    if (last < rp->nnodes && strcmp(rp->nodes[last], node) == 0)
        return last;
    for (size_t i = 0; i < rp->nnodes; i++) {
        if (strcmp(rp->nodes[i], node) == 0) {
            last = i;
            return i;
        }
    }
    if (rp->nnodes == RP_NODES_MAX)
        return RP_NODES_MAX;
    snprintf(rp->nodes[rp->nnodes], RP_NAME_MAX, "%s", node);
    last = rp->nnodes;
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
    struct rp_strip *st = strip_get(rp, p->vantage, p->tr);
    if (!st)
        return -ENOMEM;
    if (p->res == AH_RES_OK)
        st->ok[b][node_col(rp, p->node)]++;
    else
        st->fail[b]++;
    rp->have_timeline = true;
    return 0;
}

/* ---- gnuplot ---- */

static double sec(const struct rp *rp, uint64_t ts)
{
    return ((double)ts - (double)rp->start) / 1e9;
}

static int strip_cmp(const void *a, const void *b)
{
    const struct rp_strip *x = *(struct rp_strip *const *)a, *y = *(struct rp_strip *const *)b;
    int c = strcmp(x->vantage, y->vantage);
    return c ? c : (int)x->tr - (int)y->tr;
}

static void event_lines(const struct rp *rp, FILE *g)
{
    for (size_t i = 0; i < rp->nev; i++) {
        const struct rp_event *e = &rp->ev[i];
        double x = sec(rp, e->ts_ns);
        if (e->kind == AH_EV_DRILL) {
            fprintf(g,
                    "set arrow from %.6f, graph 0 to %.6f, graph 1 nohead lc rgb '#444444' "
                    "dt 2 lw 1 front\n",
                    x, x);
            fprintf(g,
                    "set label \"%s %s\" at %.6f, graph 1.01 left rotate by 35 font ',8' "
                    "tc rgb '#444444'\n",
                    e->event, e->node, x);
        } else if (e->kind == AH_EV_ROUTE) {
            fprintf(g,
                    "set arrow from %.6f, graph 0 to %.6f, graph 1 nohead lc rgb '#17becf' "
                    "dt 3 lw 1 front\n",
                    x, x);
        } else if (e->kind == AH_EV_OBSERVATION && x >= 0) {
            /* What the routing saw (track-*, health-*, bgp sessions, exits):
             * a short tick at the bottom; named unless it is one of the
             * many bgp session rows. Those of the set-up, before the
             * probes started, are left out. */
            fprintf(g,
                    "set arrow from %.6f, graph 0 to %.6f, graph 0.08 nohead lc rgb '#ff7f0e' "
                    "lw 1.5 front\n",
                    x, x);
            if (strcmp(e->event, "bgp") != 0)
                fprintf(g,
                        "set label \"%s %s\" at %.6f, graph 0.09 left rotate by 35 font ',7' "
                        "tc rgb '#ff7f0e' front\n",
                        e->event, e->node, x);
        }
    }
}

/* Writes the timeline data and plot commands. */
static int timeline_script(struct rp *rp, const char *dir, FILE *g)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/timeline.dat", dir);
    FILE *d = fopen(path, "we");
    if (!d)
        return -errno;
    qsort(rp->strips, rp->nstrips, sizeof *rp->strips, strip_cmp);
    /* Colours in node-name order, so a node keeps its colour across runs. */
    size_t order[RP_NODES_MAX], rank[RP_NODES_MAX + 1];
    for (size_t i = 0; i < rp->nnodes; i++) {
        size_t j = i;
        while (j > 0 && strcmp(rp->nodes[order[j - 1]], rp->nodes[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < rp->nnodes; i++)
        rank[order[i]] = i;
    rank[RP_NODES_MAX] = RP_NODES_MAX;
    size_t ns = rp->nstrips;
    for (size_t s = 0; s < ns; s++) {
        const struct rp_strip *st = rp->strips[s];
        double y = (double)(ns - 1 - s), h = 0.76, y0 = y - h / 2;
        for (size_t b = 0; b < RP_BUCKETS; b++) {
            uint64_t total = st->fail[b];
            for (size_t n = 0; n <= RP_NODES_MAX; n++)
                total += st->ok[b][n];
            if (!total)
                continue;
            double x0 = sec(rp, rp->b0 + b * rp->bw), x1 = sec(rp, rp->b0 + (b + 1) * rp->bw);
            /* A stack: failures at the bottom in red, then each node. */
            double cum = 0;
            for (size_t k = 0; k <= rp->nnodes; k++) {
                uint64_t c;
                const char *col;
                if (k == 0) {
                    c = st->fail[b];
                    col = FAIL_COLOR;
                } else {
                    size_t n = order[k - 1];
                    c = st->ok[b][n];
                    col = rp_node_color(rank[n]);
                }
                if (!c)
                    continue;
                double lo = y0 + h * cum / (double)total, hi = lo + h * (double)c / (double)total;
                cum += (double)c;
                fprintf(d, "%.6f %.4f %.6f %.6f %.4f %.4f %ld\n", (x0 + x1) / 2, (lo + hi) / 2, x0,
                        x1, lo, hi, strtol(col + 1, NULL, 16));
            }
            if (st->ok[b][RP_NODES_MAX]) {
                double lo = y0 + h * cum / (double)total;
                double hi = lo + h * (double)st->ok[b][RP_NODES_MAX] / (double)total;
                fprintf(d, "%.6f %.4f %.6f %.6f %.4f %.4f %ld\n", (x0 + x1) / 2, (lo + hi) / 2, x0,
                        x1, lo, hi, strtol(&OTHER_COLOR[1], NULL, 16));
            }
        }
    }
    if (fclose(d) != 0)
        return -EIO;
    int height = 170 + 55 * (int)ns;
    fprintf(g, "reset\nset border 3\nset tics nomirror\nset grid x lc rgb '#eeeeee'\n");
    fprintf(g, "set xrange [%.6f:%.6f]\n", 0.0, sec(rp, rp->end) > 0 ? sec(rp, rp->end) : 1.0);
    fprintf(g, "set yrange [-0.6:%.2f]\n", (double)ns - 0.4);
    fprintf(g, "set ytics (");
    for (size_t s = 0; s < ns; s++)
        fprintf(g, "%s\"%s %s\" %zu", s ? ", " : "", rp->strips[s]->vantage,
                ah_transport_name(rp->strips[s]->tr), ns - 1 - s);
    fprintf(g, ")\n");
    fprintf(g, "set key outside right top vertical font ',9'\nset tmargin 4\n");
    fprintf(g,
            "set xlabel 'seconds since the start of the run: which node answered (%.3g s "
            "per bucket; red: failed probes)'\n",
            (double)rp->bw / 1e9);
    event_lines(rp, g);
    fprintf(g,
            "plot '%s' using 1:2:3:4:5:6:7 with boxxyerror fs solid 1.0 noborder "
            "lc rgb variable notitle",
            path);
    for (size_t k = 0; k < rp->nnodes; k++)
        fprintf(g, ", NaN with boxes fs solid lc rgb '%s' title \"%s\"", rp_node_color(k),
                rp->nodes[order[k]]);
    fprintf(g, ", NaN with boxes fs solid lc rgb '%s' title 'failed'", FAIL_COLOR);
    fprintf(g, ", NaN with lines lc rgb '#444444' dt 2 title 'drill event'");
    fprintf(g, ", NaN with lines lc rgb '#17becf' dt 3 title 'route change'\n");
    return height;
}

struct lane_item {
    size_t idx;
    uint32_t vantage;
    uint64_t opened;
};

static int lane_cmp(const void *a, const void *b)
{
    const struct lane_item *x = a, *y = b;
    if (x->vantage != y->vantage)
        return x->vantage < y->vantage ? -1 : 1;
    return x->opened < y->opened ? -1 : x->opened > y->opened;
}

/* Lifelines: each established connection a line from open to close, in
 * the lowest free lane of its vantage, coloured by its end reason. */
static int lifeline_script(struct rp *rp, const char *dir, FILE *g)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->nconns; i++)
        n += rp->conns[i].established;
    if (n == 0)
        return 0;
    struct lane_item *it = malloc(n * sizeof *it);
    uint64_t *lane_end = NULL;
    size_t nlanes = 0, caplanes = 0, k = 0;
    int rc = 0;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/lifelines.dat", dir);
    FILE *d = fopen(path, "we");
    if (!it || !d) {
        rc = it ? -errno : -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < rp->nconns; i++)
        if (rp->conns[i].established)
            it[k++] = (struct lane_item){i, rp->conns[i].vantage, rp->conns[i].opened};
    qsort(it, n, sizeof *it, lane_cmp);
    size_t stride = (n + MAX_LIFELINES - 1) / MAX_LIFELINES;
    double base = 0;
    fprintf(g, "reset\nset border 3\nset tics nomirror\n");
    fprintf(g, "set ytics (");
    for (size_t i = 0; i < n;) {
        uint32_t v = it[i].vantage;
        nlanes = 0;
        size_t j = i;
        for (; j < n && it[j].vantage == v; j++) {
            const struct rp_conn *c = &rp->conns[it[j].idx];
            uint64_t end = c->closed ? c->closed : rp->end;
            size_t l = 0;
            while (l < nlanes && lane_end[l] > c->opened)
                l++;
            if (l == nlanes) {
                if (nlanes == caplanes) {
                    caplanes = caplanes ? 2 * caplanes : 64;
                    uint64_t *ne = realloc(lane_end, caplanes * sizeof *ne);
                    if (!ne) {
                        rc = -ENOMEM;
                        goto out;
                    }
                    lane_end = ne;
                }
                nlanes++;
            }
            lane_end[l] = end;
            if ((j - i) % stride == 0)
                fprintf(d, "%.6f %.2f %.6f %ld %.6f\n", sec(rp, c->opened), base + (double)l,
                        sec(rp, end) - sec(rp, c->opened),
                        strtol(reason_color(c->reason) + 1, NULL, 16),
                        c->reason == AH_REASON_END ? NAN : sec(rp, end));
        }
        fprintf(g, "%s\"%s\" %.1f", i ? ", " : "", rp->conn_vantages[v], base + (double)nlanes / 2);
        base += (double)nlanes + 3;
        i = j;
    }
    fprintf(g, ")\n");
    if (fclose(d) != 0)
        rc = -EIO;
    d = NULL;
    if (rc < 0)
        goto out;
    fprintf(g, "set xrange [0:%.6f]\nset yrange [-1:%.1f]\n",
            sec(rp, rp->end) > 0 ? sec(rp, rp->end) : 1.0, base);
    fprintf(g, "set key outside right top vertical font ',9'\nset tmargin 4\n");
    fprintf(g,
            "set xlabel 'seconds since the start of the run: TCP connections from open to "
            "close, coloured by how they ended%s'\n",
            stride > 1 ? " (a sample)" : "");
    event_lines(rp, g);
    /* A dot where a connection broke: a replacement may reuse the lane at
     * once, so the line alone would hide the break. */
    fprintf(g,
            "plot '%s' using 1:2:3:(0):4 with vectors nohead lw 1.5 lc rgb variable notitle, "
            "'' using 5:2 with points pt 7 ps 0.3 lc rgb '#000000' title 'broke here'",
            path);
    for (unsigned r = 0; r < AH_REASON_COUNT; r++)
        fprintf(g, ", NaN with lines lw 2 lc rgb '%s' title '%s'", reason_color(r),
                ah_reason_name((enum ah_reason)r));
    fprintf(g, "\n");
    rc = (int)(170 + (base > 300 ? 600 : 2 * base + 0));
    if (rc < 320)
        rc = 320;
out:
    if (d)
        fclose(d);
    free(it);
    free(lane_end);
    return rc;
}

/* Runs gnuplot on script in dir, bounded in time. */
static int run_gnuplot(const char *dir, const char *script, char *err, size_t errlen)
{
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    for (int i = 0; i < GNUPLOT_TIMEOUT_S * 100; i++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            goto done;
        if (w < 0 && errno != EINTR)
            return -errno;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    snprintf(err, errlen, "gnuplot took over %d s and was stopped", GNUPLOT_TIMEOUT_S);
    return -ETIMEDOUT;
done:
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char first[200] = "";
    FILE *f = fopen(log, "re");
    if (f) {
        if (!fgets(first, sizeof first, f))
            first[0] = '\0';
        fclose(f);
        first[strcspn(first, "\n")] = '\0';
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(err, errlen, "gnuplot not found (install gnuplot-nox)");
    else
        snprintf(err, errlen, "gnuplot failed: %s", first[0] ? first : "no message");
    return -EIO;
}

static void rm_tree(const char *dir)
{
    static const char *const files[] = {"timeline.dat", "lifelines.dat", "plot.gp", "gnuplot.log"};
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Emits the same plot into SVG and PNG. */
static void outputs(FILE *g, const char *out_dir, const char *name, int height)
{
    fprintf(g,
            "set terminal svg size 1100,%d dynamic enhanced font 'sans,10' background "
            "'#ffffff'\n",
            height);
    fprintf(g, "set output '%s/%s.svg'\nreplot\n", out_dir, name);
    fprintf(g, "set terminal pngcairo size 1100,%d font 'sans,9' background '#ffffff'\n", height);
    fprintf(g, "set output '%s/%s.png'\nreplot\nset output\n", out_dir, name);
}

int rp_plot(struct rp *rp)
{
    char dir[] = "/tmp/anycast-report-XXXXXX";
    char script[PATH_MAX + 32];
    int rc = 0;
    if (!mkdtemp(dir)) {
        snprintf(rp->plot_error, sizeof rp->plot_error, "mkdtemp: %s", strerror(errno));
        return -errno;
    }
    snprintf(script, sizeof script, "%s/plot.gp", dir);
    FILE *g = fopen(script, "we");
    if (!g) {
        rc = -errno;
        goto out;
    }
    /* gnuplot needs a terminal before the first plot; the real outputs are
     * set by replot. */
    fprintf(g, "set terminal unknown\n");
    if (rp->have_timeline) {
        int h = timeline_script(rp, dir, g);
        if (h < 0) {
            rc = h;
            fclose(g);
            goto out;
        }
        outputs(g, rp->out_dir, "timeline", h);
    }
    if (rp->nconns) {
        fprintf(g, "set terminal unknown\n");
        int h = lifeline_script(rp, dir, g);
        if (h < 0) {
            rc = h;
            fclose(g);
            goto out;
        }
        if (h > 0) {
            outputs(g, rp->out_dir, "connections", h);
            rp->have_lifelines = true;
        }
    }
    if (fclose(g) != 0) {
        rc = -EIO;
        goto out;
    }
    if (rp->have_timeline || rp->have_lifelines)
        rc = run_gnuplot(dir, script, rp->plot_error, sizeof rp->plot_error);
out:
    if (rc < 0 && !rp->plot_error[0])
        snprintf(rp->plot_error, sizeof rp->plot_error, "plot: %s", strerror(-rc));
    rm_tree(dir);
    return rc;
}
