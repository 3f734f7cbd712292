/* Internals shared by the report's parts: validated input reading
 * (report_input.c), the downsampled timeline and the plots
 * (report_plot.c), and the HTML page (report_html.c). */
#ifndef REPORT_INT_H
#define REPORT_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ah/metrics.h"
#include "expect.h"
#include "lab.h"

#define RP_NAME_MAX  64
#define RP_BUCKETS   600 /* timeline buckets per strip */
#define RP_NODES_MAX 32  /* distinct plot colours; more nodes share "other" */
#define RP_BAD_SHOWN 20  /* bad rows reported per file; the rest counted */

/* One validated probes.csv row. */
struct rp_probe {
    uint64_t ts_ns, conn;
    enum ah_transport tr;
    enum ah_service svc;
    enum ah_result res;
    char vantage[RP_NAME_MAX];
    char node[RP_NAME_MAX];
};

/* Per input file: what was read and skipped. */
struct rp_file {
    char path[PATH_MAX];
    uint64_t rows, skipped;
    bool broken; /* a malformed CSV record ended the reading early */
};

struct rp_inputs {
    struct rp_file *files;
    size_t nfiles;
};

/* Streaming, validated, time-ordered probes from one or more files. */
struct rp_merge;
int rp_merge_open(struct rp_merge **out, const char *const *paths, size_t n, uint64_t window_ns,
                  struct rp_inputs *stats);
/* Returns 1 with *p, 0 at the end, or a negative errno. */
int rp_merge_next(struct rp_merge *mg, struct rp_probe *p);
/* Rows that came later than the reorder window allowed. */
uint64_t rp_merge_late(const struct rp_merge *mg);
void rp_merge_close(struct rp_merge *mg);

struct rp_event {
    uint64_t ts_ns;
    char *event, *node, *detail;
    enum ah_event_kind kind;
};

struct rp_conn {
    uint64_t opened, closed; /* closed 0: still open */
    uint32_t vantage;        /* index into rp->conn_vantages */
    uint8_t reason;
    bool established;
};

/* Answers of one vantage x transport over time, in RP_BUCKETS buckets. */
struct rp_strip {
    char vantage[RP_NAME_MAX];
    enum ah_transport tr;
    uint32_t ok[RP_BUCKETS][RP_NODES_MAX + 1]; /* the last column: other nodes */
    uint32_t fail[RP_BUCKETS];
};

struct rp_verdict {
    const char *text;
    unsigned line;
    struct expect_verdict v;
};

struct rp {
    char out_dir[PATH_MAX];
    const struct lab *lab;
    char name[RP_NAME_MAX];
    struct rp_inputs probes_in, conns_in, events_in;
    uint64_t late;
    /* Timeline: bucket b covers [b0 + b*bw, b0 + (b+1)*bw). */
    uint64_t b0, bw;
    bool b0_set;
    struct rp_strip **strips;
    size_t nstrips;
    char nodes[RP_NODES_MAX][RP_NAME_MAX];
    size_t nnodes;
    struct rp_event *ev;
    size_t nev;
    struct rp_conn *conns;
    size_t nconns, capconns;
    char (*conn_vantages)[RP_NAME_MAX];
    size_t nconn_vantages;
    uint64_t start, end; /* the run window used by the metrics */
    struct rp_verdict *verdicts;
    size_t nverdicts, failed;
    size_t not_measured; /* verdicts on a step that started late */
    char plot_error[256];
    bool have_timeline, have_lifelines;
};

/* Inputs (report_input.c). */
int rp_read_events(struct rp *rp, const char *path);
int rp_read_conns(struct rp *rp, const char *const *paths, size_t n, struct ah_metrics *m);
void rp_inputs_free(struct rp_inputs *in);

/* Timeline (report_plot.c). */
int rp_timeline_add(struct rp *rp, const struct rp_probe *p);
/* Writes timeline.svg/.png and connections.svg/.png with gnuplot. Returns
 * 0, or a negative errno with rp->plot_error set (the report goes on). */
int rp_plot(struct rp *rp);
const char *rp_node_color(size_t i);

/* The page (report_html.c). */
int rp_write_html(const struct rp *rp, const struct ah_metrics *m, const char *path);

/* Helpers shared by the writers. */
void rp_json_str(FILE *f, const char *s);
void rp_html_str(FILE *f, const char *s);
void rp_ms(char *buf, size_t len, double ms); /* "%.3f" or "" for NaN */

#endif
