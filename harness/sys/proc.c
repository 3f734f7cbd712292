/* Forking, supervising and signalling the lab's processes. Each child enters
 * its network namespace between fork and exec (setns affects only the calling
 * thread, and the child has exactly one), runs in its own session so that
 * signals reach everything it starts, and reports a failed exec back to the
 * parent through a close-on-exec pipe. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ah/file.h"
#include "ah/clock.h"
#include "harness/sys/netns.h"

/* In a forked child before exec: the lab blocks SIGINT, SIGTERM, SIGHUP and
 * SIGCHLD (they arrive through its signalfd) and ignores SIGPIPE, and a
 * program must not inherit either, or it could not be stopped by a signal. */
static void reset_signals(void)
{
    sigset_t none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    }
}

/* Runs in the child only: everything here must end in exec or _exit. */
static void child_exec(const struct proc_spec *spec, int errfd, pid_t parent)
{
    int err = 0;

    reset_signals();
    if (setsid() < 0) {
        err = errno;
        goto fail;
    }
    if (spec->die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The parent may have died before prctl took effect. */
        if (getppid() != parent)
            _exit(127);
    }
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* A log in the run directory is never written through a symlink. */
    int out = spec->log_path ? ah_file_create(spec->log_path, O_APPEND)
                             : open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (in < 0 || out < 0) {
        err = out < -1 ? -out : errno;
        goto fail;
    }
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
        err = errno;
        goto fail;
    }
    /* The error pipe must not sit where the passed descriptor goes. */
    if (spec->pass_fd > 2 && errfd == PROC_PASS_FD) {
        int moved = fcntl(errfd, F_DUPFD_CLOEXEC, PROC_PASS_FD + 1);
        if (moved < 0)
            _exit(127);
        errfd = moved;
    }
    /* dup2 clears close-on-exec on the copy; a descriptor already in place
     * has it cleared by hand. */
    if (spec->pass_fd > 2 &&
        (spec->pass_fd == PROC_PASS_FD ? fcntl(PROC_PASS_FD, F_SETFD, 0)
                                       : dup2(spec->pass_fd, PROC_PASS_FD)) < 0) {
        err = errno;
        goto fail;
    }
    /* Nothing else of ours reaches the program, whatever a descriptor's
     * flags: a lab process holds a netlink socket per namespace (thousands),
     * and a child that inherited them kept them open for its whole life and
     * made its own exit and reaping cost milliseconds each. The error pipe
     * and the namespace file are close-on-exec anyway. */
    _Static_assert(PROC_PASS_FD == 3, "the passed descriptor is the first after stderr");
    unsigned keep = spec->pass_fd > 2 ? PROC_PASS_FD : 2;
    if (close_range(keep + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        err = errno;
        goto fail;
    }
    if (spec->netns) {
        int rc = netns_enter(spec->netns);
        if (rc < 0) {
            err = -rc;
            goto fail;
        }
    }
    if (spec->chdir_to && chdir(spec->chdir_to) < 0) {
        err = errno;
        goto fail;
    }
    if (strchr(spec->argv[0], '/'))
        execv(spec->argv[0], spec->argv);
    else
        execvp(spec->argv[0], spec->argv);
    err = errno;
fail:
    if (write(errfd, &err, sizeof err) < 0) {
        /* Nothing left to report to. */
    }
    _exit(127);
}

/* A pipe (close-on-exec both ends) and a fork: the pid (0 in the child) or
 * -errno, with the pipe closed again on failure. */
static pid_t fork_with_pipe(int pfd[2])
{
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int err = -errno;
        close(pfd[0]);
        close(pfd[1]);
        return err;
    }
    return pid;
}

int proc_spawn_begin(struct proc *p, const struct proc_spec *spec, int *errfd)
{
    int pfd[2];
    pid_t parent = getpid();

    pid_t pid = fork_with_pipe(pfd);
    if (pid < 0)
        return (int)pid;
    if (pid == 0) {
        close(pfd[0]);
        child_exec(spec, pfd[1], parent);
    }
    close(pfd[1]);
    p->pid = pid;
    p->expected_exit = false;
    p->stopped = false;
    p->status = 0;
    *errfd = pfd[0];
    return 0;
}

int proc_spawn_end(struct proc *p, int errfd)
{
    int child_err = 0, err = 0;
    ssize_t n;
    do {
        n = read(errfd, &child_err, sizeof child_err);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof child_err) {
        /* The child failed before or at exec: collect it now (unless a
         * SIGCHLD handler reaped it meanwhile). */
        int st;
        while (p->pid > 0 && waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
        }
        p->pid = 0;
        err = -(child_err ? child_err : EIO);
    }
    close(errfd);
    return err;
}

int proc_spawn(struct proc *p, const struct proc_spec *spec)
{
    int errfd;
    int rc = proc_spawn_begin(p, spec, &errfd);
    return rc < 0 ? rc : proc_spawn_end(p, errfd);
}

int proc_window_pop(struct proc_window *w, size_t *tag)
{
    size_t h = w->head;
    *tag = w->tag[h];
    int rc = proc_spawn_end(w->p[h], w->errfd[h]);
    w->head = (h + 1) % PROC_WINDOW;
    w->n--;
    return rc;
}

int proc_window_add(struct proc_window *w, struct proc *p, const struct proc_spec *spec, size_t tag,
                    size_t *failed_tag)
{
    int errfd, rc;
    if (w->n == PROC_WINDOW && (rc = proc_window_pop(w, failed_tag)) < 0)
        return rc;
    if ((rc = proc_spawn_begin(p, spec, &errfd)) < 0) {
        *failed_tag = tag;
        return rc;
    }
    size_t slot = (w->head + w->n) % PROC_WINDOW;
    w->p[slot] = p;
    w->tag[slot] = tag;
    w->errfd[slot] = errfd;
    w->n++;
    return 0;
}

int proc_signal(struct proc *p, int sig)
{
    if (p->pid <= 0)
        return -ESRCH;
    /* The child called setsid(), so its pid is its process group id. */
    if (kill(-p->pid, sig) < 0 && kill(p->pid, sig) < 0)
        return -errno;
    if (sig == SIGSTOP)
        p->stopped = true;
    else if (sig == SIGCONT)
        p->stopped = false;
    return 0;
}

int proc_reap(struct proc *p)
{
    int st;
    if (p->pid <= 0)
        return 0;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->status = st;
        p->pid = 0;
        return 1;
    }
    if (r < 0 && errno == ECHILD) {
        p->pid = 0;
        return 1;
    }
    return 0;
}

static bool wait_gone(struct proc *p, uint64_t timeout_ns)
{
    uint64_t end = ah_clock_mono_ns() + timeout_ns;
    for (;;) {
        if (proc_reap(p) || p->pid == 0)
            return true;
        if (ah_clock_mono_ns() >= end)
            return false;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int proc_stop(struct proc *p, int sig, uint64_t timeout_ns)
{
    if (p->pid <= 0)
        return 0;
    p->expected_exit = true;
    if (p->stopped)
        proc_signal(p, SIGCONT);
    /* sig 0: the caller signalled it already. A second SIGINT would cut a
     * probe's drain short, or kill it once its handler is gone. */
    if (sig)
        proc_signal(p, sig);
    if (wait_gone(p, timeout_ns)) {
        /* Helpers the process started may outlive it in its group. */
        return 0;
    }
    pid_t pid = p->pid;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    wait_gone(p, 5ULL * 1000 * 1000 * 1000);
    return 1;
}

int proc_raise_priority(int nice_value)
{
    /* The normal class with SCHED_RESET_ON_FORK, then the nice value. */
    int rc = proc_realtime(false, 0);
    if (rc < 0)
        return rc;
    if (setpriority(PRIO_PROCESS, 0, nice_value) < 0)
        return -errno;
    return 0;
}

int proc_realtime(bool on, int rt_prio)
{
    struct sched_param sp = {.sched_priority = on ? rt_prio : 0};
    int policy = (on ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK;
    return sched_setscheduler(0, policy, &sp) < 0 ? -errno : 0;
}

int proc_set_subreaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ? -errno : 0;
}

int proc_reap_all(uint64_t timeout_ns)
{
    uint64_t end = ah_clock_mono_ns() + timeout_ns;
    int reaped = 0;
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, WNOHANG | __WALL);
        if (r > 0) {
            reaped++;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return reaped; /* ECHILD: no child left */
        if (ah_clock_mono_ns() >= end)
            return -ETIMEDOUT;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* The child of proc_capture: stdin from /dev/null, stdout and stderr into
 * the pipe's write end, then the program. Never returns. */
static _Noreturn void capture_child(char *const *argv, int wfd)
{
    reset_signals();
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(wfd, 1) < 0 || dup2(wfd, 2) < 0)
        _exit(127);
    if (strchr(argv[0], '/'))
        execv(argv[0], argv);
    else
        execvp(argv[0], argv);
    _exit(127);
}

/* Reads fd until its end or the deadline, keeping the first non-empty line
 * in out (len > 0); the rest is read and dropped so that the child never
 * blocks on a full pipe. *used gets the line's length. Returns 0 or
 * -ETIMEDOUT. */
static int capture_first_line(int fd, char *out, size_t len, size_t *used, uint64_t end)
{
    bool line_done = false;

    for (;;) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= end)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left_ms = (int)((end - now) / 1000000) + 1;
        int n = poll(&p, 1, left_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue; /* the clock decides */
        char buf[512];
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0;
        for (ssize_t i = 0; i < got && !line_done; i++) {
            if (buf[i] == '\n' || buf[i] == '\r')
                line_done = *used > 0;
            else if (*used + 1 < len)
                out[(*used)++] = buf[i];
        }
    }
}

/* Reaps the child: at once after a failure rc (it was killed), else by the
 * deadline, after which a program that lingers past its output is killed
 * too. Returns rc, -ETIMEDOUT, -ENOEXEC when the program could not be run,
 * or -errno. */
static int capture_reap(pid_t pid, int rc, uint64_t end)
{
    int st = 0;

    if (rc < 0)
        kill(pid, SIGKILL);
    for (;;) {
        pid_t w = waitpid(pid, &st, rc < 0 ? 0 : WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        if (ah_clock_mono_ns() >= end) {
            /* Output ended but the program lingers: it goes too. */
            kill(pid, SIGKILL);
            rc = -ETIMEDOUT;
            continue;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) != 127))
        rc = -ENOEXEC;
    return rc;
}

int proc_capture(char *const *argv, char *out, size_t len, uint64_t timeout_ns)
{
    int pfd[2];
    size_t used = 0;

    if (len == 0)
        return -EINVAL;
    out[0] = '\0';
    pid_t pid = fork_with_pipe(pfd);
    if (pid < 0)
        return (int)pid;
    if (pid == 0)
        capture_child(argv, pfd[1]);
    close(pfd[1]);
    uint64_t end = ah_clock_mono_ns() + timeout_ns;
    int rc = capture_first_line(pfd[0], out, len, &used, end);
    out[used] = '\0';
    close(pfd[0]);
    rc = capture_reap(pid, rc, end);
    return rc < 0 ? rc : (int)used;
}

void proc_status_text(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "status %d", status);
}

static bool is_exec(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int try_dir(const char *dir, size_t dlen, const char *name, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%.*s/%s", (int)dlen, dir, name);
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    return is_exec(buf) ? 0 : -ENOENT;
}

int proc_find_program(const char *name, bool search_path, char *buf, size_t len)
{
    const char *env = getenv("AH_BIN_DIR");
    if (env && *env && try_dir(env, strlen(env), name, buf, len) == 0)
        return 0;

    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash && try_dir(self, (size_t)(slash - self), name, buf, len) == 0)
            return 0;
    }
    if (!search_path)
        return -ENOENT;

    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *s = path; *s;) {
        const char *e = strchr(s, ':');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l > 0 && try_dir(s, l, name, buf, len) == 0)
            return 0;
        s += l + (e ? 1 : 0);
    }
    static const char *const sbins[] = {"/usr/local/sbin", "/usr/sbin", "/sbin"};
    for (size_t i = 0; i < sizeof sbins / sizeof sbins[0]; i++) {
        if (try_dir(sbins[i], strlen(sbins[i]), name, buf, len) == 0)
            return 0;
    }
    return -ENOENT;
}

void proc_argv_add(struct proc_argv *a, const char *word)
{
    size_t l = strlen(word) + 1;
    if (a->rc < 0)
        return;
    if (a->n + 1 >= PROC_ARGV_MAX || a->used + l > sizeof a->store) {
        a->rc = -ENOSPC;
        return;
    }
    memcpy(a->store + a->used, word, l);
    a->argv[a->n++] = a->store + a->used;
    a->argv[a->n] = NULL;
    a->used += l;
}
