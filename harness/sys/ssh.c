/* ssh(1) command lines for a deployment run and the client processes that
 * run them: argv is built word by word from the lab host (no local shell
 * ever parses it), and only the one remote command string is quoted, for
 * the remote user's POSIX shell. */
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ah/clock.h"

/* opt (NULL: none), then prefix and value as one word. */
static void optw(struct proc_argv *a, const char *opt, const char *prefix, const char *v)
{
    char tmp[LAB_COMMAND_MAX + 64];
    if (opt)
        proc_argv_add(a, opt);
    snprintf(tmp, sizeof tmp, "%s%s", prefix, v);
    proc_argv_add(a, tmp);
}

static void optu(struct proc_argv *a, const char *name, unsigned v)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s=%u", name, v);
    proc_argv_add(a, "-o");
    proc_argv_add(a, tmp);
}

/* "[v6]:port" and "user@[v6]:port": the user part and the bare address go to
 * dest, the port to port (empty when none). A destination starting with '-'
 * would be read as an option by ssh and is refused. */
static int split_dest(const char *in, char *dest, size_t dlen, char *port, size_t plen)
{
    const char *at = strchr(in, '@');
    const char *host = at ? at + 1 : in;
    port[0] = '\0';
    if (in[0] == '-' || host[0] == '-' || !host[0])
        return -EINVAL;
    if (host[0] != '[') {
        snprintf(dest, dlen, "%s", in);
        return 0;
    }
    const char *close = strchr(host, ']');
    if (!close || close == host + 1)
        return -EINVAL;
    if (close[1] == ':') {
        if (!close[2] || strspn(close + 2, "0123456789") != strlen(close + 2))
            return -EINVAL;
        snprintf(port, plen, "%s", close + 2);
    } else if (close[1]) {
        return -EINVAL;
    }
    int n =
        snprintf(dest, dlen, "%.*s%.*s", (int)(host - in), in, (int)(close - host - 1), host + 1);
    return n < 0 || (size_t)n >= dlen ? -ENAMETOOLONG : 0;
}

int ssh_build(struct proc_argv *a, const struct ssh_conf *c, const struct lab_host *h,
              enum ssh_mode mode, const char *remote)
{
    char dest[LAB_COMMAND_MAX], port[16];
    a->n = a->used = 0;
    a->rc = 0;
    a->argv[0] = NULL;
    int rc = split_dest(h->dest ? h->dest : "", dest, sizeof dest, port, sizeof port);
    if (rc < 0)
        return a->rc = rc;
    proc_argv_add(a, "ssh");
    if (h->ssh.config)
        optw(a, "-F", "", h->ssh.config);
    if (h->ssh.user)
        optw(a, "-l", "", h->ssh.user);
    if (h->ssh.identity)
        optw(a, "-i", "", h->ssh.identity);
    if (port[0])
        optw(a, "-p", "", port);
    /* The user's options first: ssh keeps the first value it sees, so ours
     * below only fill in what the user did not set. */
    for (size_t i = 0; i < h->ssh.noptions; i++)
        optw(a, "-o", "", h->ssh.options[i]);
    proc_argv_add(a, "-o");
    proc_argv_add(a, "BatchMode=yes");
    char ctl[LAB_COMMAND_MAX];
    snprintf(ctl, sizeof ctl, "%s/%%C", c->control_dir);
    optw(a, "-o", "ControlPath=", ctl);
    if (mode == SSH_MASTER) {
        /* The master is our child, in the foreground: it ends when we end
         * it (or die), never left behind by ControlPersist. */
        optu(a, "ConnectTimeout", c->connect_timeout_s ? c->connect_timeout_s : 10);
        optu(a, "ServerAliveInterval", c->alive_interval_s ? c->alive_interval_s : 5);
        proc_argv_add(a, "-o");
        proc_argv_add(a, "ServerAliveCountMax=3");
        proc_argv_add(a, "-o");
        proc_argv_add(a, "ControlMaster=yes");
        proc_argv_add(a, "-o");
        proc_argv_add(a, "ControlPersist=no");
        /* No -M beside ControlMaster=yes: the two together mean "ask"
         * (ssh_config(5)), and a master that asks refuses every session. */
        proc_argv_add(a, "-N");
    } else {
        proc_argv_add(a, "-o");
        proc_argv_add(a, "ControlMaster=no");
        optu(a, "ConnectTimeout", c->connect_timeout_s ? c->connect_timeout_s : 10);
        if (mode == SSH_CHECK) {
            proc_argv_add(a, "-O");
            proc_argv_add(a, "check");
        }
    }
    proc_argv_add(a, "-T");
    proc_argv_add(a, dest);
    if (mode == SSH_COMMAND) {
        proc_argv_add(a, "--");
        proc_argv_add(a, remote ? remote : "true");
    }
    return a->rc;
}

static bool bare(const char *w)
{
    return w[0] && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                             "_./:@%+=,-") == strlen(w);
}

int ssh_quote_append(char *buf, size_t len, const char *w)
{
    size_t l = strlen(buf), start = l;
    const char *p;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (l + 1 >= len)                                                                          \
            goto full;                                                                             \
        buf[l++] = (ch);                                                                           \
    } while (0)
    if (l > 0)
        PUT(' ');
    if (bare(w)) {
        for (p = w; *p; p++)
            PUT(*p);
    } else {
        PUT('\'');
        for (p = w; *p; p++) {
            if (*p == '\'') {
                PUT('\'');
                PUT('\\');
                PUT('\'');
            }
            PUT(*p);
        }
        PUT('\'');
    }
#undef PUT
    buf[l] = '\0';
    return 0;
full:
    buf[start] = '\0';
    return -ENOSPC;
}

int ssh_argv_text(char *const *argv, char *buf, size_t len)
{
    if (len == 0)
        return -ENOSPC;
    buf[0] = '\0';
    for (size_t i = 0; argv[i]; i++) {
        if (ssh_quote_append(buf, len, argv[i]) < 0)
            return -ENOSPC;
    }
    return 0;
}

/* ---- processes ---- */

static void child_exec(char *const *argv, int in, int out, int err)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int devnull = open("/dev/null", O_RDWR);
    dup2(in >= 0 ? in : devnull, 0);
    dup2(out >= 0 ? out : devnull, 1);
    dup2(err >= 0 ? err : devnull, 2);
    execvp(argv[0], argv);
    _exit(127);
}

int ssh_spawn(char *const *argv, bool want_in, bool want_out, int out_fd, int err_fd,
              struct ssh_child *c)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1};
    int rc = 0;
    c->pid = 0;
    c->in = c->out = -1;
    if ((want_in && pipe2(pin, O_CLOEXEC) < 0) || (want_out && pipe2(pout, O_CLOEXEC) < 0)) {
        rc = -errno;
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out;
    }
    if (pid == 0)
        child_exec(argv, pin[0], want_out ? pout[1] : out_fd, err_fd);
    setpgid(pid, pid);
    c->pid = pid;
    c->in = pin[1];
    c->out = pout[0];
    pin[1] = pout[0] = -1;
out:
    for (int i = 0; i < 2; i++) {
        if (pin[i] >= 0)
            close(pin[i]);
        if (pout[i] >= 0)
            close(pout[i]);
    }
    return rc;
}

int ssh_wait(struct ssh_child *c, uint64_t timeout_ns)
{
    int status = 0;
    uint64_t end = ah_clock_mono_ns() + timeout_ns;
    if (c->pid <= 0)
        return -ESRCH;
    for (;;) {
        pid_t w = waitpid(c->pid, &status, WNOHANG);
        if (w == c->pid)
            break;
        if (w < 0 && errno != EINTR)
            return -errno;
        if (ah_clock_mono_ns() >= end) {
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        usleep(5000);
    }
    c->pid = 0;
    return status;
}

/* Keeps the first (first) or last non-empty line of the text seen so far in
 * keep; cur holds the line being read (pos: its length). */
struct line_keep {
    char cur[256];
    size_t pos;
    bool first, got;
    char *keep;
};

static void keep_bytes(struct line_keep *k, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\n' || b[i] == '\r') {
            if (k->pos > 0 && !(k->first && k->got)) {
                k->cur[k->pos] = '\0';
                memcpy(k->keep, k->cur, k->pos + 1);
                k->got = true;
            }
            k->pos = 0;
        } else if (k->pos + 1 < sizeof k->cur) {
            /* A remote host's bytes end up on our terminal and in CSV
             * details: no control character acts on either. */
            unsigned char c = (unsigned char)b[i];
            k->cur[k->pos++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
    }
}

/* Closes the client's stdin (the remote side sees the end of its input)
 * and gives it grace_ns from now to end. Returns false when there is no
 * stdin to close: the caller ends the client at once. */
static bool hang_up(struct ssh_child *c, uint64_t grace_ns, uint64_t *end)
{
    if (c->in < 0 || grace_ns == 0)
        return false;
    close(c->in);
    c->in = -1;
    *end = ah_clock_mono_ns() + grace_ns;
    return true;
}

static int run(char *const *argv, uint64_t timeout_ns, uint64_t grace_ns, int log_fd,
               const struct ssh_stop *stop, struct ssh_result *res)
{
    int perr[2] = {-1, -1};
    struct ssh_child c = {0};
    int rc;
    memset(res, 0, sizeof *res);
    if (pipe2(perr, O_CLOEXEC) < 0)
        return -errno;
    res->start_ns = ah_clock_realtime_ns();
    rc = ssh_spawn(argv, grace_ns > 0, true, -1, perr[1], &c);
    close(perr[1]);
    if (rc < 0) {
        close(perr[0]);
        return rc;
    }
    struct line_keep ko = {.first = true, .keep = res->out}, ke = {.keep = res->err_last};
    struct pollfd p[3] = {{.fd = c.out, .events = POLLIN},
                          {.fd = perr[0], .events = POLLIN},
                          {.fd = stop ? stop->fd : -1, .events = POLLIN}};
    uint64_t end = ah_clock_mono_ns() + timeout_ns;
    bool timed_out = false, stopped = false, ending = false;
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= end) {
            if (ending)
                break;
            timed_out = true;
            if (!(ending = hang_up(&c, grace_ns, &end)))
                break;
            continue;
        }
        int n = poll(p, 3, (int)((end - now) / AH_NS_PER_MS) + 1);
        if (n < 0 && errno != EINTR)
            break;
        if ((p[2].revents & POLLIN) && stop->check(stop->arg)) {
            stopped = true;
            p[2].fd = -1;
            if (!(ending = hang_up(&c, grace_ns, &end)))
                break;
            continue;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t got = read(p[i].fd, buf, sizeof buf);
            if (got <= 0) {
                keep_bytes(i ? &ke : &ko, "\n", 1);
                close(p[i].fd);
                p[i].fd = -1;
                continue;
            }
            keep_bytes(i ? &ke : &ko, buf, (size_t)got);
            if (log_fd >= 0 && write(log_fd, buf, (size_t)got) < 0) {
                /* the log is best effort */
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (p[i].fd >= 0)
            close(p[i].fd);
    }
    if (c.in >= 0)
        close(c.in);
    /* A client whose command ended is waited for; one given up on gets
     * what is left of its grace (none without a held stdin). */
    uint64_t now = ah_clock_mono_ns(), left = end > now ? end - now : 0;
    rc = ssh_wait(&c, !timed_out && !stopped ? 5 * AH_NS_PER_S : ending ? left : 0);
    res->end_ns = ah_clock_realtime_ns();
    if (rc < 0)
        return rc;
    res->status = rc;
    return timed_out ? -ETIMEDOUT : stopped ? -EINTR : 0;
}

int ssh_run(char *const *argv, uint64_t timeout_ns, int log_fd, const struct ssh_stop *stop,
            struct ssh_result *res)
{
    return run(argv, timeout_ns, 0, log_fd, stop, res);
}

int ssh_run_held(char *const *argv, uint64_t timeout_ns, uint64_t grace_ns, int log_fd,
                 const struct ssh_stop *stop, struct ssh_result *res)
{
    return run(argv, timeout_ns, grace_ns ? grace_ns : 1, log_fd, stop, res);
}
