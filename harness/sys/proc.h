/* Supervised processes of a lab: responders and probes forked into their
 * network namespace, with their output in per-process log files, stopped,
 * paused and killed by process group, and reaped so that an unexpected death
 * becomes an `exit` event. */
#ifndef PROC_H
#define PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_NAME_MAX 64

/* An argv built word by word in a fixed store, for execvp: the first error
 * (no room) is kept in rc and every later word ignored, so a caller checks
 * once at the end. */
#define PROC_ARGV_MAX   96
#define PROC_ARGV_STORE 20480
struct proc_argv {
    char *argv[PROC_ARGV_MAX];
    char store[PROC_ARGV_STORE];
    size_t n, used;
    int rc;
};
void proc_argv_add(struct proc_argv *a, const char *word);

struct proc {
    char name[PROC_NAME_MAX]; /* "responder ams", "probe eu" */
    pid_t pid;                /* 0 when not running */
    bool expected_exit;       /* set before a deliberate stop: no `exit` event */
    bool stopped;             /* SIGSTOPped by a pause */
    int status;               /* waitpid status of the last exit */
};

struct proc_spec {
    const char *netns;    /* enter this namespace before exec (NULL: stay) */
    const char *log_path; /* stdout and stderr appended here (NULL: /dev/null) */
    char *const *argv;    /* argv[0] is the program path (execv) or name (execvp) */
    bool die_with_parent; /* PR_SET_PDEATHSIG(SIGKILL): `run`, not `up` */
    const char *chdir_to; /* working directory for the child (NULL: unchanged) */
    int pass_fd;          /* > 2: handed to the child as PROC_PASS_FD; 0: none */
};

/* The descriptor number a child finds proc_spec.pass_fd at. */
#define PROC_PASS_FD 3

/* Forks and execs spec in a new session (its own process group), after
 * entering the namespace. Returns 0 once the exec succeeded (p->pid set), or
 * the child's negative errno when entering the namespace or exec failed. */
int proc_spawn(struct proc *p, const struct proc_spec *spec);

/* The same in two halves, so that many children can start at once: begin
 * forks (p->pid set) and returns 0 with *errfd, the pipe on which the child
 * reports a failed exec; end waits for that report (the exec or the error),
 * closes errfd and returns what proc_spawn would. Every begin that returned
 * 0 needs its end. */
int proc_spawn_begin(struct proc *p, const struct proc_spec *spec, int *errfd);
int proc_spawn_end(struct proc *p, int errfd);

/* Spawns in flight whose exec is not confirmed yet: enough to overlap the
 * children's namespace entry and exec (confirming each before the next fork
 * made 256 responders take 1-2.6 s), few enough for any fd limit. */
#define PROC_WINDOW 32
struct proc_window {
    struct proc *p[PROC_WINDOW];
    size_t tag[PROC_WINDOW]; /* the caller's: which child it was */
    int errfd[PROC_WINDOW];
    size_t head, n;
};

/* Begins spawning p (proc_spawn_begin) under the caller's tag. A full
 * window first confirms its oldest spawn: a failure of that one returns its
 * -errno with *failed_tag set, and p is not started. */
int proc_window_add(struct proc_window *w, struct proc *p, const struct proc_spec *spec, size_t tag,
                    size_t *failed_tag);

/* Confirms the oldest spawn in flight (proc_spawn_end), while w->n > 0:
 * 0 or its -errno; *tag says which child it was. */
int proc_window_pop(struct proc_window *w, size_t *tag);

/* Sends sig to the process group of p. Returns 0 or -errno (-ESRCH when not
 * running). */
int proc_signal(struct proc *p, int sig);

/* Reaps p if it has exited (WNOHANG). Returns 1 when it was reaped now (pid
 * cleared, status kept), 0 when still running or not running. */
int proc_reap(struct proc *p);

/* Stops p: sig (SIGTERM or SIGINT) to the group, waits up to timeout_ns,
 * then SIGKILL and waits again. Marks the exit as expected. With sig 0 it
 * only waits (the caller signalled already: a program may treat a second
 * signal as "stop now"). Returns 0, or 1 if SIGKILL was needed. */
int proc_stop(struct proc *p, int sig, uint64_t timeout_ns);

/* Raises the calling process's CPU priority to nice_value (negative) while
 * its children keep the default (SCHED_RESET_ON_FORK): the lab's clock wakes
 * up on time among hundreds of busy processes of its own. Returns 0 or
 * -errno (-EPERM without CAP_SYS_NICE: the run goes on at normal priority). */
int proc_raise_priority(int nice_value);

/* Puts the calling process in the real-time class (SCHED_FIFO at rt_prio,
 * with SCHED_RESET_ON_FORK, so what it starts runs at the default) when on,
 * and back in the normal class at its nice value when off. A nice value only
 * shares the cores out more in our favour: a woken process still waits for
 * a busy one's time slice, which at 60,000 probes a second made drill steps
 * 25-80 ms late. A real-time process is run as soon as it wakes. Returns 0
 * or -errno (-EPERM without CAP_SYS_NICE or under an RT-throttled cgroup). */
int proc_realtime(bool on, int rt_prio);

/* Makes the calling process the reaper of its orphaned descendants
 * (PR_SET_CHILD_SUBREAPER): a helper whose parent died (a sanitizer's
 * tracer, a daemon's worker) becomes our child instead of init's, so that
 * proc_reap_all can collect it before we exit. Returns 0 or -errno. */
int proc_set_subreaper(void);

/* Reaps every child of the calling process (any pid) until none is left,
 * waiting up to timeout_ns for those still running. Returns how many were
 * reaped, or -ETIMEDOUT when some child was still running at the end. Only
 * for the end of a process's life: it takes the statuses proc_reap would. */
int proc_reap_all(uint64_t timeout_ns);

/* Runs argv (execv when argv[0] has a slash, else execvp) with default
 * signal dispositions and an empty signal mask, stdout and stderr into a
 * pipe, and waits up to timeout_ns for it (then SIGKILL). Keeps the first
 * non-empty line of its output in out. Returns the line's length, -ENOEXEC
 * when the program could not be run, -ETIMEDOUT or another -errno. The
 * child is always reaped. */
int proc_capture(char *const *argv, char *out, size_t len, uint64_t timeout_ns);

/* Describes a wait status: "exit 0", "exit 1", "signal 9". */
void proc_status_text(int status, char *buf, size_t len);

/* Finds an executable: $AH_BIN_DIR/NAME, then next to our own executable
 * (readlink /proc/self/exe), then (when search_path) each $PATH entry and
 * /usr/sbin, /usr/local/sbin, /sbin. Returns 0 with the path in buf, or
 * -ENOENT. */
int proc_find_program(const char *name, bool search_path, char *buf, size_t len);

#endif
