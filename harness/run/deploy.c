/* The run of a kind: deployment file: one ssh ControlMaster per host, a
 * preflight that stops the run before any drill step when a host is not
 * ready, the drill's commands run on their hosts, and the --dry-run that
 * prints all of it instead. The probes are deploy_probes.c's, the clocks
 * deploy_clock.c's. */
#include "deploy_int.h"
#include "run_int.h"

#include <errno.h>
#include <fcntl.h>
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

#define MASTER_POLL_NS (50 * AH_NS_PER_MS)

int deploy_cmd(struct deploy *d, size_t i, enum ssh_mode mode, const char *remote,
               struct proc_argv *a)
{
    int rc = ssh_build(a, &d->conf, d->h[i].host, mode, remote);
    if (rc < 0) {
        ah_log_error("%s: ssh destination '%s': %s", d->h[i].name, d->h[i].host->dest,
                     strerror(-rc));
        return rc;
    }
    if (d->dry) {
        char line[SSH_STORE_MAX + 1024];
        ssh_argv_text(a->argv, line, sizeof line);
        printf("%s\n", line);
    }
    return 0;
}

void deploy_note(struct deploy *d, size_t i, const char *remote)
{
    struct deploy_host *h = &d->h[i];
    if (h->ncmds < DEPLOY_CMDS_MAX) {
        h->cmds[h->ncmds] = strdup(remote);
        if (h->cmds[h->ncmds])
            h->ncmds++;
    }
}

static bool same_host(const struct lab_host *a, const struct lab_host *b)
{
    return strcmp(a->dest, b->dest) == 0 && !!a->ssh.user == !!b->ssh.user &&
           (!a->ssh.user || strcmp(a->ssh.user, b->ssh.user) == 0);
}

/* The hosts of the lab: nodes, then vantages; a host reached twice (a node
 * and a vantage on one machine) shares the first one's master. */
static int deploy_new(const struct lab *lab, const char *ctl_dir, struct deploy **out)
{
    struct deploy *d = calloc(1, sizeof *d);
    struct run_probe_plan plan[RUN_PROBES_PER_VANTAGE];
    size_t nsess = run_probe_plan(lab, plan) * lab->nvantages;
    if (!d || !(d->h = calloc(lab->nnodes + lab->nvantages + 1, sizeof *d->h)) ||
        !(d->sess = calloc(nsess + 1, sizeof *d->sess))) {
        if (d)
            free(d->h);
        free(d);
        return -ENOMEM;
    }
    snprintf(d->ctl_dir, sizeof d->ctl_dir, "%s", ctl_dir);
    d->stop.fd = -1;
    d->conf = (struct ssh_conf){
        .control_dir = d->ctl_dir, .connect_timeout_s = 10, .alive_interval_s = 5};
    for (size_t i = 0; i < lab->nnodes; i++)
        d->h[d->n++] =
            (struct deploy_host){.name = lab->nodes[i].name, .host = &lab->nodes[i].host};
    for (size_t v = 0; v < lab->nvantages; v++)
        d->h[d->n++] = (struct deploy_host){.name = lab->vantages[v].name,
                                            .vantage = true,
                                            .host = &lab->vantages[v].host,
                                            .probe = lab->vantages[v].probe ? lab->vantages[v].probe
                                                                            : "anycast-probe"};
    for (size_t i = 0; i < d->n; i++) {
        d->h[i].master_of = -1;
        d->h[i].log_fd = -1;
        for (size_t j = 0; j < i && d->h[i].master_of < 0; j++) {
            if (d->h[j].master_of < 0 && same_host(d->h[i].host, d->h[j].host))
                d->h[i].master_of = (int)j;
        }
    }
    *out = d;
    return 0;
}

void deploy_free(struct deploy *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        for (size_t c = 0; c < d->h[i].ncmds; c++)
            free(d->h[i].cmds[c]);
        if (d->h[i].log_fd >= 0)
            close(d->h[i].log_fd);
    }
    free(d->h);
    free(d->sess);
    free(d);
}

/* The last non-empty line of a log file, for a master's failure. */
static void log_last_line(const char *path, char *out, size_t len)
{
    char buf[2048];
    out[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0])
            snprintf(out, len, "%.*s", (int)(len - 1), buf);
    }
    fclose(f);
}

/* Starts host i's master, in the background. */
static int master_start(struct run *r, size_t i)
{
    struct deploy_host *h = &r->dep->h[i];
    struct proc_argv a;
    int rc = deploy_cmd(r->dep, i, SSH_MASTER, NULL, &a);
    if (rc < 0) {
        run_fail(r, "preflight: %s (%s): bad ssh destination", h->name, h->host->dest);
        return rc;
    }
    if ((rc = ssh_spawn(a.argv, false, false, h->log_fd, h->log_fd, &h->master)) < 0)
        run_fail(r, "preflight: %s (%s): cannot start ssh: %s", h->name, h->host->dest,
                 strerror(-rc));
    return rc;
}

/* Waits until `ssh -O check` finds host i's master, or it exits (the host
 * is unreachable, with ssh's last word as the reason). */
static int master_wait(struct run *r, size_t i, uint64_t deadline)
{
    struct deploy_host *h = &r->dep->h[i];
    struct proc_argv c;
    int rc = deploy_cmd(r->dep, i, SSH_CHECK, NULL, &c);
    if (rc < 0)
        return rc;
    while (ah_clock_mono_ns() < deadline) {
        struct ssh_result res;
        int st;
        if (waitpid(h->master.pid, &st, WNOHANG) == h->master.pid) {
            h->master.pid = 0;
            char why[256];
            log_last_line(h->log, why, sizeof why);
            run_fail(r, "preflight: %s (%s): unreachable: %s", h->name, h->host->dest,
                     why[0] ? why : "ssh exited");
            return -EHOSTUNREACH;
        }
        if (ssh_run(c.argv, 5 * AH_NS_PER_S, -1, NULL, &res) == 0 && WIFEXITED(res.status) &&
            WEXITSTATUS(res.status) == 0)
            return 0;
        if (run_poll_signals(r))
            return -EINTR;
        usleep(MASTER_POLL_NS / 1000);
    }
    run_fail(r, "preflight: %s (%s): unreachable: no connection within --ready-timeout + 10 s",
             h->name, h->host->dest);
    return -ETIMEDOUT;
}

static void masters_down(struct deploy *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->h[i].master.pid > 0) {
            kill(d->h[i].master.pid, SIGTERM);
            ssh_wait(&d->h[i].master, 3 * AH_NS_PER_S);
        }
    }
}

int deploy_remote_run(struct deploy *d, size_t i, const char *remote, uint64_t timeout,
                      struct ssh_result *res)
{
    struct proc_argv a;
    memset(res, 0, sizeof *res);
    int rc = deploy_cmd(d, i, SSH_COMMAND, remote, &a);
    if (rc < 0 || d->dry)
        return rc;
    deploy_note(d, i, remote);
    rc = ssh_run(a.argv, timeout, d->h[i].log_fd, d->stop.fd >= 0 ? &d->stop : NULL, res);
    if (rc < 0)
        return rc;
    return WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0 ? 0 : -EREMOTEIO;
}

/* The probe's --once options for the lab's probes: the transports and the
 * service the run will use, to anycast address addr. */
static void once_remote(const struct lab *lab, size_t addr, const char *probe, char *buf,
                        size_t len)
{
    char target[AH_ADDR_STRLEN];
    bool udp = lab->udp.enabled, tcp = lab->tcp.enabled;
    ah_addr_format(&lab->anycast[addr], false, target, sizeof target);
    snprintf(buf, len, "%s", probe);
    ssh_quote_append(buf, len, "--once");
    ssh_quote_append(buf, len, "--transport");
    ssh_quote_append(buf, len,
                     udp && tcp ? "both" : ah_transport_name(tcp ? AH_TR_TCP : AH_TR_UDP));
    for (int s = 0; s < AH_SVC_COUNT; s++) {
        if (lab_probes_service(lab, (enum ah_service)s)) {
            ssh_quote_append(buf, len, "--service");
            ssh_quote_append(buf, len, ah_service_name((enum ah_service)s));
        }
    }
    ssh_quote_append(buf, len, target);
}

/* Vantage host i: every probed anycast address answers a probe (in a dry
 * run: the commands only). */
static int preflight_targets(struct run *r, size_t i, char *remote, size_t len)
{
    struct deploy *d = r->dep;
    struct deploy_host *h = &d->h[i];
    struct ssh_result res;
    char target[AH_ADDR_STRLEN];
    for (size_t a = 0; a < r->lab->nanycast; a++) {
        if (!lab_probes_address(r->lab, a))
            continue;
        once_remote(r->lab, a, h->probe, remote, len);
        ah_addr_format(&r->lab->anycast[a], false, target, sizeof target);
        int rc = deploy_remote_run(d, i, remote, d->dry ? 0 : 30 * AH_NS_PER_S, &res);
        if (rc < 0 && !d->dry) {
            run_fail(r, "preflight: %s (%s): the anycast target %s does not answer: %s", h->name,
                     h->host->dest, target, res.out[0] ? res.out : res.err_last);
            return rc;
        }
    }
    return 0;
}

/* Every host: reachable; every vantage: the same probe version as ours and
 * the anycast target answering. The first failure names host and reason. */
static int preflight(struct run *r)
{
    struct deploy *d = r->dep;
    char remote[LAB_COMMAND_MAX + 256];
    struct ssh_result res;
    for (size_t i = 0; i < d->n; i++) {
        struct deploy_host *h = &d->h[i];
        int rc = deploy_remote_run(d, i, "true", 30 * AH_NS_PER_S, &res);
        if (rc < 0 && !d->dry) {
            run_fail(r, "preflight: %s (%s): unreachable: %s", h->name, h->host->dest,
                     res.err_last[0] ? res.err_last : strerror(-rc));
            return rc;
        }
        if (!h->vantage)
            continue;
        snprintf(remote, sizeof remote, "%s --version", h->probe);
        rc = deploy_remote_run(d, i, remote, 30 * AH_NS_PER_S, &res);
        if (d->dry) {
            preflight_targets(r, i, remote, sizeof remote);
            continue;
        }
        if (rc < 0) {
            run_fail(r, "preflight: %s (%s): %s --version: %s", h->name, h->host->dest, h->probe,
                     res.err_last[0] ? res.err_last : strerror(-rc));
            return rc;
        }
        snprintf(h->probe_version, sizeof h->probe_version, "%.*s",
                 (int)sizeof h->probe_version - 1, res.out);
        if (strcmp(res.out, d->local_version) != 0) {
            run_fail(r, "preflight: %s (%s): probe version '%s', the controller's is '%s'", h->name,
                     h->host->dest, res.out, d->local_version);
            return -EPROTO;
        }
        if ((rc = preflight_targets(r, i, remote, sizeof remote)) < 0)
            return rc;
    }
    return 0;
}

/* The remote text of a drill step: the user's command, quoted as one word
 * and run by the user's login shell ($SHELL) in a process group of its own
 * (setsid), under a small POSIX sh wrapper that ends that group when the
 * session's input ends. The controller holds the input open while the step
 * runs and closes it at the step's deadline or a Ctrl-C; a dead master or
 * controller closes it too. The group gets TERM, then KILL 2 s later if
 * anything is left, and the wrapper exits with the command's status. The
 * wrapper's own helper ignores TERM once it acts, so that the wrapper's
 * "kill $w" (which ends it while it still waits) cannot cut the KILL
 * short. */
static int step_remote(const char *cmd, char *buf, size_t len)
{
    static const char head[] =
        "s=; command -v setsid >/dev/null 2>&1 && s=setsid; exec 3<&0; $s \"${SHELL:-/bin/sh}\" -c";
    static const char tail[] =
        " </dev/null 3<&- & p=$!; "
        "{ read x; trap '' TERM; kill -TERM -\"$p\" 2>/dev/null || kill -TERM \"$p\" 2>/dev/null; "
        "i=0; while kill -0 -\"$p\" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; "
        "kill -KILL -\"$p\" 2>/dev/null; } <&3 >/dev/null 2>&1 & w=$!; "
        "wait \"$p\"; rc=$?; kill \"$w\" 2>/dev/null; wait \"$w\"; exit $rc";
    int n = snprintf(buf, len, "%s", head);
    if (n < 0 || (size_t)n >= len || ssh_quote_append(buf, len, cmd) < 0)
        return -ENAMETOOLONG;
    size_t l = strlen(buf);
    n = snprintf(buf + l, len - l, "%s", tail);
    return n < 0 || (size_t)n >= len - l ? -ENAMETOOLONG : 0;
}

/* Runs a step's command on node host i (see step_remote): up to
 * step-timeout, then its input closed and DEPLOY_STEP_GRACE for the host
 * to end it and say so. run.json records the user's command. */
static int step_run(struct deploy *d, size_t i, const char *cmd, uint64_t timeout,
                    struct ssh_result *res)
{
    char remote[SSH_STORE_MAX];
    struct proc_argv a;
    memset(res, 0, sizeof *res);
    int rc = step_remote(cmd, remote, sizeof remote);
    if (rc == 0)
        rc = deploy_cmd(d, i, SSH_COMMAND, remote, &a);
    if (rc < 0 || d->dry)
        return rc;
    deploy_note(d, i, cmd);
    rc = ssh_run_held(a.argv, timeout, DEPLOY_STEP_GRACE, d->h[i].log_fd,
                      d->stop.fd >= 0 ? &d->stop : NULL, res);
    if (rc < 0)
        return rc;
    return WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0 ? 0 : -EREMOTEIO;
}

/* The detail of a step given up on (why: timed out, interrupted). The
 * wrapper's exit after the group ended is the host's word that it did;
 * ssh's own 255 or a client we had to kill leave it unconfirmed. */
static void step_given_up(const struct ssh_result *res, const char *why, char *detail, size_t dlen)
{
    char st[32];
    proc_status_text(res->status, st, sizeof st);
    if (WIFEXITED(res->status) && WEXITSTATUS(res->status) != 255)
        snprintf(detail, dlen, "%s, started %llu; ended on its host (%s)", why,
                 (unsigned long long)res->start_ns, st);
    else
        snprintf(detail, dlen, "%s, started %llu; its end on the host is not confirmed (%s)", why,
                 (unsigned long long)res->start_ns, st);
}

int deploy_step(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    struct deploy *d = r->dep;
    const char *cmd = s->verb == AH_VERB_RUN ? r->lab->drill[s->event].command
                                             : r->lab->nodes[s->node].actions[s->verb];
    struct ssh_result res;
    if (!d || !cmd) {
        snprintf(detail, dlen, "no action for %s", ah_schema_verb_name(s->verb));
        return -ENOTSUP;
    }
    uint64_t limit = r->lab->step_timeout_ns;
    int rc = step_run(d, s->node, cmd, limit, &res);
    *ack = res.end_ns ? res.end_ns : ah_clock_realtime_ns();
    if (rc == -ETIMEDOUT || rc == -EINTR) {
        char why[64];
        if (rc == -ETIMEDOUT)
            snprintf(why, sizeof why, "timed out after %g s", (double)limit / 1e9);
        else
            snprintf(why, sizeof why, "interrupted");
        step_given_up(&res, why, detail, dlen);
        return rc;
    }
    if (rc < 0 && rc != -EREMOTEIO) {
        snprintf(detail, dlen, "not run: %s", strerror(-rc));
        return rc;
    }
    /* The row's ts is the return; the start is in the detail too. */
    char st[32];
    proc_status_text(res.status, st, sizeof st);
    snprintf(detail, dlen, "%s in %.1fms, started %llu%s%s", st,
             (double)(res.end_ns - res.start_ns) / 1e6, (unsigned long long)res.start_ns,
             res.err_last[0] ? ": " : "", res.err_last);
    return rc;
}

/* The controller's own anycast-probe --version, which every vantage must
 * match. */
static void local_version(struct deploy *d)
{
    char prog[PATH_MAX];
    char *argv[] = {prog, "--version", NULL};
    if (proc_find_program("anycast-probe", true, prog, sizeof prog) < 0 ||
        proc_capture(argv, d->local_version, sizeof d->local_version, 2 * AH_NS_PER_S) <= 0)
        snprintf(d->local_version, sizeof d->local_version, "unknown");
}

static int open_logs(struct run *r)
{
    struct deploy *d = r->dep;
    for (size_t i = 0; i < d->n; i++) {
        struct deploy_host *h = &d->h[i];
        snprintf(h->log, sizeof h->log, "%s/ssh-%s-%s.log", r->logdir,
                 h->vantage ? "vantage" : "node", h->name);
        h->log_fd = ah_file_create(h->log, O_APPEND);
        if (h->log_fd < 0) {
            run_fail(r, "%s: %s", h->log, strerror(-h->log_fd));
            return h->log_fd;
        }
    }
    return 0;
}

/* Every master starts at once (the handshakes overlap), then each is
 * waited for. */
static int masters_all_up(struct run *r)
{
    uint64_t deadline = ah_clock_mono_ns() + r->o->ready_timeout_ns + 10 * AH_NS_PER_S;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->dep->n; i++) {
        if (r->dep->h[i].master_of < 0)
            rc = master_start(r, i);
    }
    for (size_t i = 0; rc == 0 && i < r->dep->n; i++) {
        if (r->dep->h[i].master_of < 0)
            rc = master_wait(r, i, deadline);
    }
    return rc;
}

static void clocks(struct run *r, int which)
{
    for (size_t i = 0; i < r->dep->n; i++) {
        if (!r->dep->h[i].vantage)
            continue;
        int rc = deploy_clock_measure(r->dep, i, which);
        if (rc < 0)
            ah_log_warn("%s: clock offset at %s: %s", r->dep->h[i].name, which ? "end" : "start",
                        strerror(-rc));
        if (which)
            deploy_clock_finish(&r->dep->h[i]);
    }
}

static bool interrupted(void *arg)
{
    return run_poll_signals(arg);
}

int deploy_play(struct run *r)
{
    char ctl[PATH_MAX];
    snprintf(ctl, sizeof ctl, "%s/ssh", r->rundir);
    if (mkdir(ctl, 0700) < 0 && errno != EEXIST) {
        run_fail(r, "%s: %s", ctl, strerror(errno));
        return -errno;
    }
    int rc = deploy_new(r->lab, ctl, &r->dep);
    if (rc < 0) {
        run_fail(r, "out of memory");
        return rc;
    }
    local_version(r->dep);
    /* Until the drill ends, a Ctrl-C ends the command that runs; the end's
     * commands (fetching the rows) run to their end. */
    r->dep->stop = (struct ssh_stop){.fd = r->sigfd, .check = interrupted, .arg = r};
    if ((rc = open_logs(r)) < 0 || (rc = masters_all_up(r)) < 0 || (rc = preflight(r)) < 0)
        goto out;
    clocks(r, 0);
    uint64_t t_probes = ah_clock_mono_ns();
    rc = deploy_start_probes(r);
    if (rc == 0 && !run_poll_signals(r)) {
        r->probes_ns = ah_clock_mono_ns() - t_probes;
        r->t0_mono = ah_clock_mono_ns();
        r->t0_real = ah_clock_realtime_ns();
        ah_log_info("%s: drill of %zu step%s over %.1f s on %zu host%s", r->lab->name, r->drill.n,
                    AH_S(r->drill.n), (double)r->lab->duration_ns / 1e9, r->dep->n,
                    AH_S(r->dep->n));
        run_drill_loop(r);
        char late[512];
        if (drill_late_message(&r->drill, r->lab, r->lab->tolerance_ns, r->dep->n, 1, late,
                               sizeof late) == 0)
            run_fail(r, "%s", late);
    }
    r->dep->stop.fd = -1;
    deploy_stop_probes(r);
    if (!r->interrupted)
        clocks(r, 1);
out:
    masters_down(r->dep);
    return rc;
}

/* The end of a dry run: each vantage's files fetched from the directory
 * its probe wrapper printed ($DIR here), the directory removed, the clock
 * measured again; then the masters get SIGTERM (no command). */
static int dry_run_end(struct deploy *d)
{
    static const char *const cmds[] = {"cat -- \"$DIR\"/probes.csv",
                                       "cat -- \"$DIR\"/connections.csv",
                                       "cat -- \"$DIR\"/probe.log", "rm -rf -- \"$DIR\""};
    struct proc_argv a;
    int rc = 0;
    printf("# end: stdin of each probe session closed, then each vantage's files ($DIR: the "
           "directory its session printed)\n");
    for (size_t i = 0; rc == 0 && i < d->n; i++) {
        for (size_t k = 0; d->h[i].vantage && rc == 0 && k < sizeof cmds / sizeof cmds[0]; k++)
            rc = deploy_cmd(d, i, SSH_COMMAND, cmds[k], &a);
    }
    printf("# clock at end\n");
    for (size_t i = 0; rc == 0 && i < d->n; i++)
        rc = d->h[i].vantage ? deploy_clock_measure(d, i, 1) : 0;
    printf("# masters ended (SIGTERM)\n");
    return rc;
}

int deploy_dry_run(const struct lab *lab, uint64_t ready_timeout_ns)
{
    struct run_opts o = {.ready_timeout_ns = ready_timeout_ns};
    struct run r = {.o = &o, .lab = (struct lab *)lab, .sigfd = -1, .tfd = -1};
    char remote[LAB_COMMAND_MAX + 1024];
    int rc = deploy_new(lab, "$RUNDIR/ssh", &r.dep);
    if (rc < 0)
        return 1;
    struct deploy *d = r.dep;
    d->dry = true;
    struct proc_argv a;
    printf("# masters\n");
    for (size_t i = 0; i < d->n; i++) {
        if (d->h[i].master_of < 0 && (deploy_cmd(d, i, SSH_MASTER, NULL, &a) < 0 ||
                                      deploy_cmd(d, i, SSH_CHECK, NULL, &a) < 0))
            rc = -EINVAL;
    }
    printf("# preflight\n");
    if (rc == 0)
        rc = preflight(&r);
    printf("# clock at start: each vantage, %d exchanges\n", DEPLOY_CLOCK_N);
    for (size_t i = 0; rc == 0 && i < d->n; i++)
        rc = d->h[i].vantage ? deploy_clock_measure(d, i, 0) : 0;
    printf("# probes (one session per vantage and probed address; stdin closed at the end)\n");
    for (size_t i = 0; rc == 0 && i < d->n; i++) {
        if (!d->h[i].vantage)
            continue;
        struct run_probe_plan plan[RUN_PROBES_PER_VANTAGE];
        size_t nplan = run_probe_plan(lab, plan);
        for (size_t k = 0; k < nplan && rc == 0; k++) {
            rc =
                deploy_probe_remote(&r, &d->h[i], i - lab->nnodes, &plan[k], remote, sizeof remote);
            if (rc == 0)
                rc = deploy_cmd(d, i, SSH_COMMAND, remote, &a);
        }
    }
    printf("# drill\n");
    struct drill dr = {0};
    if (rc == 0 && drill_expand(lab, &dr) == 0) {
        for (size_t s = 0; s < dr.n && rc == 0; s++) {
            const struct drill_step *st = &dr.steps[s];
            const char *cmd = st->verb == AH_VERB_RUN ? lab->drill[st->event].command
                                                      : lab->nodes[st->node].actions[st->verb];
            printf("# at %.3fs: %s %s\n", (double)st->at_ns / 1e9, ah_schema_verb_name(st->verb),
                   lab->nodes[st->node].name);
            struct ssh_result res;
            rc = step_run(d, st->node, cmd ? cmd : "", lab->step_timeout_ns, &res);
        }
    }
    drill_free(&dr);
    if (rc == 0)
        rc = dry_run_end(d);
    deploy_free(d);
    return rc < 0 ? 1 : 0;
}
