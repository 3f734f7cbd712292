/* Unit tests for harness/sys/proc.c without namespaces: spawn with output to a
 * log file, exec failures reported to the parent, reaping, stop with a
 * signal and with SIGKILL after a timeout, or without a second signal,
 * signals reaching the whole process group, orphans reaped by a subreaper,
 * a program's first output line captured with clean signal state, status
 * texts, program lookup, and no descriptor of ours but the passed one
 * reaching a child. */
#include "harness/sys/proc.h"
#include "tests/unit/check_main.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void dir_setup(void)
{
    tmpdir_make("proc");
}

static int wait_reaped(struct proc *p, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (proc_reap(p))
            return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

START_TEST(spawn_logs_and_reaps)
{
    char log[128];
    snprintf(log, sizeof log, "%s/out.log", tmpdir);
    char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    struct proc_spec spec = {.log_path = log, .argv = argv};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), 0);
    ck_assert_int_gt(p.pid, 0);
    ck_assert_int_eq(wait_reaped(&p, 5000), 1);
    ck_assert_int_eq(p.pid, 0);
    ck_assert(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 3);
    ck_assert_str_eq(slurp_try(log), "out\nerr\n");
    char st[32];
    proc_status_text(p.status, st, sizeof st);
    ck_assert_str_eq(st, "exit 3");
    ck_assert_int_eq(proc_reap(&p), 0);
}
END_TEST

START_TEST(exec_failure_is_reported)
{
    char *argv[] = {"/nonexistent/program", NULL};
    struct proc_spec spec = {.argv = argv};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), -ENOENT);
    ck_assert_int_eq(p.pid, 0);
    char *argv2[] = {"/bin/true", NULL};
    struct proc_spec bad_dir = {.argv = argv2, .chdir_to = "/nonexistent-dir"};
    ck_assert_int_eq(proc_spawn(&p, &bad_dir), -ENOENT);
    struct proc_spec bad_ns = {.argv = argv2, .netns = "ah-no-such-netns"};
    ck_assert_int_lt(proc_spawn(&p, &bad_ns), 0);
}
END_TEST

START_TEST(stop_with_signal_and_with_kill)
{
    char *argv[] = {"/bin/sleep", "30", NULL};
    struct proc_spec spec = {.argv = argv};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), 0);
    ck_assert_int_eq(proc_stop(&p, SIGTERM, 2000000000ULL), 0);
    ck_assert(p.expected_exit);
    ck_assert(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM);
    char st[32];
    proc_status_text(p.status, st, sizeof st);
    ck_assert_str_eq(st, "signal 15");

    /* A process that ignores SIGTERM is killed after the timeout. */
    char *stubborn[] = {"/bin/sh", "-c", "trap '' TERM; sleep 30 & wait", NULL};
    struct proc_spec spec2 = {.argv = stubborn};
    ck_assert_int_eq(proc_spawn(&p, &spec2), 0);
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(proc_stop(&p, SIGTERM, 200000000ULL), 1);
    ck_assert_int_eq(p.pid, 0);
    ck_assert(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
}
END_TEST

START_TEST(signals_reach_the_group)
{
    /* The shell's child writes its pid; killing the group kills it too. The
     * pid goes through a rename so the file is never seen empty. */
    char pidfile[128], cmd[512];
    snprintf(pidfile, sizeof pidfile, "%s/child.pid", tmpdir);
    snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s.tmp && mv %s.tmp %s; wait", pidfile, pidfile,
             pidfile);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct proc_spec spec = {.argv = argv};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), 0);
    char *txt = NULL;
    for (int i = 0; i < 2000 && !(txt = slurp_try(pidfile)); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_ptr_nonnull(txt);
    pid_t child = (pid_t)atoi(txt);
    ck_assert_int_gt(child, 0);
    ck_assert_int_eq(getpgid(child), p.pid);
    ck_assert_int_eq(proc_signal(&p, SIGSTOP), 0);
    ck_assert(p.stopped);
    ck_assert_int_eq(proc_signal(&p, SIGCONT), 0);
    ck_assert(!p.stopped);
    ck_assert_int_eq(proc_signal(&p, SIGKILL), 0);
    ck_assert_int_eq(wait_reaped(&p, 5000), 1);
    int gone = 0;
    for (int i = 0; i < 2000 && !gone; i++) {
        char path[64], state = 0;
        snprintf(path, sizeof path, "/proc/%d/stat", child);
        FILE *f = fopen(path, "r");
        if (!f || fscanf(f, "%*d %*s %c", &state) != 1 || state == 'Z')
            gone = 1;
        if (f)
            fclose(f);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(gone, "the group's other process survived");
    struct proc none = {0};
    ck_assert_int_eq(proc_signal(&none, SIGTERM), -ESRCH);
}
END_TEST

/* Waits up to ms for path to exist. */
static int wait_file(const char *path, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (access(path, F_OK) == 0)
            return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

START_TEST(stop_without_a_second_signal)
{
    /* The child ends with 0 after one SIGINT, with 9 if a second one comes
     * while it finishes: proc_stop with sig 0 must only wait. */
    char ready[128], got[128], cmd[600];
    snprintf(ready, sizeof ready, "%s/ready", tmpdir);
    snprintf(got, sizeof got, "%s/got", tmpdir);
    snprintf(cmd, sizeof cmd,
             "trap 'if [ -n \"$got\" ]; then exit 9; fi; got=1; touch %s' INT; touch %s; "
             "while [ -z \"$got\" ]; do sleep 0.02; done; sleep 0.5; exit 0",
             got, ready);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct proc_spec spec = {.argv = argv};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), 0);
    ck_assert_int_eq(wait_file(ready, 5000), 1);
    ck_assert_int_eq(proc_signal(&p, SIGINT), 0);
    ck_assert_int_eq(wait_file(got, 5000), 1);
    ck_assert_int_eq(proc_stop(&p, 0, 5000000000ULL), 0);
    ck_assert_int_eq(p.pid, 0);
    char st[32];
    proc_status_text(p.status, st, sizeof st);
    ck_assert_str_eq(st, "exit 0");
}
END_TEST

START_TEST(orphans_are_reaped)
{
    /* The shell exits at once, leaving its background sleep an orphan: as
     * the subreaper we get it, and proc_reap_all collects it. */
    ck_assert_int_eq(proc_set_subreaper(), 0);
    char *argv[] = {"/bin/sh", "-c", "sleep 0.3 & exit 0", NULL};
    struct proc_spec spec = {.argv = argv};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), 0);
    ck_assert_int_eq(wait_reaped(&p, 5000), 1);
    ck_assert_int_eq(proc_reap_all(5000000000ULL), 1);
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);

    /* A child that outlives the timeout is reported, not waited for. */
    char *slow[] = {"/bin/sleep", "30", NULL};
    struct proc_spec spec2 = {.argv = slow};
    ck_assert_int_eq(proc_spawn(&p, &spec2), 0);
    ck_assert_int_eq(proc_reap_all(100000000ULL), -ETIMEDOUT);
    ck_assert_int_eq(proc_stop(&p, SIGTERM, 2000000000ULL), 0);
    ck_assert_int_eq(proc_reap_all(100000000ULL), 0);
}
END_TEST

START_TEST(capture_first_line)
{
    char out[64];
    char *argv[] = {"/bin/sh", "-c", "echo; echo 'tool 1.2'; echo more >&2", NULL};
    ck_assert_int_eq(proc_capture(argv, out, sizeof out, 5000000000ULL), 8);
    ck_assert_str_eq(out, "tool 1.2");

    /* The lab blocks SIGINT and friends; the program must not inherit it. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    char *blk[] = {"/bin/sh", "-c", "grep SigBlk /proc/self/status", NULL};
    ck_assert_int_gt(proc_capture(blk, out, sizeof out, 5000000000ULL), 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    ck_assert_str_eq(out, "SigBlk:\t0000000000000000");

    char *missing[] = {"/nonexistent/tool", "--version", NULL};
    ck_assert_int_eq(proc_capture(missing, out, sizeof out, 5000000000ULL), -ENOEXEC);
    ck_assert_str_eq(out, "");

    /* A program that hangs is killed and reaped. */
    char *hang[] = {"/bin/sleep", "30", NULL};
    ck_assert_int_eq(proc_capture(hang, out, sizeof out, 200000000ULL), -ETIMEDOUT);
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

/* The lab holds thousands of sockets; a child gets stdin, stdout, stderr
 * and the passed descriptor only, even those not marked close-on-exec. */
START_TEST(only_the_passed_descriptor_is_inherited)
{
    int a[2], b[2];
    ck_assert_int_eq(pipe(a), 0);
    ck_assert_int_eq(pipe(b), 0);
    /* Well above 3, so that each number names one descriptor. */
    for (int i = 0; i < 2; i++) {
        int x = fcntl(a[i], F_DUPFD, 100), y = fcntl(b[i], F_DUPFD, 100);
        ck_assert(x >= 100 && y >= 100);
        close(a[i]), close(b[i]);
        a[i] = x, b[i] = y;
    }
    char log[128], script[256];
    snprintf(log, sizeof log, "%s/fds.log", tmpdir);
    snprintf(script, sizeof script,
             "for n in 3 %d %d %d %d; do [ -e /proc/self/fd/$n ] && echo \"open $n\"; done; "
             "exit 0",
             a[0], a[1], b[0], b[1]);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct proc_spec spec = {.log_path = log, .argv = argv, .pass_fd = b[1]};
    struct proc p = {0};
    ck_assert_int_eq(proc_spawn(&p, &spec), 0);
    ck_assert_int_eq(wait_reaped(&p, 5000), 1);
    /* Only PROC_PASS_FD (3), a copy of b[1]; b[1] itself stays behind. */
    ck_assert_str_eq(slurp_try(log), "open 3\n");
    struct proc_spec bare = {.log_path = log, .argv = argv};
    ck_assert_int_eq(unlink(log), 0);
    ck_assert_int_eq(proc_spawn(&p, &bare), 0);
    ck_assert_int_eq(wait_reaped(&p, 5000), 1);
    ck_assert_str_eq(slurp_try(log), "");
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}
END_TEST

START_TEST(find_program)
{
    char path[256], bin[128];
    fake_program("my-tool", bin, sizeof bin);
    ck_assert_int_eq(proc_find_program("my-tool", false, path, sizeof path), 0);
    ck_assert_str_eq(path, bin);
    unsetenv("AH_BIN_DIR");
    ck_assert_int_eq(proc_find_program("my-tool", false, path, sizeof path), -ENOENT);
    ck_assert_int_eq(proc_find_program("sh", true, path, sizeof path), 0);
    ck_assert_int_eq(access(path, X_OK), 0);
    ck_assert_int_eq(proc_find_program("no-such-program-xyz", true, path, sizeof path), -ENOENT);
}
END_TEST

static Suite *proc_suite(void)
{
    Suite *s = suite_create("proc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, spawn_logs_and_reaps);
    tcase_add_test(tc, exec_failure_is_reported);
    tcase_add_test(tc, stop_with_signal_and_with_kill);
    tcase_add_test(tc, signals_reach_the_group);
    tcase_add_test(tc, stop_without_a_second_signal);
    tcase_add_test(tc, orphans_are_reaped);
    tcase_add_test(tc, capture_first_line);
    tcase_add_test(tc, only_the_passed_descriptor_is_inherited);
    tcase_add_test(tc, find_program);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(proc_suite)
