/* The expectation language of a lab file's `expect:` strings (docs/expect.md):
 * parsing with positions for FILE:LINE:COL errors, validation against the
 * lab, and evaluation against the summary rows of lib/metrics into a
 * pass/fail verdict with the measured value. */
#ifndef EXPECT_H
#define EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/metrics.h"
#include "lab.h"

#define EXPECT_WORD_MAX 64
/* The word that names the same row of another run (`--baseline RUN`). */
#define EXPECT_BASELINE_RUN "baseline-run"

enum expect_kind {
    EXPECT_AFTER_ANSWERED_BY,  /* after EVENT answered-by NODE */
    EXPECT_BEFORE_ANSWERED_BY, /* before EVENT answered-by NODE */
    EXPECT_METRIC,             /* METRIC OP NUMBER[x baseline] [at EVENT] */
    EXPECT_NEVER_ANSWERED_BY,  /* never-answered-by NODE [at EVENT] */
};

enum expect_op { EXPECT_LT, EXPECT_LE, EXPECT_GT, EXPECT_GE, EXPECT_EQ, EXPECT_NE };

/* An event reference: "run", or VERB NODE with an optional #N (the N-th
 * event with that verb and node, 1-based). */
struct expect_ref {
    bool run;
    char verb[EXPECT_WORD_MAX];
    char node[EXPECT_WORD_MAX];
    unsigned occ;
    unsigned off; /* of the verb in the text, for messages */
};

struct expect {
    char vantage[EXPECT_WORD_MAX]; /* "*" for every vantage */
    int transport;                 /* enum ah_transport, or -1 for "*" */
    int service;                   /* enum ah_service, or -1 for "*" */
    int family;                    /* enum ah_family, or -1 for every family */
    enum expect_kind kind;
    char metric[EXPECT_WORD_MAX];
    enum expect_op op;
    double value;
    /* METRIC OP NUMBERx baseline: value is a factor of the row's base_METRIC. */
    bool relative;
    /* METRIC OP baseline-run [+|- N] or Kx baseline-run: the bound is
     * factor times the same row of the --baseline run plus value. */
    bool baseline_run;
    double factor;
    char node[EXPECT_WORD_MAX]; /* answered-by / never-answered-by */
    struct expect_ref at;
    /* Offsets in the text of the vantage, transport, service, family,
     * metric and node words, for messages that point at them. */
    unsigned off_vantage, off_transport, off_service, off_family, off_metric, off_node;
};

/* Parses one expectation. On error returns -EINVAL with a message in err
 * and the 0-based offset of the offending word in *erroff. */
int expect_parse(const char *text, struct expect *out, char *err, size_t errlen, unsigned *erroff);

/* Parses every expectation of the lab and checks its names against the lab
 * (vantages, nodes, drill events, probe transports and services). Each
 * problem is added to diag as FILE:LINE:COL. Returns 0, -EINVAL when any
 * failed, or -ENOMEM. */
int expect_validate_lab(const struct lab *lab, struct lab_diag *diag);

const char *expect_op_name(enum expect_op op);

struct expect_verdict {
    bool pass;
    /* Not judged at all: the drill step it depends on started later than the
     * lab's tolerance, so nothing was measured where it looks (pass false). */
    bool not_measured;
    /* Not measured because the step never ran: the run ended (Ctrl-C, a
     * failure) before its time. not_measured is true too. */
    bool not_reached;
    char measured[64]; /* the value that decided, or "none"/"no data"/"not measured" */
    char where[128];   /* the row it came from: "eu udp dns at withdraw ams" */
    size_t row;        /* index of that summary row; SIZE_MAX: none */
};

/* Evaluates e against the finished metrics: it passes when every matching
 * row satisfies it (and at least one row matches). */
void expect_eval(const struct expect *e, const struct ah_metrics *m, struct expect_verdict *v);

/* The same summary row of the baseline run (`--baseline RUN`) for a claim
 * with baseline-run: fn gives the value of metric on the baseline row that
 * matches r (the same event, node, occurrence, vantage, transport and
 * service): 1 with *out set, 0 when the value there is empty, -ENOENT when
 * there is no such row. */
struct expect_baseline {
    int (*fn)(void *arg, const struct ah_metrics_row *r, const char *metric, double *out);
    void *arg;
};

/* expect_eval with the baseline run for baseline-run claims (bl may be
 * NULL: such a claim is then not measured). A baseline row missing or empty
 * makes the verdict not measured, the reason in where. */
void expect_eval_baseline(const struct expect *e, const struct ah_metrics *m,
                          const struct expect_baseline *bl, struct expect_verdict *v);

/* The index of the lab's first expectation that uses baseline-run, or -1. */
long expect_lab_baseline_run(const struct lab *lab);

/* The drill step e depends on, named as drill_step_ref() names steps:
 * "withdraw ams", or "withdraw ams#2" from the second on. Returns 0, -ENOENT
 * when e is about the whole run (no step), or -ENOSPC. */
int expect_step_ref(const struct expect *e, char *buf, size_t len);

/* Makes v the verdict "not measured" because step ref started late_ns late
 * (UINT64_MAX: unknown) over a tolerance of tol_ns. */
/* The verdict of an expectation tied to step ref, which never ran. */
void expect_not_reached(struct expect_verdict *v, const char *ref);
void expect_not_measured(struct expect_verdict *v, const char *ref, uint64_t late_ns,
                         uint64_t tol_ns);

/* The verdict as one word for tables and files: "pass", "fail" or
 * "not measured". */
const char *expect_verdict_name(const struct expect_verdict *v);

#endif
