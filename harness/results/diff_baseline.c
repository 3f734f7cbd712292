/* `--baseline RUN` for `run` and `report`: the baseline run's summary rows,
 * looked up for expectations that say `baseline-run` (docs/expect.md), and
 * the usage checks that name such an expectation when no baseline is
 * given. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ah/log.h"
#include "diff.h"
#include "diff_baseline.h"
#include "harness/lab/expect.h"

int diff_baseline_check(const struct lab *lab, const char *baseline)
{
    long i = expect_lab_baseline_run(lab);
    if (i >= 0 && !baseline) {
        ah_log_error("%s:%u: expectation \"%s\" compares with baseline-run: give --baseline "
                     "RUN_DIR",
                     lab->path ? lab->path : "lab", lab->expect[i].line, lab->expect[i].text);
        return 2;
    }
    if (baseline) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/summary.csv", baseline);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            ah_log_error("--baseline %s: not a run's results directory (no summary.csv)", baseline);
            return 2;
        }
    }
    return 0;
}

int diff_baseline_load(struct diff_table *t, const char *baseline)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/summary.csv", baseline) >= (int)sizeof path)
        return -ENAMETOOLONG;
    return diff_table_load(t, path);
}

int diff_baseline_value(void *arg, const struct ah_metrics_row *r, const char *metric, double *out)
{
    const struct diff_table *t = arg;
    struct diff_row key = {.event = (char *)r->event,
                           .node = (char *)r->node,
                           .vantage = (char *)r->vantage,
                           .occurrence = r->occurrence ? r->occurrence : 1,
                           .transport = r->transport,
                           .service = r->service};
    const struct diff_row *b = diff_table_find(t, &key);
    if (!b)
        return -ENOENT;
    for (size_t k = 0; k < DIFF_NMETRICS; k++) {
        if (strcmp(diff_metric_name(k), metric) != 0)
            continue;
        if (!b->has[k])
            return 0;
        *out = b->val[k];
        return 1;
    }
    return -ENOENT;
}
