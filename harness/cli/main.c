/* anycast-lab: builds an anycast lab of network namespaces from a lab file,
 * runs responders and probes in it, plays a failover drill and writes the
 * results (docs/lab-file.md, docs/formats.md). This file parses the command line and dispatches
 * to the subcommands. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ah/dur.h"
#include "ah/log.h"
#include "cli.h"
#include "harness/lab/lab.h"
#include "harness/results/report.h"
#include "harness/run/run.h"
#include "harness/run/state.h"
#include "harness/run/teardown.h"
#include "harness/sys/netns.h"
#include "harness/topo/topo.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: anycast-lab [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "Builds an anycast lab of network namespaces (nodes, routers, vantages) from a\n"
               "YAML lab file, runs responders and probes in it, plays the drill timeline\n"
               "and writes results/<UTC>-<name>/: the measurements (events.csv, probes.csv,\n"
               "connections.csv), run.json, a copy of the lab file and logs/, then the\n"
               "report: summary.csv (per event and vantage: outage, switch and break\n"
               "times), summary.json (the same plus a pass/fail verdict for each of the lab's\n"
               "expectations) and report.html (timeline plots). The verdicts are printed as\n"
               "a table; a failed expectation makes `run` exit 1.\n"
               "\n"
               "Commands:\n"
               "  check LAB.yaml            validate the lab file (no root needed); exit 2\n"
               "                            with every error as FILE:LINE:COL: message\n"
               "  run LAB.yaml [--results DIR] [--keep-up] [--ready-timeout DUR]\n"
               "                            build, start responders and probes, play the\n"
               "                            drill, collect results, tear down\n"
               "  up LAB.yaml               build the lab and leave it running (root)\n"
               "  down NAME|RUNID           take down a lab left up\n"
               "  exec NAME NODE|VANTAGE|router:VANTAGE|fabric [-- CMD...]\n"
               "                            run CMD (default: a shell) in one of its namespaces\n"
               "  list                      labs up or running\n"
               "  report RUN_DIR|FILES...   recompute summary.csv, summary.json and\n"
               "                            report.html from results CSVs (no root needed)\n"
               "  clean [--all] [RUNID|NAME]\n"
               "                            remove namespaces and processes killed runs left\n"
               "                            (--all: also labs left up; RUNID: only that run)\n"
               "\n"
               "Options:\n"
               "  -v, --verbose             more progress on stderr\n"
               "  -q, --quiet               errors only\n"
               "  -h, --help                this text\n"
               "  -V, --version             print the version\n"
               "\n"
               "Without root, `run` enters a user namespace of its own (needs unprivileged\n"
               "user namespaces: user.max_user_namespaces > 0 and, where it exists,\n"
               "kernel.unprivileged_userns_clone=1). Programs are found in $AH_BIN_DIR or\n"
               "next to anycast-lab. Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n");
}

static int need_root(const char *cmd)
{
    if (geteuid() == 0)
        return 0;
    ah_log_error("%s needs root (labs left up exist only for root; a rootless `run` "
                 "cleans up after itself)",
                 cmd);
    return 1;
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 2) {
        ah_log_error("usage: anycast-lab check LAB.yaml");
        return 2;
    }
    struct lab *lab = NULL;
    int rc = cli_load_lab(argv[1], &lab);
    if (rc < 0)
        return rc == -EINVAL ? 2 : 1;
    size_t steps = 0;
    for (size_t i = 0; i < lab->ndrill; i++)
        steps += lab->drill[i].verb == AH_VERB_FLAP ? 2 * lab->drill[i].flap_count : 1;
    printf("%s: ok: lab %s, routing %s, %zu nodes, %zu vantages, %zu drill events (%zu steps)\n",
           argv[1], lab->name, lab_routing_name(lab->routing), lab->nnodes, lab->nvantages,
           lab->ndrill, steps);
    lab_free(lab);
    return 0;
}

static int cmd_run(int argc, char **argv, bool up)
{
    static const struct option opts[] = {
        {"results", required_argument, NULL, 'r'},
        {"keep-up", no_argument, NULL, 'k'},
        {"ready-timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct run_opts o = {
        .results_base = "results", .up_only = up, .ready_timeout_ns = 10ULL * 1000 * 1000 * 1000};
    int c;
    optind = 0; /* GNU: reinitialise, options may follow the lab file */
    while ((c = getopt_long(argc, argv, "r:kt:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o.results_base = optarg;
            break;
        case 'k':
            o.keep_up = true;
            break;
        case 't':
            if (ah_dur_parse(optarg, &o.ready_timeout_ns) < 0 || o.ready_timeout_ns == 0) {
                ah_log_error("--ready-timeout: bad duration \"%s\"", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (optind != argc - 1 || (up && o.keep_up)) {
        ah_log_error("usage: anycast-lab %s LAB.yaml%s", up ? "up" : "run",
                     up ? "" : " [--results DIR] [--keep-up] [--ready-timeout DUR]");
        return 2;
    }
    o.lab_path = argv[optind];
    return run_lab(&o);
}

static void report_line(void *arg, const char *what)
{
    (void)arg;
    printf("removed %s\n", what);
}

static int cmd_down(int argc, char **argv)
{
    if (argc != 2) {
        ah_log_error("usage: anycast-lab down NAME|RUNID");
        return 2;
    }
    if (need_root("down"))
        return 1;
    struct state s;
    int rc = state_find(argv[1], &s);
    if (rc == -ENOENT) {
        ah_log_error("%s: no such lab (see `anycast-lab list`)", argv[1]);
        return 1;
    }
    if (rc < 0)
        return 1;
    if (strcmp(s.mode, "run") == 0 && state_owner_alive(&s)) {
        ah_log_error("%s: run %s is in progress (pid %ld): interrupt it instead", argv[1], s.runid,
                     (long)s.owner);
        state_free(&s);
        return 1;
    }
    rc = teardown_lab(&s, report_line, NULL);
    printf("lab %s (run id %s) is down\n", s.name, s.runid);
    state_free(&s);
    return rc < 0 ? 1 : 0;
}

static int cmd_exec(int argc, char **argv)
{
    if (argc < 3) {
        ah_log_error("usage: anycast-lab exec NAME NODE|VANTAGE|router:VANTAGE|fabric [-- CMD...]");
        return 2;
    }
    if (need_root("exec"))
        return 1;
    struct state s;
    int rc = state_find(argv[1], &s);
    if (rc == -ENOENT)
        ah_log_error("%s: no such lab (see `anycast-lab list`)", argv[1]);
    if (rc < 0)
        return 1;
    const char *want = argv[2], *role = NULL, *name = want;
    if (strncmp(want, "router:", 7) == 0) {
        role = "router";
        name = want + 7;
    } else if (strcmp(want, "fabric") == 0) {
        role = "fabric";
        name = "-";
    }
    const char *ns = NULL;
    for (size_t i = 0; i < s.nns && !ns; i++) {
        bool match = strcmp(s.ns[i].name, name) == 0;
        if (role)
            match = match && strcmp(s.ns[i].role, role) == 0;
        else
            match =
                match && (strcmp(s.ns[i].role, "node") == 0 || strcmp(s.ns[i].role, "client") == 0);
        if (match)
            ns = s.ns[i].netns;
    }
    if (!ns) {
        ah_log_error("%s: lab %s has no node or vantage \"%s\"", want, s.name, want);
        state_free(&s);
        return 2;
    }
    char **cmd = argv + 3;
    if (argc > 3 && strcmp(argv[3], "--") == 0)
        cmd++;
    char *shell[] = {getenv("SHELL") ? getenv("SHELL") : "/bin/sh", NULL};
    if (!*cmd)
        cmd = shell;
    char nsname[STATE_NAME_MAX];
    snprintf(nsname, sizeof nsname, "%s", ns);
    state_free(&s);
    rc = netns_enter(nsname);
    if (rc < 0) {
        ah_log_error("%s: entering the namespace: %s", nsname, strerror(-rc));
        return 1;
    }
    execvp(cmd[0], cmd);
    ah_log_error("%s: %s", cmd[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

static void list_cb(void *arg, const struct state *s)
{
    int *n = arg;
    char when[32] = "-";
    time_t sec = (time_t)(s->started_ns / 1000000000ULL);
    struct tm tm;
    if (gmtime_r(&sec, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if ((*n)++ == 0)
        printf("%-8s %-20s %-5s %-8s %-20s %s\n", "RUNID", "NAME", "MODE", "STATE", "STARTED",
               "NAMESPACES");
    const char *st = strcmp(s->mode, "up") == 0 ? "up" : state_owner_alive(s) ? "running" : "dead";
    printf("%-8s %-20s %-5s %-8s %-20s %zu\n", s->runid, s->name, s->mode, st, when, s->nns);
}

static int cmd_list(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        ah_log_error("usage: anycast-lab list");
        return 2;
    }
    int n = 0;
    state_foreach(list_cb, &n);
    if (n == 0)
        printf("no labs\n");
    return 0;
}

static int cmd_clean(int argc, char **argv)
{
    bool all = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            all = true;
        else if (argv[i][0] != '-' && !only)
            only = argv[i];
        else {
            ah_log_error("usage: anycast-lab clean [--all] [RUNID|NAME]");
            return 2;
        }
    }
    if (geteuid() != 0) {
        printf("nothing to clean: without root, labs live in a private namespace that ends "
               "with their run\n");
        return 0;
    }
    int n = teardown_clean(all, only, report_line, NULL);
    if (n < 0) {
        ah_log_error("clean: %s", strerror(-n));
        return 1;
    }
    printf("%s\n", n == 0 ? "nothing to clean" : "clean");
    return 0;
}

/* `report` on a path that is not there, or on a directory that holds no
 * results, is a runtime error naming that path (exit 1), before the report
 * looks at the files. Options of `report` that take a value are skipped. */
static int report_paths_exist(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            continue;
        if (a[0] == '-') {
            bool takes = strcmp(a, "-o") == 0 || strcmp(a, "-l") == 0 || strcmp(a, "-w") == 0 ||
                         strcmp(a, "--out") == 0 || strcmp(a, "--lab") == 0 ||
                         strcmp(a, "--reorder-window") == 0;
            i += takes;
            continue;
        }
        struct stat st;
        if (stat(a, &st) < 0) {
            ah_log_error("report %s: %s", a, strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode) && !report_is_run_dir(a)) {
            ah_log_error("report %s: not a run's results directory (it has no probes.csv)", a);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    ah_log_init("anycast-lab", AH_LOG_INFO);
    while ((c = getopt_long(argc, argv, "+vqhV", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            ah_log_set_level(AH_LOG_DEBUG);
            break;
        default:
            rc = cli_common_opt(c, usage);
            if (rc != 0)
                return rc < 0 ? 2 : 0;
        }
    }
    if (optind >= argc) {
        ah_log_error("no command given: check, run, up, down, exec, list, report or clean "
                     "(see anycast-lab --help)");
        return 2;
    }
    const char *cmd = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    /* Line-buffered stdout so the table and the results path appear in
     * order with stderr progress, also when piped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(sub_argc, sub_argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(sub_argc, sub_argv, false);
    if (strcmp(cmd, "up") == 0)
        return cmd_run(sub_argc, sub_argv, true);
    if (strcmp(cmd, "down") == 0)
        return cmd_down(sub_argc, sub_argv);
    if (strcmp(cmd, "exec") == 0)
        return cmd_exec(sub_argc, sub_argv);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(sub_argc, sub_argv);
    if (strcmp(cmd, "clean") == 0)
        return cmd_clean(sub_argc, sub_argv);
    if (strcmp(cmd, "report") == 0) {
        if ((rc = report_paths_exist(sub_argc, sub_argv)) != 0)
            return rc;
        return cli_report_main(sub_argc, sub_argv);
    }
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    ah_log_error("unknown command \"%s\" (see anycast-lab --help)", cmd);
    return 2;
}
