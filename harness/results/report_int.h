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
#include "harness/lab/expect.h"
#include "harness/lab/lab.h"

#define RP_NAME_MAX  256 /* vantage and node names incl. NUL: any identity a probe records */
#define RP_BUCKETS   600 /* timeline buckets per strip */
#define RP_NODES_MAX 32  /* distinct plot colours; more nodes share "other" */
#define RP_BAD_SHOWN 20  /* bad rows reported per file; the rest counted */
/* Vantages drawn one by one in the timeline and the lifelines; those whose
 * first probe comes later are drawn together as "others", so memory and the
 * plots stay bounded whatever the number of vantages. */
#define RP_VANTAGES_SHOWN 32
#define RP_LABEL_MAX      64 /* bytes of a name shown in a plot (escaped), then "..." */
/* events.csv rows other than windowed events (route changes, observations)
 * taken; the windowed events are limited by AH_METRICS_MAX_WINDOWS. */
#define RP_EVENTS_OTHER_MAX AH_METRICS_MAX_ROUTES

/* Names (vantages, nodes) are kept once each: a small cost per distinct
 * name, none per row. */
struct rp_names {
    struct rp_name **slot;
    size_t cap, n;
};
/* The interned copy of s (vantage and node names are shorter than
 * RP_NAME_MAX; events.csv fields may be longer), or NULL when out of memory. */
const char *rp_names_get(struct rp_names *t, const char *s);
void rp_names_free(struct rp_names *t);
/* Per-name state of the report, kept with the interned name. */
struct rp_name_state {
    uint32_t conn_row;  /* 1 + index into rp->conn_vantages; 0: none yet */
    uint8_t strip_own;  /* the vantage has rows of its own in the timeline */
    uint8_t strip_seen; /* the vantage was seen by the timeline */
    uint8_t clock;      /* RP_CLOCK_*: where the vantage's clock offset came from */
    uint8_t rows;       /* a probes or connections row named this vantage */
    uint8_t affected;   /* an event affected it (rp_card_classify): drawn first */
    int64_t clock_offset_ns;
    uint64_t clock_uncertainty_ns;
};
enum { RP_CLOCK_NONE = 0, RP_CLOCK_RUN_JSON, RP_CLOCK_OPTION };
struct rp_name_state *rp_name_state(const char *interned);

/* One validated probes.csv row; the names are interned. */
struct rp_probe {
    uint64_t ts_ns, conn;
    enum ah_transport tr;
    enum ah_service svc;
    enum ah_family fam; /* of the target */
    enum ah_result res;
    const char *vantage;
    const char *node;
    bool has_rtt; /* rtt_us given */
    uint64_t rtt_us;
};

/* Per input file: what was read and skipped. */
struct rp_file {
    char path[PATH_MAX];
    uint64_t rows, skipped;
    /* events.csv: rows past the limits (AH_METRICS_MAX_WINDOWS windowed
     * events, RP_EVENTS_OTHER_MAX route and observation rows), skipped. */
    uint64_t over_limit;
    bool broken; /* a malformed CSV record ended the reading early */
    bool quiet;  /* a second reading: its bad rows were told in the first */
};

struct rp_inputs {
    struct rp_file *files;
    size_t nfiles;
    bool quiet; /* the files' bad rows are counted, not told */
};

/* Streaming, validated, time-ordered probes from one or more files. */
struct rp_merge;
int rp_merge_open(struct rp_merge **out, const char *const *paths, size_t n, uint64_t window_ns,
                  struct rp_inputs *stats, struct rp_names *names);
/* Returns 1 with *p, 0 at the end, or a negative errno. */
int rp_merge_next(struct rp_merge *mg, struct rp_probe *p);
/* Rows that came later than the reorder window allowed. */
uint64_t rp_merge_late(const struct rp_merge *mg);
void rp_merge_close(struct rp_merge *mg);

struct rp_event {
    uint64_t ts_ns;
    const char *event, *node, *detail; /* interned in rp->ev_names */
    enum ah_event_kind kind;
    uint32_t plot_no; /* its number in the plots (1-based); 0: not numbered */
};

struct rp_conn {
    uint64_t opened, closed; /* closed 0: still open */
    uint32_t vantage;        /* index into rp->conn_vantages */
    uint8_t reason;
    bool established;
};

/* Answers of one vantage x transport x family over time, in RP_BUCKETS
 * buckets. */
struct rp_rtt;
struct rp_strip {
    const char *vantage; /* interned; NULL: the others */
    enum ah_transport tr;
    enum ah_family fam; /* of the probed address */
    struct rp_rtt *rtt; /* its RTT histograms (report_rtt.c); NULL: no RTT yet */
    uint32_t ok[RP_BUCKETS][RP_NODES_MAX + 1]; /* the last column: other nodes */
    uint32_t fail[RP_BUCKETS];
};

struct rp_verdict {
    const char *text;
    unsigned line;
    struct expect_verdict v;
    char why[512]; /* a failure's reason in one sentence (raw text); "" otherwise */
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
    struct rp_names names;
    struct rp_strip **strips;
    size_t nstrips;
    size_t vantages_own, vantages_others; /* timeline vantages drawn alone, grouped */
    const char *nodes[RP_NODES_MAX];
    size_t nnodes;
    size_t strip_hint, node_hint; /* the last strip and node looked up */
    struct rp_event *ev;
    size_t nev, capev;
    struct rp_names ev_names; /* events.csv's words, nodes and details: they repeat */
    struct rp_conn *conns;
    size_t nconns, capconns;
    const char **conn_vantages; /* interned */
    size_t nconn_vantages;
    uint64_t start, end; /* the run window used by the metrics */
    struct rp_verdict *verdicts;
    size_t nverdicts, failed;
    size_t not_measured; /* verdicts on a step that started late */
    char plot_error[256];
    char plot_dir[PATH_MAX]; /* private: gnuplot's working directory */
    bool have_timeline, have_lifelines, have_rtt;
    /* Families seen in the timeline (bit 1 << enum ah_family): with both, a
     * row's label names its family. */
    unsigned families;
    /* Vantages an event affected (rp_name_state.affected), and those of
     * them the timeline drew among the others: then it is drawn again,
     * regrouped, the affected vantages first. */
    size_t naffected, affected_hidden, affected_own;
    bool regroup;
    bool merged_parts;    /* probes.csv was merged from a killed run's parts */
    const char **clocked; /* interned vantages with a clock offset, in the order set */
    size_t nclocked;
    const struct json_t *run_json; /* borrowed; NULL: none */
};

/* Inputs (report_input.c). */
int rp_read_events(struct rp *rp, const char *path);
int rp_read_conns(struct rp *rp, const char *const *paths, size_t n, struct ah_metrics *m);
void rp_inputs_free(struct rp_inputs *in);
/* Sets a vantage's clock: every time column of its probes and connections
 * rows read afterwards is rebased onto the controller's clock (time -
 * offset_ns). A later call for the same vantage replaces the earlier one.
 * Returns 0 or -ENOMEM. */
int rp_clock_set(struct rp *rp, const char *vantage, int64_t offset_ns, uint64_t uncertainty_ns,
                 int source);
struct json_t;
struct report_clock;
/* The vantages' clocks: run.json's "hosts" (run may be NULL), then opt
 * (replacing run.json's for their vantages); tells the metrics each one's
 * uncertainty. *widen_ns: how much wider the reorder window must be (the
 * spread of the offsets). Returns 0 or a negative errno. */
int rp_clocks_load(struct rp *rp, const struct json_t *run, const struct report_clock *opt,
                   size_t nopt, struct ah_metrics *m, uint64_t *widen_ns);
/* After the rows were read: -EINVAL, after naming it, when a vantage whose
 * offset was given by option had no row. */
int rp_clock_check(const struct rp *rp);

/* Timeline (report_plot.c). */
int rp_timeline_add(struct rp *rp, const struct rp_probe *p);
/* The transport of strip st, with its family when the report has both
 * ("udp ipv6"), into buf. */
const char *rp_strip_what(const struct rp *rp, const struct rp_strip *st, char *buf, size_t cap);
/* Forgets the timeline (and its RTT) to draw it again from the probes,
 * this time the vantages an event affected on rows of their own first
 * (up to RP_VANTAGES_SHOWN), the rest after them and then together. */
void rp_timeline_regroup(struct rp *rp);
void rp_names_reset_strips(struct rp_names *t);
/* Makes timeline.svg/.png and connections.svg/.png with gnuplot in the
 * private rp->plot_dir. Returns 0, or a negative errno with rp->plot_error
 * set (the report goes on). */
int rp_plot(struct rp *rp);
/* With publish, moves the plots made into out_dir (no symlink followed);
 * then removes the private directory. Safe when rp_plot failed or was not
 * called. Returns 0 or a negative errno with rp->plot_error set. */
int rp_plot_finish(struct rp *rp, bool publish);
const char *rp_node_color(size_t i);
/* The display form of an untrusted name in a gnuplot data file: terminal
 * escaping (controls, invalid UTF-8 as \xNN; cut to RP_LABEL_MAX bytes),
 * then backslash and double quote written as gnuplot's string escapes, so
 * the plot shows that text literally. Returns the length. */
size_t rp_plot_label(char *out, size_t cap, const char *name);
#define RP_PLOT_LABEL_CAP (RP_LABEL_MAX * 4 + 1)

/* RTT over time and its CDF per timeline row (report_rtt.c). */
#define RP_RTT_BUCKETS 100 /* RTT buckets per row: RP_BUCKETS / 6 */
/* Adds an ok probe's RTT to strip st, whose timeline bucket is b. Returns 0
 * or -ENOMEM. */
int rp_rtt_add(struct rp_strip *st, size_t b, const struct rp_probe *p);
/* The timeline's buckets doubled in width: the RTT buckets follow. */
void rp_rtt_rescale(struct rp_strip *st);
/* Makes rtt.svg/.png and rtt-cdf.svg/.png (after the timeline, whose row
 * order they share); sets rp->have_rtt. Returns 0 or a negative errno. */
int rp_rtt_plots(struct rp *rp, FILE *g);
/* The percentile p (0..100) of n RTTs in µs as the report's histograms give
 * it (the middle of the bin of the nearest rank), in ms. */
double rp_rtt_percentile(const uint64_t *us, size_t n, double p);
/* One plot: script writes its data files and settings to g and its plot
 * command to cmd, and returns its height (0: nothing to draw); then its
 * SVG and PNG outputs. Returns 1 when drawn, 0, or a negative errno. */
int rp_plot_one(struct rp *rp, FILE *g, const char *name,
                int (*script)(struct rp *, FILE *, FILE *));

/* What the plots share (report_marks.c): times in seconds from the run's
 * start, new files of the private plot directory, the common settings, and
 * the event marks. */
double rp_plot_sec(const struct rp *rp, uint64_t ts);
double rp_plot_xmax(const struct rp *rp);
FILE *rp_plot_dat_open(const struct rp *rp, const char *name);
int rp_plot_dat_close(FILE *f);
void rp_plot_common(FILE *g);
/* Drill events numbered in the plots (the first ones drawn); the page
 * lists them with their labels. */
#define RP_PLOT_NUMBERED 99
/* Writes the events drawn (one per pixel column and kind) to file and
 * numbers the drill events among them (rp_event.plot_no). Returns the
 * kinds present as a bit mask, or a negative errno. */
int rp_plot_events(struct rp *rp, const char *file);
/* The numbers of the drill events as gnuplot labels, staggered over rows
 * so that they never overlap (after rp_plot_common: it resets them). */
void rp_plot_event_numbers(const struct rp *rp, FILE *g);
/* The head of a plot with a row per timeline strip over the run's time:
 * the events written to events_file, the common settings, the event
 * numbers, the grid and ranges for nrows rows. Returns the kinds of events
 * (rp_plot_events) or a negative errno. */
int rp_plot_rows_head(struct rp *rp, FILE *g, const char *events_file, size_t nrows);
/* The plot clauses that draw the events of file and their key. */
void rp_plot_event_clauses(FILE *g, const char *file, int kinds);

/* gnuplot in a private directory (report_gnuplot.c). */
int rp_gnuplot_dir(struct rp *rp);
int rp_gnuplot_run(struct rp *rp, const char *script);

/* Event cards (report_cards.c). A summary row's part in an event's cost:
 * affected (a probe lost, another node answering, a flow flipped, a
 * connection broken, or the RTT median moved past the margin below from
 * the baseline's), unaffected, or no data (no probe in the window). */
enum rp_card_class { RP_CARD_UNAFFECTED, RP_CARD_AFFECTED, RP_CARD_NO_DATA };
#define RP_CARD_RTT_MARGIN_MS   1.0  /* an RTT median change this small is noise... */
#define RP_CARD_RTT_MARGIN_FRAC 0.25 /* ...and so is one within 25 % of the baseline */
enum rp_card_class rp_card_classify(const struct ah_metrics_row *r);
/* The label of an event with its arguments, as raw text (escape it where it
 * is shown): "withdraw fra", "withdraw fra#2", "delay iad 300ms", "flap sin
 * 3/6 (withdraw)", from the event's word, node, occurrence (1-based; 0 or 1:
 * the first) and events.csv detail (may be NULL). Returns the length. */
size_t rp_event_label(char *buf, size_t cap, const char *event, const char *node, unsigned occ,
                      const char *detail);
#define RP_EVENT_LABEL_CAP (2 * RP_NAME_MAX + 64)
/* The events.csv row of a summary row's event (its word, node and time),
 * or NULL. */
const struct rp_event *rp_event_of_row(const struct rp *rp, const struct ah_metrics_row *r);
/* The list of the drill events numbered in the plots, with their labels. */
void rp_write_plot_events(const struct rp *rp, FILE *f);
/* A row's event as expectations name it ("withdraw ams#2"), for HTML. */
void rp_html_event_ref(FILE *f, const struct ah_metrics_row *r);
/* The cards section of the page. */
void rp_write_cards(const struct rp *rp, const struct ah_metrics *m, FILE *f);

/* Why an expectation failed, in one sentence from the data (report_why.c).
 * What the rows and events say around the deciding row. */
struct rp_why_facts {
    const struct ah_metrics_row *row; /* the row that decided; NULL: none matched */
    /* With no row: whether any summary row has the event, the vantage, the
     * vantage with the transport. */
    bool event_seen, vantage_seen, transport_seen;
    const char
        *route_now;   /* the nexthop of the row's vantage's router at the event; NULL: unknown */
    uint64_t answers; /* never-answered-by: the node's answers in the window */
    bool direct_withdraw; /* the lab moves routes itself: no detect_ms */
};
/* Writes the sentence for a failed verdict of e into buf (raw text: names
 * in it are the data's). Returns the length. */
size_t rp_why_sentence(char *buf, size_t cap, const struct expect *e, const struct rp_why_facts *w);
/* The facts of a verdict from the metrics and the events. */
void rp_why_facts(const struct rp *rp, const struct ah_metrics *m, const struct expect *e,
                  const struct expect_verdict *v, struct rp_why_facts *w);

/* summary.csv into dir (atomically; marks the rows an event touched as
 * affected for the page) and summary.json to f (report_summary.c). Both
 * return 0 or a negative errno. */
int rp_write_summary_csv(struct rp *rp, const struct ah_metrics *m, const char *dir);
int rp_write_summary_json(const struct rp *rp, const struct ah_metrics *m, FILE *f);

/* The page (report_html.c), written to f. */
int rp_write_html(const struct rp *rp, const struct ah_metrics *m, FILE *f);

/* Opens dir/name for an atomic write (a temp file beside it, renamed by
 * rp_out_close); tmp receives the temp path. NULL with errno on failure. */
FILE *rp_out_open(const char *dir, const char *name, char *tmp, size_t tmplen);
/* Closes f and renames tmp into dir/name; removes tmp on any error.
 * Returns 0 or a negative errno. */
int rp_out_close(FILE *f, const char *tmp, const char *dir, const char *name);

/* The per-vantage files of a run killed before it merged them
 * (report_parts.c). */
struct rp_parts {
    char (*dir)[PATH_MAX + 32]; /* RUN/probes-VANTAGE[-KIND] */
    size_t n;
    char tmp[PATH_MAX];                               /* private directory of the merged files */
    char probes[PATH_MAX + 32], conns[PATH_MAX + 32]; /* the merged files */
};
/* Lists the per-vantage directories that hold a probes.csv. */
int rp_parts_find(const char *run_dir, struct rp_parts *pt);
/* Merges them into pt->probes and pt->conns (in the run directory when it
 * can be written, else in pt->tmp); says so on stderr. */
int rp_parts_merge(const char *run_dir, struct rp_parts *pt);
void rp_parts_free(struct rp_parts *pt);

/* Helpers shared by the writers. */
void rp_html_str(FILE *f, const char *s);
void rp_ms(char *buf, size_t len, double ms); /* "%.3f" or "" for NaN */

#endif
