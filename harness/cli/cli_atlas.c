/* `anycast-lab atlas`: `import` turns RIPE Atlas DNS result files into a
 * results directory and its report, `spec` prints the measurement request
 * for a lab file's anycast addresses (docs/atlas.md). The work is in
 * harness/results/atlas*.c. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/lab/lab.h"
#include "harness/results/atlas.h"
#include "harness/results/report.h"

/* Results of one probe may come this far out of time order (files of
 * several measurements, or pages, one after the other). */
#define ATLAS_REORDER_WINDOW_NS (3600 * AH_NS_PER_S)

struct import_args {
    const char *probes, *lab, *out;
};

static const struct ah_opt import_opts[] = {
    {"probes", 'p', AH_OPT_STRING, AH_OPT_AT(struct import_args, probes), .metavar = "PROBES.json",
     .help = "probe metadata from the probes API (country, ASN per vantage)"},
    {"lab", 'l', AH_OPT_STRING, AH_OPT_AT(struct import_args, lab), .metavar = "FILE.yaml",
     .help = "expectations to judge (a lab or deployment file)"},
    {"out", 'o', AH_OPT_STRING, AH_OPT_AT(struct import_args, out), .metavar = "DIR",
     .help = "where to write (default atlas-results)"},
    {"quiet", 'q', AH_OPT_CALL, .fn = cli_opt_quiet, .help = "errors only"},
    {"help", 'h', AH_OPT_HELP, .help = "this text"},
};

static const struct ah_opt_cmd import_cmd = {
    .program = "anycast-lab",
    .command = "atlas import",
    .usage = "Usage: anycast-lab atlas import [--probes PROBES.json] [--lab FILE] [--out DIR] "
             "FILE...\n"
             "\n"
             "Reads RIPE Atlas DNS results (the results API's JSON array, or one result per\n"
             "line; any size) and writes DIR/probes.csv (vantage atlas-<prb_id>, the node\n"
             "from each answer's hostname.bind / id.server TXT or NSID), then summary.csv,\n"
             "summary.json and report.html as `anycast-lab report` does. An element that\n"
             "is no usable result is reported as FILE:N and skipped.\n",
    .footer = "Exit status: 0 done (and every expectation passed), 1 an expectation failed or\n"
              "an error, 2 bad usage.\n",
    .opts = import_opts,
    .nopts = sizeof import_opts / sizeof import_opts[0],
};

static const struct ah_opt spec_opts[] = {{"help", 'h', AH_OPT_HELP, .help = "this text"}};

static const struct ah_opt_cmd spec_cmd = {
    .program = "anycast-lab",
    .command = "atlas spec",
    .usage = "Usage: anycast-lab atlas spec FILE.yaml\n"
             "\n"
             "Prints the JSON body of a RIPE Atlas measurement request (POST\n"
             "/api/v2/measurements/) for the file's anycast addresses: CHAOS TXT\n"
             "hostname.bind with the NSID bit, probes as the file's atlas: block says.\n",
    .opts = spec_opts,
    .nopts = sizeof spec_opts / sizeof spec_opts[0],
};

static void print_counts(const struct import_args *a, const struct atlas_import_stats *st)
{
    printf("imported %lu results of %lu elements (%lu skipped): %lu rows (", st->results,
           st->elements, st->skipped, st->rows);
    const char *sep = "";
    for (int r = 0; r < AH_RES_COUNT; r++)
        if (st->by_result[r]) {
            printf("%s%s %lu", sep, ah_result_name((enum ah_result)r), st->by_result[r]);
            sep = ", ";
        }
    printf(") into %s/probes.csv\n", a->out);
    if (a->probes)
        printf("probe metadata for %lu vantages in %s/atlas-probes.csv\n", st->probes_meta, a->out);
}

static int cmd_import(int argc, char **argv)
{
    struct import_args a = {.out = "atlas-results"};
    struct lab *lab = NULL;
    int op, rc = cli_parse(&import_cmd, &a, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op >= argc) {
        ah_log_error("atlas import: give one or more result files (see --help)");
        return 2;
    }
    if (a.lab && (rc = cli_load_lab(a.lab, &lab)) < 0)
        return lab_load_exit(rc);
    struct atlas_import_opts io = {.files = (const char *const *)(argv + op),
                                   .nfiles = (size_t)(argc - op),
                                   .probes_json = a.probes,
                                   .out_dir = a.out};
    struct atlas_import_stats st;
    int status = 1;
    if (atlas_import(&io, &st) < 0)
        goto out;
    print_counts(&a, &st);
    char path[4096];
    snprintf(path, sizeof path, "%s/probes.csv", a.out);
    const char *probes[] = {path};
    struct report_opts ro = {.probes = probes,
                             .nprobes = 1,
                             .out_dir = a.out,
                             .reorder_window_ns = ATLAS_REORDER_WINDOW_NS,
                             .print_table = !ah_log_quiet()};
    status = report_build(NULL, lab, &ro) == 0 ? 0 : 1;
out:
    lab_free(lab);
    return status;
}

static int cmd_spec(int argc, char **argv)
{
    struct lab *lab = NULL;
    int op, rc = cli_parse(&spec_cmd, NULL, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op != argc - 1) {
        ah_log_error("usage: anycast-lab atlas spec FILE.yaml");
        return 2;
    }
    if ((rc = cli_load_lab(argv[op], &lab)) < 0)
        return lab_load_exit(rc);
    rc = atlas_spec_write(stdout, lab);
    if (rc < 0)
        ah_log_error("atlas spec: %s", strerror(-rc));
    lab_free(lab);
    return rc < 0 ? 1 : 0;
}

int cli_atlas_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "spec") == 0)
        return cmd_spec(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: anycast-lab atlas import [--probes PROBES.json] [--lab FILE] [--out DIR] "
               "FILE...\n"
               "       anycast-lab atlas spec FILE.yaml\n"
               "\n"
               "RIPE Atlas results in, measurement requests out (docs/atlas.md).\n");
        return 0;
    }
    ah_log_error("atlas: give `import` or `spec` (see anycast-lab atlas --help)");
    return 2;
}
