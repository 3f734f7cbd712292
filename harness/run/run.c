/* `anycast-lab run` and `up`: the whole life of a lab in one single-threaded
 * process. Signals (SIGINT, SIGTERM, SIGCHLD) arrive through a signalfd, the
 * drill's schedule through a CLOCK_MONOTONIC timerfd and route changes
 * through the topology's monitor sockets, all in one poll loop, so every
 * timestamp is taken in this process right where the kernel answered. */
#include "run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/lab/drill.h"
#include "harness/lab/lab.h"
#include "harness/sys/proc.h"
#include "responders.h"
#include "harness/results/diff_baseline.h"
#include "harness/results/report.h"
#include "harness/results/results.h"
#include "harness/sys/rootless.h"
#include "harness/routing/routing.h"
#include "state.h"
#include "harness/topo/topo.h"
#include "deploy.h"

void run_fail(struct run *r, const char *fmt, ...)
{
    char msg[sizeof r->status];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The first failure is the run's status; later ones are consequences. */
    if (!r->failed)
        memcpy(r->status, msg, sizeof msg);
    r->failed = true;
    ah_log_error("%s", msg);
}

void run_event(struct run *r, uint64_t ts, const char *event, const char *node, const char *detail)
{
    if (r->ev)
        events_add(r->ev, ts ? ts : ah_clock_realtime_ns(), event, node, detail);
    else if (r->drill_out)
        run_drill_row(r->drill_out, ts ? ts : ah_clock_realtime_ns(), event, node, detail);
}

/* Logs the last lines of a process's log file, where its own error is. */
void run_log_tail(const char *path)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    int lines = 0;
    char *p = buf + n;
    while (p > buf && lines < 6) {
        p--;
        if (*p == '\n' && p[1])
            lines++;
    }
    for (char *save = NULL, *l = strtok_r(p, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        ah_log_error("  %s: %s", path, l);
}

static void reap_children(struct run *r)
{
    char detail[160], st[32];
    for (size_t i = 0; r->resp && i < r->lab->nnodes; i++) {
        pid_t pid = r->resp[i].pid;
        if (proc_reap(&r->resp[i]) && !r->resp[i].expected_exit) {
            proc_status_text(r->resp[i].status, st, sizeof st);
            snprintf(detail, sizeof detail, "responder pid %ld %s", (long)pid, st);
            run_event(r, 0, ah_schema_event_name(AH_EVENT_EXIT), r->lab->nodes[i].name, detail);
            ah_log_warn("responder of %s (pid %ld) died: %s; log: %s", r->lab->nodes[i].name,
                        (long)pid, st, r->resp_log[i]);
        }
    }
    for (size_t i = 0; i < r->nprobes; i++) {
        struct probe_proc *pp = &r->probes[i];
        pid_t pid = pp->p.pid;
        if (proc_reap(&pp->p) && !pp->p.expected_exit) {
            proc_status_text(pp->p.status, st, sizeof st);
            snprintf(detail, sizeof detail, "probe pid %ld %s", (long)pid, st);
            run_event(r, 0, ah_schema_event_name(AH_EVENT_EXIT), r->lab->vantages[pp->vantage].name,
                      detail);
            if (!(WIFEXITED(pp->p.status) && WEXITSTATUS(pp->p.status) == 0)) {
                run_fail(r, "%s (pid %ld) ended early: %s", pp->p.name, (long)pid, st);
                run_log_tail(pp->log);
            }
        }
    }
}

bool run_poll_signals(struct run *r)
{
    struct signalfd_siginfo si;
    while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            reap_children(r);
        } else if (!r->interrupted) {
            r->interrupted = (int)si.ssi_signo;
            ah_log_warn("%s: stopping, keeping what was measured", strsignal((int)si.ssi_signo));
        }
    }
    return r->interrupted != 0;
}

/* ---- setup ---- */

static int setup_signals(struct run *r)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    return r->sigfd < 0 || r->tfd < 0 ? -errno : 0;
}

static void record_netns(struct run *r)
{
    state_add_ns(&r->st, "fabric", "-", topo_netns(r->topo, TOPO_FABRIC, 0));
    for (size_t i = 0; i < r->lab->nnodes; i++)
        state_add_ns(&r->st, "node", r->lab->nodes[i].name, topo_netns(r->topo, TOPO_NODE, i));
    for (size_t v = 0; v < r->lab->nvantages; v++) {
        state_add_ns(&r->st, "router", r->lab->vantages[v].name,
                     topo_netns(r->topo, TOPO_ROUTER, v));
        state_add_ns(&r->st, "client", r->lab->vantages[v].name,
                     topo_netns(r->topo, TOPO_CLIENT, v));
    }
    state_save(&r->st);
}

static int prepare_dirs(struct run *r)
{
    int rc = state_dir(r->runid, r->rundir, sizeof r->rundir);
    if (rc < 0) {
        run_fail(r, "%s/%s: cannot create the state directory: %s", state_base(), r->runid,
                 strerror(-rc));
        return rc;
    }
    if (r->o->up_only) {
        snprintf(r->logdir, sizeof r->logdir, "%s/logs", r->rundir);
    } else {
        const char *base = r->o->results_base ? r->o->results_base : "results";
        rc = results_make_dir(base, r->start_real, r->lab->name, r->resdir, sizeof r->resdir);
        if (rc < 0) {
            run_fail(r, "%s: cannot create the results directory: %s", base, strerror(-rc));
            return rc;
        }
        if (!realpath(r->resdir, r->resabs))
            snprintf(r->resabs, sizeof r->resabs, "%s", r->resdir);
        snprintf(r->st.results, sizeof r->st.results, "%s", r->resabs);
        snprintf(r->logdir, sizeof r->logdir, "%s/logs", r->resabs);
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/lab.yaml", r->resdir);
        if ((rc = results_copy_file(r->o->lab_path, path)) < 0)
            ah_log_warn("%s: copy of the lab file: %s", path, strerror(-rc));
        snprintf(path, sizeof path, "%s/events.csv", r->resdir);
        if ((rc = events_open(&r->ev, path)) < 0) {
            run_fail(r, "%s: %s", path, strerror(-rc));
            return rc;
        }
    }
    if (mkdir(r->logdir, 0755) < 0 && errno != EEXIST) {
        run_fail(r, "%s: %s", r->logdir, strerror(errno));
        return -errno;
    }
    return 0;
}

/* A lab left up keeps a copy of its lab file in the state directory: the
 * model `anycast-lab drill` loads, whatever the user does to theirs. */
static void save_lab_copy(struct run *r)
{
    char path[sizeof r->rundir + 16];
    snprintf(path, sizeof path, "%s/lab.yaml", r->rundir);
    int rc = results_copy_file(r->o->lab_path, path);
    if (rc < 0)
        ah_log_warn("%s: copy of the lab file: %s", path, strerror(-rc));
}

/* The report (summary, verdicts, report.html) from the collected results;
 * prints the verdict table. A failed expectation makes the exit status 1. */
static int run_report(struct run *r, int exit_code)
{
    struct report_opts ro = {
        .print_table = !ah_log_quiet(), .baseline = r->o->baseline, .junit = r->o->junit};
    int failed = report_build(r->resdir, r->lab, &ro);
    if (failed < 0) {
        if (failed != REPORT_USAGE) /* else already said */
            ah_log_error("%s: report: %s", r->resdir, strerror(-failed));
        return 1;
    }
    return failed > 0 ? 1 : exit_code;
}

/* ---- the steps of run_lab ---- */

/* Who runs the lab: root, or anyone through a user namespace for a lab
 * that lives only as long as `run`. Returns 0, or the exit status. */
static int check_user(const struct run *r)
{
    if (geteuid() == 0)
        return 0;
    if (r->o->up_only || r->o->keep_up) {
        ah_log_error("%s needs root: a rootless lab lives only as long as `run`",
                     r->o->up_only ? "up" : "--keep-up");
        return 2;
    }
    return rootless_enter() < 0 ? 1 : 0;
}

/* The run's own record in the state directory, "run" with a live owner
 * until the lab is up: clean leaves it alone while it builds and removes it
 * if the build is killed. */
static void prepare_state(struct run *r)
{
    state_new_runid(r->runid, sizeof r->runid);
    snprintf(r->st.runid, sizeof r->st.runid, "%s", r->runid);
    snprintf(r->st.name, sizeof r->st.name, "%s", r->lab->name);
    snprintf(r->st.mode, sizeof r->st.mode, "run");
    if (!realpath(r->o->lab_path, r->st.lab))
        snprintf(r->st.lab, sizeof r->st.lab, "%s", r->o->lab_path);
    r->st.owner = getpid();
    r->st.started_ns = r->start_real;
}

/* Prepare: memory, signals, the run's state and its directories. Returns 0
 * or a negative errno (the run has failed). */
static int prepare(struct run *r)
{
    int rc;
    r->start_real = ah_clock_realtime_ns();
    r->resp = calloc(r->lab->nnodes, sizeof *r->resp);
    r->launch = calloc(r->lab->nnodes, sizeof *r->launch);
    r->resp_log = calloc(r->lab->nnodes, sizeof *r->resp_log);
    struct run_probe_plan plan[RUN_PROBES_PER_VANTAGE];
    r->probes = calloc(run_probe_plan(r->lab, plan) * r->lab->nvantages + 1, sizeof *r->probes);
    if (!r->resp || !r->launch || !r->resp_log || !r->probes ||
        drill_expand(r->lab, &r->drill) < 0) {
        run_fail(r, "out of memory");
        return -ENOMEM;
    }
    if ((rc = setup_signals(r)) < 0) {
        run_fail(r, "signals: %s", strerror(errno));
        return rc;
    }
    /* Orphans of our children (a sanitizer's tracer left when a probe is
     * killed, a daemon's worker) become ours, so that the teardown reaps
     * them instead of leaving zombies for init. */
    if ((rc = proc_set_subreaper()) < 0)
        ah_log_warn("cannot become the reaper of orphaned children: %s", strerror(-rc));
    /* The drill's clock must wake on time while the lab's own hundreds of
     * processes use every core; they run at the default priority. */
    if ((rc = proc_raise_priority(RUN_NICE)) < 0)
        ah_log_debug("cannot raise our priority: %s", strerror(-rc));
    prepare_state(r);
    if ((rc = prepare_dirs(r)) < 0)
        return rc;
    if (r->o->up_only || r->o->keep_up)
        save_lab_copy(r);
    state_save(&r->st);
    /* Said before anything is built, so that a capture or a look into the
     * namespaces (ah-lab-<run id>-...) can be set up while the lab starts. */
    ah_log_info("%s: run id %s%s%s", r->lab->name, r->runid, r->resdir[0] ? ", results " : "",
                r->resdir);
    return 0;
}

/* Build: the topology, the responders (answering), the routing. Returns 0
 * or a negative errno (the run has failed or was interrupted). */
static int build(struct run *r)
{
    uint64_t t_build = ah_clock_mono_ns();
    int rc = topo_build(r->lab, r->runid, &r->topo);
    if (rc < 0) {
        r->topo = NULL;
        run_fail(r, "%s: building the topology: %s", r->lab->name, strerror(-rc));
        return rc;
    }
    r->topology_ns = ah_clock_mono_ns() - t_build;
    ah_log_info("%s: topology up in %.0f ms", r->lab->name, (double)r->topology_ns / 1e6);
    record_netns(r);
    uint64_t t_resp = ah_clock_mono_ns();
    if (run_poll_signals(r))
        return -EINTR;
    if ((rc = run_start_responders(r)) < 0 || (rc = run_wait_ready(r)) < 0 ||
        (rc = run_start_routing(r)) < 0)
        return rc;
    r->responders_ns = ah_clock_mono_ns() - t_resp;
    return 0;
}

/* Play: the probes started and past their start barrier, then the drill
 * on its clock. Returns 0 or a negative errno (the run has failed or was
 * interrupted before the drill). */
static int play(struct run *r)
{
    r->mon = calloc(r->lab->nvantages + 1, sizeof *r->mon);
    if (!r->mon) {
        run_fail(r, "out of memory");
        return -ENOMEM;
    }
    int n = topo_monitor_fds(r->topo, r->mon, r->lab->nvantages);
    r->nmon = n > 0 ? (size_t)n : 0;
    uint64_t t_probes = ah_clock_mono_ns();
    int rc;
    run_lab_priority(true);
    if ((rc = run_pcap_start(r)) < 0 || (rc = run_start_probes(r)) < 0 ||
        (rc = run_wait_probes(r)) < 0) {
        run_lab_priority(false);
        return rc;
    }
    r->probes_ns = ah_clock_mono_ns() - t_probes;
    run_record_initial_routes(r);
    /* The drill's clock starts here, past the start barrier: every responder
     * answers and every probe probes. */
    r->t0_mono = ah_clock_mono_ns();
    r->t0_real = ah_clock_realtime_ns();
    ah_log_info("%s: startup: topology %.0f ms, %zu responder%s %.0f ms, %zu probe%s %.0f ms",
                r->lab->name, (double)r->topology_ns / 1e6, r->lab->nnodes, AH_S(r->lab->nnodes),
                (double)r->responders_ns / 1e6, r->nprobes, AH_S(r->nprobes),
                (double)r->probes_ns / 1e6);
    ah_log_info("%s: drill of %zu step%s over %.1f s", r->lab->name, r->drill.n, AH_S(r->drill.n),
                (double)r->lab->duration_ns / 1e9);
    run_drill_loop(r);
    run_lab_priority(false);
    char late[512];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (drill_late_message(&r->drill, r->lab, r->lab->tolerance_ns, r->lab->nnodes + r->nprobes,
                           ncpu > 0 ? ncpu : 1, late, sizeof late) == 0)
        run_fail(r, "%s", late);
    return 0;
}

/* Stay up (`up`, `run --keep-up`): the lab is left running. Its processes
 * were started without a death signal; the state file says "up", and our
 * handles go while the namespaces stay. */
static void stay_up(struct run *r)
{
    snprintf(r->st.mode, sizeof r->st.mode, "up");
    state_save(&r->st);
    routing_stop(r->routing, true);
    r->routing = NULL;
    topo_release(r->topo);
    r->topo = NULL;
}

/* `up`: the lab stays, and how to reach it is printed. Returns 0. */
static int finish_up(struct run *r)
{
    printf("lab %s is up (run id %s); namespaces:\n", r->lab->name, r->runid);
    for (size_t i = 0; i < r->st.nns; i++)
        printf("  %-7s %-12s %s\n", r->st.ns[i].role, r->st.ns[i].name, r->st.ns[i].netns);
    printf("use: anycast-lab exec %s NODE|VANTAGE -- CMD; anycast-lab down %s\n", r->lab->name,
           r->lab->name);
    stay_up(r);
    return 0;
}

/* Collects the results, prints the per-event table and judges the
 * expectations; returns the exit status, which a failed expectation makes 1
 * (run.json is written again then). */
static int collect_and_report(struct run *r, int exit_code)
{
    run_collect(r, exit_code);
    run_print_table(r);
    int final = run_report(r, exit_code);
    if (final != exit_code)
        run_write_info(r, final);
    return final;
}

/* `run --keep-up` after a drill that went well: the results as usual, and
 * the lab stays. Returns the exit status. */
static int finish_keep_up(struct run *r)
{
    int exit_code = 0;
    stay_up(r);
    r->end_real = ah_clock_realtime_ns();
    /* run_collect closes the events log, so it is looked at first. */
    if (r->ev)
        exit_code = collect_and_report(r, exit_code);
    else
        run_print_table(r);
    printf("results: %s\nlab %s stays up (run id %s): anycast-lab down %s\n", r->resdir,
           r->lab->name, r->runid, r->runid);
    return exit_code;
}

/* The lab torn down, then the results collected and the report made.
 * Returns the exit status. */
static int finish_down(struct run *r)
{
    ah_log_debug("%s: probes stopped at %.0f ms of down", r->lab->name,
                 (double)(ah_clock_mono_ns() - r->down_start) / 1e6);
    routing_stop(r->routing, false);
    r->routing = NULL;
    run_stop_responders(r);
    ah_log_debug("%s: routing and responders stopped at %.0f ms of down", r->lab->name,
                 (double)(ah_clock_mono_ns() - r->down_start) / 1e6);
    if (r->topo) {
        int rc = topo_destroy(r->topo);
        r->topo = NULL;
        if (rc < 0)
            ah_log_error("%s: teardown: %s (run `anycast-lab clean`)", r->lab->name, strerror(-rc));
        ah_log_info("%s: down in %.0f ms (probes, responders and namespaces gone)", r->lab->name,
                    (double)(ah_clock_mono_ns() - r->down_start) / 1e6);
    }
    r->end_real = ah_clock_realtime_ns();
    int exit_code = r->failed || r->interrupted ? 1 : 0;
    if (r->ev) {
        exit_code = collect_and_report(r, exit_code);
        printf("results: %s\n", r->resdir);
    }
    /* Every process of the run is stopped by now: collect what is left (an
     * orphan passed to us, a child stopped by SIGKILL) so that none outlives
     * `run` as a zombie. */
    if (proc_reap_all(3 * AH_NS_PER_S) < 0)
        ah_log_warn("%s: a process the run started was still running at exit", r->lab->name);
    if (r->runid[0])
        state_remove(r->runid);
    return exit_code;
}

/* Finish: the probes stopped and the last route changes read, then the lab
 * kept (--keep-up, when nothing failed) or torn down. Returns the exit
 * status. */
static int finish(struct run *r)
{
    r->down_start = ah_clock_mono_ns();
    run_poll_signals(r);
    run_stop_probes(r);
    run_pcap_stop(r);
    run_poll_signals(r);
    if (r->topo)
        run_route_rows(r);
    if (r->o->keep_up && !r->failed && !r->interrupted)
        return finish_keep_up(r);
    return finish_down(r);
}

/* What the run holds in this process: descriptors and memory. */
static void release(struct run *r)
{
    if (r->ev)
        events_close(r->ev);
    if (r->sigfd >= 0)
        close(r->sigfd);
    if (r->tfd >= 0)
        close(r->tfd);
    if (r->ready_fd >= 0)
        close(r->ready_fd);
    if (r->ready_wfd >= 0)
        close(r->ready_wfd);
    free(r->mon);
    drill_free(&r->drill);
    state_free(&r->st);
    free(r->resp);
    free(r->launch);
    free(r->resp_log);
    free(r->probes);
    free(r->pcap);
    deploy_free(r->dep);
    lab_free(r->lab);
}

int run_lab(const struct run_opts *o)
{
    struct run r = {.o = o, .sigfd = -1, .tfd = -1, .ready_fd = -1, .ready_wfd = -1};
    int rc = lab_load_checked(o->lab_path, &r.lab);
    if (rc < 0)
        return lab_load_exit(rc);
    bool deployment = r.lab->kind == LAB_KIND_DEPLOYMENT;
    /* A baseline-run expectation without --baseline is found before the
     * lab is built. */
    if ((rc = diff_baseline_check(r.lab, o->baseline)) != 0) {
        lab_free(r.lab);
        return rc;
    }
    if (o->dry_run) {
        int ec = deployment ? deploy_dry_run(r.lab, o->ready_timeout_ns) : 2;
        if (!deployment)
            ah_log_error("%s: --dry-run is for kind: deployment files", o->lab_path);
        lab_free(r.lab);
        return ec;
    }
    if (deployment && (o->up_only || o->keep_up || o->pcap)) {
        ah_log_error("%s: %s is for kind: lab files: %s", o->lab_path,
                     o->up_only   ? "up"
                     : o->keep_up ? "--keep-up"
                                  : "--pcap",
                     o->pcap ? "capture on the hosts themselves"
                             : "a deployment has nothing to keep up");
        lab_free(r.lab);
        return 2;
    }
    if (o->pcap && r.lab->nvantages > RUN_PCAP_VANTAGES_MAX) {
        ah_log_error("%s: --pcap: %zu vantages, at most %d captures at once", o->lab_path,
                     r.lab->nvantages, RUN_PCAP_VANTAGES_MAX);
        lab_free(r.lab);
        return 2;
    }
    /* A deployment builds nothing here: no root needed. */
    int exit_code = deployment ? 0 : check_user(&r);
    if (exit_code != 0) {
        lab_free(r.lab);
        return exit_code;
    }
    rc = prepare(&r);
    if (rc == 0 && deployment) {
        deploy_play(&r);
        exit_code = finish(&r);
        release(&r);
        return exit_code;
    }
    if (rc == 0)
        rc = build(&r);
    if (rc == 0 && o->up_only) {
        exit_code = finish_up(&r);
    } else {
        if (rc == 0)
            play(&r);
        exit_code = finish(&r);
    }
    release(&r);
    return exit_code;
}
