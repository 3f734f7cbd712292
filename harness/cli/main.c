/* anycast-lab: builds an anycast lab of network namespaces from a lab file,
 * runs responders and probes in it, plays a failover drill and writes the
 * results (docs/lab-file.md, docs/formats.md). This file parses the command line and dispatches
 * to the subcommands. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/json.h"
#include "ah/log.h"
#include "ah/suggest.h"
#include "cli.h"
#include "harness/lab/lab.h"
#include "harness/run/run.h"
#include "harness/run/state.h"
#include "harness/run/teardown.h"
#include "harness/sys/netns.h"
#include "harness/topo/topo.h"

#define HELP_OPT(text)                                                                             \
    {                                                                                              \
        "help", 'h', AH_OPT_HELP, .help = text                                                     \
    }

static int opt_verbose(const struct ah_opt *opt, void *base, const char *val, char *err,
                       size_t errlen)
{
    (void)opt;
    (void)base;
    (void)val;
    (void)err;
    (void)errlen;
    ah_log_set_level(AH_LOG_DEBUG);
    return 0;
}

static const struct ah_opt main_opts[] = {
    {"verbose", 'v', AH_OPT_CALL, .fn = opt_verbose, .help = "more progress on stderr"},
    {"quiet", 'q', AH_OPT_CALL, .fn = cli_opt_quiet, .help = "errors only"},
    HELP_OPT("this text"),
    {"version", 'V', AH_OPT_VERSION, .help = "print the version"},
};

static const struct ah_opt_cmd main_cmd = {
    .program = "anycast-lab",
    .version = AH_VERSION,
    .usage = "Usage: anycast-lab [OPTIONS] COMMAND [ARGS]\n"
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
             "  run LAB.yaml [--results DIR] [--keep-up] [--dry-run] [--pcap]\n"
             "      [--ready-timeout DUR] [--baseline RUN_DIR] [--junit FILE]\n"
             "                            build, start responders and probes, play the\n"
             "                            drill, collect results, tear down\n"
             "  up LAB.yaml               build the lab and leave it running (root)\n"
             "  down NAME|RUNID           take down a lab left up\n"
             "  exec NAME NODE|VANTAGE|router:VANTAGE|fabric [-- CMD...]\n"
             "                            run CMD (default: a shell) in one of its namespaces\n"
             "  drill NAME|RUNID VERB NODE [MS]\n"
             "                            apply one drill verb to a lab that is up (root)\n"
             "  list                      labs up or running\n"
             "  report RUN_DIR|FILES...   recompute summary.csv, summary.json and\n"
             "                            report.html from results CSVs (no root needed)\n"
             "  diff RUN_A RUN_B          compare two runs' summaries metric by metric;\n"
             "                            exit 1 on a regression (no root needed)\n"
             "  atlas import|spec ...     RIPE Atlas results in, measurement requests out\n"
             "  clean [--all] [RUNID|NAME]\n"
             "                            remove namespaces and processes killed runs left\n"
             "                            (--all: also labs left up; RUNID: only that run)\n"
             "\n"
             "Each command takes --help.\n",
    .footer = "Without root, `run` enters a user namespace of its own (needs unprivileged\n"
              "user namespaces: user.max_user_namespaces > 0 and, where it exists,\n"
              "kernel.unprivileged_userns_clone=1). Programs are found in $AH_BIN_DIR or\n"
              "next to anycast-lab. Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n",
    .opts = main_opts,
    .nopts = sizeof main_opts / sizeof main_opts[0],
    .flags = AH_OPT_STOP_AT_OPERAND,
};

/* A subcommand of anycast-lab with its option table tbl; the rest are more
 * designated initialisers of struct ah_opt_cmd. */
#define LAB_CMD(cmd_name, tbl, usage_text, ...)                                                    \
    {                                                                                              \
        .program = "anycast-lab", .command = cmd_name, .usage = usage_text, .opts = tbl,           \
        .nopts = sizeof tbl / sizeof tbl[0], __VA_ARGS__                                           \
    }

static const struct ah_opt help_only[] = {HELP_OPT("this text")};

static int need_root(const char *cmd)
{
    if (geteuid() == 0)
        return 0;
    ah_log_error("%s needs root (labs left up exist only for root; a rootless `run` "
                 "cleans up after itself)",
                 cmd);
    return 1;
}

static const struct ah_opt_cmd check_cmd =
    LAB_CMD("check", help_only,
            "Usage: anycast-lab check LAB.yaml\n"
            "\n"
            "Validates the lab file (no root needed); exit 2 with every error as\n"
            "FILE:LINE:COL: message.\n");

static int cmd_check(int argc, char **argv)
{
    int op, rc = cli_parse(&check_cmd, NULL, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op != argc - 1) {
        ah_log_error("usage: anycast-lab check LAB.yaml");
        return 2;
    }
    struct lab *lab = NULL;
    rc = cli_load_lab(argv[op], &lab);
    if (rc < 0)
        return lab_load_exit(rc);
    size_t steps = 0;
    for (size_t i = 0; i < lab->ndrill; i++)
        steps += lab->drill[i].verb == AH_VERB_FLAP ? 2 * lab->drill[i].flap_count : 1;
    /* A deployment has no routing of its own: its hosts route. */
    if (lab->kind == LAB_KIND_DEPLOYMENT)
        printf("%s: ok: deployment %s, ", argv[op], lab->name);
    else
        printf("%s: ok: lab %s, routing %s%s, ", argv[op], lab->name,
               lab_routing_name(lab->routing),
               lab_routing_mixed(lab) ? " (some vantages with their own)" : "");
    printf("%zu node%s, %zu vantage%s, %zu drill event%s (%zu step%s)\n", lab->nnodes,
           AH_S(lab->nnodes), lab->nvantages, AH_S(lab->nvantages), lab->ndrill, AH_S(lab->ndrill),
           steps, AH_S(steps));
    lab_free(lab);
    return 0;
}

#define RUN_OPT(member) AH_OPT_AT(struct run_opts, member)
#define RESULTS_OPT                                                                                \
    {                                                                                              \
        "results", 'r', AH_OPT_STRING, RUN_OPT(results_base),                                      \
            .metavar = "DIR",                                                                      \
            .help = "write the run's results under DIR/<UTC>-<name>/ (default results)"            \
    }
#define READY_OPT                                                                                  \
    {                                                                                              \
        "ready-timeout", 't', AH_OPT_DUR, RUN_OPT(ready_timeout_ns),                               \
            .min = 1, .metavar = "DUR",                                                            \
            .help = "how long each responder may take to answer and the probes to start (default " \
                    "10s)"                                                                         \
    }

static const struct ah_opt run_opts[] = {
    RESULTS_OPT,
    {"keep-up", 'k', AH_OPT_FLAG, RUN_OPT(keep_up),
     .help = "leave the lab up after the run (see `anycast-lab down`)"},
    {"dry-run", 'n', AH_OPT_FLAG, RUN_OPT(dry_run),
     .help = "kind: deployment: print every ssh command the run would run, touch nothing"},
    {"pcap", 0, AH_OPT_FLAG, RUN_OPT(pcap),
     .help = "capture each vantage's packets (tcpdump) into pcap/VANTAGE.pcap in the results "
             "(at most 64 vantages)"},
    READY_OPT,
    {"baseline", 'b', AH_OPT_STRING, RUN_OPT(baseline), .metavar = "RUN_DIR",
     .help = "the run that `baseline-run` in expectations compares with (docs/expect.md)"},
    {"junit", 0, AH_OPT_STRING, RUN_OPT(junit), .metavar = "FILE",
     .help = "also write the verdicts as JUnit XML, one testcase per expectation (- for "
             "stdout)"},
    HELP_OPT("this text"),
};

/* `up` takes run's options except --keep-up, which it implies. */
static const struct ah_opt up_opts[] = {RESULTS_OPT, READY_OPT, HELP_OPT("this text")};

static const struct ah_opt_cmd run_cmd =
    LAB_CMD("run", run_opts,
            "Usage: anycast-lab run LAB.yaml [--results DIR] [--keep-up] [--dry-run] [--pcap]\n"
            "                        [--ready-timeout DUR] [--baseline RUN_DIR] [--junit FILE]\n"
            "\n"
            "Builds the lab, starts responders and probes, plays the drill, collects the\n"
            "results and tears the lab down.\n");

static const struct ah_opt_cmd up_cmd =
    LAB_CMD("up", up_opts,
            "Usage: anycast-lab up LAB.yaml\n"
            "\n"
            "Builds the lab and leaves it running (root); `anycast-lab down` takes it down.\n");

static int cmd_run(int argc, char **argv, bool up)
{
    struct run_opts o = {
        .results_base = "results", .up_only = up, .ready_timeout_ns = 10 * AH_NS_PER_S};
    int op, rc = cli_parse(up ? &up_cmd : &run_cmd, &o, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op != argc - 1) {
        ah_log_error("usage: anycast-lab %s LAB.yaml%s", up ? "up" : "run",
                     up ? "" : " [--results DIR] [--keep-up] [--pcap] [--ready-timeout DUR]");
        return 2;
    }
    o.lab_path = argv[op];
    return run_lab(&o);
}

static void report_line(void *arg, const char *what)
{
    (void)arg;
    printf("removed %s\n", what);
}

static const struct ah_opt_cmd down_cmd =
    LAB_CMD("down", help_only,
            "Usage: anycast-lab down NAME|RUNID\n"
            "\n"
            "Takes down a lab left up (by `up` or `run --keep-up`). The events.csv of its\n"
            "drills (`anycast-lab drill`) is kept: as drill-events.csv in the results of a\n"
            "`run --keep-up`, else as results/<UTC>-<name>/events.csv.\n");

static int cmd_down(int argc, char **argv)
{
    int op, rc = cli_parse(&down_cmd, NULL, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op != argc - 1) {
        ah_log_error("usage: anycast-lab down NAME|RUNID");
        return 2;
    }
    const char *name = argv[op];
    if (need_root("down"))
        return 1;
    struct state s;
    rc = state_find(name, &s);
    if (rc == -ENOENT) {
        ah_log_error("%s: no such lab (see `anycast-lab list`)", name);
        return 1;
    }
    if (rc < 0)
        return 1;
    if (strcmp(s.mode, "run") == 0 && state_owner_alive(&s)) {
        ah_log_error("%s: run %s is in progress (pid %ld): interrupt it instead", name, s.runid,
                     (long)s.owner);
        state_free(&s);
        return 1;
    }
    char kept[1200];
    int krc = run_drill_keep_events(&s, "results", kept, sizeof kept);
    if (krc < 0)
        ah_log_error("%s: keeping the drill's events.csv: %s", s.name, strerror(-krc));
    else if (kept[0])
        printf("drill events: %s\n", kept);
    rc = teardown_lab(&s, report_line, NULL);
    printf("lab %s (run id %s) is down\n", s.name, s.runid);
    state_free(&s);
    return rc < 0 ? 1 : 0;
}

/* What follows NAME and NODE is the command's own: options end at the first
 * operand. */
static const struct ah_opt_cmd exec_cmd =
    LAB_CMD("exec", help_only,
            "Usage: anycast-lab exec NAME NODE|VANTAGE|router:VANTAGE|fabric [-- CMD...]\n"
            "\n"
            "Runs CMD (default: a shell) in one of the namespaces of lab NAME.\n",
            .flags = AH_OPT_STOP_AT_OPERAND);

static int cmd_exec(int argc, char **argv)
{
    int op, rc = cli_parse(&exec_cmd, NULL, argc, argv, &op);
    if (rc >= 0)
        return rc;
    /* From here argv[1] is the first operand. */
    argc -= op - 1;
    argv += op - 1;
    if (argc < 3) {
        ah_log_error("usage: anycast-lab exec NAME NODE|VANTAGE|router:VANTAGE|fabric [-- CMD...]");
        return 2;
    }
    if (need_root("exec"))
        return 1;
    struct state s;
    rc = state_find(argv[1], &s);
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

struct list_ctx {
    bool json;
    int n;
};

static void list_cb(void *arg, const struct state *s)
{
    struct list_ctx *l = arg;
    char when[32] = "-";
    time_t sec = (time_t)(s->started_ns / 1000000000ULL);
    struct tm tm;
    if (gmtime_r(&sec, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *st = strcmp(s->mode, "up") == 0 ? "up" : state_owner_alive(s) ? "running" : "dead";
    if (l->json) {
        /* Names come from state files a root process wrote, but they are
         * still written through the one JSON escaper. */
        printf("%s\n  {\"run_id\": ", l->n++ ? "," : "");
        ah_json_str(stdout, s->runid);
        printf(", \"name\": ");
        ah_json_str(stdout, s->name);
        printf(", \"mode\": ");
        ah_json_str(stdout, s->mode);
        printf(", \"state\": \"%s\", \"started\": \"%s\", \"lab\": ", st, when);
        ah_json_str(stdout, s->lab);
        printf(", \"results\": ");
        ah_json_str(stdout, s->results);
        printf(", \"namespaces\": %zu, \"processes\": %zu}", s->nns, s->npids);
        return;
    }
    if (l->n++ == 0)
        printf("%-8s %-20s %-5s %-8s %-20s %s\n", "RUNID", "NAME", "MODE", "STATE", "STARTED",
               "NAMESPACES");
    printf("%-8s %-20s %-5s %-8s %-20s %zu\n", s->runid, s->name, s->mode, st, when, s->nns);
}

static const struct ah_opt list_opts[] = {
    {"json", 0, AH_OPT_FLAG, .off = offsetof(struct list_ctx, json), .size = sizeof(bool),
     .help = "a JSON array of objects (run_id, name, mode, state, started, lab, results, "
             "namespaces, processes) instead of the table"},
    HELP_OPT("this text"),
};

static const struct ah_opt_cmd list_cmd = LAB_CMD("list", list_opts,
                                                  "Usage: anycast-lab list [--json]\n"
                                                  "\n"
                                                  "Lists the labs up or running.\n");

static int cmd_list(int argc, char **argv)
{
    struct list_ctx l = {0};
    int op, rc = cli_parse(&list_cmd, &l, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op != argc) {
        ah_log_error("usage: anycast-lab list [--json]");
        return 2;
    }
    if (l.json)
        printf("[");
    state_foreach(list_cb, &l);
    if (l.json)
        printf("%s]\n", l.n ? "\n" : "");
    else if (l.n == 0)
        printf("no labs\n");
    return 0;
}

static const struct ah_opt clean_opts[] = {
    {"all", 0, AH_OPT_FLAG, .off = 0, .size = sizeof(bool), .help = "also labs left up"},
    HELP_OPT("this text"),
};

static const struct ah_opt_cmd clean_cmd =
    LAB_CMD("clean", clean_opts,
            "Usage: anycast-lab clean [--all] [RUNID|NAME]\n"
            "\n"
            "Removes the namespaces and processes killed runs left (RUNID or NAME: only\n"
            "that run's).\n");

static int cmd_clean(int argc, char **argv)
{
    bool all = false;
    int op, rc = cli_parse(&clean_cmd, &all, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (argc - op > 1) {
        ah_log_error("usage: anycast-lab clean [--all] [RUNID|NAME]");
        return 2;
    }
    if (geteuid() != 0) {
        printf("nothing to clean: without root, labs live in a private namespace that ends "
               "with their run\n");
        return 0;
    }
    int n = teardown_clean(all, op < argc ? argv[op] : NULL, report_line, NULL);
    if (n < 0) {
        ah_log_error("clean: %s", strerror(-n));
        return 1;
    }
    printf("%s\n", n == 0 ? "nothing to clean" : "clean");
    return 0;
}

static int cmd_run_only(int argc, char **argv)
{
    return cmd_run(argc, argv, false);
}

static int cmd_up(int argc, char **argv)
{
    return cmd_run(argc, argv, true);
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ah_opt_help(&main_cmd, stdout);
    return 0;
}

/* The commands, in the order --help lists them. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"check", cmd_check},      {"run", cmd_run_only},       {"up", cmd_up},
    {"down", cmd_down},        {"exec", cmd_exec},          {"drill", cli_drill_main},
    {"list", cmd_list},        {"report", cli_report_main}, {"diff", cli_diff_main},
    {"atlas", cli_atlas_main}, {"clean", cmd_clean},        {"help", cmd_help},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Writes the command names for a message. */
static void command_names(char *out, size_t cap)
{
    const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    ah_suggest_list(out, cap, names, NCOMMANDS);
}

/* Runs the subcommand argv[0]. Returns the exit status. */
static int dispatch(int argc, char **argv)
{
    const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[0], commands[i].name) == 0)
            return commands[i].fn(argc, argv);
        names[i] = commands[i].name;
    }
    const char *near = ah_suggest(argv[0], names, NCOMMANDS);
    char list[256];
    command_names(list, sizeof list);
    if (near)
        ah_log_error("unknown command \"%s\": did you mean \"%s\"? (commands: %s)", argv[0], near,
                     list);
    else
        ah_log_error("unknown command \"%s\" (commands: %s)", argv[0], list);
    return 2;
}

int main(int argc, char **argv)
{
    int op, rc;
    ah_log_init("anycast-lab", AH_LOG_INFO);
    rc = cli_parse(&main_cmd, NULL, argc, argv, &op);
    if (rc >= 0)
        return rc;
    if (op >= argc) {
        char list[256];
        command_names(list, sizeof list);
        ah_log_error("no command given: %s (see anycast-lab --help)", list);
        return 2;
    }
    /* Line-buffered stdout so the table and the results path appear in
     * order with stderr progress, also when piped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    return dispatch(argc - op, argv + op);
}
