/* What the plots share: their private data files, their common settings,
 * and the marks of events on them (drill events dashed and numbered, route
 * changes dotted, observations as short ticks), all in greys so that colour
 * always means a node. The numbers stagger over a few rows so that close
 * events (the steps of a flap) never overlap; the page lists them with
 * their labels. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "report_int.h"

#define PLOT_WIDTH  1100 /* pixels; events closer than a pixel are drawn once */
#define LABEL_ROWS  4    /* rows the event numbers stagger over */
#define LABEL_PX    8    /* pixels of one digit of an event number, and the gap */
#define DRILL_COLOR "#444444"
#define ROUTE_COLOR "#888888"
#define OBS_COLOR   "#666666"

double rp_plot_sec(const struct rp *rp, uint64_t ts)
{
    return ((double)ts - (double)rp->start) / 1e9;
}

double rp_plot_xmax(const struct rp *rp)
{
    return rp_plot_sec(rp, rp->end) > 0 ? rp_plot_sec(rp, rp->end) : 1.0;
}

FILE *rp_plot_dat_open(const struct rp *rp, const char *name)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", rp->plot_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f)
        close(fd);
    return f;
}

int rp_plot_dat_close(FILE *f)
{
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

void rp_plot_common(FILE *g)
{
    fprintf(g,
            "reset\nset datafile separator \"\\t\"\nset datafile commentschars \"\"\n"
            "set border 3\nset tics nomirror\nset key outside right top vertical font ',9'\n"
            "set tmargin %d\nset y2range [0:1]\n",
            1 + LABEL_ROWS);
}

enum { EV_DRILL = 1, EV_ROUTE, EV_OBS, EV_OBS_UNNAMED };

static int ev_kind(const struct rp_event *e)
{
    return e->kind == AH_EV_DRILL                                      ? EV_DRILL
           : e->kind == AH_EV_ROUTE                                    ? EV_ROUTE
           : strcmp(e->event, ah_schema_event_name(AH_EVENT_BGP)) != 0 ? EV_OBS
                                                                       : EV_OBS_UNNAMED;
}

/* The pixel column of an event in the plots, or -1 when it is outside
 * them: the observations of the set-up before the probes started, and a
 * router's initial route (no change). */
static long ev_px(const struct rp *rp, const struct rp_event *e)
{
    double x = rp_plot_sec(rp, e->ts_ns);
    if (x < 0 || x > rp_plot_xmax(rp) || (e->kind == AH_EV_ROUTE && ah_route_is_initial(e->detail)))
        return -1;
    return (long)(x / rp_plot_xmax(rp) * (PLOT_WIDTH - 1));
}

int rp_plot_events(struct rp *rp, const char *file)
{
    uint8_t seen[EV_OBS_UNNAMED + 1][PLOT_WIDTH / 8 + 1];
    FILE *d = rp_plot_dat_open(rp, file);
    if (!d)
        return -errno;
    memset(seen, 0, sizeof seen);
    int kinds = 0;
    uint32_t no = 0;
    for (size_t i = 0; i < rp->nev; i++) {
        struct rp_event *e = &rp->ev[i];
        int k = ev_kind(e);
        long px = ev_px(rp, e);
        e->plot_no = 0;
        if (px < 0 || seen[k][px / 8] & (1u << (px % 8)))
            continue;
        seen[k][px / 8] |= (uint8_t)(1u << (px % 8));
        if (k == EV_DRILL && no < RP_PLOT_NUMBERED)
            e->plot_no = ++no;
        char ev[RP_PLOT_LABEL_CAP], node[RP_PLOT_LABEL_CAP];
        rp_plot_label(ev, sizeof ev, e->event);
        rp_plot_label(node, sizeof node, e->node[0] ? e->node : "-");
        fprintf(d, "%.6f\t%d\t%s %s\n", rp_plot_sec(rp, e->ts_ns), k, ev, node);
        kinds |= 1 << k;
    }
    int rc = rp_plot_dat_close(d);
    return rc < 0 ? rc : kinds;
}

void rp_plot_event_numbers(const struct rp *rp, FILE *g)
{
    long end[LABEL_ROWS];
    for (size_t r = 0; r < LABEL_ROWS; r++)
        end[r] = -1000;
    for (size_t i = 0; i < rp->nev; i++) {
        const struct rp_event *e = &rp->ev[i];
        if (!e->plot_no)
            continue;
        long px = ev_px(rp, e);
        long w = (e->plot_no >= 10 ? 2 : 1) * LABEL_PX;
        /* The lowest row free at this column; when none is, the one free
         * the soonest. */
        size_t row = 0;
        for (size_t r = 0; r < LABEL_ROWS; r++) {
            if (end[r] < px) {
                row = r;
                break;
            }
            if (end[r] < end[row])
                row = r;
        }
        end[row] = px + w;
        /* Only numbers reach the script: the names are on the page. */
        fprintf(g,
                "set label %u '%u' at first %.6f, graph 1 offset 0.2,%.1f font ',8' tc rgb '%s' "
                "front\n",
                e->plot_no, e->plot_no, rp_plot_sec(rp, e->ts_ns), 0.5 + 1.0 * (double)row,
                DRILL_COLOR);
    }
}

void rp_plot_event_clauses(FILE *g, const char *file, int kinds)
{
    if (kinds & (1 << EV_DRILL))
        fprintf(g,
                ", '%s' using ($2==%d?$1:NaN):(0):(0):(1) axes x1y2 with vectors nohead "
                "lc rgb '" DRILL_COLOR "' dt 2 lw 1 notitle",
                file, EV_DRILL);
    if (kinds & (1 << EV_ROUTE))
        fprintf(g,
                ", '%s' using ($2==%d?$1:NaN):(0):(0):(1) axes x1y2 with vectors nohead "
                "lc rgb '" ROUTE_COLOR "' dt 3 lw 1 notitle",
                file, EV_ROUTE);
    if (kinds & ((1 << EV_OBS) | (1 << EV_OBS_UNNAMED)))
        fprintf(g,
                ", '%s' using ($2>=%d?$1:NaN):(0):(0):(0.08) axes x1y2 with vectors nohead "
                "lc rgb '" OBS_COLOR "' lw 1.5 notitle",
                file, EV_OBS);
    if (kinds & (1 << EV_OBS))
        fprintf(g,
                ", '%s' using ($2==%d?$1:NaN):(0.09):3 axes x1y2 with labels left rotate by 35 "
                "font ',7' tc rgb '" OBS_COLOR "' notitle",
                file, EV_OBS);
    fprintf(g, ", NaN with lines lc rgb '" DRILL_COLOR "' dt 2 title 'drill event (numbered)'");
    fprintf(g, ", NaN with lines lc rgb '" ROUTE_COLOR "' dt 3 title 'route change'");
    if (kinds & ((1 << EV_OBS) | (1 << EV_OBS_UNNAMED)))
        fprintf(g, ", NaN with lines lc rgb '" OBS_COLOR "' lw 1.5 title 'observation'");
}

int rp_plot_rows_head(struct rp *rp, FILE *g, const char *events_file, size_t nrows)
{
    int kinds = rp_plot_events(rp, events_file);
    if (kinds < 0)
        return kinds;
    rp_plot_common(g);
    rp_plot_event_numbers(rp, g);
    fprintf(g, "set grid x lc rgb '#eeeeee'\nset xrange [0:%.6f]\nset yrange [-0.6:%.2f]\n",
            rp_plot_xmax(rp), (double)nrows - 0.4);
    return kinds;
}
