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

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/dur.h"
#include "ah/log.h"
#include "harness/lab/drill.h"
#include "harness/lab/expect.h"
#include "harness/lab/lab.h"
#include "harness/sys/proc.h"
#include "responders.h"
#include "harness/results/report.h"
#include "harness/results/results.h"
#include "harness/sys/rootless.h"
#include "harness/routing/routing.h"
#include "state.h"
#include "harness/topo/topo.h"

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

/* Reads pending signals; returns true when the run was interrupted. */
static bool poll_signals(struct run *r)
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

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / AH_NS_PER_S), (long)(ns % AH_NS_PER_S)};
    nanosleep(&ts, NULL);
}

/* ---- route monitor ---- */

static void on_route(void *arg, uint64_t ts_ns, size_t vantage, const char *nexthops)
{
    struct run *r = arg;
    char detail[128];
    snprintf(detail, sizeof detail, "router=%s nexthop=%s",
             vantage < r->lab->nvantages ? r->lab->vantages[vantage].name : "?", nexthops);
    run_event(r, ts_ns, ah_schema_event_name(AH_EVENT_ROUTE), nexthops, detail);
}

static void drain_monitor(struct run *r)
{
    for (size_t i = 0; i < r->nmon; i++) {
        struct pollfd p = {.fd = r->mon[i], .events = POLLIN};
        while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
            if (topo_monitor_read(r->topo, r->mon[i], on_route, r) < 0)
                break;
        }
    }
}

/* ---- responders ---- */

static int spawn_responder(struct run *r, size_t i)
{
    struct proc_spec spec = {
        .netns = topo_netns(r->topo, TOPO_NODE, i),
        .log_path = r->resp_log[i],
        .argv = r->launch[i].argv,
        .die_with_parent = !(r->o->up_only || r->o->keep_up),
        .chdir_to = r->rundir,
    };
    snprintf(r->resp[i].name, sizeof r->resp[i].name, "responder %s", r->lab->nodes[i].name);
    int rc = proc_spawn(&r->resp[i], &spec);
    if (rc < 0)
        ah_log_error("%s: starting %s in %s: %s", r->lab->nodes[i].name, r->launch[i].argv[0],
                     spec.netns, strerror(-rc));
    return rc;
}

static int start_responders(struct run *r)
{
    char abuf[LAB_ANYCAST_MAX + 2][AH_ADDR_STRLEN];
    const char *addrs[LAB_ANYCAST_MAX + 2];

    for (size_t i = 0; i < r->lab->nnodes; i++) {
        size_t n = 0;
        for (size_t a = 0; a < r->lab->nanycast; a++)
            ah_addr_format(&r->lab->anycast[a], false, abuf[n], sizeof abuf[n]), n++;
        static const int fams[] = {AF_INET, AF_INET6};
        for (size_t f = 0; f < 2; f++) {
            const struct ah_addr *u = topo_node_addr(r->topo, i, fams[f]);
            if (u && ah_addr_format(u, false, abuf[n], sizeof abuf[n]) == 0)
                n++;
        }
        for (size_t k = 0; k < n; k++)
            addrs[k] = abuf[k];
        int rc = resp_prepare(r->lab, i, addrs, n, r->rundir, &r->launch[i]);
        if (rc < 0) {
            run_fail(r, "%s: cannot prepare the responder: %s", r->lab->nodes[i].name,
                     strerror(-rc));
            return rc;
        }
        snprintf(r->resp_log[i], sizeof r->resp_log[i], "%s/responder-%s.log", r->logdir,
                 r->lab->nodes[i].name);
        if ((rc = spawn_responder(r, i)) < 0) {
            run_fail(r, "%s: responder did not start", r->lab->nodes[i].name);
            return rc;
        }
        state_add_pid(&r->st, "responder", r->lab->nodes[i].name, r->resp[i].pid);
    }
    state_save(&r->st);
    return 0;
}

static bool node_speaks(const struct lab_node *n, enum ah_service s)
{
    return s == AH_SVC_DNS ||
           (n->responder != LAB_RESPONDER_NSD && n->responder != LAB_RESPONDER_KNOT);
}

/* Waits until every node answers each probed service on each anycast
 * address, queried from inside the node's own namespace. */
static int wait_ready(struct run *r)
{
    enum ah_service svcs[2];
    size_t nsvc = 0;
    if (r->lab->udp.enabled)
        svcs[nsvc++] = r->lab->udp.service;
    if (r->lab->tcp.enabled && (nsvc == 0 || svcs[0] != r->lab->tcp.service))
        svcs[nsvc++] = r->lab->tcp.service;
    if (nsvc == 0)
        svcs[nsvc++] = AH_SVC_DNS;

    uint64_t start = ah_clock_mono_ns();
    uint64_t deadline = start + r->o->ready_timeout_ns;
    for (size_t i = 0; i < r->lab->nnodes; i++) {
        const char *ns = topo_netns(r->topo, TOPO_NODE, i);
        for (size_t a = 0; a < r->lab->nanycast; a++) {
            for (size_t s = 0; s < nsvc; s++) {
                if (!node_speaks(&r->lab->nodes[i], svcs[s]))
                    continue;
                int rc;
                while ((rc = resp_check(ns, &r->lab->anycast[a], svcs[s], 200 * AH_NS_PER_MS)) <
                       0) {
                    if (poll_signals(r))
                        return -EINTR;
                    if (r->resp[i].pid == 0) {
                        run_fail(r, "%s: responder exited before answering (log %s)",
                                 r->lab->nodes[i].name, r->resp_log[i]);
                        run_log_tail(r->resp_log[i]);
                        return -ESRCH;
                    }
                    if (ah_clock_mono_ns() >= deadline) {
                        char ab[AH_ADDR_STRLEN];
                        ah_addr_format(&r->lab->anycast[a], false, ab, sizeof ab);
                        run_fail(r, "%s: no %s answer on %s within %llu ms (%s; log %s)",
                                 r->lab->nodes[i].name, ah_service_name(svcs[s]), ab,
                                 (unsigned long long)(r->o->ready_timeout_ns / AH_NS_PER_MS),
                                 strerror(-rc), r->resp_log[i]);
                        run_log_tail(r->resp_log[i]);
                        return -ETIMEDOUT;
                    }
                    sleep_ns(20 * AH_NS_PER_MS);
                }
            }
        }
    }
    ah_log_info("%zu responders answer (%.0f ms)", r->lab->nnodes,
                (double)(ah_clock_mono_ns() - start) / 1e6);
    return 0;
}

/* SIGTERM to every responder first, then the waits: they stop in parallel,
 * not one after the other. */
static void stop_responders(struct run *r)
{
    for (size_t i = 0; r->resp && i < r->lab->nnodes; i++) {
        if (r->resp[i].pid > 0) {
            r->resp[i].expected_exit = true;
            if (r->resp[i].stopped)
                proc_signal(&r->resp[i], SIGCONT);
            proc_signal(&r->resp[i], SIGTERM);
        }
    }
    uint64_t end = ah_clock_mono_ns() + 2 * AH_NS_PER_S;
    for (size_t i = 0; r->resp && i < r->lab->nnodes; i++) {
        uint64_t now = ah_clock_mono_ns();
        if (r->resp[i].pid > 0 &&
            proc_stop(&r->resp[i], 0, now < end ? end - now : AH_NS_PER_MS) == 1)
            ah_log_warn("%s: responder needed SIGKILL", r->lab->nodes[i].name);
    }
}

/* ---- routing: tracked / bgp (routing.c) ---- */

static void on_routing_event(void *arg, uint64_t ts, const char *event, const char *node,
                             const char *detail)
{
    run_event(arg, ts, event, node, detail);
}

static int start_routing(struct run *r)
{
    struct routing_opts ro = {.lab = r->lab,
                              .topo = r->topo,
                              .rundir = r->rundir,
                              .logdir = r->logdir,
                              .die_with_parent = !(r->o->up_only || r->o->keep_up),
                              .ready_timeout_ns = r->o->ready_timeout_ns,
                              .cb = on_routing_event,
                              .arg = r};
    int rc = routing_start(&ro, &r->routing);
    if (rc < 0)
        run_fail(r, "%s: starting routing: %s: %s", r->lab->name, lab_routing_name(r->lab->routing),
                 strerror(-rc));
    return rc;
}

/* ---- the drill ---- */

static int do_step(void *arg, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    struct run *r = arg;
    struct proc *p = &r->resp[s->node];
    const struct lab_node *node = &r->lab->nodes[s->node];
    int rc = 0;

    if (s->flap_n)
        snprintf(detail, dlen, "flap %u/%u", s->flap_i, s->flap_n);
    /* routing: tracked / bgp (routing.c) take the verbs that depend on them. */
    if (routing_takes(r->routing, s->verb)) {
        rc = routing_action(r->routing, s->verb, s->node, ack, detail, dlen);
        goto done;
    }
    switch (s->verb) {
    case AH_VERB_WITHDRAW:
        rc = topo_withdraw(r->topo, s->node, ack);
        break;
    case AH_VERB_ANNOUNCE:
        rc = topo_announce(r->topo, s->node, ack);
        break;
    case AH_VERB_LINK_DOWN:
    case AH_VERB_LINK_UP:
        rc = topo_link_set(r->topo, s->node, s->verb == AH_VERB_LINK_UP, ack);
        break;
    case AH_VERB_STOP:
        if (p->pid <= 0) {
            snprintf(detail, dlen, "not running");
            break;
        }
        p->expected_exit = true;
        snprintf(detail, dlen, "pid %ld SIGKILL", (long)p->pid);
        rc = proc_signal(p, SIGKILL);
        *ack = ah_clock_realtime_ns();
        break;
    case AH_VERB_START:
        if (p->pid > 0) {
            snprintf(detail, dlen, "already running (pid %ld)", (long)p->pid);
            break;
        }
        rc = spawn_responder(r, s->node);
        *ack = ah_clock_realtime_ns();
        if (rc == 0) {
            snprintf(detail, dlen, "pid %ld", (long)p->pid);
            state_add_pid(&r->st, "responder", node->name, p->pid);
            state_save(&r->st);
        }
        break;
    case AH_VERB_PAUSE:
    case AH_VERB_RESUME: {
        bool pause = s->verb == AH_VERB_PAUSE;
        if (node->responder == LAB_RESPONDER_BUILTIN) {
            char reply[64] = "";
            rc = resp_control(r->launch[s->node].control,
                              ah_schema_control_name(pause ? AH_CTL_PAUSE : AH_CTL_RESUME), reply,
                              sizeof reply, AH_NS_PER_S, ack);
            snprintf(detail, dlen, "control%s%s", reply[0] ? ": " : "", reply);
        } else {
            snprintf(detail, dlen, "%s pid %ld", pause ? "SIGSTOP" : "SIGCONT", (long)p->pid);
            rc = proc_signal(p, pause ? SIGSTOP : SIGCONT);
            *ack = ah_clock_realtime_ns();
        }
        break;
    }
    case AH_VERB_DELAY: {
        /* The loader allows delay on builtin responders only. */
        unsigned ms = r->lab->drill[s->event].delay_ms;
        char cmd[32], reply[64] = "";
        if (node->responder != LAB_RESPONDER_BUILTIN) {
            rc = -ENOTSUP;
            break;
        }
        snprintf(cmd, sizeof cmd, "%s %u", ah_schema_control_name(AH_CTL_DELAY), ms);
        rc = resp_control(r->launch[s->node].control, cmd, reply, sizeof reply, AH_NS_PER_S, ack);
        snprintf(detail, dlen, "%s; control%s%s", cmd, reply[0] ? ": " : "", reply);
        break;
    }
    default:
        rc = -ENOTSUP;
        break;
    }
done:
    if (*ack == 0)
        *ack = ah_clock_realtime_ns();
    if (rc < 0) {
        size_t l = strlen(detail);
        snprintf(detail + l, dlen - l, "%sfailed: %s", l ? "; " : "", strerror(-rc));
        ah_log_error("%s %s at %.3fs: %s", ah_schema_verb_name(s->verb), node->name,
                     (double)s->at_ns / 1e9, strerror(-rc));
        r->failed = true;
        if (!r->status[0])
            snprintf(r->status, sizeof r->status, "%s %s failed", ah_schema_verb_name(s->verb),
                     node->name);
    }
    run_event(r, *ack, ah_schema_verb_name(s->verb), node->name, detail);
    return rc;
}

static uint64_t drill_clock(void *arg)
{
    struct run *r = arg;
    return ah_clock_mono_ns() - r->t0_mono;
}

static void play(struct run *r)
{
    struct drill_ops ops = {.arg = r, .action = do_step, .now = drill_clock};
    uint64_t dur = r->lab->duration_ns;
    struct pollfd *fds = calloc(r->nmon + 3, sizeof *fds);
    if (!fds) {
        run_fail(r, "out of memory");
        return;
    }

    fds[0] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = r->tfd, .events = POLLIN};
    for (size_t i = 0; i < r->nmon; i++)
        fds[2 + i] = (struct pollfd){.fd = r->mon[i], .events = POLLIN};
    /* routing.c's one fd (-1, ignored by poll, in the static modes). */
    fds[2 + r->nmon] = (struct pollfd){.fd = routing_fd(r->routing), .events = POLLIN};

    while (!poll_signals(r)) {
        uint64_t now = ah_clock_mono_ns() - r->t0_mono;
        drill_run_due(&r->drill, now, &ops);
        now = ah_clock_mono_ns() - r->t0_mono;
        if (now >= dur)
            break;
        uint64_t next = drill_next_at(&r->drill);
        if (next > dur)
            next = dur;
        uint64_t abs = r->t0_mono + next;
        struct itimerspec its = {
            .it_value = {(time_t)(abs / AH_NS_PER_S), (long)(abs % AH_NS_PER_S)}};
        timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
        if (poll(fds, 3 + r->nmon, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents & POLLIN) {
            uint64_t x;
            if (read(r->tfd, &x, sizeof x) < 0) {
                /* spurious wake-up: the loop re-reads the clock anyway */
            }
        }
        for (size_t i = 0; i < r->nmon; i++) {
            if (fds[2 + i].revents & POLLIN)
                topo_monitor_read(r->topo, r->mon[i], on_route, r);
        }
        if (fds[2 + r->nmon].revents & POLLIN)
            routing_handle(r->routing);
    }
    free(fds);
}

/* The start barrier: waits until every probe has said it probes (one byte
 * each on the ready pipe), so that the drill's clock starts with the
 * measurement and not while hundreds of processes are still starting. The
 * deadline counts from the first probe's start (--ready-timeout). */
static int wait_probes(struct run *r)
{
    size_t ready = 0;
    struct pollfd fds[2] = {{.fd = r->sigfd, .events = POLLIN},
                            {.fd = r->ready_fd, .events = POLLIN}};

    if (r->ready_fd < 0)
        return 0;
    while (ready < r->nprobes) {
        /* Everything already written first: bytes waiting in the pipe are
         * probes running, however late this loop got to them. */
        char buf[4096];
        ssize_t n = read(r->ready_fd, buf, sizeof buf);
        if (n > 0) {
            ready += (size_t)n;
            ah_log_debug(
                "%zu of %zu probes running after %llu ms", ready, r->nprobes,
                (unsigned long long)((ah_clock_mono_ns() - r->probes_start) / AH_NS_PER_MS));
            continue;
        }
        if (n == 0) {
            /* Every probe closed its end: the missing ones exited without
             * probing; their exit is (or is about to be) reported. */
            run_fail(r, "%zu of %zu probes started probing; the others exited", ready, r->nprobes);
            return -ESRCH;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        uint64_t now = ah_clock_mono_ns();
        if (now >= r->probes_deadline) {
            run_fail(r,
                     "%zu of %zu probes running after %llu ms (--ready-timeout): the machine "
                     "may be overloaded",
                     ready, r->nprobes,
                     (unsigned long long)(r->o->ready_timeout_ns / AH_NS_PER_MS));
            return -ETIMEDOUT;
        }
        if (poll(fds, 2, (int)((r->probes_deadline - now) / AH_NS_PER_MS) + 1) < 0 &&
            errno != EINTR)
            return -errno;
        /* A probe that dies now fails the run (reap_children). */
        if (poll_signals(r))
            return -EINTR;
        if (r->failed)
            return -ESRCH;
    }
    return 0;
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

/* The report (summary, verdicts, report.html) from the collected results;
 * prints the verdict table. A failed expectation makes the exit status 1. */
static int run_report(struct run *r, int exit_code)
{
    struct report_opts ro = {.print_table = true};
    int failed = report_build(r->resdir, r->lab, &ro);
    if (failed < 0) {
        ah_log_error("%s: report: %s", r->resdir, strerror(-failed));
        return 1;
    }
    return failed > 0 ? 1 : exit_code;
}

static int print_diags(const struct lab_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s\n", d->msgs[i]);
    return 2;
}

int run_lab(const struct run_opts *o)
{
    struct run r = {.o = o, .sigfd = -1, .tfd = -1, .ready_fd = -1, .ready_wfd = -1};
    struct lab_diag diag = {0};
    int exit_code = 1;

    int rc = lab_load(o->lab_path, &r.lab, &diag);
    if (rc < 0) {
        exit_code = rc == -EINVAL ? print_diags(&diag) : (print_diags(&diag), 1);
        lab_diag_free(&diag);
        return exit_code;
    }
    lab_diag_free(&diag);
    /* A mistake in an expectation is a lab-file error, found before anything
     * is built (docs/expect.md). */
    diag = (struct lab_diag){0};
    rc = expect_validate_lab(r.lab, &diag);
    if (rc < 0) {
        exit_code = rc == -EINVAL ? print_diags(&diag) : (print_diags(&diag), 1);
        lab_diag_free(&diag);
        lab_free(r.lab);
        return exit_code;
    }
    lab_diag_free(&diag);
    if (geteuid() != 0) {
        if (o->up_only || o->keep_up) {
            ah_log_error("%s needs root: a rootless lab lives only as long as `run`",
                         o->up_only ? "up" : "--keep-up");
            lab_free(r.lab);
            return 2;
        }
        if (rootless_enter() < 0) {
            lab_free(r.lab);
            return 1;
        }
    }
    r.start_real = ah_clock_realtime_ns();
    r.resp = calloc(r.lab->nnodes, sizeof *r.resp);
    r.launch = calloc(r.lab->nnodes, sizeof *r.launch);
    r.resp_log = calloc(r.lab->nnodes, sizeof *r.resp_log);
    r.probes = calloc(2 * r.lab->nvantages + 1, sizeof *r.probes);
    if (!r.resp || !r.launch || !r.resp_log || !r.probes || drill_expand(r.lab, &r.drill) < 0) {
        run_fail(&r, "out of memory");
        goto out;
    }
    if (setup_signals(&r) < 0) {
        run_fail(&r, "signals: %s", strerror(errno));
        goto out;
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
    state_new_runid(r.runid, sizeof r.runid);
    snprintf(r.st.runid, sizeof r.st.runid, "%s", r.runid);
    snprintf(r.st.name, sizeof r.st.name, "%s", r.lab->name);
    /* "run" with a live owner until the lab is up: clean leaves it alone
     * while it builds and removes it if the build is killed. */
    snprintf(r.st.mode, sizeof r.st.mode, "run");
    if (!realpath(o->lab_path, r.st.lab))
        snprintf(r.st.lab, sizeof r.st.lab, "%s", o->lab_path);
    r.st.owner = getpid();
    r.st.started_ns = r.start_real;
    if (prepare_dirs(&r) < 0)
        goto out;
    state_save(&r.st);

    uint64_t t_build = ah_clock_mono_ns();
    rc = topo_build(r.lab, r.runid, &r.topo);
    if (rc < 0) {
        r.topo = NULL;
        run_fail(&r, "%s: building the topology: %s", r.lab->name, strerror(-rc));
        goto out;
    }
    r.topology_ns = ah_clock_mono_ns() - t_build;
    ah_log_info("%s: topology up in %.0f ms (run id %s)", r.lab->name, (double)r.topology_ns / 1e6,
                r.runid);
    record_netns(&r);
    uint64_t t_resp = ah_clock_mono_ns();
    if (poll_signals(&r) || start_responders(&r) < 0 || wait_ready(&r) < 0)
        goto out;
    if (start_routing(&r) < 0)
        goto out;
    r.responders_ns = ah_clock_mono_ns() - t_resp;

    if (o->up_only) {
        printf("lab %s is up (run id %s); namespaces:\n", r.lab->name, r.runid);
        for (size_t i = 0; i < r.st.nns; i++)
            printf("  %-7s %-12s %s\n", r.st.ns[i].role, r.st.ns[i].name, r.st.ns[i].netns);
        printf("use: anycast-lab exec %s NODE|VANTAGE -- CMD; anycast-lab down %s\n", r.lab->name,
               r.lab->name);
        /* The lab stays: its processes were started without a death
         * signal, and nothing is torn down. */
        snprintf(r.st.mode, sizeof r.st.mode, "up");
        state_save(&r.st);
        routing_stop(r.routing, true);
        r.routing = NULL;
        topo_release(r.topo);
        r.topo = NULL;
        exit_code = 0;
        goto out_keep;
    }

    r.mon = calloc(r.lab->nvantages + 1, sizeof *r.mon);
    if (!r.mon) {
        run_fail(&r, "out of memory");
        goto out;
    }
    int n = topo_monitor_fds(r.topo, r.mon, r.lab->nvantages);
    r.nmon = n > 0 ? (size_t)n : 0;
    uint64_t t_probes = ah_clock_mono_ns();
    if (run_start_probes(&r) < 0 || wait_probes(&r) < 0)
        goto out;
    r.probes_ns = ah_clock_mono_ns() - t_probes;
    /* The drill's clock starts here, past the start barrier: every responder
     * answers and every probe probes. */
    r.t0_mono = ah_clock_mono_ns();
    r.t0_real = ah_clock_realtime_ns();
    ah_log_info("%s: startup: topology %.0f ms, %zu responders %.0f ms, %zu probes %.0f ms",
                r.lab->name, (double)r.topology_ns / 1e6, r.lab->nnodes,
                (double)r.responders_ns / 1e6, r.nprobes, (double)r.probes_ns / 1e6);
    ah_log_info("%s: drill of %zu steps over %.1f s", r.lab->name, r.drill.n,
                (double)r.lab->duration_ns / 1e9);
    play(&r);
    char late[512];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (drill_late_message(&r.drill, r.lab, r.lab->tolerance_ns, r.lab->nnodes + r.nprobes,
                           ncpu > 0 ? ncpu : 1, late, sizeof late) == 0)
        run_fail(&r, "%s", late);

out:
    poll_signals(&r);
    run_stop_probes(&r);
    poll_signals(&r);
    if (r.topo)
        drain_monitor(&r);
    if (o->keep_up && !r.failed && !r.interrupted) {
        snprintf(r.st.mode, sizeof r.st.mode, "up");
        state_save(&r.st);
        /* Our handles go, the namespaces stay. */
        routing_stop(r.routing, true);
        r.routing = NULL;
        topo_release(r.topo);
        r.topo = NULL;
        r.end_real = ah_clock_realtime_ns();
        exit_code = 0;
        /* run_collect closes the events log, so remember whether it was open. */
        bool have_results = r.ev != NULL;
        if (have_results)
            run_collect(&r, exit_code);
        run_print_table(&r);
        if (have_results) {
            int final = run_report(&r, exit_code);
            if (final != exit_code)
                run_write_info(&r, final);
            exit_code = final;
        }
        printf("results: %s\nlab %s stays up (run id %s): anycast-lab down %s\n", r.resdir,
               r.lab->name, r.runid, r.runid);
        goto out_keep;
    }
    routing_stop(r.routing, false);
    r.routing = NULL;
    stop_responders(&r);
    if (r.topo) {
        rc = topo_destroy(r.topo);
        r.topo = NULL;
        if (rc < 0)
            ah_log_error("%s: teardown: %s (run `anycast-lab clean`)", r.lab->name, strerror(-rc));
    }
    r.end_real = ah_clock_realtime_ns();
    exit_code = r.failed || r.interrupted ? 1 : 0;
    if (r.ev) {
        run_collect(&r, exit_code);
        run_print_table(&r);
        int final = run_report(&r, exit_code);
        if (final != exit_code)
            run_write_info(&r, final);
        exit_code = final;
        printf("results: %s\n", r.resdir);
    }
    /* Every process of the run is stopped by now: collect what is left (an
     * orphan passed to us, a child stopped by SIGKILL) so that none outlives
     * `run` as a zombie. */
    if ((rc = proc_reap_all(3 * AH_NS_PER_S)) < 0)
        ah_log_warn("%s: a process the run started was still running at exit", r.lab->name);
    if (r.runid[0])
        state_remove(r.runid);
out_keep:
    if (r.ev)
        events_close(r.ev);
    if (r.sigfd >= 0)
        close(r.sigfd);
    if (r.tfd >= 0)
        close(r.tfd);
    if (r.ready_fd >= 0)
        close(r.ready_fd);
    if (r.ready_wfd >= 0)
        close(r.ready_wfd);
    free(r.mon);
    drill_free(&r.drill);
    state_free(&r.st);
    free(r.resp);
    free(r.launch);
    free(r.resp_log);
    free(r.probes);
    lab_free(r.lab);
    return exit_code;
}
