/* The report: streams the results CSVs through the metrics (lib/metrics.c)
 * and the timeline, judges the lab's expectations, and writes summary.csv,
 * summary.json, the plots and report.html; plus `anycast-lab report`. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/json.h"
#include "ah/csv.h"
#include "ah/dur.h"
#include "ah/esc.h"
#include "ah/file.h"
#include "ah/log.h"
#include "ah/schema.h"
#include "diff_baseline.h"
#include "junit.h"
#include "report_int.h"
#include "results.h"

/* ---- expectations ---- */

/* An expectation tied to a drill step that started later than the lab's
 * tolerance (run.json's late_steps) is "not measured": what it would judge
 * happened at another time than the lab file says. */
static int judge(struct rp *rp, const struct ah_metrics *m, const struct results_late *late,
                 const struct expect_baseline *bl)
{
    if (!rp->lab || rp->lab->nexpect == 0)
        return 0;
    rp->verdicts = calloc(rp->lab->nexpect, sizeof *rp->verdicts);
    if (!rp->verdicts)
        return -ENOMEM;
    for (size_t i = 0; i < rp->lab->nexpect; i++) {
        const struct lab_expect *le = &rp->lab->expect[i];
        struct rp_verdict *v = &rp->verdicts[rp->nverdicts++];
        struct expect e;
        char err[256];
        unsigned off;
        v->text = le->text;
        v->line = le->line;
        if (expect_parse(le->text, &e, err, sizeof err, &off) < 0) {
            v->v.pass = false;
            snprintf(v->v.measured, sizeof v->v.measured, "invalid");
            snprintf(v->v.where, sizeof v->v.where, "%.120s", err);
            v->v.row = SIZE_MAX;
        } else {
            char ref[EXPECT_WORD_MAX * 2 + 16];
            uint64_t late_ns;
            bool stepped = expect_step_ref(&e, ref, sizeof ref) == 0;
            if (stepped && results_step_unreached(late, ref))
                expect_not_reached(&v->v, ref);
            else if (stepped && results_late_has(late, ref, &late_ns))
                expect_not_measured(&v->v, ref, late_ns, late->tolerance_ns);
            else
                expect_eval_baseline(&e, m, bl, &v->v);
            if (!v->v.pass && !v->v.not_measured) {
                struct rp_why_facts w;
                rp_why_facts(rp, m, &e, &v->v, &w);
                rp_why_sentence(v->why, sizeof v->why, &e, &w);
            }
        }
        if (v->v.not_measured)
            rp->not_measured++;
        else if (!v->v.pass)
            rp->failed++;
    }
    return 0;
}

/* s as text safe for a terminal (names in it may be any bytes). */
static const char *term(char *buf, size_t cap, const char *s)
{
    ah_esc_term(buf, cap, s, strlen(s));
    return buf;
}

/* The verdict table on stdout; a line that did not pass ends in the
 * expectation's FILE:LINE, as the log line printed instead under -q does. */
static void print_table(const struct rp *rp, const char *lab_path, const char *html)
{
    char a[1024], b[512], c[1024], d[PATH_MAX + 32] = "";
    if (rp->nverdicts) {
        printf("expectations: %zu passed, %zu failed",
               rp->nverdicts - rp->failed - rp->not_measured, rp->failed);
        if (rp->not_measured)
            printf(", %zu not measured", rp->not_measured);
        printf("\n");
        size_t w = 10;
        for (size_t i = 0; i < rp->nverdicts; i++)
            if (strlen(term(a, sizeof a, rp->verdicts[i].text)) > w)
                w = strlen(a);
        for (size_t i = 0; i < rp->nverdicts; i++) {
            const struct rp_verdict *v = &rp->verdicts[i];
            if (!v->v.pass || v->v.not_measured) {
                char at[PATH_MAX + 16];
                snprintf(at, sizeof at, "%s:%u", lab_path, v->line);
                snprintf(d, sizeof d, "  [%s]", term(c, sizeof c, at));
            }
            printf("  %s  %-*s  %-12s %s%s\n",
                   v->v.not_reached    ? "NOT REACHED"
                   : v->v.not_measured ? "NOT MEASURED"
                   : v->v.pass         ? "PASS"
                                       : "FAIL",
                   (int)w, term(a, sizeof a, v->text), term(b, sizeof b, v->v.measured),
                   term(c, sizeof c, v->v.where), v->v.pass && !v->v.not_measured ? "" : d);
            if (v->why[0])
                printf("        why: %s\n", term(a, sizeof a, v->why));
        }
    }
    printf("report: %s\n", term(a, sizeof a, html));
    fflush(stdout);
}

/* ---- the whole report ---- */

static void rp_free(struct rp *rp)
{
    rp_inputs_free(&rp->probes_in);
    rp_inputs_free(&rp->conns_in);
    rp_inputs_free(&rp->events_in);
    free(rp->ev);
    rp_names_free(&rp->ev_names);
    for (size_t i = 0; i < rp->nstrips; i++) {
        free(rp->strips[i]->rtt);
        free(rp->strips[i]);
    }
    free(rp->strips);
    free(rp->conns);
    free(rp->conn_vantages);
    free(rp->verdicts);
    free(rp->clocked);
    rp_names_free(&rp->names);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Makes the plots, writes summary.json and report.html through temp files,
 * and moves the plots into place. */
static int write_outputs(struct rp *rp, const struct ah_metrics *m, const char *dir)
{
    static const char *const names[] = {"summary.json", "report.html"};
    int rc;
    if (rp_plot(rp) < 0)
        ah_log_warn("report: no plots: %s", rp->plot_error);
    for (size_t i = 0; i < 2; i++) {
        char tmp[PATH_MAX + 64];
        FILE *f = rp_out_open(dir, names[i], tmp, sizeof tmp);
        if (!f) {
            rc = -errno;
        } else {
            rc = i == 0 ? rp_write_summary_json(rp, m, f) : rp_write_html(rp, m, f);
            if (rc < 0) {
                fclose(f);
                unlink(tmp);
            } else {
                rc = rp_out_close(f, tmp, dir, names[i]);
            }
        }
        if (rc < 0) {
            ah_log_error("%s/%s: %s", dir, names[i], strerror(-rc));
            return rc;
        }
    }
    if (rp_plot_finish(rp, true) < 0)
        ah_log_warn("report: plots not written: %s", rp->plot_error);
    return 0;
}

/* What report_build works on: its options with the run directory's files
 * filled in, the report itself, and everything freed at the end. */
struct rb {
    struct report_opts o;
    struct rp rp;
    const struct lab *lab;
    struct lab *own_lab;
    struct ah_metrics *m;
    struct rp_merge *mg;
    struct rp_parts pt;
    json_t *run_json;       /* NULL: no run.json, or one that could not be read */
    struct diff_table base; /* --baseline: the baseline run's summary rows */
    char pp[PATH_MAX + 32], cp[PATH_MAX + 32], ep[PATH_MAX + 32], jp[PATH_MAX + 32];
    const char *pv[1], *cv[1];
};

/* A run killed before it merged its per-vantage files: they are merged now
 * and read instead of the missing probes.csv and connections.csv. */
static int rb_parts(struct rb *b, const char *run_dir)
{
    int rc = rp_parts_find(run_dir, &b->pt);
    if (rc < 0 || b->pt.n == 0)
        return rc;
    if ((rc = rp_parts_merge(run_dir, &b->pt)) < 0) {
        ah_log_error("%s: merging the per-vantage files: %s", run_dir, strerror(-rc));
        return rc;
    }
    snprintf(b->pp, sizeof b->pp, "%s", b->pt.probes);
    snprintf(b->cp, sizeof b->cp, "%s", b->pt.conns);
    b->rp.merged_parts = true;
    return 0;
}

/* The run directory's lab.yaml, when the caller has no lab: the settings
 * and expectations of the report. */
static void rb_lab_of_run(struct rb *b, const char *run_dir)
{
    char lp[PATH_MAX + 32];
    snprintf(lp, sizeof lp, "%s/lab.yaml", run_dir);
    struct lab_diag d = {0};
    if (exists(lp) && lab_load(lp, &b->own_lab, &d) < 0)
        ah_log_warn("%s: not loaded (%s): no settings or expectations in the report", lp,
                    d.n ? d.msgs[0] : "error");
    lab_diag_free(&d);
    b->lab = b->own_lab;
}

/* The files of a run directory, for each input the options leave open. */
static int rb_run_dir(struct rb *b, const char *run_dir)
{
    struct report_opts *o = &b->o;
    int rc;
    snprintf(b->pp, sizeof b->pp, "%s/probes.csv", run_dir);
    snprintf(b->cp, sizeof b->cp, "%s/connections.csv", run_dir);
    snprintf(b->ep, sizeof b->ep, "%s/events.csv", run_dir);
    snprintf(b->jp, sizeof b->jp, "%s/run.json", run_dir);
    if (!o->probes && !exists(b->pp) && (rc = rb_parts(b, run_dir)) < 0)
        return rc;
    b->pv[0] = b->pp;
    b->cv[0] = b->cp;
    if (!o->probes) {
        o->probes = b->pv;
        o->nprobes = 1;
    }
    if (!o->connections && exists(b->cp)) {
        o->connections = b->cv;
        o->nconnections = 1;
    }
    if (!o->events && exists(b->ep))
        o->events = b->ep;
    if (!o->run_json && exists(b->jp))
        o->run_json = b->jp;
    if (!o->out_dir)
        o->out_dir = run_dir;
    if (!b->lab)
        rb_lab_of_run(b, run_dir);
    return 0;
}

/* Inputs: the files to read, the lab, the report's name and run.json. A
 * run.json that cannot be read leaves the report without the drill's times
 * and late steps, as one without them. */
static int rb_inputs(struct rb *b, const char *run_dir)
{
    int rc;
    if (run_dir && (rc = rb_run_dir(b, run_dir)) < 0)
        return rc;
    if (!b->o.out_dir)
        b->o.out_dir = ".";
    snprintf(b->rp.out_dir, sizeof b->rp.out_dir, "%s", b->o.out_dir);
    b->rp.lab = b->lab;
    snprintf(b->rp.name, sizeof b->rp.name, "%s",
             b->lab    ? b->lab->name
             : run_dir ? "run"
                       : "report");
    if (b->o.run_json) {
        char err[PATH_MAX + 256];
        rc = results_run_json_load(b->o.run_json, &b->run_json, err, sizeof err);
        if (rc < 0 && rc != -ENOENT)
            ah_log_warn("%s: not used: no drill times or late steps from it", err);
    }
    if (diff_baseline_check(b->lab, b->o.baseline) != 0)
        return REPORT_USAGE;
    if (b->o.baseline && diff_baseline_load(&b->base, b->o.baseline) < 0)
        return REPORT_USAGE;
    return 0;
}

/* Metrics: set up from run.json's drill window and the lab's settings. */
static int rb_metrics(struct rb *b)
{
    struct ah_metrics_cfg cfg = {0};
    uint64_t s = ah_json_u64(b->run_json, "drill_start_ns", 0);
    uint64_t e = ah_json_u64(b->run_json, "end_ns", 0);
    if (s && e > s) {
        cfg.start_ns = s;
        cfg.end_ns = e;
    }
    if (b->lab) {
        const struct lab *lab = b->lab;
        cfg.tcp_connections = lab->tcp.enabled ? lab->tcp.connections : 0;
        /* In a deployment, withdraw is whatever the user's action does (a
         * BGP withdraw, say): nothing says it moves the route directly. The
         * lab's mode decides for every vantage: a vantage's own routing
         * is one of static, ecmp and ecmp-resilient, all direct. */
        cfg.direct_withdraw =
            lab->kind == LAB_KIND_LAB &&
            (lab->routing == LAB_ROUTING_STATIC || lab->routing == LAB_ROUTING_ECMP ||
             lab->routing == LAB_ROUTING_ECMP_RESILIENT ||
             lab->routing == LAB_ROUTING_TRACKED); /* `no ip route` */
    }
    b->rp.start = cfg.start_ns;
    b->rp.end = cfg.end_ns;
    return ah_metrics_new(&b->m, &cfg);
}

/* The probe files merged in time order into the metrics and the timeline. */
static int rb_probes(struct rb *b)
{
    struct rp_probe p;
    int rc = rp_merge_open(&b->mg, b->o.probes, b->o.nprobes, b->o.reorder_window_ns,
                           &b->rp.probes_in, &b->rp.names);
    if (rc < 0)
        return rc;
    while ((rc = rp_merge_next(b->mg, &p)) > 0) {
        struct ah_metrics_probe mp = {p.ts_ns, p.vantage, p.tr,      p.svc,    p.conn,
                                      p.res,   p.node,    p.has_rtt, p.rtt_us, p.fam};
        if ((rc = ah_metrics_add_probe(b->m, &mp)) < 0 || (rc = rp_timeline_add(&b->rp, &p)) < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    b->rp.late = rp_merge_late(b->mg);
    if (b->rp.late)
        ah_log_warn("%llu probe rows were further out of order than the reorder window; "
                    "counted where they belong, but a few figures may be off",
                    (unsigned long long)b->rp.late);
    if (b->rp.vantages_others)
        ah_log_info("report: %zu vantages drawn one by one, %zu more together as \"others\"",
                    b->rp.vantages_own, b->rp.vantages_others);
    return 0;
}

/* The vantages' clocks (run.json, --clock-offset): rows are rebased as they
 * are read, so the reorder window grows by the spread of the offsets. */
static int rb_clocks(struct rb *b)
{
    uint64_t widen = 0;
    int rc = rp_clocks_load(&b->rp, b->run_json, b->o.clocks, b->o.nclocks, b->m, &widen);
    if (rc < 0)
        return rc;
    uint64_t w = b->o.reorder_window_ns;
    b->o.reorder_window_ns = w > UINT64_MAX - widen ? UINT64_MAX : w + widen;
    return 0;
}

/* Merge: events, probes and connections through the metrics. */
static int rb_merge(struct rb *b)
{
    struct rp *rp = &b->rp;
    int rc;
    if (b->o.events && (rc = rp_read_events(rp, b->o.events)) < 0)
        return rc;
    for (size_t i = 0; i < rp->nev; i++) {
        struct ah_metrics_event e = {rp->ev[i].ts_ns, rp->ev[i].event, rp->ev[i].node,
                                     rp->ev[i].detail};
        if ((rc = ah_metrics_add_event(b->m, &e)) < 0)
            return rc;
    }
    if ((rc = rb_probes(b)) < 0 ||
        (rc = rp_read_conns(rp, b->o.connections, b->o.nconnections, b->m)) < 0 ||
        (rc = rp_clock_check(rp)) < 0 || (rc = ah_metrics_finish(b->m)) < 0)
        return rc;
    ah_metrics_span(b->m, &rp->start, &rp->end);
    for (size_t k = 0; k < 3; k++) {
        const struct rp_inputs *in = k == 0   ? &rp->probes_in
                                     : k == 1 ? &rp->conns_in
                                              : &rp->events_in;
        for (size_t i = 0; i < in->nfiles; i++)
            if (in->files[i].skipped)
                ah_log_warn("%s: %llu rows skipped, %llu used", in->files[i].path,
                            (unsigned long long)in->files[i].skipped,
                            (unsigned long long)in->files[i].rows);
    }
    return 0;
}

/* Judge: the expectations against the metrics, those on a late step not
 * measured. */
static int rb_judge(struct rb *b)
{
    struct results_late late;
    results_late_from_json(b->run_json, &late);
    struct expect_baseline bl = {diff_baseline_value, &b->base};
    int rc = judge(&b->rp, b->m, &late, b->o.baseline ? &bl : NULL);
    results_late_free(&late);
    return rc;
}

/* When the timeline drew a vantage an event affected among the others
 * (more than RP_VANTAGES_SHOWN vantages), the probes are read once more for
 * the timeline alone, the affected vantages on rows of their own first. */
static int rb_regroup(struct rb *b)
{
    if (!b->rp.affected_hidden)
        return 0;
    struct rp_inputs again = {.quiet = true};
    struct rp_merge *mg = NULL;
    struct rp_probe p;
    rp_timeline_regroup(&b->rp);
    int rc =
        rp_merge_open(&mg, b->o.probes, b->o.nprobes, b->o.reorder_window_ns, &again, &b->rp.names);
    while (rc >= 0 && (rc = rp_merge_next(mg, &p)) > 0)
        rc = rp_timeline_add(&b->rp, &p);
    rp_merge_close(mg);
    rp_inputs_free(&again);
    return rc < 0 ? rc : 0;
}

/* Outputs: the files, then the verdict table, or, when there is no table
 * (anycast-lab -q), one log line per expectation that did not pass: each
 * verdict is printed once. */
static int rb_outputs(struct rb *b)
{
    const struct rp *rp = &b->rp;
    const char *lab_path = b->lab && b->lab->path ? b->lab->path : "lab";
    mkdir(b->o.out_dir, 0755);
    b->rp.run_json = b->run_json;
    int rc = rp_write_summary_csv(&b->rp, b->m, b->o.out_dir);
    if (rc < 0) {
        ah_log_error("%s/summary.csv: %s", b->o.out_dir, strerror(-rc));
        return rc;
    }
    if ((rc = rb_regroup(b)) < 0 || (rc = write_outputs(&b->rp, b->m, b->o.out_dir)) < 0)
        return rc;
    for (size_t i = 0; !b->o.print_table && i < rp->nverdicts; i++) {
        const struct rp_verdict *v = &rp->verdicts[i];
        if (v->v.not_measured)
            ah_log_warn("expectation %s: %s:%u: \"%s\": %s", expect_verdict_name(&v->v), lab_path,
                        v->line, v->text, v->v.where);
        else if (!v->v.pass)
            ah_log_error("expectation failed: %s:%u: \"%s\": measured %s (%s)%s%s", lab_path,
                         v->line, v->text, v->v.measured, v->v.where, v->why[0] ? ": " : "",
                         v->why);
    }
    if (b->o.print_table) {
        char html[PATH_MAX + 32];
        snprintf(html, sizeof html, "%s/report.html", b->o.out_dir);
        print_table(rp, lab_path, html);
    }
    if (b->o.junit && (rc = junit_write_verdicts(b->o.junit, rp, lab_path)) < 0)
        ah_log_error("--junit %s: %s", b->o.junit, strerror(-rc));
    return rc;
}

int report_build(const char *run_dir, const struct lab *lab, const struct report_opts *opts)
{
    struct rb *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    if (opts)
        b->o = *opts;
    b->lab = lab;
    int rc;
    if ((rc = rb_inputs(b, run_dir)) < 0 || (rc = rb_metrics(b)) < 0 || (rc = rb_clocks(b)) < 0 ||
        (rc = rb_merge(b)) < 0 || (rc = rb_judge(b)) < 0 || (rc = rb_outputs(b)) < 0)
        goto out;
    rc = (int)(b->rp.failed + b->rp.not_measured);
out:
    rp_plot_finish(&b->rp, false); /* after an error: the private directory removed */
    rp_merge_close(b->mg);
    ah_metrics_free(b->m);
    rp_free(&b->rp);
    lab_free(b->own_lab);
    rp_parts_free(&b->pt);
    json_decref(b->run_json);
    diff_table_free(&b->base);
    free(b);
    return rc;
}

int report_file_kind(const char *path)
{
    struct ah_csv_reader *r = NULL;
    char **fl;
    size_t nf;
    unsigned long line;
    int kind = -1;
    if (ah_csv_reader_open(&r, path) < 0)
        return -1;
    if (ah_csv_reader_next(r, &fl, &nf, &line) > 0 && nf > 1) {
        /* By the first column, and the count and the second column where
         * probes.csv and events.csv share the first. */
        const char *first = fl[0];
        if (nf == AH_SCHEMA_PROBES_COLS &&
            strcmp(fl[AH_PROBES_VANTAGE], ah_schema_probes_cols[AH_PROBES_VANTAGE]) == 0 &&
            strcmp(first, ah_schema_probes_cols[0]) == 0)
            kind = REPORT_FILE_PROBES;
        else if (strcmp(first, ah_schema_connections_cols[0]) == 0)
            kind = REPORT_FILE_CONNECTIONS;
        else if (strcmp(first, ah_schema_events_cols[0]) == 0 && nf == AH_SCHEMA_EVENTS_COLS)
            kind = REPORT_FILE_EVENTS;
        else if (strcmp(first, ah_schema_probes_cols[0]) == 0)
            kind = REPORT_FILE_PROBES;
    }
    ah_csv_reader_close(r);
    return kind;
}
