/* Two runs compared (`anycast-lab diff`, docs/anycast-lab.md): their
 * summary.csv rows read with bounds, matched by (event, node, occurrence,
 * vantage, transport, service), and every metric judged as the same, better,
 * worse beyond the thresholds (a regression) or not comparable; printed as a
 * table, as one HTML page, as JUnit XML. The same rows serve
 * `--baseline RUN` expectations. */
#ifndef DIFF_H
#define DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ah/schema.h"

/* Rows taken from one summary.csv; past it the file is refused. */
#define DIFF_ROWS_MAX 1000000
/* Bytes of an event, node or vantage name, with its NUL. */
#define DIFF_NAME_MAX 256

/* The metrics compared, in summary.csv order. */
enum diff_metric {
    DIFF_PROBES,
    DIFF_LOST,
    DIFF_OUTAGE_MS,
    DIFF_SWITCH_MS,
    DIFF_FLIPS,
    DIFF_CONNS_AT_EVENT,
    DIFF_CONNS_BROKEN,
    DIFF_BREAK_MS_P50,
    DIFF_BREAK_MS_MAX,
    DIFF_RECONNECT_MS,
    DIFF_DETECT_MS,
    DIFF_RTT_MS_P50,
    DIFF_RTT_MS_P99,
    DIFF_RTT_MS_MAX,
    DIFF_BASE_RTT_MS_P50,
    DIFF_BASE_RTT_MS_P99,
    DIFF_BASE_RTT_MS_MAX,
    DIFF_NMETRICS
};

/* The summary.csv column of metric m. */
const char *diff_metric_name(enum diff_metric m);
/* True when a larger value is worse (a regression when it grows); the rest
 * (probes, conns_at_event, the base_ figures) describe the run and are
 * shown, never judged. */
bool diff_metric_judged(enum diff_metric m);
/* True for a time in ms (the --threshold-ms margin applies), false for a
 * count. */
bool diff_metric_ms(enum diff_metric m);

struct diff_row {
    char *event, *node, *vantage; /* node "" for run rows */
    unsigned occurrence;          /* 1-based, as in expectations (withdraw sin#2) */
    enum ah_transport transport;
    enum ah_service service;
    bool has[DIFF_NMETRICS]; /* false: the field was empty */
    double val[DIFF_NMETRICS];
};

struct diff_table {
    struct diff_row *rows;
    size_t n, cap;
    uint64_t skipped; /* bad rows, each reported as FILE:LINE */
    size_t *order;    /* row indexes sorted by key (diff_table_index) */
};

/* Reads path (a summary.csv) into t, columns found by their header names
 * (an `occurrence` column is used when present, else counted from the
 * event times). A bad row is reported as FILE:LINE and skipped. Returns 0,
 * -EINVAL (not a summary.csv: error logged), -EFBIG (over DIFF_ROWS_MAX) or
 * another negative errno. */
int diff_table_load(struct diff_table *t, const char *path);
/* Adds one row (the strings are copied). For loaders and tests. Returns 0,
 * -EFBIG or -ENOMEM. */
int diff_table_add(struct diff_table *t, const struct diff_row *r);
/* Sorts the key index; call after the last add, before diff_table_find. */
int diff_table_index(struct diff_table *t);
/* The row of t with the key of r, or NULL. */
const struct diff_row *diff_table_find(const struct diff_table *t, const struct diff_row *r);
void diff_table_free(struct diff_table *t);

enum diff_mark {
    DIFF_NONE,           /* empty on both sides */
    DIFF_SAME,           /* within the thresholds */
    DIFF_BETTER,         /* smaller beyond the thresholds */
    DIFF_WORSE,          /* a regression */
    DIFF_CHANGED,        /* a descriptive metric changed */
    DIFF_NOT_COMPARABLE, /* empty on one side only */
};
const char *diff_mark_name(enum diff_mark m);

struct diff_opts {
    double threshold_ms;  /* a time must change by more than this (default 10) */
    double threshold_pct; /* and by more than this % of A (default 20) */
};
#define DIFF_THRESHOLD_MS_DEFAULT  10.0
#define DIFF_THRESHOLD_PCT_DEFAULT 20.0

/* Judges metric m going from a to b (has_a, has_b: the values exist). A
 * time is a regression when b - a > threshold_ms and > threshold_pct % of
 * a; a count when b - a > threshold_pct % of a and at least 1; better is
 * the same downwards. */
enum diff_mark diff_judge(enum diff_metric m, bool has_a, double a, bool has_b, double b,
                          const struct diff_opts *o);

/* One matched pair of rows (b NULL: only in A; a NULL: only in B). */
struct diff_pair {
    const struct diff_row *a, *b;
    enum diff_mark mark[DIFF_NMETRICS];
};

struct diff_result {
    struct diff_pair *pairs; /* A's rows in file order, then B's unmatched */
    size_t n;
    size_t worse, better, not_comparable, only_a, only_b, matched;
};

/* Matches A's rows to B's (b indexed) and judges every metric. Returns 0
 * or -ENOMEM. */
int diff_compare(const struct diff_table *a, const struct diff_table *b, const struct diff_opts *o,
                 struct diff_result *out);
void diff_result_free(struct diff_result *r);

/* The row's place: "withdraw fra" (with "#N" from the second on) or "run". */
void diff_row_event(const struct diff_row *r, char *buf, size_t len);

/* Outputs (diff_out.c). names: the two runs as given. */
struct diff_names {
    const char *a, *b;
    const char *lab_a, *lab_b, *routing_a, *routing_b; /* from run.json; may be NULL */
};
void diff_print(FILE *f, const struct diff_result *r, const struct diff_names *nm,
                const struct diff_opts *o);
int diff_write_html(const char *path, const struct diff_result *r, const struct diff_names *nm,
                    const struct diff_opts *o);
/* One testcase per matched row with a judged metric, failed when one
 * regressed. */
int diff_write_junit(const char *path, const struct diff_result *r, const char *suite);

#endif
