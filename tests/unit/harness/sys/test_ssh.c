/* Unit tests for harness/sys/ssh.c: the ssh(1) command lines built from a
 * lab host (destination forms, the user's options before ours, the three
 * modes), the quoting of words for the remote POSIX shell (checked by
 * letting /bin/sh read them back), and ssh_run's exit status, first stdout
 * line, last stderr line and deadline, with /bin/sh standing in for ssh. */
#include "harness/sys/ssh.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ah/clock.h"

static const struct ssh_conf conf = {.control_dir = "/run/x/ssh"};

/* The index of word w in argv, or -1. */
static int find(char *const *argv, const char *w)
{
    for (int i = 0; argv[i]; i++) {
        if (strcmp(argv[i], w) == 0)
            return i;
    }
    return -1;
}

START_TEST(destinations)
{
    struct proc_argv a;
    struct lab_host h = {.dest = "probe@203.0.113.10"};
    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_COMMAND, "true"), 0);
    ck_assert_str_eq(a.argv[a.n - 3], "probe@203.0.113.10");
    ck_assert_str_eq(a.argv[a.n - 2], "--");
    ck_assert_str_eq(a.argv[a.n - 1], "true");
    ck_assert_int_eq(find(a.argv, "-p"), -1);

    h.dest = "[2001:db8::10]:2222";
    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_COMMAND, "true"), 0);
    int p = find(a.argv, "-p");
    ck_assert_int_ge(p, 0);
    ck_assert_str_eq(a.argv[p + 1], "2222");
    ck_assert_str_eq(a.argv[a.n - 3], "2001:db8::10");

    h.dest = "ops@[2001:db8::10]:22";
    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_COMMAND, "true"), 0);
    ck_assert_str_eq(a.argv[a.n - 3], "ops@2001:db8::10");

    h.dest = "[2001:db8::10]";
    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_COMMAND, "true"), 0);
    ck_assert_str_eq(a.argv[a.n - 3], "2001:db8::10");

    /* Read as an option by ssh, or not an address with a port. */
    static const char *const bad[] = {
        "-oProxyCommand=x", "u@-x", "[2001:db8::1]:x", "[2001:db8::1", "[]:22", "[::1]x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h.dest = (char *)bad[i];
        ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_COMMAND, "true"), -EINVAL);
    }
}
END_TEST

START_TEST(modes_and_options)
{
    struct proc_argv a;
    char *opts[] = {"StrictHostKeyChecking=yes", "ConnectTimeout=3"};
    struct lab_host h = {.dest = "fra",
                         .ssh = {.config = "/k/cfg",
                                 .user = "drill",
                                 .identity = "/k/id",
                                 .options = opts,
                                 .noptions = 2}};
    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_MASTER, NULL), 0);
    ck_assert_str_eq(a.argv[0], "ssh");
    ck_assert_str_eq(a.argv[find(a.argv, "-F") + 1], "/k/cfg");
    ck_assert_str_eq(a.argv[find(a.argv, "-l") + 1], "drill");
    ck_assert_str_eq(a.argv[find(a.argv, "-i") + 1], "/k/id");
    /* The user's ConnectTimeout comes first: ssh keeps the first value. */
    ck_assert_int_lt(find(a.argv, "ConnectTimeout=3"), find(a.argv, "ConnectTimeout=10"));
    ck_assert_int_ge(find(a.argv, "ControlMaster=yes"), 0);
    ck_assert_int_ge(find(a.argv, "ControlPath=/run/x/ssh/%C"), 0);
    ck_assert_int_ge(find(a.argv, "-N"), 0);
    ck_assert_int_eq(find(a.argv, "-M"), -1); /* with ControlMaster=yes it would ask */
    ck_assert_str_eq(a.argv[a.n - 1], "fra");

    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_CHECK, NULL), 0);
    ck_assert_str_eq(a.argv[find(a.argv, "-O") + 1], "check");
    ck_assert_int_ge(find(a.argv, "ControlMaster=no"), 0);

    ck_assert_int_eq(ssh_build(&a, &conf, &h, SSH_COMMAND, "sudo birdc disable anycast4"), 0);
    ck_assert_str_eq(a.argv[a.n - 1], "sudo birdc disable anycast4");
    ck_assert_ptr_null(a.argv[a.n]);
}
END_TEST

/* Quotes words, lets sh print them back one per line, compares. */
START_TEST(quoting_round_trip)
{
    static const char *const words[] = {"plain",     "two words",
                                        "it's",      "'",
                                        "''",        "$HOME `id` $(id) \\ \" ; | & > <",
                                        "new\nline", "*",
                                        "-",         "a=b,c:d@e%f+g/h.i_j"};
    char cmd[2048] = "printf '%s\\n'", out[2048];
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        ck_assert_int_eq(ssh_quote_append(cmd, sizeof cmd, words[i]), 0);
    char expect[2048] = "";
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        strcat(expect, words[i]);
        strcat(expect, "\n");
    }
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    pclose(f);
    ck_assert_str_eq(out, expect);

    char small[8] = "";
    ck_assert_int_eq(ssh_quote_append(small, sizeof small, "abcdefgh"), -ENOSPC);
    ck_assert_str_eq(small, "");
    ck_assert_int_eq(ssh_quote_append(small, sizeof small, "a"), 0);
    ck_assert_int_eq(ssh_quote_append(small, sizeof small, "it's"), -ENOSPC);
    ck_assert_str_eq(small, "a");

    char line[256];
    char *v[] = {"ssh", "-o", "ControlPath=$RUNDIR/%C", "host", "--", "echo 'x'", NULL};
    ck_assert_int_eq(ssh_argv_text(v, line, sizeof line), 0);
    ck_assert_str_eq(line, "ssh -o 'ControlPath=$RUNDIR/%C' host -- 'echo '\\''x'\\'''");
}
END_TEST

static bool yes(void *arg)
{
    (void)arg;
    return true;
}

START_TEST(run_status_lines_deadline)
{
    struct ssh_result res;
    char *ok[] = {"sh", "-c", "echo first; echo second; echo e1 >&2; echo e2 >&2; exit 3", NULL};
    ck_assert_int_eq(ssh_run(ok, 5 * AH_NS_PER_S, -1, NULL, &res), 0);
    ck_assert(WIFEXITED(res.status));
    ck_assert_int_eq(WEXITSTATUS(res.status), 3);
    ck_assert_str_eq(res.out, "first");
    ck_assert_str_eq(res.err_last, "e2");
    ck_assert_uint_ge(res.end_ns, res.start_ns);

    char *slow[] = {"sh", "-c", "exec sleep 5", NULL};
    uint64_t t0 = ah_clock_mono_ns();
    ck_assert_int_eq(ssh_run(slow, 200 * AH_NS_PER_MS, -1, NULL, &res), -ETIMEDOUT);
    ck_assert_uint_lt(ah_clock_mono_ns() - t0, 3 * AH_NS_PER_S);

    char *missing[] = {"/nonexistent/ssh", NULL};
    ck_assert_int_eq(ssh_run(missing, AH_NS_PER_S, -1, NULL, &res), 0);
    ck_assert_int_eq(WEXITSTATUS(res.status), 127);

    /* Stopped from outside: the check says yes once its fd is readable. */
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    ck_assert_int_eq(write(pfd[1], "x", 1), 1);
    struct ssh_stop st = {.fd = pfd[0], .check = yes};
    t0 = ah_clock_mono_ns();
    ck_assert_int_eq(ssh_run(slow, 5 * AH_NS_PER_S, -1, &st, &res), -EINTR);
    ck_assert_uint_lt(ah_clock_mono_ns() - t0, 2 * AH_NS_PER_S);
    close(pfd[0]);
    close(pfd[1]);
}
END_TEST

/* A held stdin is closed at the deadline or a stop: the command sees the
 * end of its input and its own exit status comes back; one that does not
 * end within the grace is killed. */
START_TEST(run_held_hangs_up)
{
    struct ssh_result res;
    char *eof[] = {"sh", "-c", "read x; echo saw-eof >&2; exit 7", NULL};
    uint64_t t0 = ah_clock_mono_ns();
    ck_assert_int_eq(ssh_run_held(eof, 200 * AH_NS_PER_MS, 3 * AH_NS_PER_S, -1, NULL, &res),
                     -ETIMEDOUT);
    ck_assert(WIFEXITED(res.status));
    ck_assert_int_eq(WEXITSTATUS(res.status), 7);
    ck_assert_str_eq(res.err_last, "saw-eof");
    ck_assert_uint_lt(ah_clock_mono_ns() - t0, 2 * AH_NS_PER_S);

    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    ck_assert_int_eq(write(pfd[1], "x", 1), 1);
    struct ssh_stop st = {.fd = pfd[0], .check = yes};
    ck_assert_int_eq(ssh_run_held(eof, 5 * AH_NS_PER_S, 3 * AH_NS_PER_S, -1, &st, &res), -EINTR);
    ck_assert(WIFEXITED(res.status));
    ck_assert_int_eq(WEXITSTATUS(res.status), 7);
    close(pfd[0]);
    close(pfd[1]);

    char *deaf[] = {"sh", "-c", "exec sleep 5", NULL};
    t0 = ah_clock_mono_ns();
    ck_assert_int_eq(ssh_run_held(deaf, 100 * AH_NS_PER_MS, 300 * AH_NS_PER_MS, -1, NULL, &res),
                     -ETIMEDOUT);
    ck_assert(WIFSIGNALED(res.status));
    ck_assert_uint_lt(ah_clock_mono_ns() - t0, 3 * AH_NS_PER_S);

    /* A command that ends by itself is not hung up on. */
    char *ok[] = {"sh", "-c", "echo done", NULL};
    ck_assert_int_eq(ssh_run_held(ok, 5 * AH_NS_PER_S, AH_NS_PER_S, -1, NULL, &res), 0);
    ck_assert_str_eq(res.out, "done");
}
END_TEST

static Suite *ssh_suite(void)
{
    Suite *s = suite_create("ssh");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, destinations);
    tcase_add_test(tc, modes_and_options);
    tcase_add_test(tc, quoting_round_trip);
    tcase_add_test(tc, run_status_lines_deadline);
    tcase_add_test(tc, run_held_hangs_up);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(ssh_suite)
