/* `anycast-lab diff RUN_A RUN_B`: its options, the check that the two runs
 * played the same drill, and the outputs (docs/anycast-lab.md, "diff"); the
 * comparison itself is harness/results/diff.c. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/esc.h"
#include "ah/json.h"
#include "ah/log.h"
#include "cli.h"
#include "harness/results/diff.h"
#include "harness/results/results.h"

struct diff_args {
    struct diff_opts o;
    const char *html, *junit;
};

/* --threshold-ms N and --threshold-pct P: a number from 0 up, decimals
 * allowed. */
static int opt_threshold(const struct ah_opt *opt, void *base, const char *val, char *err,
                         size_t errlen)
{
    struct diff_args *a = base;
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (*end || end == val || errno || !isfinite(v) || v < 0) {
        snprintf(err, errlen, "\"%s\" is not a number from 0 up", val);
        return -EINVAL;
    }
    if (strcmp(opt->name, "threshold-ms") == 0)
        a->o.threshold_ms = v;
    else
        a->o.threshold_pct = v;
    return 0;
}

static const struct ah_opt diff_opts_tbl[] = {
    {"threshold-ms", 0, AH_OPT_CALL, .fn = opt_threshold, .metavar = "N",
     .help = "a time regresses when it grows by more than N ms (default 10) ..."},
    {"threshold-pct", 0, AH_OPT_CALL, .fn = opt_threshold, .metavar = "P",
     .help = "... and by more than P % of A (default 20; a count: more than P % and at least "
             "1)"},
    {"html", 0, AH_OPT_STRING, AH_OPT_AT(struct diff_args, html), .metavar = "FILE",
     .help = "also write the comparison as one self-contained HTML page (- for stdout)"},
    {"junit", 0, AH_OPT_STRING, AH_OPT_AT(struct diff_args, junit), .metavar = "FILE",
     .help = "also write JUnit XML: one testcase per compared row, failed when it regressed "
             "(- for stdout)"},
    {"quiet", 'q', AH_OPT_CALL, .fn = cli_opt_quiet, .help = "no table: the exit status only"},
    {"help", 'h', AH_OPT_HELP, .help = "this text"},
};

static const struct ah_opt_cmd diff_cmd = {
    .program = "anycast-lab",
    .command = "diff",
    .version = AH_VERSION,
    .usage = "Usage: anycast-lab diff [OPTIONS] RUN_A RUN_B\n"
             "\n"
             "Compares two runs' summary.csv (before and after a change): rows matched by\n"
             "event, node, occurrence, vantage, transport and service; for each metric A, B,\n"
             "the delta and a mark (same, better, REGRESSION, changed, not comparable);\n"
             "rows of one run only listed as \"only in A\" or \"only in B\". The runs may\n"
             "differ in their settings (routing mode, timers) but must have played the same\n"
             "drill. Up is worse for lost, outage_ms, switch_ms, flips, conns_broken,\n"
             "break_ms_*, reconnect_ms, detect_ms and rtt_ms_*. No root needed.\n",
    .footer = "Exit status: 0 no regression, 1 a regression (or an error), 2 bad usage or\n"
              "runs that cannot be compared.\n",
    .opts = diff_opts_tbl,
    .nopts = sizeof diff_opts_tbl / sizeof diff_opts_tbl[0],
};

/* One run's run.json (NULL when it has none or it cannot be read). */
static json_t *run_json(const char *dir)
{
    char path[PATH_MAX], err[PATH_MAX + 256];
    json_t *j = NULL;
    snprintf(path, sizeof path, "%s/run.json", dir);
    int rc = results_run_json_load(path, &j, err, sizeof err);
    if (rc < 0 && rc != -ENOENT)
        ah_log_warn("%s: not used (%s): the drills are not checked", path, err);
    return rc < 0 ? NULL : j;
}

/* Step i of a run.json's drill as "withdraw fra" (or "" past the end). */
static void step(const json_t *j, size_t i, char *buf, size_t len)
{
    const json_t *s = json_array_get(json_object_get(j, "drill"), i);
    const char *ev = ah_json_string(s, "event"), *node = ah_json_string(s, "node");
    snprintf(buf, len, "%s%s%s", ev ? ev : "", node ? " " : "", node ? node : "");
}

/* Rows are comparable when both runs played the same steps in the same
 * order (the times and the settings may differ). Returns 0, or 2 after
 * naming the first difference. */
static int same_drill(const json_t *ja, const json_t *jb, const char *a, const char *b)
{
    if (!ja || !jb)
        return 0;
    size_t na = json_array_size(json_object_get(ja, "drill"));
    size_t nb = json_array_size(json_object_get(jb, "drill"));
    for (size_t i = 0; i < na || i < nb; i++) {
        char sa[2 * DIFF_NAME_MAX + 2], sb[2 * DIFF_NAME_MAX + 2];
        char ea[AH_ESC_TERM_MAX(sizeof sa)], eb[AH_ESC_TERM_MAX(sizeof sb)];
        step(ja, i, sa, sizeof sa);
        step(jb, i, sb, sizeof sb);
        if (strcmp(sa, sb) == 0)
            continue;
        ah_esc_term(ea, sizeof ea, sa, strlen(sa));
        ah_esc_term(eb, sizeof eb, sb, strlen(sb));
        ah_log_error("diff: %s and %s played different drills: step %zu is \"%s\" in A and "
                     "\"%s\" in B (%zu and %zu steps): their rows cannot be compared",
                     a, b, i + 1, ea, eb, na, nb);
        return 2;
    }
    return 0;
}

/* Loads dir/summary.csv. Returns 0, or the exit status. */
static int load(struct diff_table *t, const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/summary.csv", dir) >= (int)sizeof path) {
        ah_log_error("%s: path too long", dir);
        return 2;
    }
    int rc = diff_table_load(t, path);
    return rc == 0 ? 0 : rc == -EINVAL || rc == -ENOENT ? 2 : 1;
}

/* The outputs and the exit status. */
static int outputs(const struct diff_args *a, const struct diff_result *res,
                   const struct diff_names *nm)
{
    int rc;
    if (!ah_log_quiet())
        diff_print(stdout, res, nm, &a->o);
    if (a->html && (rc = diff_write_html(a->html, res, nm, &a->o)) < 0) {
        ah_log_error("--html %s: %s", a->html, strerror(-rc));
        return 1;
    }
    const char *suite = nm->lab_b ? nm->lab_b : "diff";
    if (a->junit && (rc = diff_write_junit(a->junit, res, suite)) < 0) {
        ah_log_error("--junit %s: %s", a->junit, strerror(-rc));
        return 1;
    }
    return res->worse ? 1 : 0;
}

static int diff_main(struct diff_args *a, int argc, char **argv)
{
    struct diff_table ta = {0}, tb = {0};
    struct diff_result res = {0};
    json_t *ja = NULL, *jb = NULL;
    int op, rc = cli_parse(&diff_cmd, a, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (argc - op != 2) {
        ah_log_error("usage: anycast-lab diff [OPTIONS] RUN_A RUN_B (see --help)");
        return 2;
    }
    const char *da = argv[op], *db = argv[op + 1];
    ja = run_json(da);
    jb = run_json(db);
    struct diff_names nm = {da,
                            db,
                            ah_json_string(ja, "lab"),
                            ah_json_string(jb, "lab"),
                            ah_json_string(ja, "routing"),
                            ah_json_string(jb, "routing")};
    if ((rc = same_drill(ja, jb, da, db)) != 0 || (rc = load(&ta, da)) != 0 ||
        (rc = load(&tb, db)) != 0)
        goto out;
    if (diff_compare(&ta, &tb, &a->o, &res) < 0) {
        ah_log_error("diff: out of memory");
        rc = 1;
        goto out;
    }
    rc = outputs(a, &res, &nm);
out:
    diff_result_free(&res);
    diff_table_free(&ta);
    diff_table_free(&tb);
    json_decref(ja);
    json_decref(jb);
    return rc;
}

int cli_diff_main(int argc, char **argv)
{
    struct diff_args a = {.o = {DIFF_THRESHOLD_MS_DEFAULT, DIFF_THRESHOLD_PCT_DEFAULT}};
    return diff_main(&a, argc, argv);
}
