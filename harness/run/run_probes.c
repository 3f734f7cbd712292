/* The probe processes of a run: one anycast-probe per vantage and probed
 * anycast address in its client namespace (two when UDP and TCP probe
 * different services), started with the lab's probe settings and stopped
 * with SIGINT so every row is written. Hundreds start at once (a window of
 * forks whose exec is confirmed later), and each says on a shared pipe when
 * it probes: the drill's start barrier. */
#include "run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/dur.h"
#include "ah/file.h"
#include "ah/log.h"
#include "harness/sys/netns.h"
#include "harness/sys/proc.h"

/* ---- probes ---- */

/* Confirms the oldest probe spawn in flight (*i: which probe), naming its
 * vantage when it failed. */
static int window_pop(struct run *r, struct proc_window *w, size_t *i)
{
    int rc = proc_window_pop(w, i);
    const struct probe_proc *pp = &r->probes[*i];
    if (rc < 0)
        ah_log_error("%s: starting anycast-probe in %s: %s", r->lab->vantages[pp->vantage].name,
                     topo_netns(r->topo, TOPO_CLIENT, pp->vantage), strerror(-rc));
    return rc;
}

/* An option and its value. */
static void opt(struct proc_argv *a, const char *name, const char *val)
{
    proc_argv_add(a, name);
    proc_argv_add(a, val);
}

static void opt_u(struct proc_argv *a, const char *name, unsigned val)
{
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%u", val);
    opt(a, name, tmp);
}

static void opt_dur(struct proc_argv *a, const char *name, uint64_t ns)
{
    char tmp[64];
    ah_dur_format(ns, tmp, sizeof tmp);
    opt(a, name, tmp);
}

void run_probe_args(const struct run *r, struct proc_argv *a, bool udp, bool tcp)
{
    const struct lab *lab = r->lab;
    /* The probe runs a little longer than the lab; SIGINT ends it on time.
     * Its clock starts now, the drill's only after the start barrier, which
     * may take up to the ready timeout: a probe started first must not end
     * its run before the drill does. */
    opt_dur(a, "--duration", lab->duration_ns + r->o->ready_timeout_ns + 5 * AH_NS_PER_S);
    opt(a, "--transport", udp && tcp ? "both" : ah_transport_name(udp ? AH_TR_UDP : AH_TR_TCP));
    const bool *svc = udp ? lab->udp.service : lab->tcp.service;
    for (int s = 0; s < AH_SVC_COUNT; s++)
        if (svc[s])
            opt(a, "--service", ah_service_name((enum ah_service)s));
    if (udp) {
        opt_u(a, "--rate", lab->udp.rate);
        opt_u(a, "--flows", lab->udp.flows);
        if (lab->udp.timeout_ns)
            opt_dur(a, "--timeout", lab->udp.timeout_ns);
    }
    if (tcp) {
        opt_u(a, "--connections", lab->tcp.connections);
        opt_dur(a, "--interval", lab->tcp.interval_ns);
        if (lab->tcp.timeout_ns && !(udp && lab->udp.timeout_ns))
            opt_dur(a, "--timeout", lab->tcp.timeout_ns);
    }
}

/* Starts the probe in the window, confirming the oldest spawn first when
 * the window is full. */
static int spawn_probe(struct run *r, struct proc_window *w, const struct proc_spec *spec)
{
    struct probe_proc *pp = &r->probes[r->nprobes];
    size_t failed;
    int rc = proc_window_add(w, &pp->p, spec, r->nprobes, &failed);
    if (rc < 0) {
        const struct probe_proc *f = &r->probes[failed];
        ah_log_error("%s: starting %s in %s: %s", r->lab->vantages[f->vantage].name, spec->argv[0],
                     topo_netns(r->topo, TOPO_CLIENT, f->vantage), strerror(-rc));
        return rc;
    }
    r->nprobes++;
    state_add_pid(&r->st, "probe", r->lab->vantages[pp->vantage].name, pp->p.pid);
    return 0;
}

/* The tag of anycast address a among the probed ones: "" when it is the
 * only one, else its family, numbered from the second of that family on. */
static void addr_tag(const struct lab *lab, size_t a, char *buf, size_t len)
{
    buf[0] = '\0';
    if (lab_probed_count(lab) < 2)
        return;
    enum ah_family f = lab_anycast_family(lab, a);
    unsigned nth = 1;
    for (size_t k = 0; k < a; k++)
        nth += lab_probes_address(lab, k) && lab_anycast_family(lab, k) == f;
    if (nth > 1)
        snprintf(buf, len, "%s-%u", ah_family_name(f), nth);
    else
        snprintf(buf, len, "%s", ah_family_name(f));
}

size_t run_probe_plan(const struct lab *lab, struct run_probe_plan *out)
{
    size_t n = 0;
    bool split = lab_probes_split(lab);
    for (size_t a = 0; a < lab->nanycast; a++) {
        if (!lab_probes_address(lab, a))
            continue;
        char at[16];
        addr_tag(lab, a, at, sizeof at);
        for (int t = 0; t < (split ? 2 : 1); t++) {
            struct run_probe_plan *p = &out[n++];
            p->addr = a;
            p->udp = split ? t == AH_TR_UDP : lab->udp.enabled;
            p->tcp = split ? t == AH_TR_TCP : lab->tcp.enabled;
            /* Different services per transport: one probe each. */
            const char *tr = split ? ah_transport_name((enum ah_transport)t) : "";
            snprintf(p->tag, sizeof p->tag, "%s%s%s", at, *at && *tr ? "-" : "", tr);
        }
    }
    return n;
}

/* The output directory and log of vantage v's probe of plan: under the
 * results, probes-VANTAGE[-TAG], and logs/probe-VANTAGE[-TAG].log. */
static void probe_paths(struct run *r, struct probe_proc *pp, size_t v, const char *tag)
{
    const char *vname = r->lab->vantages[v].name;
    snprintf(pp->outdir, sizeof pp->outdir, "%s/probes-%s%s%s", r->resabs, vname, *tag ? "-" : "",
             tag);
    snprintf(pp->log, sizeof pp->log, "%s/probe-%s%s%s.log", r->logdir, vname, *tag ? "-" : "",
             tag);
    pp->vantage = v;
    /* The probe makes its directory itself (--out, or its line in
     * --vantages): 1,024 of them made here one after the other took the
     * lab half a second of its start on this machine's ext4. */
}

static int start_probe(struct run *r, struct proc_window *w, size_t v, const char *prog,
                       const struct run_probe_plan *plan)
{
    struct proc_argv a = {0};
    char target[AH_ADDR_STRLEN];
    struct probe_proc *pp = &r->probes[r->nprobes];
    const char *vname = r->lab->vantages[v].name, *tag = plan->tag;
    probe_paths(r, pp, v, tag);
    ah_addr_format(&r->lab->anycast[plan->addr], false, target, sizeof target);
    proc_argv_add(&a, prog);
    opt(&a, "--vantage", vname);
    opt(&a, "--out", pp->outdir);
    /* Read back at the end for the query the probe chose (run.json). */
    char sum[PATH_MAX + 16];
    snprintf(sum, sizeof sum, "%s/summary.json", pp->outdir);
    opt(&a, "--summary-json", sum);
    run_probe_args(r, &a, plan->udp, plan->tcp);
    opt_u(&a, "--ready-fd", PROC_PASS_FD);
    proc_argv_add(&a, target);
    if (a.rc < 0)
        return a.rc;

    struct proc_spec spec = {
        .netns = topo_netns(r->topo, TOPO_CLIENT, v),
        .log_path = pp->log,
        .argv = a.argv,
        .die_with_parent = true,
        .chdir_to = r->rundir,
        .pass_fd = r->ready_wfd,
    };
    snprintf(pp->p.name, sizeof pp->p.name, "probe %s%s%s", vname, *tag ? " " : "", tag);
    pp->vantage = v;
    return spawn_probe(r, w, &spec);
}

/* Starts one anycast-probe for vantages v0 .. v0 + n - 1, in the first
 * one's namespace: each vantage keeps its probe entry, output directory
 * and rows, as with a process of its own; the group shares the first one's
 * log, next to which the list of its vantages goes (--vantages: a command
 * line has room for a few dozen words only). */
static int start_group(struct run *r, struct proc_window *w, size_t v0, size_t n, const char *prog,
                       const struct run_probe_plan *plan)
{
    struct proc_argv a = {0};
    char target[AH_ADDR_STRLEN], list[PATH_MAX + 16];
    const struct lab *lab = r->lab;
    size_t first = r->nprobes;

    for (size_t k = 0; k < n; k++)
        probe_paths(r, &r->probes[first + k], v0 + k, plan->tag);
    for (size_t k = 1; k < n; k++)
        memcpy(r->probes[first + k].log, r->probes[first].log, sizeof r->probes[first].log);
    snprintf(list, sizeof list, "%s.vantages", r->probes[first].log);
    FILE *f = ah_file_fopen_w(list);
    if (f == NULL)
        return -errno;
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%s@%s/%s\t%s\n", lab->vantages[v0 + k].name, NETNS_RUN_DIR,
                topo_netns(r->topo, TOPO_CLIENT, v0 + k), r->probes[first + k].outdir);
    if (fclose(f) != 0)
        return -errno;
    proc_argv_add(&a, prog);
    opt(&a, "--vantages", list);
    run_probe_args(r, &a, plan->udp, plan->tcp);
    opt_u(&a, "--ready-fd", PROC_PASS_FD);
    ah_addr_format(&lab->anycast[plan->addr], false, target, sizeof target);
    proc_argv_add(&a, target);
    if (a.rc < 0)
        return a.rc;
    struct proc_spec spec = {
        .netns = topo_netns(r->topo, TOPO_CLIENT, v0),
        .log_path = r->probes[first].log,
        .argv = a.argv,
        .die_with_parent = true,
        .chdir_to = r->rundir,
        .pass_fd = r->ready_wfd,
    };
    snprintf(r->probes[first].p.name, sizeof r->probes[first].p.name, "probe %s+%zu%s%s",
             lab->vantages[v0].name, n - 1, *plan->tag ? " " : "", plan->tag);
    int rc = spawn_probe(r, w, &spec);
    if (rc == 0)
        r->nprobes = first + n; /* spawn_probe counted the first */
    return rc;
}

/* Starts the probes of every vantage: one process each, or one per group
 * of lab_probe_group() vantages. */
static int start_all(struct run *r, struct proc_window *w, const char *prog,
                     const struct run_probe_plan *plan, size_t nplan)
{
    const struct lab *lab = r->lab;
    size_t g = lab_probe_group(lab);
    int rc = 0;
    for (size_t v = 0; v < lab->nvantages && rc == 0; v += g) {
        /* Starting them may itself take longer than the barrier allows. */
        if (ah_clock_mono_ns() >= r->probes_deadline) {
            run_fail(r,
                     "%zu of %zu probes started after %llu ms (--ready-timeout): the machine "
                     "may be overloaded",
                     r->nprobes, lab->nvantages * nplan,
                     (unsigned long long)(r->o->ready_timeout_ns / AH_NS_PER_MS));
            return -ETIMEDOUT;
        }
        size_t n = lab->nvantages - v < g ? lab->nvantages - v : g;
        for (size_t k = 0; k < nplan && rc == 0; k++)
            rc = g == 1 ? start_probe(r, w, v, prog, &plan[k])
                        : start_group(r, w, v, n, prog, &plan[k]);
        if (rc < 0)
            run_fail(r, "%s: probe did not start: %s", lab->vantages[v].name, strerror(-rc));
    }
    return rc;
}

int run_start_probes(struct run *r)
{
    char prog[PATH_MAX];
    const struct lab *lab = r->lab;
    r->probes_start = ah_clock_mono_ns();
    r->probes_deadline = r->probes_start + r->o->ready_timeout_ns;
    if (!lab->udp.enabled && !lab->tcp.enabled)
        return 0;
    if (proc_find_program("anycast-probe", false, prog, sizeof prog) < 0) {
        run_fail(r, "anycast-probe: program not found (set AH_BIN_DIR or install it next to "
                    "anycast-lab)");
        return -ENOENT;
    }
    /* Each probe writes one byte here once it probes (--ready-fd). */
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
        run_fail(r, "pipe: %s", strerror(errno));
        return -errno;
    }
    r->ready_fd = pfd[0];
    r->ready_wfd = pfd[1];
    struct run_probe_plan plan[RUN_PROBES_PER_VANTAGE];
    size_t nplan = run_probe_plan(lab, plan);
    struct proc_window w = {0};
    int rc = start_all(r, &w, prog, plan, nplan);
    /* Every fork gets its confirmation, also after a failure. */
    while (w.n > 0) {
        size_t i;
        int e = window_pop(r, &w, &i);
        if (e < 0 && rc == 0) {
            rc = e;
            run_fail(r, "%s: probe did not start: %s", r->probes[i].p.name, strerror(-e));
        }
    }
    ah_log_debug("%zu probes started in %llu ms", r->nprobes,
                 (unsigned long long)((ah_clock_mono_ns() - r->probes_start) / AH_NS_PER_MS));
    /* Only the probes hold the write end now: when all are gone, EOF. */
    close(r->ready_wfd);
    r->ready_wfd = -1;
    state_save(&r->st);
    return rc;
}

void run_stop_probes(struct run *r)
{
    uint64_t t = r->lab->udp.timeout_ns > r->lab->tcp.timeout_ns ? r->lab->udp.timeout_ns
                                                                 : r->lab->tcp.timeout_ns;
    if (t == 0)
        t = AH_NS_PER_S;
    for (size_t i = 0; i < r->nprobes; i++) {
        if (r->probes[i].p.pid > 0) {
            r->probes[i].p.expected_exit = true;
            proc_signal(&r->probes[i].p, SIGINT);
        }
    }
    /* One SIGINT each, sent above: the probe takes a second one as "stop
     * now" (no wait for outstanding probes), and once its handler is gone
     * (while it writes its files and exits) it would be killed by it. */
    for (size_t i = 0; i < r->nprobes; i++) {
        struct proc *p = &r->probes[i].p;
        pid_t pid = p->pid;
        if (pid <= 0)
            continue;
        if (proc_stop(p, 0, t + 3 * AH_NS_PER_S) == 1) {
            ah_log_warn("%s: needed SIGKILL; its last second of rows may be missing", p->name);
        } else if (p->pid == 0 && !(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)) {
            char st[32];
            proc_status_text(p->status, st, sizeof st);
            ah_log_warn("%s (pid %ld) ended with %s after SIGINT; log: %s", p->name, (long)pid, st,
                        r->probes[i].log);
        }
    }
}

/* The start barrier: waits until every probe has said it probes (one byte
 * each on the ready pipe), so that the drill's clock starts with the
 * measurement and not while hundreds of processes are still starting. The
 * deadline counts from the first probe's start (--ready-timeout). */
int run_wait_probes(struct run *r)
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
        if (run_poll_signals(r))
            return -EINTR;
        if (r->failed)
            return -ESRCH;
    }
    return 0;
}

/* The probes that already run keep both cores busy, mostly with the
 * kernel's packet work in their own time slices: the lab process, which
 * starts the others and then keeps the drill's clock, would wait for a core
 * behind them. From the first probe to the drill's end it runs in the
 * real-time class (proc_realtime), so a step's timer runs it at once; its
 * work in that time is a few system calls per step and the route monitors'
 * reads. Where that is refused (rootless, a cgroup without real-time
 * runtime) it keeps the nice value of the whole run (RUN_NICE). */
void run_lab_priority(bool on)
{
    int rc = proc_realtime(on, RUN_LAB_RT_PRIO);
    if (rc < 0)
        ah_log_debug("lab %s: %s", on ? "real-time priority" : "normal priority", strerror(-rc));
}
