/* `--baseline RUN` (docs/expect.md, "baseline-run"): the usage check, the
 * baseline run's rows and their lookup for expect_eval_baseline(). */
#ifndef DIFF_BASELINE_H
#define DIFF_BASELINE_H

#include "ah/metrics.h"
#include "diff.h"
#include "harness/lab/lab.h"

/* Returns 0, or 2 (bad usage, logged) when an expectation of lab uses
 * baseline-run and baseline is NULL (the message names the expectation),
 * or when baseline holds no summary.csv. */
int diff_baseline_check(const struct lab *lab, const char *baseline);

/* Reads baseline/summary.csv into t (diff_table_load). */
int diff_baseline_load(struct diff_table *t, const char *baseline);

/* The lookup of struct expect_baseline, arg a struct diff_table *. */
int diff_baseline_value(void *arg, const struct ah_metrics_row *r, const char *metric, double *out);

#endif
