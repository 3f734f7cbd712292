/* The OpenSSH client as a deployment run uses it: ssh(1) command lines built
 * from a lab host (never a shell string on our side), the words of a remote
 * command quoted for the remote POSIX shell, one ControlMaster connection
 * per host, and commands run through it with a deadline. */
#ifndef SSH_H
#define SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness/lab/lab.h"
#include "proc.h"

/* An ssh command line: our options, 2 words per user option, the
 * destination and the remote command; it fits a struct proc_argv. */
#define SSH_ARGV_MAX  (24 + 2 * LAB_SSH_OPTIONS_MAX)
#define SSH_STORE_MAX (4 * LAB_COMMAND_MAX + 4096)
_Static_assert(SSH_ARGV_MAX <= PROC_ARGV_MAX && SSH_STORE_MAX <= PROC_ARGV_STORE,
               "an ssh command line fits a struct proc_argv");

/* What an ssh command line is for. */
enum ssh_mode {
    SSH_MASTER,  /* ControlMaster=yes -N: the host's master, owned by the controller */
    SSH_COMMAND, /* one remote command through the master */
    SSH_CHECK,   /* -O check: is the master up? */
};

/* Settings that apply to every ssh command of a run. */
struct ssh_conf {
    const char *control_dir; /* ControlPath=<control_dir>/%C */
    unsigned connect_timeout_s;
    unsigned alive_interval_s; /* ServerAliveInterval (count 3) */
};

/* Builds argv for host in mode; remote is the command string sshd gives the
 * remote user's shell (SSH_COMMAND only; NULL otherwise). The destination
 * "[v6]:port" or "user@[v6]:port" becomes -p port and the bare address.
 * Returns 0 or a negative errno (also in a->rc). */
int ssh_build(struct proc_argv *a, const struct ssh_conf *c, const struct lab_host *h,
              enum ssh_mode mode, const char *remote);

/* Appends word to the NUL-terminated string buf (of size len), quoted for a
 * POSIX shell: in single quotes, a quote written '\''; a word of only
 * [A-Za-z0-9_./:@%+=,-] is left bare. A blank separates it from what is
 * there. Returns 0 or -ENOSPC (buf then unchanged). */
int ssh_quote_append(char *buf, size_t len, const char *word);

/* argv as one line a shell would read back as the same words (for
 * --dry-run and logs). Returns 0 or -ENOSPC (the line is cut). */
int ssh_argv_text(char *const *argv, char *buf, size_t len);

/* A running ssh client: its own process group (a Ctrl-C at the terminal
 * reaches the controller, not the sessions), SIGTERM when the controller
 * dies. in: the write end of its stdin (-1: /dev/null); out: the read end
 * of its stdout (-1: to out_fd). */
struct ssh_child {
    pid_t pid;
    int in, out;
};

/* Starts argv. want_in/want_out ask for pipes; otherwise stdin is
 * /dev/null and stdout goes to out_fd (-1: /dev/null); stderr goes to
 * err_fd (-1: /dev/null). Returns 0 or a negative errno. */
int ssh_spawn(char *const *argv, bool want_in, bool want_out, int out_fd, int err_fd,
              struct ssh_child *c);

/* The result of ssh_run. */
struct ssh_result {
    int status;                /* waitpid status */
    char out[256];             /* first non-empty line of stdout */
    char err_last[256];        /* last non-empty line of stderr */
    uint64_t start_ns, end_ns; /* CLOCK_REALTIME */
};

/* A way to give up on ssh_run early: whenever fd is readable, check(arg)
 * is asked whether to stop (the controller's signals: a Ctrl-C ends a step
 * that hangs). */
struct ssh_stop {
    int fd;
    bool (*check)(void *arg);
    void *arg;
};

/* Runs argv with stdin from /dev/null, waits up to timeout_ns (then SIGKILL
 * to the client; the remote command may go on), and copies stdout and
 * stderr to log_fd (-1: nowhere). stop may be NULL. Returns 0 with res
 * filled (the remote status is the exit status: 255 is ssh's own failure),
 * -ETIMEDOUT, -EINTR (stopped) or another negative errno. */
int ssh_run(char *const *argv, uint64_t timeout_ns, int log_fd, const struct ssh_stop *stop,
            struct ssh_result *res);

/* As ssh_run, but the client's stdin is a pipe held open while the
 * command runs. At the deadline or a stop it is closed first, so the
 * remote side sees the end of its input (a deployment step's wrapper then
 * ends its command's process group), and the client has grace_ns to exit
 * with the remote status before SIGKILL; res->status is then the status
 * it ended with. Same returns as ssh_run. */
int ssh_run_held(char *const *argv, uint64_t timeout_ns, uint64_t grace_ns, int log_fd,
                 const struct ssh_stop *stop, struct ssh_result *res);

/* Waits up to timeout_ns for c to end (SIGKILL to its group after that).
 * Returns its waitpid status, or a negative errno. */
int ssh_wait(struct ssh_child *c, uint64_t timeout_ns);

#endif
