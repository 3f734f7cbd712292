/* The probes of a deployment run: one ssh session per vantage and probed
 * anycast address (two when UDP and TCP probe different services) runs
 * anycast-probe into a remote temporary directory under a small POSIX sh
 * wrapper that ends the probe when the session's stdin ends, so the probe dies with its session
 * (our Ctrl-C, a dead master or a dead controller). The rows, kept on the remote disk as the probe
 * writes them, are fetched with cat at the end. */
#include "deploy_int.h"
#include "run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/file.h"
#include "ah/log.h"

int deploy_probe_remote(const struct run *r, const struct deploy_host *h, size_t vantage,
                        const struct run_probe_plan *plan, char *buf, size_t len)
{
    struct proc_argv a = {0};
    char target[AH_ADDR_STRLEN];
    run_probe_args(r, &a, plan->udp, plan->tcp);
    if (a.rc < 0)
        return a.rc;
    ah_addr_format(&r->lab->anycast[plan->addr], false, target, sizeof target);
    /* The wrapper: the directory's name on the first line, then the probe's
     * ready byte (its --ready-fd is our stdout); the probe runs in the
     * background, in a process group of its own (setsid) with its output in
     * the directory, while the shell waits for the end of stdin. Then the
     * whole group gets SIGTERM (an asynchronous command of a non-interactive
     * shell ignores SIGINT; a wrapper such as faketime forks and would not
     * pass a signal on) and the shell waits until the group is gone, every
     * row written. */
    int n = snprintf(buf, len,
                     "d=$(mktemp -d \"${TMPDIR:-/tmp}/anycast-probe.XXXXXX\") || exit 1\n"
                     "echo \"$d\"\n"
                     "s=; command -v setsid >/dev/null 2>&1 && s=setsid\n"
                     "$s %s",
                     h->probe);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    int rc = ssh_quote_append(buf, len, "--vantage");
    if (rc == 0)
        rc = ssh_quote_append(buf, len, r->lab->vantages[vantage].name);
    for (size_t i = 0; rc == 0 && i < a.n; i++)
        rc = ssh_quote_append(buf, len, a.argv[i]);
    size_t l = strlen(buf);
    /* The summary is fetched with the rows for the query the probe chose
     * (run.json `queries`). */
    n = snprintf(buf + l, len - l, " --out \"$d\" --summary-json \"$d/summary.json\" --ready-fd 3");
    if (rc == 0 && n > 0 && (size_t)n < len - l)
        rc = ssh_quote_append(buf, len, target);
    l = strlen(buf);
    n = snprintf(
        buf + l, len - l,
        " 3>&1 >\"$d/probe.log\" 2>&1 </dev/null &\n"
        "p=$!\n"
        "read x\n"
        "kill -TERM -\"$p\" 2>/dev/null || kill -TERM \"$p\" 2>/dev/null\n"
        "wait \"$p\"; rc=$?\n"
        "i=0; while kill -0 -\"$p\" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
        "exit $rc\n");
    return rc < 0 || n < 0 || (size_t)n >= len - l ? -ENOSPC : 0;
}

/* A remote directory name as mktemp prints it: an absolute path of plain
 * characters, so that quoting it back is all it needs. */
static bool dir_sane(const char *s)
{
    return s[0] == '/' && !strstr(s, "..") &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") ==
               strlen(s);
}

static int start_one(struct run *r, size_t v, const struct run_probe_plan *plan)
{
    const char *tag = plan->tag;
    struct deploy *d = r->dep;
    size_t hi = r->lab->nnodes + v;
    struct deploy_host *h = &d->h[hi];
    struct probe_proc *pp = &r->probes[r->nprobes];
    struct deploy_sess *s = &d->sess[r->nprobes];
    char remote[LAB_COMMAND_MAX + 2048];
    struct proc_argv a;
    struct ssh_child c;
    int rc = deploy_probe_remote(r, h, v, plan, remote, sizeof remote);
    if (rc == 0)
        rc = deploy_cmd(d, hi, SSH_COMMAND, remote, &a);
    if (rc < 0)
        return rc;
    snprintf(pp->outdir, sizeof pp->outdir, "%s/probes-%s%s%s", r->resabs, h->name, *tag ? "-" : "",
             tag);
    snprintf(pp->log, sizeof pp->log, "%s/probe-%s%s%s.log", r->logdir, h->name, *tag ? "-" : "",
             tag);
    snprintf(pp->p.name, sizeof pp->p.name, "probe %s%s%s", h->name, *tag ? " " : "", tag);
    pp->vantage = v;
    deploy_note(d, hi, remote);
    if ((rc = ssh_spawn(a.argv, true, true, -1, h->log_fd, &c)) < 0)
        return rc;
    pp->p.pid = c.pid;
    s->host = hi;
    s->in = c.in;
    s->out = c.out;
    r->nprobes++;
    return 0;
}

/* Reads what session s printed so far: the directory line, then the ready
 * byte. Returns 1 when ready, 0 for more to come, -EPIPE at an early end,
 * -EPROTO for a directory name we would not use. */
static int read_start(struct deploy_sess *s)
{
    char b[64];
    ssize_t n = read(s->out, b, sizeof b);
    if (n <= 0)
        return n < 0 && errno == EINTR ? 0 : -EPIPE;
    for (ssize_t i = 0; i < n && !s->ready; i++) {
        if (s->named) {
            s->ready = true;
        } else if (b[i] == '\n') {
            s->named = true;
            if (!dir_sane(s->dir))
                return -EPROTO;
        } else if (s->got + 1 < sizeof s->dir) {
            s->dir[s->got++] = b[i];
            s->dir[s->got] = '\0';
        } else {
            return -EPROTO;
        }
    }
    return s->ready ? 1 : 0;
}

/* Why a probe did not start: the last line of its remote log. */
static void start_failure(struct run *r, size_t i)
{
    struct deploy *d = r->dep;
    struct deploy_sess *s = &d->sess[i];
    struct ssh_result res = {0};
    char cmd[512] = "tail -n 1";
    const char *why = "the session ended";
    if (s->named) {
        char f[300];
        snprintf(f, sizeof f, "%s/probe.log", s->dir);
        ssh_quote_append(cmd, sizeof cmd, f);
        if (deploy_remote_run(d, s->host, cmd, 10 * AH_NS_PER_S, &res) == 0 && res.out[0])
            why = res.out;
    }
    run_fail(r, "%s (%s): probe did not start: %s", d->h[s->host].name, d->h[s->host].host->dest,
             why);
}

/* The start barrier: every session's ready byte, within --ready-timeout. */
static int wait_ready(struct run *r)
{
    struct deploy *d = r->dep;
    uint64_t end = ah_clock_mono_ns() + r->o->ready_timeout_ns;
    size_t ready = 0;
    struct pollfd *p = calloc(r->nprobes + 1, sizeof *p);
    if (!p)
        return -ENOMEM;
    int rc = 0;
    while (ready < r->nprobes && rc == 0) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= end || run_poll_signals(r)) {
            rc = now >= end ? -ETIMEDOUT : -EINTR;
            break;
        }
        for (size_t i = 0; i < r->nprobes; i++)
            p[i] = (struct pollfd){.fd = d->sess[i].ready ? -1 : d->sess[i].out, .events = POLLIN};
        if (poll(p, r->nprobes, 100) < 0 && errno != EINTR)
            rc = -errno;
        for (size_t i = 0; rc == 0 && i < r->nprobes; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            int x = read_start(&d->sess[i]);
            if (x < 0) {
                start_failure(r, i);
                rc = x;
            } else if (x > 0) {
                ready++;
            }
        }
    }
    free(p);
    if (rc == -ETIMEDOUT)
        run_fail(r, "%zu of %zu remote probes ready after %llu ms (--ready-timeout)", ready,
                 r->nprobes, (unsigned long long)(r->o->ready_timeout_ns / AH_NS_PER_MS));
    return rc;
}

int deploy_start_probes(struct run *r)
{
    const struct lab *lab = r->lab;
    struct run_probe_plan plan[RUN_PROBES_PER_VANTAGE];
    size_t nplan = run_probe_plan(lab, plan);
    int rc = 0;
    if (!lab->udp.enabled && !lab->tcp.enabled)
        return 0;
    for (size_t v = 0; v < lab->nvantages && rc == 0; v++) {
        for (size_t k = 0; k < nplan && rc == 0; k++)
            rc = start_one(r, v, &plan[k]);
        if (rc < 0)
            run_fail(r, "%s: probe did not start: %s", lab->vantages[v].name, strerror(-rc));
    }
    if (rc == 0)
        rc = wait_ready(r);
    return rc;
}

/* Copies the remote file DIR/name of session i to the local path. */
static int fetch(struct run *r, size_t i, const char *name, const char *path)
{
    struct deploy *d = r->dep;
    struct deploy_sess *s = &d->sess[i];
    char remote[512] = "cat --", f[300];
    struct proc_argv a;
    struct ssh_child c;
    snprintf(f, sizeof f, "%s/%s", s->dir, name);
    ssh_quote_append(remote, sizeof remote, f);
    int fd = ah_file_create(path, O_TRUNC);
    if (fd < 0)
        return fd;
    int rc = deploy_cmd(d, s->host, SSH_COMMAND, remote, &a);
    if (rc == 0) {
        deploy_note(d, s->host, remote);
        rc = ssh_spawn(a.argv, false, false, fd, d->h[s->host].log_fd, &c);
    }
    close(fd);
    if (rc < 0)
        return rc;
    int st = ssh_wait(&c, 120 * AH_NS_PER_S);
    return st < 0 ? st : (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EREMOTEIO);
}

/* Fetches session i's rows and log, then removes its remote directory. */
static void collect_one(struct run *r, size_t i)
{
    struct probe_proc *pp = &r->probes[i];
    struct deploy_sess *s = &r->dep->sess[i];
    char path[PATH_MAX + 32], rm[512] = "rm -rf --";
    struct ssh_result res;
    if (!s->named)
        return;
    if (mkdir(pp->outdir, 0755) < 0 && errno != EEXIST) {
        ah_log_error("%s: %s", pp->outdir, strerror(errno));
        return;
    }
    static const char *const files[] = {"probes.csv", "connections.csv"};
    bool all = true;
    for (size_t k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", pp->outdir, files[k]);
        int rc = fetch(r, i, files[k], path);
        all = all && rc == 0;
        if (rc < 0)
            ah_log_error("%s: fetching %s/%s: %s (kept on the host)", pp->p.name, s->dir, files[k],
                         strerror(-rc));
    }
    if (fetch(r, i, "probe.log", pp->log) < 0)
        ah_log_warn("%s: its log was not fetched", pp->p.name);
    /* Read for run.json's `queries` (as a lab's probes' are), then removed. */
    snprintf(path, sizeof path, "%s/summary.json", pp->outdir);
    if (fetch(r, i, "summary.json", path) < 0) {
        ah_log_warn("%s: its summary was not fetched (run.json has no query for it)", pp->p.name);
        unlink(path);
    }
    if (!all)
        return;
    ssh_quote_append(rm, sizeof rm, s->dir);
    deploy_remote_run(r->dep, s->host, rm, 30 * AH_NS_PER_S, &res);
}

void deploy_stop_probes(struct run *r)
{
    struct deploy *d = r->dep;
    uint64_t t = r->lab->udp.timeout_ns > r->lab->tcp.timeout_ns ? r->lab->udp.timeout_ns
                                                                 : r->lab->tcp.timeout_ns;
    if (!d)
        return;
    /* The end of stdin is the wrapper's signal to stop its probe. */
    for (size_t i = 0; i < r->nprobes; i++) {
        r->probes[i].p.expected_exit = true;
        if (d->sess[i].in >= 0)
            close(d->sess[i].in);
        d->sess[i].in = -1;
    }
    for (size_t i = 0; i < r->nprobes; i++) {
        struct proc *p = &r->probes[i].p;
        if (p->pid > 0 && proc_stop(p, 0, (t ? t : AH_NS_PER_S) + 5 * AH_NS_PER_S) == 1)
            ah_log_warn("%s: its session did not end; the remote probe may have lost rows",
                        p->name);
        if (d->sess[i].out >= 0)
            close(d->sess[i].out);
        d->sess[i].out = -1;
    }
    for (size_t i = 0; i < r->nprobes; i++)
        collect_one(r, i);
}
