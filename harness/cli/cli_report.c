/* `anycast-lab report`: its options, and how the files given on the command
 * line are told apart; the work itself is report_build(). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ah/clock.h"
#include "ah/dur.h"
#include "ah/log.h"
#include "harness/lab/lab.h"
#include "harness/results/report.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: anycast-lab report [OPTIONS] RUN_DIR\n"
               "       anycast-lab report [OPTIONS] FILE.csv...\n"
               "\n"
               "Recomputes summary.csv, summary.json and report.html (with timeline.svg/.png\n"
               "and connections.svg/.png) from results CSVs: from a run directory, or from\n"
               "probes.csv and connections.csv files recorded by anycast-probe on several\n"
               "hosts plus an events.csv (files are told apart by their header). Bad rows are\n"
               "reported as FILE:LINE and skipped. No root needed.\n"
               "\n"
               "Options:\n"
               "  -o, --out DIR             where to write (default: RUN_DIR, or .)\n"
               "  -l, --lab LAB.yaml        settings and expectations to judge\n"
               "  -w, --reorder-window DUR  how far probe rows may be out of send order\n"
               "                            (default 0 for a run directory, 10s for files)\n"
               "  -q, --quiet               errors only\n"
               "  -h, --help                this text\n"
               "  -V, --version             print the version\n"
               "\n"
               "Exit status: 0 all expectations passed, 1 one failed or an error, 2 bad usage.\n");
}

int cli_report_main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"lab", required_argument, NULL, 'l'},
        {"reorder-window", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct report_opts o = {.print_table = true};
    const char *lab_path = NULL;
    bool window_set = false;
    int c, rc;
    optind = 0; /* GNU: reinitialise (main parsed its own options first) */
    while ((c = getopt_long(argc, argv, "o:l:w:qhV", lopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.out_dir = optarg;
            break;
        case 'l':
            lab_path = optarg;
            break;
        case 'w':
            if (ah_dur_parse(optarg, &o.reorder_window_ns) < 0) {
                ah_log_error("--reorder-window: bad duration \"%s\"", optarg);
                return 2;
            }
            window_set = true;
            break;
        default:
            rc = cli_common_opt(c, usage);
            if (rc != 0)
                return rc < 0 ? 2 : 0;
        }
    }
    if (optind >= argc) {
        ah_log_error("report: give a run directory or CSV files (see --help)");
        return 2;
    }
    struct lab *lab = NULL;
    if (lab_path && (rc = cli_load_lab(lab_path, &lab)) < 0)
        return rc == -EINVAL ? 2 : 1;
    struct stat st;
    if (argc - optind == 1 && stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = report_build(argv[optind], lab, &o);
    } else {
        size_t n = (size_t)(argc - optind);
        const char **pr = calloc(n, sizeof *pr), **co = calloc(n, sizeof *co);
        if (!pr || !co) {
            free(pr);
            free(co);
            lab_free(lab);
            return 1;
        }
        o.probes = pr;
        o.connections = co;
        bool bad = false;
        rc = 0;
        for (int i = optind; i < argc; i++) {
            switch (report_file_kind(argv[i])) {
            case REPORT_FILE_PROBES:
                pr[o.nprobes++] = argv[i];
                break;
            case REPORT_FILE_CONNECTIONS:
                co[o.nconnections++] = argv[i];
                break;
            case REPORT_FILE_EVENTS:
                if (o.events) {
                    ah_log_error("report: two events files: %s and %s", o.events, argv[i]);
                    bad = true;
                }
                o.events = argv[i];
                break;
            default:
                ah_log_error("%s: not a probes, connections or events CSV (unreadable, or an "
                             "unknown header)",
                             argv[i]);
                bad = true;
            }
        }
        if (!bad && o.nprobes == 0) {
            ah_log_error("report: no probes.csv among the files");
            bad = true;
        }
        if (!window_set)
            o.reorder_window_ns = 10 * AH_NS_PER_S;
        if (!bad)
            rc = report_build(NULL, lab, &o);
        free(pr);
        free(co);
        if (bad) {
            lab_free(lab);
            return 2;
        }
    }
    lab_free(lab);
    return rc == 0 ? 0 : 1;
}
