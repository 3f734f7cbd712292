/* topo_tool: builds a lab topology from a model given on the command line
 * (no lab file), for the topology tests and bench/lab.sh. `up` leaves it up,
 * `down` removes it, `run` keeps it while reading drill commands from stdin
 * and printing the route monitor's reports, then removes it. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "harness/lab/lab.h"
#include "harness/run/state.h"
#include "harness/run/teardown.h"
#include "harness/sys/netns.h"
#include "harness/topo/topo.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: topo_tool [options] up RUNID NODES VANTAGES ROUTING\n"
               "       topo_tool [options] run RUNID NODES VANTAGES ROUTING\n"
               "       topo_tool [options] down RUNID\n"
               "NODES: a count (nodes n1..nN) or names \"ams,nyc,sin\".\n"
               "VANTAGES: a count (v1..vM) or \"eu=ams/nyc/sin,us=nyc/ams/sin\"; the k-th\n"
               "  vantage (from 0) without a list prefers every node, node k first, in turn.\n"
               "ROUTING: static | ecmp | ecmp-resilient.\n"
               "run reads commands from stdin: withdraw NODE, announce NODE, link-down NODE,\n"
               "  link-up NODE, state, quit; prints \"ok VERB NODE ACK_NS US\" (US: microseconds\n"
               "  from the call to the last ACK), \"route VANTAGE TEXT TS_NS\",\n"
               "  \"state VANTAGE TEXT\" lines. up/down print \"up MS\" / \"down MS\".\n"
               "options: -a, --anycast ADDR (repeatable; default 198.51.100.53 and\n"
               "  2001:db8:53::53), -k, --keep (run: leave the lab up), -v, --verbose,\n"
               "  -h, --help, -V, --version\n");
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        perror("topo_tool");
        exit(1);
    }
    return p;
}

static int parse_nodes(struct lab *lab, const char *spec)
{
    char *end;
    long n = strtol(spec, &end, 10);
    if (*end == 0 && n > 0 && n <= TOPO_MAX_NODES) {
        lab->nodes = calloc((size_t)n, sizeof(*lab->nodes));
        for (long i = 0; lab->nodes && i < n; i++)
            snprintf(lab->nodes[i].name, LAB_NAME_MAX, "n%ld", i + 1);
        lab->nnodes = (size_t)n;
        return lab->nodes ? 0 : -ENOMEM;
    }
    char *copy = xstrdup(spec), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct lab_node *nn = realloc(lab->nodes, (lab->nnodes + 1) * sizeof(*nn));
        if (!nn || strlen(tok) >= LAB_NAME_MAX) {
            free(copy);
            return -EINVAL;
        }
        lab->nodes = nn;
        memset(&nn[lab->nnodes], 0, sizeof(*nn));
        snprintf(nn[lab->nnodes++].name, LAB_NAME_MAX, "%s", tok);
    }
    free(copy);
    return lab->nnodes ? 0 : -EINVAL;
}

static int node_index(const struct lab *lab, const char *name)
{
    for (size_t i = 0; i < lab->nnodes; i++)
        if (!strcmp(lab->nodes[i].name, name))
            return (int)i;
    return -ENOENT;
}

static int add_vantage(struct lab *lab, const char *name, const char *prefer)
{
    struct lab_vantage *nv = realloc(lab->vantages, (lab->nvantages + 1) * sizeof(*nv));
    if (!nv || strlen(name) >= LAB_NAME_MAX)
        return -EINVAL;
    lab->vantages = nv;
    struct lab_vantage *v = &nv[lab->nvantages];
    memset(v, 0, sizeof(*v));
    snprintf(v->name, LAB_NAME_MAX, "%s", name);
    v->prefer = calloc(lab->nnodes, sizeof(*v->prefer));
    if (!v->prefer)
        return -ENOMEM;
    if (prefer) {
        char *copy = xstrdup(prefer), *save = NULL;
        for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
            int i = node_index(lab, tok);
            if (i < 0 || v->nprefer == lab->nnodes) {
                fprintf(stderr, "topo_tool: vantage %s: unknown node \"%s\"\n", name, tok);
                free(copy);
                return -EINVAL;
            }
            v->prefer[v->nprefer++] = (size_t)i;
        }
        free(copy);
    } else {
        /* Rotate so that vantages prefer different nodes first. */
        for (size_t k = 0; k < lab->nnodes; k++)
            v->prefer[k] = (lab->nvantages + k) % lab->nnodes;
        v->nprefer = lab->nnodes;
    }
    lab->nvantages++;
    return 0;
}

static int parse_vantages(struct lab *lab, const char *spec)
{
    char *end;
    long n = strtol(spec, &end, 10);
    int err = 0;
    if (*end == 0 && n > 0 && n <= TOPO_MAX_VANTAGES) {
        for (long v = 0; v < n && !err; v++) {
            char name[LAB_NAME_MAX];
            snprintf(name, sizeof(name), "v%ld", v + 1);
            err = add_vantage(lab, name, NULL);
        }
        return err;
    }
    char *copy = xstrdup(spec), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq++ = 0;
        err = add_vantage(lab, tok, eq);
    }
    free(copy);
    return lab->nvantages ? err : -EINVAL;
}

static void free_lab(struct lab *lab)
{
    for (size_t v = 0; v < lab->nvantages; v++)
        free(lab->vantages[v].prefer);
    free(lab->vantages);
    free(lab->nodes);
}

static void on_route(void *arg, uint64_t ts_ns, size_t vantage, const char *nexthops)
{
    const struct lab *lab = arg;
    printf("route %s %s %llu\n", lab->vantages[vantage].name, nexthops, (unsigned long long)ts_ns);
}

/* Reads every router's monitor socket now: the kernel queues a change's
 * notifications before it acknowledges the change, so right after a command
 * they are all there. */
static void drain(struct topo *t, const struct lab *lab)
{
    int n = topo_monitor_fds(t, NULL, 0);
    int *fds = calloc((size_t)n + 1, sizeof(*fds));
    if (!fds)
        return;
    n = topo_monitor_fds(t, fds, (size_t)n);
    for (int k = 0; k < n; k++)
        topo_monitor_read(t, fds[k], on_route, (void *)lab);
    free(fds);
}

/* One stdin command of `run`. Returns 1 to stop, 0 to go on. */
static int command(struct topo *t, const struct lab *lab, char *line)
{
    char verb[32] = "", arg[64] = "";
    uint64_t ack = 0;
    int err = 0;

    if (sscanf(line, "%31s %63s", verb, arg) < 1)
        return 0;
    if (!strcmp(verb, "quit"))
        return 1;
    if (!strcmp(verb, "state")) {
        drain(t, lab);
        for (size_t v = 0; v < lab->nvantages; v++)
            printf("state %s %s\n", lab->vantages[v].name, topo_monitor_state(t, v));
        printf("ok state\n");
        return 0;
    }
    int node = node_index(lab, arg);
    if (node < 0) {
        printf("error %s: unknown node \"%s\"\n", verb, arg);
        return 0;
    }
    uint64_t t0 = ah_clock_realtime_ns();
    if (!strcmp(verb, "withdraw"))
        err = topo_withdraw(t, (size_t)node, &ack);
    else if (!strcmp(verb, "announce"))
        err = topo_announce(t, (size_t)node, &ack);
    else if (!strcmp(verb, "link-down"))
        err = topo_link_set(t, (size_t)node, false, &ack);
    else if (!strcmp(verb, "link-up"))
        err = topo_link_set(t, (size_t)node, true, &ack);
    else {
        printf("error unknown command \"%s\"\n", verb);
        return 0;
    }
    if (err)
        printf("error %s %s: %s\n", verb, arg, strerror(-err));
    else
        printf("ok %s %s %llu %.1f\n", verb, arg, (unsigned long long)ack,
               ack > t0 ? (double)(ack - t0) / 1e3 : 0.0);
    drain(t, lab);
    return 0;
}

static int run_loop(struct topo *t, const struct lab *lab)
{
    int nmon = topo_monitor_fds(t, NULL, 0);
    struct pollfd *p = calloc((size_t)nmon + 1, sizeof(*p));
    int *fds = calloc((size_t)nmon + 1, sizeof(*fds));
    char line[256];
    size_t have = 0;

    if (!p || !fds) {
        free(p);
        free(fds);
        return -ENOMEM;
    }
    topo_monitor_fds(t, fds, (size_t)nmon);
    p[0].fd = 0;
    p[0].events = POLLIN;
    for (int k = 0; k < nmon; k++) {
        p[k + 1].fd = fds[k];
        p[k + 1].events = POLLIN;
    }
    printf("ready\n");
    for (bool done = false; !done;) {
        if (poll(p, (nfds_t)nmon + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < nmon; k++)
            if (p[k + 1].revents & POLLIN)
                topo_monitor_read(t, p[k + 1].fd, on_route, (void *)lab);
        if (p[0].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(0, line + have, sizeof(line) - 1 - have);
            if (n <= 0)
                break;
            have += (size_t)n;
            line[have] = 0;
            char *nl;
            while (!done && (nl = strchr(line, '\n'))) {
                *nl = 0;
                done = command(t, lab, line);
                size_t used = (size_t)(nl + 1 - line);
                memmove(line, nl + 1, have - used + 1);
                have -= used;
            }
            if (have == sizeof(line) - 1)
                have = 0; /* an overlong line: drop it */
        }
    }
    free(p);
    free(fds);
    return 0;
}

/* True when some namespace name in NETNS_RUN_DIR starts with prefix. */
static bool ns_left(const char *prefix)
{
    DIR *d = opendir(NETNS_RUN_DIR);
    struct dirent *de;
    bool left = false;
    while (d && !left && (de = readdir(d)))
        left = strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return left;
}

/* A state like `anycast-lab up` writes, so that `anycast-lab clean` (run by
 * other tests meanwhile) leaves this lab alone until `topo_tool down`. */
static void save_state(const char *run_id)
{
    struct state s;
    memset(&s, 0, sizeof(s));
    snprintf(s.runid, sizeof(s.runid), "%s", run_id);
    snprintf(s.name, sizeof(s.name), "topo-%s", run_id);
    snprintf(s.mode, sizeof(s.mode), "up");
    snprintf(s.lab, sizeof(s.lab), "-");
    snprintf(s.results, sizeof(s.results), "-");
    s.owner = getpid();
    s.started_ns = ah_clock_realtime_ns();
    int err = state_save(&s);
    if (err < 0)
        ah_log_warn("state for %s: %s", run_id, strerror(-err));
}

static void clean_report(void *arg, const char *what)
{
    (void)arg;
    ah_log_info("removed %s", what);
}

/* Reads the options into lab and keep; returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, struct lab *lab, bool *keep)
{
    static const struct option opts[] = {
        {"anycast", required_argument, NULL, 'a'}, {"keep", no_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "a:kvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (lab->nanycast == LAB_ANYCAST_MAX ||
                ah_addr_parse_ip(optarg, &lab->anycast[lab->nanycast]) < 0) {
                fprintf(stderr, "topo_tool: bad anycast address \"%s\"\n", optarg);
                return 2;
            }
            lab->nanycast++;
            break;
        case 'k':
            *keep = true;
            break;
        case 'v':
            ah_log_set_level(AH_LOG_DEBUG);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("topo_tool %s\n", AH_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* `down RUNID`: removes that lab's namespaces, and its state once none is left. */
static int cmd_down(const char *run_id)
{
    char prefix[TOPO_NETNS_MAX];
    snprintf(prefix, sizeof(prefix), "%s%s-", TOPO_NETNS_PREFIX, run_id);
    uint64_t t0 = ah_clock_mono_ns();
    int n = teardown_sweep(prefix, NULL, NULL);
    if (!ns_left(prefix))
        state_remove(run_id); /* else a live owner keeps it */
    if (n < 0) {
        fprintf(stderr, "topo_tool: down %s: %s\n", run_id, strerror(-n));
        return 1;
    }
    printf("down %.1f ms (%d namespaces)\n", (double)(ah_clock_mono_ns() - t0) / 1e6, n);
    return 0;
}

/* Fills lab from the arguments RUNID NODES VANTAGES ROUTING of up/run; returns 0 or the
 * exit code 2 after the message. */
static int parse_topology(struct lab *lab, char **argv)
{
    snprintf(lab->name, sizeof(lab->name), "topo");
    if (!strcmp(argv[4], "static"))
        lab->routing = LAB_ROUTING_STATIC;
    else if (!strcmp(argv[4], "ecmp"))
        lab->routing = LAB_ROUTING_ECMP;
    else if (!strcmp(argv[4], "ecmp-resilient"))
        lab->routing = LAB_ROUTING_ECMP_RESILIENT;
    else {
        fprintf(stderr, "topo_tool: unknown routing \"%s\"\n", argv[4]);
        return 2;
    }
    if (!lab->nanycast) {
        ah_addr_parse_ip("198.51.100.53", &lab->anycast[0]);
        ah_addr_parse_ip("2001:db8:53::53", &lab->anycast[1]);
        lab->nanycast = 2;
    }
    if (parse_nodes(lab, argv[2]) < 0 || parse_vantages(lab, argv[3]) < 0) {
        fprintf(stderr, "topo_tool: bad NODES \"%s\" or VANTAGES \"%s\"\n", argv[2], argv[3]);
        return 2;
    }
    return 0;
}

/* `up` builds the lab and leaves it; `run` builds it, runs the command loop and tears it
 * down unless --keep. Returns the exit code. */
static int cmd_up_run(struct lab *lab, bool keep, char **argv)
{
    const char *run_id = argv[1];
    struct topo *t = NULL;
    /* Another lab's state under this run id is not ours to replace. */
    struct state old;
    bool had_state = state_load(run_id, &old) == 0;
    if (had_state)
        state_free(&old);
    else
        save_state(run_id);
    uint64_t t0 = ah_clock_mono_ns();
    int err = topo_build(lab, run_id, &t);
    if (err < 0) {
        if (!had_state)
            state_remove(run_id);
        fprintf(stderr, "topo_tool: up %s: %s\n", run_id, strerror(-err));
        return 1;
    }
    if (!strcmp(argv[0], "up")) {
        printf("up %.1f ms (%zu namespaces)\n", (double)(ah_clock_mono_ns() - t0) / 1e6,
               1 + lab->nnodes + 2 * lab->nvantages);
        topo_release(t);
        return 0;
    }
    run_loop(t, lab);
    if (keep) {
        topo_release(t);
        return 0;
    }
    err = topo_destroy(t);
    state_remove(run_id);
    return err < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct lab lab;
    bool keep = false;

    memset(&lab, 0, sizeof(lab));
    ah_log_init("topo_tool", AH_LOG_INFO);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = parse_opts(argc, argv, &lab, &keep);
    if (rc >= 0)
        return rc;
    argc -= optind;
    argv += optind;
    if (argc == 2 && !strcmp(argv[0], "down"))
        return cmd_down(argv[1]);
    if (argc == 1 && !strcmp(argv[0], "clean")) {
        int n = teardown_sweep(TOPO_NETNS_PREFIX, clean_report, NULL);
        return n < 0 ? 1 : 0;
    }
    if (argc != 5 || (strcmp(argv[0], "up") && strcmp(argv[0], "run"))) {
        usage(stderr);
        return 2;
    }
    rc = parse_topology(&lab, argv);
    if (rc == 0)
        rc = cmd_up_run(&lab, keep, argv);
    free_lab(&lab);
    return rc;
}
