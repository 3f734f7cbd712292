/* `anycast-lab run` and `up`: the whole life of a lab in one single-threaded
 * process. Signals (SIGINT, SIGTERM, SIGCHLD) arrive through a signalfd, the
 * drill's schedule through a CLOCK_MONOTONIC timerfd and route changes
 * through the topology's monitor sockets, all in one poll loop, so every
 * timestamp is taken in this process right where the kernel answered. */
#include "run.h"

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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/dur.h"
#include "ah/log.h"
#include "drill.h"
#include "lab.h"
#include "proc.h"
#include "responders.h"
#include "results.h"
#include "rootless.h"
#include "state.h"
#include "topo.h"

#define NS_PER_S  1000000000ULL
#define NS_PER_MS 1000000ULL
#define MAX_MON   256

struct probe_proc {
    struct proc p;
    size_t vantage;
    char outdir[PATH_MAX];
    char log[PATH_MAX];
};

struct run {
    const struct run_opts *o;
    struct lab *lab;
    struct topo *topo;
    char runid[STATE_ID_MAX];
    char rundir[512];
    char resdir[1000]; /* as the user gave it, for messages */
    char resabs[1000]; /* absolute: children work in another directory */
    char logdir[1024];
    struct state st;
    struct events *ev;
    struct proc *resp;
    struct resp_launch *launch;
    char (*resp_log)[PATH_MAX];
    struct probe_proc *probes;
    size_t nprobes;
    struct drill drill;
    int sigfd, tfd;
    int mon[MAX_MON];
    size_t nmon;
    uint64_t t0_mono, t0_real, start_real, end_real;
    int interrupted;
    bool failed;
    char status[256];
};

static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!r->failed)
        vsnprintf(r->status, sizeof r->status, fmt, ap);
    va_end(ap);
    r->failed = true;
    ah_log_error("%s", r->status);
}

static void add_event(struct run *r, uint64_t ts, const char *event, const char *node,
                      const char *detail)
{
    if (r->ev)
        events_add(r->ev, ts ? ts : ah_clock_realtime_ns(), event, node, detail);
}

/* Logs the last lines of a process's log file, where its own error is. */
static void log_tail(const char *path)
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
            add_event(r, 0, "exit", r->lab->nodes[i].name, detail);
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
            add_event(r, 0, "exit", r->lab->vantages[pp->vantage].name, detail);
            if (!(WIFEXITED(pp->p.status) && WEXITSTATUS(pp->p.status) == 0)) {
                fail(r, "%s (pid %ld) ended early: %s", pp->p.name, (long)pid, st);
                log_tail(pp->log);
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
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    nanosleep(&ts, NULL);
}

/* ---- route monitor ---- */

static void on_route(void *arg, uint64_t ts_ns, size_t vantage, const char *nexthops)
{
    struct run *r = arg;
    char detail[128];
    snprintf(detail, sizeof detail, "router=%s nexthop=%s",
             vantage < r->lab->nvantages ? r->lab->vantages[vantage].name : "?", nexthops);
    add_event(r, ts_ns, "route", nexthops, detail);
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
            fail(r, "%s: cannot prepare the responder: %s", r->lab->nodes[i].name, strerror(-rc));
            return rc;
        }
        snprintf(r->resp_log[i], sizeof r->resp_log[i], "%s/responder-%s.log", r->logdir,
                 r->lab->nodes[i].name);
        if ((rc = spawn_responder(r, i)) < 0) {
            fail(r, "%s: responder did not start", r->lab->nodes[i].name);
            return rc;
        }
        state_add_pid(&r->st, "responder", r->lab->nodes[i].name, r->resp[i].pid);
    }
    state_save(&r->st);
    return 0;
}

static bool node_speaks(const struct lab_node *n, enum lab_service s)
{
    return s == LAB_SERVICE_DNS ||
           (n->responder != LAB_RESPONDER_NSD && n->responder != LAB_RESPONDER_KNOT);
}

/* Waits until every node answers each probed service on each anycast
 * address, queried from inside the node's own namespace. */
static int wait_ready(struct run *r)
{
    enum lab_service svcs[2];
    size_t nsvc = 0;
    if (r->lab->udp.enabled)
        svcs[nsvc++] = r->lab->udp.service;
    if (r->lab->tcp.enabled && (nsvc == 0 || svcs[0] != r->lab->tcp.service))
        svcs[nsvc++] = r->lab->tcp.service;
    if (nsvc == 0)
        svcs[nsvc++] = LAB_SERVICE_DNS;

    uint64_t start = ah_clock_mono_ns();
    uint64_t deadline = start + r->o->ready_timeout_ns;
    for (size_t i = 0; i < r->lab->nnodes; i++) {
        const char *ns = topo_netns(r->topo, TOPO_NODE, i);
        for (size_t a = 0; a < r->lab->nanycast; a++) {
            for (size_t s = 0; s < nsvc; s++) {
                if (!node_speaks(&r->lab->nodes[i], svcs[s]))
                    continue;
                int rc;
                while ((rc = resp_check(ns, &r->lab->anycast[a], svcs[s], 200 * NS_PER_MS)) < 0) {
                    if (poll_signals(r))
                        return -EINTR;
                    if (r->resp[i].pid == 0) {
                        fail(r, "%s: responder exited before answering (log %s)",
                             r->lab->nodes[i].name, r->resp_log[i]);
                        log_tail(r->resp_log[i]);
                        return -ESRCH;
                    }
                    if (ah_clock_mono_ns() >= deadline) {
                        char ab[AH_ADDR_STRLEN];
                        ah_addr_format(&r->lab->anycast[a], false, ab, sizeof ab);
                        fail(r, "%s: no %s answer on %s within %llu ms (%s; log %s)",
                             r->lab->nodes[i].name, lab_service_name(svcs[s]), ab,
                             (unsigned long long)(r->o->ready_timeout_ns / NS_PER_MS),
                             strerror(-rc), r->resp_log[i]);
                        log_tail(r->resp_log[i]);
                        return -ETIMEDOUT;
                    }
                    sleep_ns(20 * NS_PER_MS);
                }
            }
        }
    }
    ah_log_info("%zu responders answer (%.0f ms)", r->lab->nnodes,
                (double)(ah_clock_mono_ns() - start) / 1e6);
    return 0;
}

static void stop_responders(struct run *r)
{
    for (size_t i = 0; r->resp && i < r->lab->nnodes; i++) {
        if (r->resp[i].pid > 0 && proc_stop(&r->resp[i], SIGTERM, 2 * NS_PER_S) == 1)
            ah_log_warn("%s: responder needed SIGKILL", r->lab->nodes[i].name);
    }
}

/* ---- probes ---- */

static int push_arg(char **argv, size_t *n, size_t cap, char *store, size_t *used, size_t slen,
                    const char *s)
{
    size_t l = strlen(s) + 1;
    if (*n + 1 >= cap || *used + l > slen)
        return -ENOSPC;
    memcpy(store + *used, s, l);
    argv[(*n)++] = store + *used;
    argv[*n] = NULL;
    *used += l;
    return 0;
}

static int start_probe(struct run *r, size_t v, const char *prog, const char *kind, bool udp,
                       bool tcp)
{
    char *argv[40];
    char store[4096], tmp[64], target[AH_ADDR_STRLEN];
    size_t n = 0, used = 0;
    const struct lab *lab = r->lab;
    struct probe_proc *pp = &r->probes[r->nprobes];
    const char *vname = lab->vantages[v].name;
    int rc = 0;

#define ARG(s)                                                                                     \
    do {                                                                                           \
        if (rc == 0)                                                                               \
            rc = push_arg(argv, &n, 40, store, &used, sizeof store, (s));                          \
    } while (0)

    snprintf(pp->outdir, sizeof pp->outdir, "%s/probes-%s%s%s", r->resabs, vname, *kind ? "-" : "",
             kind);
    snprintf(pp->log, sizeof pp->log, "%s/probe-%s%s%s.log", r->logdir, vname, *kind ? "-" : "",
             kind);
    if (mkdir(pp->outdir, 0755) < 0 && errno != EEXIST)
        return -errno;
    ah_addr_format(&lab->anycast[0], false, target, sizeof target);

    ARG(prog);
    ARG("--vantage");
    ARG(vname);
    ARG("--out");
    ARG(pp->outdir);
    /* The probe runs a little longer than the lab; SIGINT ends it on time. */
    ah_dur_format(lab->duration_ns + 5 * NS_PER_S, tmp, sizeof tmp);
    ARG("--duration");
    ARG(tmp);
    ARG("--transport");
    ARG(udp && tcp ? "both" : udp ? "udp" : "tcp");
    ARG("--service");
    ARG(lab_service_name(udp ? lab->udp.service : lab->tcp.service));
    if (udp) {
        snprintf(tmp, sizeof tmp, "%u", lab->udp.rate);
        ARG("--rate");
        ARG(tmp);
        snprintf(tmp, sizeof tmp, "%u", lab->udp.flows);
        ARG("--flows");
        ARG(tmp);
        if (lab->udp.timeout_ns) {
            ah_dur_format(lab->udp.timeout_ns, tmp, sizeof tmp);
            ARG("--timeout");
            ARG(tmp);
        }
    }
    if (tcp) {
        snprintf(tmp, sizeof tmp, "%u", lab->tcp.connections);
        ARG("--connections");
        ARG(tmp);
        ah_dur_format(lab->tcp.interval_ns, tmp, sizeof tmp);
        ARG("--interval");
        ARG(tmp);
        if (lab->tcp.timeout_ns && !(udp && lab->udp.timeout_ns)) {
            ah_dur_format(lab->tcp.timeout_ns, tmp, sizeof tmp);
            ARG("--timeout");
            ARG(tmp);
        }
    }
    ARG(target);
#undef ARG
    if (rc < 0)
        return rc;

    struct proc_spec spec = {
        .netns = topo_netns(r->topo, TOPO_CLIENT, v),
        .log_path = pp->log,
        .argv = argv,
        .die_with_parent = true,
        .chdir_to = r->rundir,
    };
    snprintf(pp->p.name, sizeof pp->p.name, "probe %s%s%s", vname, *kind ? " " : "", kind);
    pp->vantage = v;
    rc = proc_spawn(&pp->p, &spec);
    if (rc < 0) {
        ah_log_error("%s: starting %s in %s: %s", vname, prog, spec.netns, strerror(-rc));
        return rc;
    }
    r->nprobes++;
    state_add_pid(&r->st, "probe", vname, pp->p.pid);
    return 0;
}

static int start_probes(struct run *r)
{
    char prog[PATH_MAX];
    const struct lab *lab = r->lab;
    if (!lab->udp.enabled && !lab->tcp.enabled)
        return 0;
    if (proc_find_program("anycast-probe", false, prog, sizeof prog) < 0) {
        fail(r, "anycast-probe: program not found (set AH_BIN_DIR or install it next to "
                "anycast-lab)");
        return -ENOENT;
    }
    bool same = lab->udp.enabled && lab->tcp.enabled && lab->udp.service == lab->tcp.service;
    for (size_t v = 0; v < lab->nvantages; v++) {
        int rc = 0;
        if (same || !(lab->udp.enabled && lab->tcp.enabled)) {
            rc = start_probe(r, v, prog, "", lab->udp.enabled, lab->tcp.enabled);
        } else {
            /* Different services per transport: one probe each. */
            rc = start_probe(r, v, prog, "udp", true, false);
            if (rc == 0)
                rc = start_probe(r, v, prog, "tcp", false, true);
        }
        if (rc < 0) {
            fail(r, "%s: probe did not start: %s", lab->vantages[v].name, strerror(-rc));
            return rc;
        }
    }
    state_save(&r->st);
    return 0;
}

static void stop_probes(struct run *r)
{
    uint64_t t = r->lab->udp.timeout_ns > r->lab->tcp.timeout_ns ? r->lab->udp.timeout_ns
                                                                 : r->lab->tcp.timeout_ns;
    if (t == 0)
        t = NS_PER_S;
    for (size_t i = 0; i < r->nprobes; i++) {
        if (r->probes[i].p.pid > 0) {
            r->probes[i].p.expected_exit = true;
            proc_signal(&r->probes[i].p, SIGINT);
        }
    }
    for (size_t i = 0; i < r->nprobes; i++) {
        if (proc_stop(&r->probes[i].p, SIGINT, t + 3 * NS_PER_S) == 1)
            ah_log_warn("%s: needed SIGKILL; its last second of rows may be missing",
                        r->probes[i].p.name);
    }
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
    switch (s->verb) {
    case LAB_VERB_WITHDRAW:
        rc = topo_withdraw(r->topo, s->node, ack);
        break;
    case LAB_VERB_ANNOUNCE:
        rc = topo_announce(r->topo, s->node, ack);
        break;
    case LAB_VERB_LINK_DOWN:
    case LAB_VERB_LINK_UP:
        rc = topo_link_set(r->topo, s->node, s->verb == LAB_VERB_LINK_UP, ack);
        break;
    case LAB_VERB_STOP:
        if (p->pid <= 0) {
            snprintf(detail, dlen, "not running");
            break;
        }
        p->expected_exit = true;
        snprintf(detail, dlen, "pid %ld SIGKILL", (long)p->pid);
        rc = proc_signal(p, SIGKILL);
        *ack = ah_clock_realtime_ns();
        break;
    case LAB_VERB_START:
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
    case LAB_VERB_PAUSE:
    case LAB_VERB_RESUME: {
        bool pause = s->verb == LAB_VERB_PAUSE;
        if (node->responder == LAB_RESPONDER_BUILTIN) {
            char reply[64] = "";
            rc = resp_control(r->launch[s->node].control, pause ? "pause" : "resume", reply,
                              sizeof reply, NS_PER_S, ack);
            snprintf(detail, dlen, "control%s%s", reply[0] ? ": " : "", reply);
        } else {
            snprintf(detail, dlen, "%s pid %ld", pause ? "SIGSTOP" : "SIGCONT", (long)p->pid);
            rc = proc_signal(p, pause ? SIGSTOP : SIGCONT);
            *ack = ah_clock_realtime_ns();
        }
        break;
    }
    default:
        rc = -ENOTSUP;
        break;
    }
    if (*ack == 0)
        *ack = ah_clock_realtime_ns();
    if (rc < 0) {
        size_t l = strlen(detail);
        snprintf(detail + l, dlen - l, "%sfailed: %s", l ? "; " : "", strerror(-rc));
        ah_log_error("%s %s at %.3fs: %s", lab_verb_name(s->verb), node->name,
                     (double)s->at_ns / 1e9, strerror(-rc));
        r->failed = true;
        if (!r->status[0])
            snprintf(r->status, sizeof r->status, "%s %s failed", lab_verb_name(s->verb),
                     node->name);
    }
    add_event(r, *ack, lab_verb_name(s->verb), node->name, detail);
    return rc;
}

static void play(struct run *r)
{
    struct pollfd fds[MAX_MON + 2];
    struct drill_ops ops = {.arg = r, .action = do_step};
    uint64_t dur = r->lab->duration_ns;

    fds[0] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = r->tfd, .events = POLLIN};
    for (size_t i = 0; i < r->nmon; i++)
        fds[2 + i] = (struct pollfd){.fd = r->mon[i], .events = POLLIN};

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
        struct itimerspec its = {.it_value = {(time_t)(abs / NS_PER_S), (long)(abs % NS_PER_S)}};
        timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
        if (poll(fds, 2 + r->nmon, -1) < 0 && errno != EINTR)
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
    }
}

/* ---- reporting ---- */

static void version_of(const char *prog, const char *flag, char *out, size_t len)
{
    char cmd[PATH_MAX + 64];
    snprintf(out, len, "unknown");
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", prog, flag);
    FILE *f = popen(cmd, "re");
    if (!f)
        return;
    if (fgets(out, (int)len, f))
        out[strcspn(out, "\r\n")] = '\0';
    pclose(f);
}

static void print_table(struct run *r)
{
    if (r->drill.n > 0)
        printf("%-10s %9s  %-10s %-30s %10s  %s\n", "event", "at", "node", "acknowledged (UTC)",
               "lag", "detail");
    for (size_t i = 0; i < r->drill.n; i++) {
        const struct drill_step *s = &r->drill.steps[i];
        char at[32], when[48] = "-", lag[32] = "-";
        snprintf(at, sizeof at, "%.3fs", (double)s->at_ns / 1e9);
        if (s->done) {
            time_t sec = (time_t)(s->ack_ns / NS_PER_S);
            struct tm tm;
            gmtime_r(&sec, &tm);
            char hms[32];
            strftime(hms, sizeof hms, "%Y-%m-%d %H:%M:%S", &tm);
            snprintf(when, sizeof when, "%s.%06llu", hms,
                     (unsigned long long)(s->ack_ns % NS_PER_S / 1000));
            double l = ((double)s->ack_ns - (double)(r->t0_real + s->at_ns)) / 1e6;
            snprintf(lag, sizeof lag, "%+.3fms", l);
        }
        printf("%-10s %9s  %-10s %-30s %10s  %s\n", lab_verb_name(s->verb), at,
               r->lab->nodes[s->node].name, when, lag, s->done ? s->detail : "not executed");
    }
}

static void collect(struct run *r, int exit_code)
{
    char out[PATH_MAX + 32], in[PATH_MAX + 32];
    long probes = -1, conns = -1;
    unsigned long late = 0;
    const char **inputs = calloc(r->nprobes + 1, sizeof *inputs);
    char(*paths)[PATH_MAX + 32] = calloc(r->nprobes + 1, sizeof *paths);

    if (inputs && paths) {
        static const char *const kinds[] = {"probes.csv", "connections.csv"};
        for (size_t k = 0; k < 2; k++) {
            for (size_t i = 0; i < r->nprobes; i++) {
                snprintf(paths[i], sizeof paths[i], "%s/%s", r->probes[i].outdir, kinds[k]);
                inputs[i] = paths[i];
            }
            snprintf(out, sizeof out, "%s/%s", r->resdir, kinds[k]);
            /* Probe rows are written when the probe ends, at most a timeout
             * after they were sent; connection rows when the connection
             * ends, which can be the end of the run. */
            uint64_t window = k == 0 ? 30 * NS_PER_S : UINT64_MAX;
            /* probes.csv in ts_ns order, connections.csv in opened_ns order. */
            long n = results_merge(inputs, r->nprobes, out, k == 0 ? 0 : 4, window,
                                   k == 0 ? results_probes_header : results_connections_header,
                                   k == 0 ? RESULTS_PROBES_COLS : RESULTS_CONNECTIONS_COLS, &late);
            if (n < 0)
                ah_log_error("%s: merge failed: %s (per-vantage files kept)", out, strerror(-n));
            else if (late > 0)
                ah_log_warn("%s: %lu rows were more than the merge window out of order", out, late);
            if (k == 0)
                probes = n;
            else
                conns = n;
        }
        if (probes >= 0 && conns >= 0) {
            for (size_t i = 0; i < r->nprobes; i++) {
                for (size_t k = 0; k < 2; k++) {
                    snprintf(in, sizeof in, "%s/%s", r->probes[i].outdir, kinds[k]);
                    unlink(in);
                }
                rmdir(r->probes[i].outdir); /* kept if the probe left other files */
            }
        }
    }
    free(inputs);
    free(paths);

    size_t nev = events_count(r->ev);
    events_close(r->ev);
    r->ev = NULL;

    char vals[4][256];
    const char *keys[4], *pv[4];
    size_t nv = 0;
    char prog[PATH_MAX];
    keys[nv] = "anycast-lab";
    snprintf(vals[nv], sizeof vals[nv], "anycast-lab %s", AH_VERSION);
    nv++;
    static const char *const progs[][3] = {{"anycast-responder", "--version", "0"},
                                           {"anycast-probe", "--version", "0"},
                                           {"nsd", "-v", "1"},
                                           {"knotd", "--version", "1"}};
    for (size_t i = 0; i < 4 && nv < 4; i++) {
        bool used = i < 2;
        for (size_t n = 0; !used && n < r->lab->nnodes; n++)
            used = r->lab->nodes[n].responder == (i == 2 ? LAB_RESPONDER_NSD : LAB_RESPONDER_KNOT);
        if (!used || proc_find_program(progs[i][0], progs[i][2][0] == '1', prog, sizeof prog) < 0)
            continue;
        version_of(prog, progs[i][1], vals[nv], sizeof vals[nv]);
        keys[nv++] = progs[i][0];
    }
    for (size_t i = 0; i < nv; i++)
        pv[i] = vals[i];

    struct utsname u;
    char kernel[512] = "unknown";
    if (uname(&u) == 0)
        snprintf(kernel, sizeof kernel, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
    char status[300];
    if (r->interrupted)
        snprintf(status, sizeof status, "interrupted by %s", sigabbrev_np(r->interrupted));
    else if (r->failed)
        snprintf(status, sizeof status, "failed: %s", r->status);
    else
        snprintf(status, sizeof status, "ok");
    struct results_run_info ri = {
        .lab_name = r->lab->name,
        .lab_file = r->o->lab_path,
        .run_id = r->runid,
        .routing = lab_routing_name(r->lab->routing),
        .status = status,
        .kernel = kernel,
        .exit_code = exit_code,
        .rootless = rootless_active(),
        .start_ns = r->start_real,
        .drill_start_ns = r->t0_real,
        .end_ns = r->end_real,
        .version_keys = keys,
        .version_vals = pv,
        .nversions = nv,
        .probes_rows = probes,
        .connections_rows = conns,
        .events_rows = nev,
        .lab = r->lab,
        .drill = &r->drill,
    };
    snprintf(out, sizeof out, "%s/run.json", r->resdir);
    int rc = results_write_run_json(out, &ri);
    if (rc < 0)
        ah_log_error("%s: %s", out, strerror(-rc));
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
        fail(r, "%s/%s: cannot create the state directory: %s", state_base(), r->runid,
             strerror(-rc));
        return rc;
    }
    if (r->o->up_only) {
        snprintf(r->logdir, sizeof r->logdir, "%s/logs", r->rundir);
    } else {
        const char *base = r->o->results_base ? r->o->results_base : "results";
        rc = results_make_dir(base, r->start_real, r->lab->name, r->resdir, sizeof r->resdir);
        if (rc < 0) {
            fail(r, "%s: cannot create the results directory: %s", base, strerror(-rc));
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
            fail(r, "%s: %s", path, strerror(-rc));
            return rc;
        }
    }
    if (mkdir(r->logdir, 0755) < 0 && errno != EEXIST) {
        fail(r, "%s: %s", r->logdir, strerror(errno));
        return -errno;
    }
    return 0;
}

static int print_diags(const struct lab_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s\n", d->msgs[i]);
    return 2;
}

int run_lab(const struct run_opts *o)
{
    struct run r = {.o = o, .sigfd = -1, .tfd = -1};
    struct lab_diag diag = {0};
    int exit_code = 1;

    int rc = lab_load(o->lab_path, &r.lab, &diag);
    if (rc < 0) {
        exit_code = rc == -EINVAL ? print_diags(&diag) : (print_diags(&diag), 1);
        lab_diag_free(&diag);
        return exit_code;
    }
    lab_diag_free(&diag);
    if (r.lab->routing == LAB_ROUTING_TRACKED || r.lab->routing == LAB_ROUTING_BGP) {
        ah_log_error("%s: routing: %s is not supported yet", o->lab_path,
                     lab_routing_name(r.lab->routing));
        lab_free(r.lab);
        return 2;
    }
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
        fail(&r, "out of memory");
        goto out;
    }
    if (setup_signals(&r) < 0) {
        fail(&r, "signals: %s", strerror(errno));
        goto out;
    }
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
        fail(&r, "%s: building the topology: %s", r.lab->name, strerror(-rc));
        goto out;
    }
    ah_log_info("%s: topology up in %.0f ms (run id %s)", r.lab->name,
                (double)(ah_clock_mono_ns() - t_build) / 1e6, r.runid);
    record_netns(&r);
    if (poll_signals(&r) || start_responders(&r) < 0 || wait_ready(&r) < 0)
        goto out;

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
        topo_release(r.topo);
        r.topo = NULL;
        exit_code = 0;
        goto out_keep;
    }

    int n = topo_monitor_fds(r.topo, r.mon, MAX_MON);
    r.nmon = n > 0 ? (size_t)n : 0;
    r.t0_mono = ah_clock_mono_ns();
    r.t0_real = ah_clock_realtime_ns();
    if (start_probes(&r) < 0)
        goto out;
    ah_log_info("%s: drill of %zu steps over %.1f s", r.lab->name, r.drill.n,
                (double)r.lab->duration_ns / 1e9);
    play(&r);

out:
    poll_signals(&r);
    stop_probes(&r);
    poll_signals(&r);
    if (r.topo)
        drain_monitor(&r);
    if (o->keep_up && !r.failed && !r.interrupted) {
        snprintf(r.st.mode, sizeof r.st.mode, "up");
        state_save(&r.st);
        /* Our handles go, the namespaces stay. */
        topo_release(r.topo);
        r.topo = NULL;
        r.end_real = ah_clock_realtime_ns();
        exit_code = 0;
        if (r.ev)
            collect(&r, exit_code);
        print_table(&r);
        printf("results: %s\nlab %s stays up (run id %s): anycast-lab down %s\n", r.resdir,
               r.lab->name, r.runid, r.runid);
        goto out_keep;
    }
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
        collect(&r, exit_code);
        print_table(&r);
        printf("results: %s\n", r.resdir);
    }
    if (r.runid[0])
        state_remove(r.runid);
out_keep:
    if (r.ev)
        events_close(r.ev);
    if (r.sigfd >= 0)
        close(r.sigfd);
    if (r.tfd >= 0)
        close(r.tfd);
    drill_free(&r.drill);
    state_free(&r.st);
    free(r.resp);
    free(r.launch);
    free(r.resp_log);
    free(r.probes);
    lab_free(r.lab);
    return exit_code;
}
