/* `anycast-lab report`: its options, and how the files given on the command
 * line are told apart; the work itself is report_build(). */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ah/clock.h"
#include "ah/dur.h"
#include "ah/log.h"
#include "harness/lab/lab.h"
#include "harness/results/clock_align.h"
#include "harness/results/report.h"

/* What `report`'s options fill in. */
struct report_args {
    struct report_opts o;
    const char *lab_path;
    bool window_set;
    struct report_clock *clocks; /* --clock-offset, each vantage name its own allocation */
    size_t nclocks;
};

/* The longest vantage name a results CSV may hold, with its NUL. */
#define VANTAGE_NAME_MAX 256

/* --clock-offset VANTAGE=[+-]MS, repeatable. */
static int opt_clock_offset(const struct ah_opt *opt, void *base, const char *val, char *err,
                            size_t errlen)
{
    struct report_args *a = base;
    char name[VANTAGE_NAME_MAX];
    int64_t ns;
    (void)opt;
    if (clock_offset_parse(val, name, sizeof name, &ns, err, errlen) < 0)
        return -EINVAL;
    struct report_clock *c = realloc(a->clocks, (a->nclocks + 1) * sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    a->clocks = c;
    c[a->nclocks].vantage = strdup(name);
    c[a->nclocks].offset_ns = ns;
    if (!c[a->nclocks].vantage) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    a->nclocks++;
    a->o.clocks = a->clocks;
    a->o.nclocks = a->nclocks;
    return 0;
}

static void clocks_free(struct report_args *a)
{
    for (size_t i = 0; i < a->nclocks; i++)
        free((char *)a->clocks[i].vantage);
    free(a->clocks);
}

static int opt_window(const struct ah_opt *opt, void *base, const char *val, char *err,
                      size_t errlen)
{
    struct report_args *a = base;
    (void)opt;
    if (ah_dur_parse(val, &a->o.reorder_window_ns) < 0) {
        snprintf(err, errlen, "\"%s\" is not a duration", val);
        return -EINVAL;
    }
    a->window_set = true;
    return 0;
}

static const struct ah_opt report_opts[] = {
    {"out", 'o', AH_OPT_STRING, AH_OPT_AT(struct report_args, o.out_dir), .metavar = "DIR",
     .help = "where to write (default: RUN_DIR, or .)"},
    {"lab", 'l', AH_OPT_STRING, AH_OPT_AT(struct report_args, lab_path), .metavar = "LAB.yaml",
     .help = "settings and expectations to judge"},
    {"reorder-window", 'w', AH_OPT_CALL, .fn = opt_window, .metavar = "DUR",
     .help = "how far probe rows may be out of send order (default 0 for a run directory, 10s "
             "for files)"},
    {"clock-offset", 0, AH_OPT_CALL, .fn = opt_clock_offset, .metavar = "VANTAGE=[+-]MS",
     .help = "VANTAGE's clock minus the reference clock, in ms (decimals allowed; +5000: 5 s "
             "ahead): its rows are moved back by it; replaces run.json's offset for VANTAGE; "
             "repeatable (docs/report.md, \"Clock alignment\")"},
    {"baseline", 'b', AH_OPT_STRING, AH_OPT_AT(struct report_args, o.baseline),
     .metavar = "RUN_DIR",
     .help = "the run that `baseline-run` in expectations compares with (docs/expect.md)"},
    {"junit", 0, AH_OPT_STRING, AH_OPT_AT(struct report_args, o.junit), .metavar = "FILE",
     .help = "also write the verdicts as JUnit XML, one testcase per expectation (- for "
             "stdout)"},
    {"quiet", 'q', AH_OPT_CALL, .fn = cli_opt_quiet, .help = "errors only"},
    {"help", 'h', AH_OPT_HELP, .help = "this text"},
    {"version", 'V', AH_OPT_VERSION, .help = "print the version"},
};

static const struct ah_opt_cmd report_cmd = {
    .program = "anycast-lab",
    .command = "report",
    .version = AH_VERSION,
    .usage = "Usage: anycast-lab report [OPTIONS] RUN_DIR\n"
             "       anycast-lab report [OPTIONS] FILE.csv...\n"
             "\n"
             "Recomputes summary.csv, summary.json and report.html (with timeline.svg/.png\n"
             "and connections.svg/.png) from results CSVs: from a run directory, or from\n"
             "probes.csv and connections.csv files recorded by anycast-probe on several\n"
             "hosts plus an events.csv (files are told apart by their header). Bad rows are\n"
             "reported as FILE:LINE and skipped. No root needed.\n",
    .footer = "Exit status: 0 all expectations passed, 1 one failed or an error, 2 bad usage\n"
              "(also: an expectation says baseline-run and no --baseline is given).\n",
    .opts = report_opts,
    .nopts = sizeof report_opts / sizeof report_opts[0],
};

/* A path that is not there, or a directory that holds no results, is a
 * runtime error naming that path (exit 1), before the report looks at the
 * files. */
static int paths_exist(int argc, char **argv, int op)
{
    for (int i = op; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            ah_log_error("report %s: %s", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode) && !report_is_run_dir(argv[i])) {
            ah_log_error("report %s: not a run's results directory (it has no probes.csv)",
                         argv[i]);
            return 1;
        }
    }
    return 0;
}

/* Sorts the files by their header into o's lists (pr and co have room for
 * all). Returns 0, or 2 after naming a file that is none of them. */
static int sort_files(struct report_opts *o, const char **pr, const char **co, int n, char **files)
{
    int status = 0;
    o->probes = pr;
    o->connections = co;
    for (int i = 0; i < n; i++) {
        switch (report_file_kind(files[i])) {
        case REPORT_FILE_PROBES:
            pr[o->nprobes++] = files[i];
            break;
        case REPORT_FILE_CONNECTIONS:
            co[o->nconnections++] = files[i];
            break;
        case REPORT_FILE_EVENTS:
            if (o->events) {
                ah_log_error("report: two events files: %s and %s", o->events, files[i]);
                status = 2;
            }
            o->events = files[i];
            break;
        default:
            ah_log_error("%s: not a probes, connections or events CSV (unreadable, or an "
                         "unknown header)",
                         files[i]);
            status = 2;
        }
    }
    if (status == 0 && o->nprobes == 0) {
        ah_log_error("report: no probes.csv among the files");
        status = 2;
    }
    return status;
}

/* The exit status of report_build's result: 0 all passed, 2 bad usage
 * (--baseline), 1 otherwise. */
static int report_status(int rc)
{
    return rc == 0 ? 0 : rc == REPORT_USAGE ? 2 : 1;
}

/* The report from CSV files given one by one. Returns the exit status. */
static int report_files(struct report_args *a, const struct lab *lab, int n, char **files)
{
    const char **pr = calloc((size_t)n, sizeof *pr), **co = calloc((size_t)n, sizeof *co);
    int status = 1;
    if (!pr || !co)
        goto out;
    status = sort_files(&a->o, pr, co, n, files);
    if (status != 0)
        goto out;
    if (!a->window_set)
        a->o.reorder_window_ns = 10 * AH_NS_PER_S;
    status = report_status(report_build(NULL, lab, &a->o));
out:
    free(pr);
    free(co);
    return status;
}

static int report_main(struct report_args *a, int argc, char **argv)
{
    struct lab *lab = NULL;
    struct stat st;
    int op, rc = cli_parse(&report_cmd, a, argc, argv, &op);
    if (rc >= 0)
        return rc;
    a->o.print_table = !ah_log_quiet();
    if ((rc = paths_exist(argc, argv, op)) != 0)
        return rc;
    if (op >= argc) {
        ah_log_error("report: give a run directory or CSV files (see --help)");
        return 2;
    }
    if (a->lab_path && (rc = cli_load_lab(a->lab_path, &lab)) < 0)
        return lab_load_exit(rc);
    if (argc - op == 1 && stat(argv[op], &st) == 0 && S_ISDIR(st.st_mode))
        rc = report_status(report_build(argv[op], lab, &a->o));
    else
        rc = report_files(a, lab, argc - op, argv + op);
    lab_free(lab);
    return rc;
}

int cli_report_main(int argc, char **argv)
{
    struct report_args a = {0};
    int rc = report_main(&a, argc, argv);
    clocks_free(&a);
    return rc;
}
