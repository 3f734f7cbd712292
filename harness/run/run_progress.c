/* The live progress of `anycast-lab run` on a terminal: elapsed and total
 * time, the next drill step, and per vantage the share of probes answered
 * and the node answering, redrawn in place a few times a second from the
 * probes' own probes.csv as they write it. Quiet with CI set, with -q, or
 * when stderr is not a terminal, as anycast-probe's --progress auto. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/esc.h"
#include "ah/log.h"
#include "progress_tail.h"
#include "run_int.h"

#define PROGRESS_EVERY_NS (250 * AH_NS_PER_MS)
/* Bytes read per redraw at most, over all probes' files (each redraw
 * starts with the probe after the last one read): the display lags rather
 * than the drill's loop stalling behind a flood of rows. 1 MiB is about
 * 13,000 rows, 50,000 rows a second at four redraws a second. */
#define PROGRESS_READ_MAX (1024 * 1024)
/* No redraw this close before a drill step: the step is on time, the
 * redraw follows it. */
#define PROGRESS_STEP_GUARD_NS (50 * AH_NS_PER_MS)

struct vantage_now {
    unsigned long rows, ok; /* since the last redraw */
    int pct;                /* ok share of the last redraw with rows; -1: none yet */
    char node[PROGRESS_NODE_MAX];
};

struct run_progress {
    uint64_t next_ns; /* drill clock of the next redraw */
    int *fd;          /* per probe: its probes.csv, -1 until it exists */
    struct progress_tail *tail;
    struct vantage_now *v;
    size_t cur;   /* the vantage whose rows are being fed */
    size_t first; /* the probe the next redraw reads first */
    int width, last_len;
};

int run_progress_start(struct run *r)
{
    if (!ah_log_live())
        return 0;
    struct run_progress *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->fd = malloc((r->nprobes + 1) * sizeof *p->fd);
    p->tail = calloc(r->nprobes + 1, sizeof *p->tail);
    p->v = calloc(r->lab->nvantages + 1, sizeof *p->v);
    if (!p->fd || !p->tail || !p->v) {
        free(p->fd);
        free(p->tail);
        free(p->v);
        free(p);
        return -ENOMEM;
    }
    for (size_t i = 0; i < r->nprobes; i++)
        p->fd[i] = -1;
    for (size_t v = 0; v < r->lab->nvantages; v++)
        p->v[v].pct = -1;
    struct winsize ws;
    p->width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
    r->progress = p;
    return 0;
}

uint64_t run_progress_due(const struct run *r)
{
    return r->progress ? r->progress->next_ns : UINT64_MAX;
}

static void on_row(void *arg, const char *result, const char *node)
{
    struct run_progress *p = arg;
    struct vantage_now *v = &p->v[p->cur];
    v->rows++;
    if (strcmp(result, "ok") == 0) {
        v->ok++;
        snprintf(v->node, sizeof v->node, "%s", node);
    }
}

/* Reads what each probe wrote since the last redraw. */
static void read_rows(struct run *r, struct run_progress *p)
{
    char buf[16384], path[PATH_MAX + 16];
    size_t total = 0;
    for (size_t k = 0; k < r->nprobes && total < PROGRESS_READ_MAX; k++) {
        size_t i = (p->first + k) % r->nprobes;
        p->first = (i + 1) % r->nprobes;
        if (p->fd[i] < 0) {
            snprintf(path, sizeof path, "%s/probes.csv", r->probes[i].outdir);
            p->fd[i] = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            if (p->fd[i] < 0)
                continue;
        }
        p->cur = r->probes[i].vantage;
        ssize_t got;
        while (total < PROGRESS_READ_MAX && (got = read(p->fd[i], buf, sizeof buf)) > 0) {
            progress_tail_feed(&p->tail[i], buf, (size_t)got, on_row, p);
            total += (size_t)got;
        }
    }
}

/* Appends " NAME PCT% NODE" for vantage v to line if it fits. */
static bool add_vantage(const struct run *r, const struct vantage_now *v, size_t i, char *line,
                        size_t *len, size_t cap)
{
    char node[PROGRESS_NODE_MAX * 4 + 1], pct[16] = "-";
    ah_esc_term(node, 13, v->node, strlen(v->node));
    if (v->pct >= 0)
        snprintf(pct, sizeof pct, "%d%%", v->pct);
    /* A vantage answered by nobody now shows the last node that answered. */
    int w = snprintf(line + *len, cap - *len, "  %s %s%s%s", r->lab->vantages[i].name, pct,
                     !node[0]      ? ""
                     : v->pct == 0 ? " last "
                                   : " ",
                     node);
    if (w < 0 || (size_t)w >= cap - *len) {
        line[*len] = '\0';
        return false;
    }
    *len += (size_t)w;
    return true;
}

static void draw(struct run *r, struct run_progress *p, uint64_t now)
{
    char line[1024], next[96] = "  drill done";
    size_t cap = (size_t)p->width < sizeof line ? (size_t)p->width : sizeof line;
    uint64_t at = drill_next_at(&r->drill);
    if (at != UINT64_MAX && r->drill.next < r->drill.n) {
        const struct drill_step *s = &r->drill.steps[r->drill.next];
        snprintf(next, sizeof next, "  next %s %s in %.1f s", drill_step_event(s),
                 r->lab->nodes[s->node].name, at > now ? (double)(at - now) / 1e9 : 0.0);
    }
    int w = snprintf(line, cap, "%.1f/%.1f s%s", (double)now / 1e9,
                     (double)r->lab->duration_ns / 1e9, next);
    size_t len = w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
    /* Vantages with losses first, then the others, as many as fit. */
    size_t shown = 0, n = r->lab->nvantages;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            bool hurt = p->v[i].pct >= 0 && p->v[i].pct < 100;
            if (hurt != (pass == 0))
                continue;
            if (len + 8 >= cap || !add_vantage(r, &p->v[i], i, line, &len, cap - 8))
                goto full;
            shown++;
        }
    }
full:
    if (shown < n)
        len += (size_t)snprintf(line + len, sizeof line - len, "  +%zu", n - shown);
    fprintf(stderr, "\r%s%*s", line, p->last_len > (int)len ? p->last_len - (int)len : 0, "");
    fflush(stderr);
    p->last_len = (int)len;
}

void run_progress_tick(struct run *r, uint64_t now)
{
    struct run_progress *p = r->progress;
    if (!p || now < p->next_ns)
        return;
    uint64_t step = drill_next_at(&r->drill);
    if (step != UINT64_MAX && step > now && step - now < PROGRESS_STEP_GUARD_NS) {
        p->next_ns = step + AH_NS_PER_MS;
        return;
    }
    read_rows(r, p);
    for (size_t v = 0; v < r->lab->nvantages; v++) {
        if (p->v[v].rows)
            p->v[v].pct = (int)(p->v[v].ok * 100 / p->v[v].rows);
        p->v[v].rows = p->v[v].ok = 0;
    }
    draw(r, p, now);
    p->next_ns = now + PROGRESS_EVERY_NS;
}

void run_progress_end(struct run *r)
{
    struct run_progress *p = r->progress;
    if (!p)
        return;
    /* The line is cleared: what follows (the tables) starts on a clean one. */
    fprintf(stderr, "\r%*s\r", p->last_len, "");
    for (size_t i = 0; i < r->nprobes; i++)
        if (p->fd[i] >= 0)
            close(p->fd[i]);
    free(p->fd);
    free(p->tail);
    free(p->v);
    free(p);
    r->progress = NULL;
}
